"""The constraints a compiled shape checks: one SPARQL SELECT each over the focus nodes, and what
its rows mean.

Each :class:`Check` writes its query from two patterns of its shape: ``focus``, a group binding
``?this`` to the focus nodes, and ``values``, binding ``?value`` to the value nodes of ``?this``.
The store does the graph work (paths, counts, ``sh:class`` following ``rdfs:subClassOf*``,
``sh:hasValue``, ``sh:equals``, ``sh:disjoint``); checks on one literal decode the value and
judge it in Python (:mod:`diplograph.loader.shacl.conditions`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Final

import pyoxigraph as ox
from rdflib import URIRef
from rdflib.namespace import RDF, RDFS

from diplograph.loader.namespaces import SH
from diplograph.loader.shacl.conditions import Condition, less_than
from diplograph.loader.shacl.encoding import decode

__all__ = [
    "TYPE_OF",
    "Check",
    "ClassCheck",
    "CountCheck",
    "DisjointCheck",
    "EqualsCheck",
    "HasValueCheck",
    "LessThanCheck",
    "QualifiedCheck",
    "Row",
    "ValueCheck",
    "component_iri",
    "instance_of",
]

#: SPARQL path: the types of a node, their superclasses included.
TYPE_OF: Final = f"<{RDF.type}>/<{RDFS.subClassOf}>*"


def instance_of(cls: str) -> str:
    """SPARQL: ``?value`` is an instance of ``cls`` (an IRI in ``<>``), subclasses included.

    The loader writes every superclass type, so the direct type almost always answers; the
    ``rdfs:subClassOf*`` path, eight times slower, runs only when it does not (IF is lazy, and
    Oxigraph evaluated both sides of ``||`` here).
    """
    return f"IF(EXISTS {{ ?value <{RDF.type}> {cls} }}, true, EXISTS {{ ?value {TYPE_OF} {cls} }})"


Row = tuple[Any, Any, str]  # focus node, value (or None), constraint component IRI


class Check:
    """One constraint of one shape: a query over the focus nodes and what its rows mean."""

    component: str

    def query(self, focus: str, values: str) -> str:
        """The SELECT finding the focus nodes (and values) that break the constraint."""
        raise NotImplementedError

    def rows(self, solutions: Iterable[ox.QuerySolution]) -> Iterator[Row]:
        """The results in the query's solutions (by default, one per solution)."""
        for solution in solutions:
            yield solution["this"], solution["value"], self.component


def component_iri(name: str) -> str:
    """The full IRI of a constraint component (``MinCount``: ``sh:MinCountConstraintComponent``)."""
    return SH + name + "ConstraintComponent"


class CountCheck(Check):
    """``sh:minCount`` and ``sh:maxCount``: distinct value nodes counted per focus node."""

    def __init__(self, minimum: int | None, maximum: int | None) -> None:
        self.minimum, self.maximum = minimum, maximum

    def query(self, focus: str, values: str) -> str:
        if self.maximum is None and self.minimum == 1:  # the common case, without grouping
            return f"SELECT DISTINCT ?this WHERE {{ {focus} FILTER NOT EXISTS {{ {values} }} }}"
        tests = []
        if self.minimum is not None:
            tests.append(f"COUNT(DISTINCT ?value) < {self.minimum}")
        if self.maximum is not None:
            tests.append(f"COUNT(DISTINCT ?value) > {self.maximum}")
        return (
            f"SELECT ?this (COUNT(DISTINCT ?value) AS ?n) "
            f"WHERE {{ {focus} OPTIONAL {{ {values} }} }} "
            f"GROUP BY ?this HAVING ({' || '.join(tests)})"
        )

    def rows(self, solutions: Iterable[ox.QuerySolution]) -> Iterator[Row]:
        for solution in solutions:
            n = int(solution["n"].value) if solution["n"] is not None else 0
            if self.minimum is not None and n < self.minimum:
                yield solution["this"], None, component_iri("MinCount")
            if self.maximum is not None and n > self.maximum:
                yield solution["this"], None, component_iri("MaxCount")


class ClassCheck(Check):
    """``sh:class``: every value node is an instance of the class, subclasses included."""

    component = component_iri("Class")

    def __init__(self, cls: URIRef) -> None:
        self.cls = cls

    def query(self, focus: str, values: str) -> str:
        return (
            f"SELECT DISTINCT ?this ?value WHERE {{ {focus} {values} "
            f"FILTER (!{instance_of(f'<{self.cls}>')}) }}"
        )


class ValueCheck(Check):
    """A condition every value node must meet: filtered by the store when it is all SPARQL,
    otherwise each value is fetched with its SPARQL columns and judged in Python."""

    def __init__(self, condition: Condition, component: str) -> None:
        self.condition, self.component = condition, component

    def query(self, focus: str, values: str) -> str:
        if self.condition.sparql is not None:
            return (
                f"SELECT DISTINCT ?this ?value WHERE {{ {focus} {values} "
                f"FILTER (!({self.condition.sparql})) }}"
            )
        binds = " ".join(f"BIND (({c}) AS ?c{i})" for i, c in enumerate(self.condition.columns))
        columns = " ".join(f"?c{i}" for i in range(len(self.condition.columns)))
        return f"SELECT DISTINCT ?this ?value {columns} WHERE {{ {focus} {values} {binds} }}"

    def rows(self, solutions: Iterable[ox.QuerySolution]) -> Iterator[Row]:
        if self.condition.sparql is not None:
            yield from super().rows(solutions)
            return
        width = len(self.condition.columns)
        for solution in solutions:
            flags = [_true(solution[f"c{i}"]) for i in range(width)]
            if not self.condition.holds(decode(solution["value"]), flags):
                yield solution["this"], solution["value"], self.component


def _true(term: Any) -> bool:
    return isinstance(term, ox.Literal) and term.value == "true"


class QualifiedCheck(Check):
    """``sh:qualifiedValueShape`` with ``sh:qualifiedMinCount``: enough value nodes conform."""

    component = component_iri("QualifiedMinCount")

    def __init__(self, condition: Condition, minimum: int) -> None:
        self.condition, self.minimum = condition, minimum

    def query(self, focus: str, values: str) -> str:
        if self.condition.sparql is not None:
            return (
                f"SELECT ?this WHERE {{ {focus} OPTIONAL {{ {values} "
                f"FILTER ({self.condition.sparql}) }} }} GROUP BY ?this "
                f"HAVING (COUNT(DISTINCT ?value) < {self.minimum})"
            )
        binds = " ".join(f"BIND (({c}) AS ?c{i})" for i, c in enumerate(self.condition.columns))
        columns = " ".join(f"?c{i}" for i in range(len(self.condition.columns)))
        return (
            f"SELECT DISTINCT ?this ?value {columns} WHERE {{ {focus} "
            f"OPTIONAL {{ {values} {binds} }} }}"
        )

    def rows(self, solutions: Iterable[ox.QuerySolution]) -> Iterator[Row]:
        if self.condition.sparql is not None:
            for solution in solutions:
                yield solution["this"], None, self.component
            return
        counts: dict[Any, int] = {}
        width = len(self.condition.columns)
        for solution in solutions:
            counts.setdefault(solution["this"], 0)
            if solution["value"] is None:
                continue
            flags = [_true(solution[f"c{i}"]) for i in range(width)]
            if self.condition.holds(decode(solution["value"]), flags):
                counts[solution["this"]] += 1
        for node, count in counts.items():
            if count < self.minimum:
                yield node, None, self.component


class LessThanCheck(Check):
    """``sh:lessThan``: every value is less than every value of the other property."""

    component = component_iri("LessThan")

    def __init__(self, other: URIRef) -> None:
        self.other = other

    def query(self, focus: str, values: str) -> str:
        return (
            f"SELECT DISTINCT ?this ?value ?other WHERE {{ {focus} {values} "
            f"?this <{self.other}> ?other }}"
        )

    def rows(self, solutions: Iterable[ox.QuerySolution]) -> Iterator[Row]:
        for solution in solutions:
            if not less_than(decode(solution["value"]), decode(solution["other"])):
                yield solution["this"], solution["value"], self.component


class HasValueCheck(Check):
    """``sh:hasValue``: the term is among the value nodes (or is the focus node)."""

    component = component_iri("HasValue")

    def __init__(self, term: str, is_property: bool) -> None:
        self.term, self.is_property = term, is_property

    def query(self, focus: str, values: str) -> str:
        if self.is_property and values.endswith(" ?value ."):
            # The term in the pattern itself: the store looks it up instead of listing every
            # value node to filter them (a code-list shape's check 3x faster on a batch).
            test = f"FILTER NOT EXISTS {{ {values.removesuffix('?value .')}{self.term} . }}"
        elif self.is_property:
            test = f"FILTER NOT EXISTS {{ {values} FILTER (sameTerm(?value, {self.term})) }}"
        else:
            test = f"FILTER (!sameTerm(?this, {self.term}))"
        return f"SELECT DISTINCT ?this WHERE {{ {focus} {test} }}"

    def rows(self, solutions: Iterable[ox.QuerySolution]) -> Iterator[Row]:
        for solution in solutions:
            yield solution["this"], None, self.component


class EqualsCheck(Check):
    """``sh:equals``: the value nodes are exactly the values of the other property."""

    component = component_iri("Equals")

    def __init__(self, other: URIRef) -> None:
        self.other = other

    def query(self, focus: str, values: str) -> str:
        other = f"?this <{self.other}> ?value"
        mine = values.replace("?value", "?mine")
        return (
            f"SELECT DISTINCT ?this ?value WHERE {{ {focus} "
            f"{{ {values} FILTER NOT EXISTS {{ ?this <{self.other}> ?theirs "
            f"FILTER (sameTerm(?theirs, ?value)) }} }} UNION "
            f"{{ {other} FILTER NOT EXISTS {{ {mine} FILTER (sameTerm(?mine, ?value)) }} }} }}"
        )


class DisjointCheck(Check):
    """``sh:disjoint``: no value node is a value of the other property."""

    component = component_iri("Disjoint")

    def __init__(self, other: URIRef) -> None:
        self.other = other

    def query(self, focus: str, values: str) -> str:
        return (
            f"SELECT DISTINCT ?this ?value WHERE {{ {focus} {values} ?this <{self.other}> ?value }}"
        )
