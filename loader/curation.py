"""Curation: a curator's statement that two nodes are one entity (or event), or are not.

Candidates (docs/mapping.md, "Conflicts and candidates") are reported and never merged by a
rule; a person decides. Each decision is data in the store, in its own named graph
(:meth:`IriMinter.curation_graph`), written with the standard OWL terms so that linked-data
clients read it too::

    <a> owl:sameAs <b> .          # "these are the same"
    <a> owl:differentFrom <b> .   # "these are different"

The pair is written in one order (the smaller IRI first), so a statement is stated once. The
graph belongs to no document: loading, reloading or retracting documents leaves it as it is, and
it applies to whatever is loaded later. A pair with a statement is no longer a candidate in
``diplograph check``. The statements are an input of the identities (loader/identity.py,
loader/coreference.py): "same" joins the two nodes' mentions or reports into one node,
"different" keeps them apart, and the documents concerned are mapped again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pyoxigraph import NamedNode, QuerySolutions, Triple

from diplograph.loader.errors import InputError
from diplograph.loader.namespaces import OWL
from diplograph.loader.store import GraphChange, Store

__all__ = ["DIFFERENT", "SAME", "Curation", "Verdict", "change", "curations", "settled_pairs"]

Verdict = Literal["same", "different"]
SAME: Verdict = "same"
DIFFERENT: Verdict = "different"
_PREDICATE = {SAME: OWL + "sameAs", DIFFERENT: OWL + "differentFrom"}
_VERDICT = {iri: verdict for verdict, iri in _PREDICATE.items()}
# Nodes a query names at once (a VALUES list): the statements of many nodes are read in parts.
_CHUNK = 2000


@dataclass(frozen=True, order=True)
class Curation:
    """One statement: the two nodes (smaller IRI first) are the same, or are different."""

    first: str
    second: str
    verdict: Verdict

    @classmethod
    def of(cls, verdict: str, a: str, b: str) -> Curation:
        """The statement ``verdict`` about ``a`` and ``b``, in either order; InputError for an
        unknown verdict, a node that is not an IRI, or a node said to be itself."""
        if verdict not in _PREDICATE:
            raise InputError(f"verdict {verdict!r}: expected 'same' or 'different'")
        for node in (a, b):
            try:
                NamedNode(node)
            except ValueError:
                raise InputError(f"{node!r} is not an IRI: give the node's full IRI") from None
        if a == b:
            raise InputError(f"a curation names two nodes; <{a}> was given twice")
        first, second = sorted((a, b))
        return cls(first, second, SAME if verdict == SAME else DIFFERENT)

    def triple(self) -> Triple:
        """How the statement is stored."""
        predicate = NamedNode(_PREDICATE[self.verdict])
        return Triple(NamedNode(self.first), predicate, NamedNode(self.second))

    def to_dict(self) -> dict[str, object]:
        """The JSON form (``diplograph curate list --format json``, ``GET /curation``)."""
        return {"verdict": self.verdict, "nodes": [self.first, self.second]}


def curations(store: Store, graph: str) -> list[Curation]:
    """The statements of the curation graph ``graph``, sorted."""
    found = []
    for triple in store.graph_triples(graph):
        verdict = _VERDICT.get(triple.predicate.value)
        subject, obj = triple.subject, triple.object
        if verdict is not None and isinstance(subject, NamedNode) and isinstance(obj, NamedNode):
            found.append(Curation.of(verdict, subject.value, obj.value))
    return sorted(found)


def change(graph: str, records: Iterable[Curation]) -> GraphChange:
    """The curation graph holding exactly ``records`` (at most one statement a pair: a later
    statement about a pair replaces an earlier one)."""
    by_pair = {(r.first, r.second): r for r in records}
    triples = [r.triple() for r in sorted(by_pair.values())]
    return GraphChange(graph, triples or None)


def settled_pairs(store: Store, nodes: Iterable[str]) -> set[frozenset[str]]:
    """The pairs of ``nodes`` a statement settles, in any graph: ``owl:sameAs`` or
    ``owl:differentFrom`` between two of them (what ``check`` no longer reports)."""
    wanted = sorted(set(nodes))
    members = set(wanted)
    settled: set[frozenset[str]] = set()
    for start in range(0, len(wanted) if len(wanted) > 1 else 0, _CHUNK):
        values = " ".join(f"<{n}>" for n in wanted[start : start + _CHUNK])
        result = store.query(
            f"SELECT ?a ?b WHERE {{ VALUES ?a {{ {values} }} "
            f"?a <{_PREDICATE[SAME]}>|<{_PREDICATE[DIFFERENT]}> ?b FILTER(isIRI(?b)) }}"
        )
        assert isinstance(result, QuerySolutions)
        pairs = ((row["a"].value, row["b"].value) for row in result)
        settled.update(frozenset(pair) for pair in pairs if pair[1] in members)
    return settled
