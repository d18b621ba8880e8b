"""Running the compiled shapes: a batch in an in-memory pyoxigraph store, the queries, the results.

:class:`SparqlShapes` compiles a shapes graph once and loads the background triples (the
ontology and its code lists) into its own store once; :meth:`SparqlShapes.run` adds a batch,
runs each rule's queries on the focus nodes its targets find, turns the rows into
:class:`RawResult` values (rdflib terms, as pySHACL reports them) and starts the next batch on a
fresh store.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final

import pyoxigraph as ox
from rdflib import Graph
from rdflib.namespace import RDFS
from rdflib.term import Node

from diplograph.loader.shacl.compile import Rule, compile_rules
from diplograph.loader.shacl.constraints import Row, component_iri
from diplograph.loader.shacl.encoding import (
    BACKGROUND,
    BATCH,
    ENCODED_VIEW,
    RAW_VIEW,
    decode,
    decode_raw,
    encode,
    from_rdflib,
    split_text,
    split_triples,
)
from diplograph.loader.shacl.targets import Batch, FocusFinder

__all__ = ["RawResult", "SparqlShapes"]

_THIS: Final = ox.Variable("this")

_SUBCLASS_OF: Final = ox.NamedNode(str(RDFS.subClassOf))


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


class SparqlShapes:
    """The shapes compiled to SPARQL, with the background triples loaded into their own store.

    The store holds three graphs per side: triples whose terms are the same in both views
    (IRIs, plain and language-tagged strings: nearly all) once, and the others (typed literals,
    blank nodes) once encoded for the compiled queries and once raw for the shapes' own SPARQL.
    Not thread-safe: :meth:`run` uses the one store; the caller serializes runs.
    """

    def __init__(self, shapes: Graph, background: Iterable[tuple[Node, Node, Node]]) -> None:
        """Compile ``shapes`` (raises :class:`ConfigError` for an unsupported construct) and load
        ``background`` (rdflib triples: the ontology and code lists)."""
        self._rules = compile_rules(shapes)
        self._store = ox.Store()
        triples = [
            ox.Triple(from_rdflib(s), from_rdflib(p), from_rdflib(o)) for s, p, o in background
        ]
        quads, self._background_predicates, self._background_types, _ = split_triples(
            triples, BACKGROUND
        )
        self._background = quads
        self._store.bulk_extend(quads)
        self._focus = FocusFinder()

    def run(self, data: Iterable[ox.Triple] | bytes) -> list[RawResult]:
        """Every result of the shapes on ``data`` (triples, or N-Triples as pyoxigraph writes
        them) plus the background, on every focus node."""
        if not isinstance(data, bytes):
            data = ox.serialize(data, format=ox.RdfFormat.N_TRIPLES) or b""
        shared, quads, predicates, types, _ = split_text(data, BATCH)
        # lenient: the terms were checked when they were made, or by the writer of the text
        self._store.load(shared, format=ox.RdfFormat.N_QUADS, lenient=True)
        self._store.extend(quads)
        try:
            batch = Batch(
                store=self._store,
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

    def _results(self, batch: Batch) -> Iterator[RawResult]:
        for rule in self._rules:
            focus = self._focus.pattern(rule.focus, batch)
            if focus is None:
                continue
            found: set[Row] = set()
            for check in rule.checks:
                text = check.query(focus, rule.values)
                solutions = self._store.query(text, default_graph=ENCODED_VIEW)
                assert isinstance(solutions, ox.QuerySolutions)
                found.update(check.rows(solutions))
            for select, prefixes in rule.sparql_constraints:
                found.update(self._sparql_constraint(rule, focus, select, prefixes))
            for node, value, component in found:
                yield RawResult(
                    focus=decode(node),
                    path=rule.path,
                    value=decode(value) if value is not None else None,
                    component=component,
                    shape=rule.shape,
                    severity=rule.severity,
                    messages=rule.messages,
                )

    def _sparql_constraint(
        self, rule: Rule, focus: str, select: str, prefixes: dict[str, str]
    ) -> Iterator[Row]:
        nodes = self._store.query(
            f"SELECT DISTINCT ?this WHERE {{ {focus} }}", default_graph=ENCODED_VIEW
        )
        assert isinstance(nodes, ox.QuerySolutions)
        for solution in list(nodes):
            node = solution["this"]
            solutions = self._store.query(
                select,
                prefixes=prefixes,
                default_graph=RAW_VIEW,
                substitutions={_THIS: decode_raw(node)},
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
                    value = encode(value)
                elif not rule.is_property:
                    value = node
                yield node, value, component_iri("SPARQL")
