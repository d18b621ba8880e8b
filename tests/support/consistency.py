"""What "the store is consistent" means, checked from outside the code that wrote it.

A store is consistent when:

* every document graph it holds is exactly the graph :func:`loader.mapping.map_document` makes
  for that document, with the identities of the documents present (loader/identity.py) and its
  kept facts (never part of it: a document is fully present or fully absent);
* no other named graph exists than the documents', the ontology's (isomorphic to the ontology
  as :func:`loader.ontology.ontology_triples` gives it) and the summary's (no staging, scratch
  or half-written graphs);
* the materialized union (the embedded store's default graph) holds exactly the triples of the
  named graphs;
* the summary graph is exact (equal to a rebuild from the facts), or marked stale when the
  writer promised only that.

:func:`canonical_dataset` turns a store into a dataset that compares equal to another store's
when both hold the same quads, up to blank-node names (the ontology has blank nodes, and every
write of it names them anew).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pyoxigraph import (
    CanonicalizationAlgorithm,
    Dataset,
    DefaultGraph,
    NamedNode,
    Quad,
    Triple,
)
from pyoxigraph import Store as OxStore

from diplograph.loader.facts import FactsDocument, read_path
from diplograph.loader.identity import Identities
from diplograph.loader.iris import IriMinter
from diplograph.loader.mapping import map_document
from diplograph.loader.mentions import claims
from diplograph.loader.namespaces import ONTOLOGY_IRI
from diplograph.loader.ontology import ontology_triples, superclass_closure
from diplograph.loader.reconcile import facts_record
from diplograph.loader.store.embedded import EmbeddedStore
from diplograph.loader.summary import Summary

__all__ = [
    "Expected",
    "canonical_dataset",
    "dataset_difference",
    "inconsistencies",
]


class Expected:
    """The graph of every document of some facts files, as the loader makes it for a store that
    holds some of them (the identities, loader/identity.py, depend on which)."""

    def __init__(self, base_iri: str, documents: dict[str, FactsDocument]) -> None:
        self.base_iri = base_iri
        #: every document, by its graph
        self.documents = documents
        self._graphs: dict[frozenset[str], dict[str, frozenset[Triple]]] = {}

    @classmethod
    def from_facts(cls, paths: Iterable[Path], base_iri: str) -> Expected:
        """Read every document of ``paths`` (JSON Lines); each document id must occur once."""
        minter = IriMinter(base_iri)
        documents: dict[str, FactsDocument] = {}
        for path in paths:
            for record in read_path(path):
                assert record.document is not None, f"{path}:{record.line}: {record.error}"
                graph = minter.document(record.document.document.id)
                assert graph not in documents, f"{record.document.document.id!r} twice"
                documents[graph] = record.document
        return cls(base_iri, documents)

    @property
    def graphs(self) -> dict[str, frozenset[Triple]]:
        """Each document's graph in a store that holds them all."""
        return self.graphs_for(self.documents)

    def graphs_for(self, present: Iterable[str]) -> dict[str, frozenset[Triple]]:
        """Each document's graph in a store that holds the documents ``present`` (graphs)."""
        key = frozenset(present)
        if key not in self._graphs:
            self._graphs[key] = self._map(key)
        return self._graphs[key]

    def _map(self, present: frozenset[str]) -> dict[str, frozenset[Triple]]:
        minter = IriMinter(self.base_iri)
        superclasses = superclass_closure()
        said = {graph: claims(self.documents[graph]) for graph in present}
        identities = Identities(
            {m for c in said.values() for m in c.entities},
            minter=minter,
            events={r for c in said.values() for r in c.events},
        )
        # Oxigraph stores some literals by value and gives them back in canonical form
        # ("PT90M"^^xsd:duration comes back as "PT1H30M"), so the mapping's triples are passed
        # through a store of the same kind: what a store holds when it holds exactly them.
        oxigraph = OxStore()
        for graph in present:
            doc = self.documents[graph]
            mapped = map_document(
                doc, minter, superclasses, identities=identities, claimed=said[graph]
            )
            triples = [*mapped.triples, facts_record(graph, doc)]
            name = NamedNode(graph)
            oxigraph.add_graph(name)
            oxigraph.extend(Quad(t.subject, t.predicate, t.object, name) for t in triples)
        graphs: dict[str, set[Triple]] = {}
        for quad in oxigraph.quads_for_pattern(None, None, None, None):
            assert isinstance(quad.graph_name, NamedNode)
            graphs.setdefault(quad.graph_name.value, set()).add(quad.triple)
        return {graph: frozenset(triples) for graph, triples in graphs.items()}

    def sizes(self) -> dict[str, int]:
        """The number of triples of each document graph (in a store that holds them all)."""
        return {graph: len(triples) for graph, triples in self.graphs.items()}


def _isomorphic(a: Iterable[Triple], b: Iterable[Triple]) -> bool:
    graph = NamedNode("urn:x-test:graph")
    left = Dataset(Quad(t.subject, t.predicate, t.object, graph) for t in a)
    right = Dataset(Quad(t.subject, t.predicate, t.object, graph) for t in b)
    left.canonicalize(CanonicalizationAlgorithm.UNSTABLE)
    right.canonicalize(CanonicalizationAlgorithm.UNSTABLE)
    return left == right


def inconsistencies(
    store: EmbeddedStore, expected: Expected, *, summary_may_be_stale: bool = False
) -> tuple[set[str], list[str]]:
    """The documents ``store`` holds and every way it breaks consistency (empty when it holds).

    ``summary_may_be_stale`` accepts a summary marked stale (the API marks it before a write it
    cannot follow, so a crash during one leaves the mark by design) instead of an exact one.
    """
    problems: list[str] = []
    summary = Summary(store, expected.base_iri)
    present = {graph for graph in store.graph_names() if graph in expected.documents}
    wanted = expected.graphs_for(present)
    for graph in store.graph_names():
        triples = store.graph_triples(graph)
        if graph in present:
            want = wanted[graph]
            if triples != want:
                problems.append(
                    f"document graph <{graph}> is partial or wrong: {len(triples)} triples, "
                    f"{len(want - triples)} missing, {len(triples - want)} unexpected"
                )
        elif graph == ONTOLOGY_IRI:
            if not _isomorphic(triples, ontology_triples()):
                problems.append(f"the ontology graph is not the ontology ({len(triples)} triples)")
        elif graph != summary.graph:
            problems.append(f"unexpected graph <{graph}> ({len(triples)} triples)")

    named = {q.triple for q in store.quads() if not isinstance(q.graph_name, DefaultGraph)}
    union = {q.triple for q in store.union_quads()}
    if union != named:
        problems.append(
            f"the union is not the union of the named graphs: {len(named - union)} triples "
            f"missing, {len(union - named)} extra"
        )

    state = summary.state()
    if state == "missing" and present:
        problems.append("documents are present but the summary graph is missing")
    elif state == "stale" and not summary_may_be_stale:
        problems.append("the summary graph is marked stale")
    elif state == "current":
        rebuilt = _rebuilt_summary(store, summary.graph, expected.base_iri)
        if store.graph_triples(summary.graph) != rebuilt:
            problems.append("the summary graph differs from a rebuild from the facts")
    return present, problems


def summary_is_exact(store: EmbeddedStore, base_iri: str) -> bool:
    """Whether the summary of ``store`` is current and holds what a rebuild from the facts
    gives."""
    summary = Summary(store, base_iri)
    return summary.state() == "current" and store.graph_triples(summary.graph) == _rebuilt_summary(
        store, summary.graph, base_iri
    )


def _rebuilt_summary(store: EmbeddedStore, graph: str, base_iri: str) -> set[Triple]:
    """The summary graph a rebuild computes, on an in-memory copy of ``store`` (through its
    operations, not ``Summary.rebuild``, which tests may count)."""
    copy = EmbeddedStore(None)
    try:
        copy.oxigraph.extend(store.oxigraph.quads_for_pattern(None, None, None, None))
        copy.commit([], after=Summary(copy, base_iri).rebuild_operations())
        return copy.graph_triples(graph)
    finally:
        copy.close()


def canonical_dataset(path: Path) -> Dataset:
    """The quads of the store at ``path`` (named graphs and the default graph's own triples;
    not the derived union), with canonical blank-node names."""
    store = EmbeddedStore(path)
    try:
        dataset = Dataset(store.quads())
    finally:
        store.close()
    dataset.canonicalize(CanonicalizationAlgorithm.UNSTABLE)
    return dataset


def dataset_difference(actual: Dataset, wanted: Dataset) -> str:
    """A short description of how two canonical datasets differ, by graph."""
    missing = set(wanted) - set(actual)
    extra = set(actual) - set(wanted)
    graphs = sorted({str(q.graph_name) for q in missing | extra})
    return f"{len(missing)} quads missing, {len(extra)} extra, in graphs {graphs[:10]}"
