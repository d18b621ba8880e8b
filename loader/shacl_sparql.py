"""SHACL compiled to SPARQL: the shapes as queries that an in-memory pyoxigraph store evaluates.

:class:`SparqlShapes` compiles a shapes graph once into one SPARQL SELECT per constraint, each
returning the focus nodes (and values) that break it, and loads the background triples (the
ontology and its code lists) into its own in-memory store once. :meth:`SparqlShapes.run` puts a
batch in the store, runs the queries and takes the batch out again.

pySHACL is the reference (``Validator(engine="pyshacl")``, loader/validate.py) and this engine
must give exactly its results; tests/test_validate_differential.py checks that they agree. Three
choices keep them equal:

- *The store does the graph work, Python the XSD work.* Targets (``sh:targetClass`` following
  ``rdfs:subClassOf*``), property paths, counts, ``sh:class``, ``sh:hasValue``, ``sh:equals`` and
  ``sh:disjoint`` are SPARQL. Checks on one literal (``sh:datatype`` with its lexical
  well-formedness, ``sh:pattern``, ``sh:in``, ``sh:minInclusive``, ``sh:maxInclusive``,
  ``sh:lessThan``) run in Python on rdflib terms, with pySHACL's rules, because they depend on
  how rdflib reads a lexical form (``"2023-02-30"^^xsd:date`` is ill-typed, ``"1e3"`` is a
  decimal).
- *Terms keep their identity.* Oxigraph canonicalizes typed literals when it stores them
  (``"0.50"^^xsd:decimal`` becomes ``"0.5"``) and rdflib normalizes them differently (``"01"``
  becomes ``"1"``). The store the compiled queries read holds each typed literal in rdflib's form
  under a private datatype that Oxigraph does not interpret, and blank nodes as private IRIs (so
  they can be named in a query); results are decoded back. The shapes' own SPARQL (``sh:select``
  of a SPARQL target, ``sh:sparql``) reads a second copy with the real datatypes and blank nodes.
- *Anything unknown is refused.* A shape that uses a SHACL construct the compiler does not
  implement raises :class:`~loader.errors.ConfigError` naming the shape and the construct, so an
  edit to the shapes cannot be silently ignored.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Final

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS
from rdflib.term import Node

from diplograph.loader.errors import ConfigError, InputError
from diplograph.loader.namespaces import PREFIXES, SH, XSD

__all__ = ["RawResult", "SparqlShapes", "to_rdflib"]

_SHAPES_NAMESPACE: Final = "https://w3id.org/diplograph/shapes#"
# Private names in the store the compiled queries read; never written anywhere else.
_SKOLEM: Final = "urn:x-diplograph:validation:bnode:"
_LEXICAL: Final = "urn:x-diplograph:validation:datatype:"
# Each side (background, batch) has a graph of the triples both views share, and one per view.
_Side = tuple[ox.NamedNode, ox.NamedNode, ox.NamedNode]
_BACKGROUND: Final[_Side] = (
    ox.NamedNode("urn:x-diplograph:validation:background-shared"),
    ox.NamedNode("urn:x-diplograph:validation:background-encoded"),
    ox.NamedNode("urn:x-diplograph:validation:background-raw"),
)
_BATCH: Final[_Side] = (
    ox.NamedNode("urn:x-diplograph:validation:batch-shared"),
    ox.NamedNode("urn:x-diplograph:validation:batch-encoded"),
    ox.NamedNode("urn:x-diplograph:validation:batch-raw"),
)
_Graphs = list[ox.NamedNode | ox.BlankNode | ox.DefaultGraph]
_ENCODED_VIEW: Final[_Graphs] = [_BACKGROUND[0], _BACKGROUND[1], _BATCH[0], _BATCH[1]]
_RAW_VIEW: Final[_Graphs] = [_BACKGROUND[0], _BACKGROUND[2], _BATCH[0], _BATCH[2]]

_XSD_STRING: Final = XSD + "string"
_RDF_LANG_STRING: Final = str(RDF.langString)
_TYPE_OF: Final = f"<{RDF.type}>/<{RDFS.subClassOf}>*"


def _instance_of(cls: str) -> str:
    """SPARQL: ``?value`` is an instance of ``cls`` (an IRI in ``<>``), subclasses included.

    The loader writes every superclass type, so the direct type almost always answers; the
    ``rdfs:subClassOf*`` path, eight times slower, runs only when it does not (IF is lazy, and
    Oxigraph evaluated both sides of ``||`` here).
    """
    return f"IF(EXISTS {{ ?value <{RDF.type}> {cls} }}, true, EXISTS {{ ?value {_TYPE_OF} {cls} }})"


_THIS: Final = ox.Variable("this")


def _sh(name: str) -> URIRef:
    return URIRef(SH + name)


# What a shape may say. Annotations outside the SHACL namespace (rdfs:label, rdfs:comment …)
# are allowed anywhere; any other sh: term is a construct the compiler does not know.
_TARGETS: Final = {_sh("targetClass"), _sh("targetSubjectsOf"), _sh("target")}
_VALUE_PARAMETERS: Final = {
    _sh(n) for n in ("class", "datatype", "pattern", "in", "minInclusive", "maxInclusive")
}
_RULE_PARAMETERS: Final = _VALUE_PARAMETERS | {
    _sh(n)
    for n in (
        *("minCount", "maxCount", "or", "qualifiedValueShape", "qualifiedMinCount"),
        *("lessThan", "hasValue", "equals", "disjoint", "sparql", "property"),
    )
}
_ANNOTATIONS: Final = {_sh(n) for n in ("severity", "message", "name", "description")}
_SHAPE_TYPES: Final = {_sh("NodeShape"), _sh("PropertyShape")}
_PATH_KINDS: Final[dict[Node, str]] = {_sh("inversePath"): "^({})", _sh("alternativePath"): "({})"}


@dataclass(frozen=True)
class RawResult:
    """One validation result, in the terms pySHACL would report it with (rdflib nodes)."""

    focus: Node
    #: The property path node in the shapes graph, None for a node shape.
    path: Node | None
    value: Node | None
    #: The full IRI of the constraint component, e.g. ``…shacl#MinCountConstraintComponent``.
    component: str
    #: The shape node in the shapes graph.
    shape: Node
    #: The full IRI of the severity.
    severity: str
    messages: tuple[Node, ...]


# ------------------------------------------------------------------------------------------------
# Terms: rdflib for the checks, encoded pyoxigraph terms for the store


def to_rdflib(term: Any) -> Node:
    """The rdflib term pySHACL sees for a pyoxigraph term (xsd:string literals are plain)."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        if datatype == _XSD_STRING:
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(datatype))
    raise InputError(f"cannot validate {term}: triple terms (RDF-star) are not supported")


@functools.lru_cache(maxsize=65536)
def _lexical(value: str, datatype: str) -> str:
    """The lexical form rdflib keeps for a typed literal (it normalizes ``"01"`` to ``"1"``)."""
    return str(Literal(value, datatype=URIRef(datatype)))


def _encode(term: Any) -> Any:
    """The term in the store the compiled queries read: nothing Oxigraph would canonicalize."""
    if isinstance(term, ox.NamedNode):
        return term
    if isinstance(term, ox.BlankNode):
        return ox.NamedNode(_SKOLEM + term.value)
    if isinstance(term, ox.Literal):
        datatype = term.datatype.value
        if term.language or datatype == _XSD_STRING:
            return term
        return ox.Literal(
            _lexical(term.value, datatype), datatype=ox.NamedNode(_LEXICAL + datatype)
        )
    raise InputError(f"cannot validate {term}: triple terms (RDF-star) are not supported")


def _raw(term: Any) -> Any:
    """The term in the store the shapes' own SPARQL reads: real datatypes, real blank nodes."""
    if isinstance(term, ox.Literal) and not term.language:
        datatype = term.datatype.value
        if datatype != _XSD_STRING:
            return ox.Literal(_lexical(term.value, datatype), datatype=term.datatype)
    if isinstance(term, ox.NamedNode | ox.BlankNode | ox.Literal):
        return term
    raise InputError(f"cannot validate {term}: triple terms (RDF-star) are not supported")


@functools.lru_cache(maxsize=65536)
def _decode(term: Any) -> Node:
    """The rdflib term for a term read from the encoded store."""
    if isinstance(term, ox.NamedNode):
        if term.value.startswith(_SKOLEM):
            return BNode(term.value.removeprefix(_SKOLEM))
        return URIRef(term.value)
    if isinstance(term, ox.Literal) and term.datatype.value.startswith(_LEXICAL):
        return Literal(term.value, datatype=URIRef(term.datatype.value.removeprefix(_LEXICAL)))
    return to_rdflib(term)


def _decoded_raw(term: Any) -> Any:
    """A term read from the encoded store as it is in the raw store (for SPARQL pre-binding)."""
    if isinstance(term, ox.NamedNode) and term.value.startswith(_SKOLEM):
        return ox.BlankNode(term.value.removeprefix(_SKOLEM))
    if isinstance(term, ox.Literal) and term.datatype.value.startswith(_LEXICAL):
        datatype = ox.NamedNode(term.datatype.value.removeprefix(_LEXICAL))
        return ox.Literal(term.value, datatype=datatype)
    return term


def _from_rdflib(node: Node) -> Any:
    if isinstance(node, BNode):
        return ox.BlankNode(str(node))
    if isinstance(node, Literal):
        if node.language:
            return ox.Literal(str(node), language=node.language)
        if node.datatype is not None:
            return ox.Literal(str(node), datatype=ox.NamedNode(str(node.datatype)))
        return ox.Literal(str(node))
    return ox.NamedNode(str(node))


def _sparql_term(term: Any) -> str:
    """A term of the encoded store written in a query (N-Triples syntax is SPARQL syntax)."""
    return str(term)


# ------------------------------------------------------------------------------------------------
# Checks on one value, as pySHACL makes them (pyshacl/constraints/core/*.py)


def _datatype_holds(datatype: URIRef) -> Callable[[Node], bool]:
    def holds(value: Node) -> bool:
        if not isinstance(value, Literal):
            return False
        if value.datatype == datatype:
            return getattr(value, "ill_typed", None) is not True and _is_value_of(value, datatype)
        if datatype == RDFS.Literal:
            return True
        if datatype == RDFS.Datatype and value.datatype:
            return True
        if value.datatype is None and value.language is None and str(datatype) == _XSD_STRING:
            return _is_value_of(value, datatype)
        if datatype == RDF.langString and value.language:
            return _is_value_of(value, datatype)
        return False

    return holds


_PYTHON_TYPES: Final[dict[str, type | tuple[type, ...]]] = {
    _XSD_STRING: (str, bytes),
    _RDF_LANG_STRING: (str, bytes),
    XSD + "integer": int,
    XSD + "float": float,
    XSD + "decimal": Decimal,
    XSD + "boolean": bool,
    XSD + "date": date,
    XSD + "time": time,
    XSD + "dateTime": datetime,
}


def _is_value_of(value: Literal, datatype: URIRef) -> bool:
    # Datatypes pySHACL does not know pass once their lexical form parsed (or had no parser).
    expected = _PYTHON_TYPES.get(str(datatype))
    return expected is None or isinstance(value.value, expected)


def _pattern_holds(pattern: Literal) -> Callable[[Node], bool]:
    text = (
        str(pattern.value) if pattern.value is not None and len(pattern.value) > 1 else str(pattern)
    )
    regex = re.compile(text)

    def holds(value: Node) -> bool:
        if isinstance(value, BNode):
            return False
        if isinstance(value, Literal) and value.value is not None and _is_plain(value):
            return regex.search(str(value.value)) is not None
        return regex.search(str(value)) is not None

    return holds


def _is_plain(value: Literal) -> bool:
    return value.datatype in (None, RDF.langString, URIRef(_XSD_STRING))


def _in_holds(members: list[Node]) -> Callable[[Node], bool]:
    return lambda value: value in members


def _compare_literal(left: Literal, right: Literal) -> int:
    # pySHACL's compare_literal: datetimes and times by value, the rest with rdflib's ordering.
    if left.eq(right):
        return 0
    if type(left.value) in (datetime, time):
        if left.value == right.value:
            return 0
        if left.value > right.value:
            return 1
    elif left > right:
        return 1
    return -1


def _range_holds(bound: Node, accept: Callable[[int], bool]) -> Callable[[Node], bool]:
    if not isinstance(bound, Literal):
        raise ValueError("a range bound must be a literal")
    bound_is_string = isinstance(bound.value, str)

    def holds(value: Node) -> bool:
        if not isinstance(value, Literal):
            return False
        if bound_is_string != isinstance(value.value, str):
            return False
        try:
            return accept(_compare_literal(value, bound))
        except (TypeError, NotImplementedError):
            return False

    return holds


def _less_than(value: Node, other: Node) -> bool:
    """pySHACL's sh:lessThan comparison; a blank node never compares."""
    if isinstance(value, BNode) or isinstance(other, BNode):
        return False
    left: Any = value
    right: Any = other
    left_is_string = right_is_string = False
    if isinstance(value, URIRef) or (isinstance(value, Literal) and isinstance(value.value, str)):
        left, left_is_string = (str(value) if isinstance(value, URIRef) else value.value), True
    if isinstance(other, URIRef) or (isinstance(other, Literal) and isinstance(other.value, str)):
        right, right_is_string = (str(other) if isinstance(other, URIRef) else other.value), True
    if left_is_string != right_is_string:
        return False
    try:
        return bool(left < right)
    except TypeError:
        return False


# ------------------------------------------------------------------------------------------------
# Conditions on a value node: SPARQL columns the store computes, and a Python predicate


@dataclass(frozen=True)
class _Condition:
    """A condition on ``?value``: boolean SPARQL expressions (one result column each) and a
    predicate over the rdflib value and those columns. ``sparql`` is the whole condition as one
    SPARQL expression when it needs no Python."""

    columns: tuple[str, ...]
    holds: Callable[[Node, Sequence[bool]], bool]
    sparql: str | None

    @staticmethod
    def in_store(expression: str) -> _Condition:
        return _Condition((expression,), lambda _v, flags: flags[0], expression)

    @staticmethod
    def in_python(predicate: Callable[[Node], bool]) -> _Condition:
        return _Condition((), lambda value, _flags: predicate(value), None)

    @staticmethod
    def combine(parts: Sequence[_Condition], *, any_of: bool) -> _Condition:
        offsets: list[tuple[int, int]] = []
        columns: list[str] = []
        for part in parts:
            offsets.append((len(columns), len(columns) + len(part.columns)))
            columns.extend(part.columns)

        def holds(value: Node, flags: Sequence[bool]) -> bool:
            results = (p.holds(value, flags[a:b]) for p, (a, b) in zip(parts, offsets, strict=True))
            return any(results) if any_of else all(results)

        sparql: str | None = None
        if all(p.sparql is not None for p in parts):
            joiner = " || " if any_of else " && "
            sparql = joiner.join(f"({p.sparql})" for p in parts) or ("false" if any_of else "true")
        return _Condition(tuple(columns), holds, sparql)


# ------------------------------------------------------------------------------------------------
# Compiled rules


@dataclass(frozen=True)
class _SparqlTarget:
    select: str
    prefixes: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class _Focus:
    """How a shape finds its focus nodes: the instances of classes (subclasses included), the
    subjects of properties, and SPARQL targets (run first, on the raw store)."""

    classes: tuple[str, ...]
    subjects_of: tuple[str, ...]
    targets: tuple[_SparqlTarget, ...]

    def __or__(self, other: _Focus) -> _Focus:
        return _Focus(
            tuple(dict.fromkeys(self.classes + other.classes)),
            tuple(dict.fromkeys(self.subjects_of + other.subjects_of)),
            tuple(dict.fromkeys(self.targets + other.targets)),
        )


_Row = tuple[Any, Any, str]  # focus node, value (or None), constraint component IRI


class _Check:
    """One constraint of one shape: a query over the focus nodes and what its rows mean."""

    component: str

    def query(self, focus: str, values: str) -> str:
        raise NotImplementedError

    def rows(self, solutions: Iterable[ox.QuerySolution]) -> Iterator[_Row]:
        for solution in solutions:
            yield solution["this"], solution["value"], self.component


@dataclass
class _Rule:
    """A shape that reports results, with everything its results carry."""

    shape: Node
    label: str
    path: Node | None
    #: The SPARQL pattern binding ``?value`` to the value nodes of ``?this``.
    values: str
    severity: str
    messages: tuple[Node, ...]
    focus: _Focus
    checks: list[_Check]
    sparql_constraints: list[tuple[str, dict[str, str]]]
    is_property: bool


def _component(name: str) -> str:
    return SH + name + "ConstraintComponent"


class _CountCheck(_Check):
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

    def rows(self, solutions: Iterable[ox.QuerySolution]) -> Iterator[_Row]:
        for solution in solutions:
            n = int(solution["n"].value) if solution["n"] is not None else 0
            if self.minimum is not None and n < self.minimum:
                yield solution["this"], None, _component("MinCount")
            if self.maximum is not None and n > self.maximum:
                yield solution["this"], None, _component("MaxCount")


class _ClassCheck(_Check):
    component = _component("Class")

    def __init__(self, cls: URIRef) -> None:
        self.cls = cls

    def query(self, focus: str, values: str) -> str:
        return (
            f"SELECT DISTINCT ?this ?value WHERE {{ {focus} {values} "
            f"FILTER (!{_instance_of(f'<{self.cls}>')}) }}"
        )


class _ValueCheck(_Check):
    """A condition every value node must meet: filtered by the store when it is all SPARQL,
    otherwise each value is fetched with its SPARQL columns and judged in Python."""

    def __init__(self, condition: _Condition, component: str) -> None:
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

    def rows(self, solutions: Iterable[ox.QuerySolution]) -> Iterator[_Row]:
        if self.condition.sparql is not None:
            yield from super().rows(solutions)
            return
        width = len(self.condition.columns)
        for solution in solutions:
            flags = [_true(solution[f"c{i}"]) for i in range(width)]
            if not self.condition.holds(_decode(solution["value"]), flags):
                yield solution["this"], solution["value"], self.component


def _true(term: Any) -> bool:
    return isinstance(term, ox.Literal) and term.value == "true"


class _QualifiedCheck(_Check):
    component = _component("QualifiedMinCount")

    def __init__(self, condition: _Condition, minimum: int) -> None:
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

    def rows(self, solutions: Iterable[ox.QuerySolution]) -> Iterator[_Row]:
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
            if self.condition.holds(_decode(solution["value"]), flags):
                counts[solution["this"]] += 1
        for node, count in counts.items():
            if count < self.minimum:
                yield node, None, self.component


class _LessThanCheck(_Check):
    component = _component("LessThan")

    def __init__(self, other: URIRef) -> None:
        self.other = other

    def query(self, focus: str, values: str) -> str:
        return (
            f"SELECT DISTINCT ?this ?value ?other WHERE {{ {focus} {values} "
            f"?this <{self.other}> ?other }}"
        )

    def rows(self, solutions: Iterable[ox.QuerySolution]) -> Iterator[_Row]:
        for solution in solutions:
            if not _less_than(_decode(solution["value"]), _decode(solution["other"])):
                yield solution["this"], solution["value"], self.component


class _HasValueCheck(_Check):
    component = _component("HasValue")

    def __init__(self, term: str, is_property: bool) -> None:
        self.term, self.is_property = term, is_property

    def query(self, focus: str, values: str) -> str:
        if self.is_property:
            test = f"FILTER NOT EXISTS {{ {values} FILTER (sameTerm(?value, {self.term})) }}"
        else:
            test = f"FILTER (!sameTerm(?this, {self.term}))"
        return f"SELECT DISTINCT ?this WHERE {{ {focus} {test} }}"

    def rows(self, solutions: Iterable[ox.QuerySolution]) -> Iterator[_Row]:
        for solution in solutions:
            yield solution["this"], None, self.component


class _EqualsCheck(_Check):
    component = _component("Equals")

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


class _DisjointCheck(_Check):
    component = _component("Disjoint")

    def __init__(self, other: URIRef) -> None:
        self.other = other

    def query(self, focus: str, values: str) -> str:
        return (
            f"SELECT DISTINCT ?this ?value WHERE {{ {focus} {values} ?this <{self.other}> ?value }}"
        )


# ------------------------------------------------------------------------------------------------
# The compiler


class _Compiler:
    """Reads a shapes graph into rules; every construct it does not know is a ConfigError."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.rules: dict[Node, _Rule] = {}

    def compile(self) -> list[_Rule]:
        graph = self.graph
        shapes = self._shape_nodes()
        for shape in shapes:
            self._check_vocabulary(shape)
        focus: dict[Node, _Focus] = {}
        for shape in shapes:
            own = self._targets(shape)
            if own is not None:
                focus[shape] = focus[shape] | own if shape in focus else own
        # A property shape under sh:property is checked on its parent's focus nodes too.
        for parent in list(focus):
            for child in graph.objects(parent, _sh("property")):
                if (parent, _sh("path"), None) in graph:
                    raise self._error(parent, "sh:property on a property shape")
                focus[child] = focus[child] | focus[parent] if child in focus else focus[parent]
        for shape in sorted(focus, key=str):
            self.rules[shape] = self._rule(shape, focus[shape])
        return list(self.rules.values())

    # --- what is a shape, and what may it say

    def _shape_nodes(self) -> list[Node]:
        graph = self.graph
        shapes: set[Node] = set()
        for shape_type in _SHAPE_TYPES:
            shapes.update(graph.subjects(RDF.type, shape_type))
        for predicate in (*_TARGETS, _sh("path"), *_RULE_PARAMETERS, _sh("targetNode")):
            shapes.update(graph.subjects(predicate, None))
        shapes.update(graph.subjects(_sh("targetObjectsOf"), None))
        shapes.update(graph.objects(None, _sh("property")))
        shapes.update(graph.objects(None, _sh("qualifiedValueShape")))
        for alternatives in graph.objects(None, _sh("or")):
            shapes.update(Collection(graph, alternatives))
        auxiliary = self._auxiliary_nodes()
        known = shapes | auxiliary | set(self._path_nodes())
        for subject in set(graph.subjects()):
            if subject in known:
                continue
            for unknown in set(graph.predicates(subject)):
                if str(unknown).startswith(SH):
                    raise self._error(subject, _prefixed(unknown))
        return sorted(shapes - auxiliary, key=str)

    def _auxiliary_nodes(self) -> set[Node]:
        graph = self.graph
        nodes: set[Node] = set(graph.subjects(_sh("declare"), None))
        nodes.update(graph.objects(None, _sh("declare")))
        nodes.update(graph.objects(None, _sh("target")))
        nodes.update(graph.objects(None, _sh("sparql")))
        return nodes

    def _path_nodes(self) -> Iterator[Node]:
        graph = self.graph
        pending = list(graph.objects(None, _sh("path")))
        while pending:
            node = pending.pop()
            if not isinstance(node, BNode):
                continue
            yield node
            for _p, inner in graph.predicate_objects(node):
                if isinstance(inner, BNode):
                    pending.append(inner)

    def _check_vocabulary(self, shape: Node) -> None:
        graph = self.graph
        allowed = _TARGETS | _RULE_PARAMETERS | _ANNOTATIONS | {_sh("path")}
        for predicate in set(graph.predicates(shape)):
            if predicate == RDF.type:
                for kind in graph.objects(shape, RDF.type):
                    if kind in (RDFS.Class, OWL.Class):
                        raise self._error(
                            shape, f"a shape that is also a class ({_prefixed(kind)})"
                        )
                    if str(kind).startswith(SH) and kind not in _SHAPE_TYPES:
                        raise self._error(shape, f"rdf:type {_prefixed(kind)}")
            elif str(predicate).startswith(SH) and predicate not in allowed:
                raise self._error(shape, _prefixed(predicate))

    def _error(self, shape: Node, construct: str) -> ConfigError:
        return ConfigError(
            f"SHACL shape {self._label(shape)}: {construct} is not supported by the compiled "
            "SPARQL validation (loader/shacl_sparql.py); implement it there, or validate with "
            "validation_engine=pyshacl"
        )

    def _label(self, shape: Node) -> str:
        if isinstance(shape, URIRef):
            return _prefixed(shape)
        for parent in self.graph.subjects(_sh("property"), shape):
            return f"{self._label(parent)}[{self._path_label(shape)}]"
        for parent in self.graph.subjects(_sh("qualifiedValueShape"), shape):
            return f"{self._label(parent)} (its sh:qualifiedValueShape)"
        for lst in self.graph.subjects(RDF.first, shape):
            for parent in self.graph.subjects(_sh("or"), _list_head(self.graph, lst)):
                return f"{self._label(parent)} (a member of its sh:or)"
        return f"_:{shape}"

    def _path_label(self, shape: Node) -> str:
        path = self.graph.value(shape, _sh("path"))
        return _prefixed(path) if isinstance(path, URIRef) else "…"

    # --- targets and paths

    def _targets(self, shape: Node) -> _Focus | None:
        graph = self.graph
        classes = [
            self._iri(shape, cls, "sh:targetClass")[1:-1]
            for cls in sorted(graph.objects(shape, _sh("targetClass")), key=str)
        ]
        subjects_of = [
            self._iri(shape, prop, "sh:targetSubjectsOf")[1:-1]
            for prop in sorted(graph.objects(shape, _sh("targetSubjectsOf")), key=str)
        ]
        targets = [
            self._sparql_target(shape, target)
            for target in sorted(graph.objects(shape, _sh("target")), key=str)
        ]
        if not classes and not subjects_of and not targets:
            return None
        return _Focus(tuple(classes), tuple(subjects_of), tuple(targets))

    def _sparql_target(self, shape: Node, target: Node) -> _SparqlTarget:
        graph = self.graph
        kinds = set(graph.objects(target, RDF.type))
        if kinds != {_sh("SPARQLTarget")}:
            names = ", ".join(sorted(_prefixed(k) for k in kinds)) or "no rdf:type"
            raise self._error(shape, f"sh:target of type {names} (only sh:SPARQLTarget)")
        for predicate in set(graph.predicates(target)):
            if predicate not in (RDF.type, _sh("select"), _sh("prefixes")):
                raise self._error(shape, f"{_prefixed(predicate)} on its sh:target")
        select = graph.value(target, _sh("select"))
        if not isinstance(select, Literal):
            raise self._error(shape, "a sh:SPARQLTarget without one sh:select")
        return _SparqlTarget(str(select), tuple(self._prefixes(shape, target).items()))

    def _prefixes(self, shape: Node, node: Node) -> dict[str, str]:
        graph = self.graph
        prefixes: dict[str, str] = {}
        for holder in graph.objects(node, _sh("prefixes")):
            for declaration in graph.objects(holder, _sh("declare")):
                prefix = graph.value(declaration, _sh("prefix"))
                namespace = graph.value(declaration, _sh("namespace"))
                if prefix is None or namespace is None:
                    raise self._error(shape, "a sh:declare without sh:prefix and sh:namespace")
                prefixes[str(prefix)] = str(namespace)
        return prefixes

    def _iri(self, shape: Node, node: Node, parameter: str) -> str:
        if not isinstance(node, URIRef):
            raise self._error(shape, f"{parameter} with a value that is not an IRI")
        return f"<{node}>"

    def _path(self, shape: Node, path: Node) -> str:
        graph = self.graph
        if isinstance(path, URIRef):
            return f"<{path}>"
        if isinstance(path, Literal):
            raise self._error(shape, "a literal sh:path")
        if (path, RDF.first, None) in graph:
            steps = [self._path(shape, step) for step in Collection(graph, path)]
            if len(steps) < 2:
                raise self._error(shape, "a sequence path with fewer than two steps")
            return "(" + "/".join(steps) + ")"
        predicates = set(graph.predicates(path))
        if len(predicates) != 1 or next(iter(predicates)) not in _PATH_KINDS:
            names = ", ".join(sorted(_prefixed(p) for p in predicates))
            raise self._error(shape, f"the path {names}")
        kind = next(iter(predicates))
        inner = graph.value(path, kind)
        assert inner is not None
        if kind == _sh("alternativePath"):
            members = [self._path(shape, m) for m in Collection(graph, inner)]
            return _PATH_KINDS[kind].format("|".join(members))
        return _PATH_KINDS[kind].format(self._path(shape, inner))

    # --- rules

    def _rule(self, shape: Node, focus: _Focus) -> _Rule:
        graph = self.graph
        path = graph.value(shape, _sh("path"))
        is_property = path is not None
        values = (
            f"?this {self._path(shape, path)} ?value ."
            if path is not None
            else "BIND (?this AS ?value)"
        )
        severity = graph.value(shape, _sh("severity")) or _sh("Violation")
        messages = tuple(graph.objects(shape, _sh("message")))
        rule = _Rule(
            shape=shape,
            label=self._label(shape),
            path=path,
            values=values,
            severity=str(severity),
            messages=messages,
            focus=focus,
            checks=[],
            sparql_constraints=[],
            is_property=is_property,
        )
        self._add_checks(rule)
        if (rule.checks or rule.sparql_constraints) and not messages:
            raise self._error(shape, "a rule without sh:message (results must carry its message)")
        return rule

    def _one_int(self, shape: Node, parameter: str) -> int | None:
        values = list(self.graph.objects(shape, _sh(parameter)))
        if not values:
            return None
        if len(values) > 1 or not isinstance(values[0], Literal):
            raise self._error(shape, f"sh:{parameter} with more than one value or a non-literal")
        number = values[0].value
        if not isinstance(number, int) or isinstance(number, bool):
            raise self._error(shape, f"sh:{parameter} that is not an integer")
        return number

    def _add_checks(self, rule: _Rule) -> None:
        graph, shape = self.graph, rule.shape
        minimum, maximum = self._one_int(shape, "minCount"), self._one_int(shape, "maxCount")
        if minimum is not None or maximum is not None:
            if not rule.is_property:
                raise self._error(shape, "sh:minCount or sh:maxCount on a node shape")
            if minimum == 0:
                minimum = None
            if minimum is not None or maximum is not None:
                rule.checks.append(_CountCheck(minimum, maximum))
        for cls in sorted(graph.objects(shape, _sh("class")), key=str):
            self._iri(shape, cls, "sh:class")
            rule.checks.append(_ClassCheck(URIRef(str(cls))))
        for parameter, name in (
            ("datatype", "Datatype"),
            ("pattern", "Pattern"),
            ("in", "In"),
            ("minInclusive", "MinInclusive"),
            ("maxInclusive", "MaxInclusive"),
        ):
            for argument in sorted(graph.objects(shape, _sh(parameter)), key=str):
                condition = self._value_condition(shape, parameter, argument)
                rule.checks.append(_ValueCheck(condition, _component(name)))
        for alternatives in graph.objects(shape, _sh("or")):
            members = [self._nested(m) for m in Collection(graph, alternatives)]
            rule.checks.append(
                _ValueCheck(_Condition.combine(members, any_of=True), _component("Or"))
            )
        self._add_qualified(rule)
        for parameter, check in (
            ("lessThan", _LessThanCheck),
            ("equals", _EqualsCheck),
            ("disjoint", _DisjointCheck),
        ):
            for other in sorted(graph.objects(shape, _sh(parameter)), key=str):
                self._iri(shape, other, f"sh:{parameter}")
                if parameter == "lessThan" and not rule.is_property:
                    raise self._error(shape, "sh:lessThan on a node shape")
                rule.checks.append(check(URIRef(str(other))))
        for value in sorted(graph.objects(shape, _sh("hasValue")), key=str):
            if isinstance(value, BNode):
                raise self._error(shape, "sh:hasValue with a blank node")
            term = _sparql_term(_encode(_from_rdflib(value)))
            rule.checks.append(_HasValueCheck(term, rule.is_property))
        for constraint in graph.objects(shape, _sh("sparql")):
            rule.sparql_constraints.append(self._sparql_constraint(rule, constraint))

    def _add_qualified(self, rule: _Rule) -> None:
        graph, shape = self.graph, rule.shape
        qualified = list(graph.objects(shape, _sh("qualifiedValueShape")))
        minimum = self._one_int(shape, "qualifiedMinCount")
        if not qualified and minimum is None:
            return
        if len(qualified) != 1 or minimum is None:
            raise self._error(
                shape, "sh:qualifiedValueShape without exactly one shape and sh:qualifiedMinCount"
            )
        if not rule.is_property:
            raise self._error(shape, "sh:qualifiedValueShape on a node shape")
        rule.checks.append(_QualifiedCheck(self._nested(qualified[0]), minimum))

    def _nested(self, shape: Node) -> _Condition:
        """A shape inside sh:or or sh:qualifiedValueShape: a condition on the value node."""
        graph = self.graph
        parts: list[_Condition] = []
        for predicate in set(graph.predicates(shape)):
            if predicate == RDF.type or not str(predicate).startswith(SH):
                continue
            if predicate not in _VALUE_PARAMETERS:
                raise self._error(
                    shape, f"{_prefixed(predicate)} inside sh:or or a qualified shape"
                )
        for cls in sorted(graph.objects(shape, _sh("class")), key=str):
            iri = self._iri(shape, cls, "sh:class")
            parts.append(_Condition.in_store(_instance_of(iri)))
        for parameter in ("datatype", "pattern", "in", "minInclusive", "maxInclusive"):
            for argument in sorted(graph.objects(shape, _sh(parameter)), key=str):
                parts.append(self._value_condition(shape, parameter, argument))
        return _Condition.combine(parts, any_of=False)

    def _value_condition(self, shape: Node, parameter: str, argument: Node) -> _Condition:
        graph = self.graph
        if parameter == "datatype":
            if len(list(graph.objects(shape, _sh("datatype")))) > 1:
                raise self._error(shape, "more than one sh:datatype")
            datatype = URIRef(self._iri(shape, argument, "sh:datatype")[1:-1])
            if datatype == RDF.langString:  # exact in SPARQL, and the most common
                return _Condition.in_store('isLITERAL(?value) && LANG(?value) != ""')
            return _Condition.in_python(_datatype_holds(datatype))
        if parameter == "pattern":
            if (shape, _sh("flags"), None) in graph or not isinstance(argument, Literal):
                raise self._error(shape, "sh:pattern with sh:flags or a non-literal pattern")
            return _Condition.in_python(_pattern_holds(argument))
        if parameter == "in":
            if (argument, RDF.first, None) not in graph and argument != RDF.nil:
                raise self._error(shape, "sh:in whose value is not a list")
            return _Condition.in_python(_in_holds(list(Collection(graph, argument))))
        if not isinstance(argument, Literal):
            raise self._error(shape, f"sh:{parameter} with a value that is not a literal")
        if parameter == "minInclusive":
            return _Condition.in_python(_range_holds(argument, lambda c: c >= 0))
        return _Condition.in_python(_range_holds(argument, lambda c: c <= 0))

    def _sparql_constraint(self, rule: _Rule, constraint: Node) -> tuple[str, dict[str, str]]:
        graph, shape = self.graph, rule.shape
        for predicate in set(graph.predicates(constraint)):
            if predicate not in (RDF.type, _sh("select"), _sh("prefixes")):
                raise self._error(
                    shape,
                    f"{_prefixed(predicate)} on its sh:sparql constraint (put the message on "
                    "the shape)",
                )
        select = graph.value(constraint, _sh("select"))
        if not isinstance(select, Literal):
            raise self._error(shape, "a sh:sparql constraint without one sh:select")
        text = str(select)
        for variable in ("PATH", "path", "failure", "shapesGraph", "currentShape"):
            if re.search(rf"[?$]{variable}\b", text):
                raise self._error(shape, f"${variable} in a sh:sparql query")
        if any(re.search(r"\{[?$]", str(m)) for m in rule.messages):
            raise self._error(shape, "a message template ({?var}) with sh:sparql")
        return text, self._prefixes(shape, constraint)


def _list_head(graph: Graph, node: Node) -> Node:
    while True:
        previous = next(iter(graph.subjects(RDF.rest, node)), None)
        if previous is None:
            return node
        node = previous


_DISPLAY_PREFIXES: Final = {"dsh": _SHAPES_NAMESPACE, "sh": SH, **PREFIXES}


def _prefixed(node: Node) -> str:
    text = str(node)
    for prefix, namespace in _DISPLAY_PREFIXES.items():
        if text.startswith(namespace) and re.fullmatch(r"[\w.-]*", text[len(namespace) :]):
            return f"{prefix}:{text[len(namespace) :]}"
    return f"<{text}>" if isinstance(node, URIRef) else text


# ------------------------------------------------------------------------------------------------
# Running


_RDF_TYPE: Final = ox.NamedNode(str(RDF.type))
_SUBCLASS_OF: Final = ox.NamedNode(str(RDFS.subClassOf))


class SparqlShapes:
    """The shapes compiled to SPARQL, with the background triples loaded into their own store.

    The store holds four graphs per side: triples whose terms are the same in both views
    (IRIs, plain and language-tagged strings: nearly all) once, and the others (typed literals,
    blank nodes) once encoded for the compiled queries and once raw for the shapes' own SPARQL.
    Not thread-safe: :meth:`run` uses the one store; the caller serializes runs.
    """

    def __init__(self, shapes: Graph, background: Iterable[tuple[Node, Node, Node]]) -> None:
        """Compile ``shapes`` (raises :class:`ConfigError` for an unsupported construct) and load
        ``background`` (rdflib triples: the ontology and code lists)."""
        self._rules = _Compiler(shapes).compile()
        self._store = ox.Store()
        triples = [
            ox.Triple(_from_rdflib(s), _from_rdflib(p), _from_rdflib(o)) for s, p, o in background
        ]
        quads, self._background_predicates, self._background_types, _ = _split(triples, _BACKGROUND)
        self._background = quads
        self._store.bulk_extend(quads)
        self._background_subclasses: dict[str, tuple[str, ...]] = {}

    def run(self, data: Iterable[ox.Triple]) -> list[RawResult]:
        """Every result of the shapes on ``data`` plus the background, on every focus node."""
        quads, predicates, types, _ = _split(data, _BATCH)
        self._store.extend(quads)
        try:
            batch = _Batch(
                predicates=predicates | self._background_predicates,
                types=types | self._background_types,
                changes_classes=_SUBCLASS_OF.value in predicates,
            )
            return list(self._results(batch))
        finally:
            # A fresh store for every batch: the in-memory store keeps what was removed (its
            # versions are never collected), so clearing the batch's graphs let it grow and
            # slowed queries to 25 ms a document after 200 batches, against 5 ms at first. A
            # fresh store costs a few milliseconds.
            self._store = ox.Store()
            self._store.bulk_extend(self._background)

    def _results(self, batch: _Batch) -> Iterator[RawResult]:
        for rule in self._rules:
            focus = self._focus(rule.focus, batch)
            if focus is None:
                continue
            found: set[_Row] = set()
            for check in rule.checks:
                text = check.query(focus, rule.values)
                solutions = self._store.query(text, default_graph=_ENCODED_VIEW)
                assert isinstance(solutions, ox.QuerySolutions)
                found.update(check.rows(solutions))
            for select, prefixes in rule.sparql_constraints:
                found.update(self._sparql_constraint(rule, focus, select, prefixes))
            for node, value, component in found:
                yield RawResult(
                    focus=_decode(node),
                    path=rule.path,
                    value=_decode(value) if value is not None else None,
                    component=component,
                    shape=rule.shape,
                    severity=rule.severity,
                    messages=rule.messages,
                )

    def _focus(self, focus: _Focus, batch: _Batch) -> str | None:
        """The group pattern binding ``?this`` to the focus nodes, or None when the batch and
        the background cannot have any (no instance of the classes, no use of the properties,
        nothing found by the SPARQL targets): most shapes of rare kinds are skipped so."""
        groups: list[str] = []
        for cls in focus.classes:
            subclasses = self._subclasses(cls, batch)
            if any(c.startswith(_SKOLEM) for c in subclasses):  # a blank-node class: no listing
                groups.append(f"?this {_TYPE_OF} <{cls}> .")
                continue
            present = [c for c in subclasses if c in batch.types]
            if len(present) == 1:
                groups.append(f"?this <{RDF.type}> <{present[0]}> .")
            elif present:
                listed = " ".join(f"<{c}>" for c in present)
                groups.append(f"VALUES ?class {{ {listed} }} ?this <{RDF.type}> ?class .")
        for prop in focus.subjects_of:
            if prop in batch.predicates:
                groups.append(f"?this <{prop}> [] .")
        nodes: list[Any] = []
        for target in focus.targets:
            nodes.extend(self._target_nodes(target, batch))
        if nodes:
            listed = " ".join(_sparql_term(_encode(n)) for n in dict.fromkeys(nodes))
            groups.append(f"VALUES ?this {{ {listed} }}")
        if not groups:
            return None
        union = " UNION ".join(f"{{ {g} }}" for g in groups)
        return f"{{ SELECT DISTINCT ?this WHERE {{ {union} }} }}"

    def _subclasses(self, cls: str, batch: _Batch) -> tuple[str, ...]:
        """``cls`` and its subclasses (rdfs:subClassOf*), from the background unless the batch
        says something about subclasses itself."""
        if not batch.changes_classes and cls in self._background_subclasses:
            return self._background_subclasses[cls]
        solutions = self._store.query(
            f"SELECT DISTINCT ?class WHERE {{ ?class <{RDFS.subClassOf}>* <{cls}> }}",
            default_graph=_ENCODED_VIEW,
        )
        assert isinstance(solutions, ox.QuerySolutions)
        found = tuple(sorted(s["class"].value for s in solutions if s["class"] is not None))
        if not batch.changes_classes:
            self._background_subclasses[cls] = found
        return found

    def _target_nodes(self, target: _SparqlTarget, batch: _Batch) -> list[Any]:
        if target not in batch.target_nodes:
            solutions = self._store.query(
                target.select, prefixes=dict(target.prefixes), default_graph=_RAW_VIEW
            )
            assert isinstance(solutions, ox.QuerySolutions)
            batch.target_nodes[target] = [s["this"] for s in solutions if s["this"] is not None]
        return batch.target_nodes[target]

    def _sparql_constraint(
        self, rule: _Rule, focus: str, select: str, prefixes: dict[str, str]
    ) -> Iterator[_Row]:
        nodes = self._store.query(
            f"SELECT DISTINCT ?this WHERE {{ {focus} }}", default_graph=_ENCODED_VIEW
        )
        assert isinstance(nodes, ox.QuerySolutions)
        for solution in list(nodes):
            node = solution["this"]
            solutions = self._store.query(
                select,
                prefixes=prefixes,
                default_graph=_RAW_VIEW,
                substitutions={_THIS: _decoded_raw(node)},
            )
            assert isinstance(solutions, ox.QuerySolutions)
            names = {v.value for v in solutions.variables}
            for row in solutions:
                # pySHACL reports a row only when it binds ?this or ?value.
                this = row["this"] if "this" in names else None
                value = row["value"] if "value" in names else None
                if this is None and value is None:
                    continue
                if value is not None:
                    value = _encode(value)
                elif not rule.is_property:
                    value = node
                yield node, value, _component("SPARQL")


@dataclass
class _Batch:
    """What one run knows about its data: which predicates and types occur (with the
    background's), whether it adds subclass axioms, and what the SPARQL targets found."""

    predicates: set[str]
    types: set[str]
    changes_classes: bool
    target_nodes: dict[_SparqlTarget, list[Any]] = field(default_factory=dict)


def _split(
    triples: Iterable[ox.Triple], graphs: _Side
) -> tuple[list[ox.Quad], set[str], set[str], int]:
    """The quads for ``triples`` in the shared, encoded and raw graphs of one side, the IRIs of
    the predicates and of the types used, and the number of triples."""
    shared, encoded, raw = graphs
    quads: list[ox.Quad] = []
    predicates: set[ox.NamedNode] = set()
    types: set[Any] = set()
    count = 0
    named, literal = ox.NamedNode, ox.Literal
    for t in triples:
        count += 1
        subject, predicate, obj = t.subject, t.predicate, t.object
        predicates.add(predicate)
        if predicate == _RDF_TYPE:
            types.add(obj)
        # This loop runs for every triple of every batch: the common case is tested inline.
        if type(subject) is named and (
            type(obj) is named
            or (type(obj) is literal and (obj.language or obj.datatype.value == _XSD_STRING))
        ):
            quads.append(ox.Quad(subject, predicate, obj, shared))
        else:
            quads.append(ox.Quad(_encode(subject), predicate, _encode(obj), encoded))
            quads.append(ox.Quad(_raw(subject), predicate, _raw(obj), raw))
    type_iris = {t.value for t in types if isinstance(t, ox.NamedNode)}
    return quads, {p.value for p in predicates}, type_iris, count
