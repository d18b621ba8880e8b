"""Conditions on one value node: SPARQL expressions the store computes, and Python predicates.

Checks on one literal (``sh:datatype`` with its lexical well-formedness, ``sh:pattern``, ``sh:in``,
``sh:minInclusive``, ``sh:maxInclusive``, ``sh:lessThan``) run in Python on rdflib terms, with
pySHACL's rules (pyshacl/constraints/core/*.py), because they depend on how rdflib reads a
lexical form (``"2023-02-30"^^xsd:date`` is ill-typed, ``"1e3"`` is a decimal). A
:class:`Condition` joins them with the checks the store can make (``sh:class``) so that
``sh:or`` and ``sh:qualifiedValueShape`` can mix both.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Final

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import RDF, RDFS
from rdflib.term import Node

from diplograph.loader.namespaces import XSD
from diplograph.loader.shacl.encoding import XSD_STRING

__all__ = [
    "Condition",
    "datatype_holds",
    "in_holds",
    "less_than",
    "pattern_holds",
    "range_holds",
]

_RDF_LANG_STRING: Final = str(RDF.langString)


def datatype_holds(datatype: URIRef) -> Callable[[Node], bool]:
    """``sh:datatype``: a literal of ``datatype`` whose lexical form is well-formed."""

    def holds(value: Node) -> bool:
        if not isinstance(value, Literal):
            return False
        if value.datatype == datatype:
            return getattr(value, "ill_typed", None) is not True and _is_value_of(value, datatype)
        if datatype == RDFS.Literal:
            return True
        if datatype == RDFS.Datatype and value.datatype:
            return True
        if value.datatype is None and value.language is None and str(datatype) == XSD_STRING:
            return _is_value_of(value, datatype)
        if datatype == RDF.langString and value.language:
            return _is_value_of(value, datatype)
        return False

    return holds


_PYTHON_TYPES: Final[dict[str, type | tuple[type, ...]]] = {
    XSD_STRING: (str, bytes),
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


def pattern_holds(pattern: Literal) -> Callable[[Node], bool]:
    """``sh:pattern`` without flags: the value's text matches the regular expression."""
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
    return value.datatype in (None, RDF.langString, URIRef(XSD_STRING))


def in_holds(members: list[Node]) -> Callable[[Node], bool]:
    """``sh:in``: the value is one of ``members``."""
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


def range_holds(bound: Node, accept: Callable[[int], bool]) -> Callable[[Node], bool]:
    """``sh:minInclusive`` or ``sh:maxInclusive``: ``accept`` judges the value's comparison
    with ``bound`` (-1, 0 or 1); a value that does not compare fails."""
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


def less_than(value: Node, other: Node) -> bool:
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


@dataclass(frozen=True)
class Condition:
    """A condition on ``?value``: boolean SPARQL expressions (one result column each) and a
    predicate over the rdflib value and those columns. ``sparql`` is the whole condition as one
    SPARQL expression when it needs no Python."""

    columns: tuple[str, ...]
    holds: Callable[[Node, Sequence[bool]], bool]
    sparql: str | None

    @staticmethod
    def in_store(expression: str) -> Condition:
        """A condition the store decides alone: one boolean SPARQL expression."""
        return Condition((expression,), lambda _v, flags: flags[0], expression)

    @staticmethod
    def in_python(predicate: Callable[[Node], bool]) -> Condition:
        """A condition Python decides on the rdflib value."""
        return Condition((), lambda value, _flags: predicate(value), None)

    @staticmethod
    def combine(parts: Sequence[Condition], *, any_of: bool) -> Condition:
        """All of ``parts`` (``sh:and`` of a nested shape), or any of them (``sh:or``)."""
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
        return Condition(tuple(columns), holds, sparql)
