"""The plan of a remote commit: which graphs are staged, which are written in place, and how
the operations are cut into requests.

A graph that holds something is replaced through a *staging graph*
(:data:`~loader.store.base.INTERNAL_GRAPH_PREFIX` ``…``): its new contents are written there,
then swapped in (``DROP`` the target, ``ADD`` the staging graph to it, ``DROP`` the staging
graph). A graph that holds nothing yet is written in place. Triples are cut into ``INSERT DATA``
blocks that Virtuoso's parser accepts, never splitting blank-node-linked triples (a blank node
label names the same node only within one operation).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from pyoxigraph import BlankNode, NamedNode, Triple

from diplograph.loader.store.base import GraphChange

__all__ = ["TRIPLES_PER_GSP_REQUEST", "CommitPlan", "chunks", "pack"]

#: Triples per ``INSERT DATA`` block: Virtuoso's parser runs out of stack at about 5,000.
_TRIPLES_PER_BLOCK = 1000
#: Triples per Graph Store Protocol request when a large commit is staged that way.
TRIPLES_PER_GSP_REQUEST = 50_000


@dataclass
class CommitPlan:
    """The requests of one commit: what is written where, and in which order."""

    #: (graph written, triples): staging graphs, and graphs written in place
    staged: list[tuple[str, Sequence[Triple]]]
    #: INSERT DATA operations of every written graph, for a commit of several requests
    writes: list[str]
    #: the atomic part of a commit of several requests: ``before``, swaps, drops, ``after``
    final: list[str]
    #: the whole commit as one request, when it fits
    single: str | None
    #: a chunk of blank-node-linked triples too large for one INSERT DATA template
    oversized: bool

    @classmethod
    def of(
        cls,
        changes: Iterable[GraphChange],
        direct: set[str],
        batch: str,
        before: Sequence[str],
        after: Sequence[str],
        max_bytes: int,
        staging_prefix: str,
    ) -> CommitPlan:
        """The plan of replacing ``changes`` (graphs in ``direct`` written in place) with
        ``before`` and ``after`` around the swaps, staging graphs named
        ``staging_prefix + batch``."""
        staged: list[tuple[str, Sequence[Triple]]] = []
        in_place: list[tuple[str, Sequence[Triple]]] = []
        swaps: list[str] = []
        for number, change in enumerate(changes):
            target = NamedNode(change.graph)
            if change.graph in direct:
                in_place.append((change.graph, change.triples or ()))
            elif change.triples:
                staging = NamedNode(f"{staging_prefix}{batch}:{number}")
                staged.append((staging.value, change.triples))
                # DROP + ADD + DROP, not MOVE: Virtuoso takes 3-4 times longer to MOVE onto an
                # existing graph in the request that wrote the staging graph.
                swaps.append(f"DROP SILENT GRAPH {target}")
                swaps.append(f"ADD SILENT GRAPH {staging} TO GRAPH {target}")
                swaps.append(f"DROP SILENT GRAPH {staging}")
            else:
                swaps.append(f"DROP SILENT GRAPH {target}")

        # Each graph's triples are cut into blocks once: the cut follows blank-node links.
        staged_blocks = [(g, b) for g, t in staged for b in chunks(t, _TRIPLES_PER_BLOCK)]
        direct_blocks = [(g, b) for g, t in in_place for b in chunks(t, _TRIPLES_PER_BLOCK)]
        staging_writes = [_insert(graph, block) for graph, block in staged_blocks]
        direct_writes = [_insert(graph, block) for graph, block in direct_blocks]
        # Blank-node-linked triples cannot be split; Virtuoso refuses templates of more than about
        # 1,400 triples, but reads any number by the Graph Store Protocol.
        oversized = any(
            len(block) > _TRIPLES_PER_BLOCK for _, block in staged_blocks + direct_blocks
        )
        # ``before`` reads the graphs as they were, so graphs written in place come after it.
        whole = [*staging_writes, *before, *direct_writes, *swaps, *after]
        packed = pack(whole, max_bytes)
        return cls(
            staged=in_place + staged,
            writes=direct_writes + staging_writes,
            final=[*before, *swaps, *after],
            single=packed[0] if len(packed) == 1 else None,
            oversized=oversized,
        )


def _blank_nodes(triple: Triple) -> list[BlankNode]:
    return [term for term in (triple.subject, triple.object) if isinstance(term, BlankNode)]


def chunks(triples: Sequence[Triple], size: int | None) -> Iterator[list[Triple]]:
    """``triples`` in lists of at most ``size`` (all in one when None), except that triples
    linked by blank nodes stay together: a blank node label only names the same node within one
    operation or document.
    """
    parent: dict[BlankNode, BlankNode] = {}

    def root(node: BlankNode) -> BlankNode:
        while (up := parent.setdefault(node, node)) != node:
            grandparent = parent.setdefault(up, up)
            parent[node] = grandparent  # path halving keeps long blank-node chains linear
            node = grandparent
        return node

    for triple in triples:
        nodes = _blank_nodes(triple)
        if len(nodes) == 2:
            parent[root(nodes[1])] = root(nodes[0])
    ground: list[list[Triple]] = []
    linked: dict[BlankNode, list[Triple]] = {}
    for triple in triples:
        nodes = _blank_nodes(triple)
        if nodes:
            linked.setdefault(root(nodes[0]), []).append(triple)
        else:
            ground.append([triple])
    chunk: list[Triple] = []
    for piece in [*ground, *linked.values()]:
        if chunk and size is not None and len(chunk) + len(piece) > size:
            yield chunk
            chunk = []
        chunk.extend(piece)
    if chunk:
        yield chunk


def _insert(graph: str, triples: Sequence[Triple]) -> str:
    """The update operation that adds ``triples`` to ``graph``.

    Ground triples go in ``INSERT DATA``; triples with blank nodes in ``INSERT { } WHERE { }``,
    which every store accepts (Virtuoso refuses blank nodes in ``INSERT DATA``).
    """
    body = "\n".join(f"{t} ." for t in triples)
    if any(_blank_nodes(t) for t in triples):
        return f"INSERT {{ GRAPH {NamedNode(graph)} {{\n{body}\n}} }} WHERE {{}}"
    return f"INSERT DATA {{ GRAPH {NamedNode(graph)} {{\n{body}\n}} }}"


def pack(operations: Sequence[str], max_bytes: int) -> list[str]:
    """Join ``operations`` into as few update requests of at most ``max_bytes`` as they fit."""
    requests: list[str] = []
    current: list[str] = []
    size = 0
    for operation in operations:
        length = len(operation.encode()) + 3
        if current and size + length > max_bytes:
            requests.append(" ;\n".join(current))
            current, size = [], 0
        current.append(operation)
        size += length
    if current:
        requests.append(" ;\n".join(current))
    return requests
