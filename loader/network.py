"""The who-engages-whom network: actors as nodes, pairs that take part in events together as
edges, read from the store (``/network``, ``/export/network``, ``diplograph export network``).

An edge between actors ``a`` and ``b`` counts the distinct events ``?e a dip:Event ;
dip:hasParticipant a , b`` (as the summary's ``dip:InteractionCount`` does, docs/mapping.md
"Summaries": an event that several documents report is one node, counted once). Without a time
or event-type filter and without edge details, the counts come from the summary graph, which
the loader keeps exact, so the picture of a large store is quick. A time range or an event type
asks the union graph in SPARQL, and so do the edge details (first and last start date, the
event types).

A filter by actor class keeps the actors of the chosen classes and the edges between them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode, QuerySolutions

from diplograph.loader.errors import InputError
from diplograph.loader.iris import IriMinter
from diplograph.loader.namespaces import DIP, WD, sparql_prologue
from diplograph.loader.store.base import Store

__all__ = [
    "ACTOR_CLASSES",
    "Edge",
    "Network",
    "NetworkFilter",
    "Node",
    "event_type_iri",
    "event_types",
    "read_network",
]

#: The actor classes a network can be filtered by: key -> class IRI (most specific first when
#: an actor has several, the first key that fits is its class).
ACTOR_CLASSES: dict[str, str] = {
    "state": f"{DIP}State",
    "government": f"{DIP}Government",
    "person": f"{DIP}Person",
    "militia": f"{DIP}Militia",
}
#: The class of an actor of none of :data:`ACTOR_CLASSES` (an organization, a ministry, …).
OTHER = "other"

_PROLOGUE = sparql_prologue()
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_NAME = re.compile(r"^(dip:)?([A-Za-z][A-Za-z0-9_]*)$")
_IRI = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")
#: A term of a row: an IRI, a literal, or None.
Value = NamedNode | Literal | None
#: IRIs per VALUES block when reading the actors' labels and classes.
_CHUNK = 500


@dataclass(frozen=True)
class NetworkFilter:
    """Which events count: a start date range (ISO dates at any precision, both ends included,
    compared at the coarser of the bound's and the event's precision), an event type (a class
    IRI) and actor classes (keys of :data:`ACTOR_CLASSES`; empty: every actor)."""

    start: str | None = None
    end: str | None = None
    event_type: str | None = None
    classes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name, value in (("from", self.start), ("to", self.end)):
            if value is not None and not _DATE.match(value):
                raise InputError(f"{name}={value!r}: give a date as YYYY, YYYY-MM or YYYY-MM-DD")
        for key in self.classes:
            if key not in ACTOR_CLASSES:
                known = ", ".join(ACTOR_CLASSES)
                raise InputError(f"class={key!r}: the actor classes are {known}")
        if self.event_type is not None and not _IRI.match(self.event_type):
            raise InputError(f"type={self.event_type!r}: not an event type")

    @property
    def on_events(self) -> bool:
        """True when the filter is about events (dates or type), which the summary cannot say."""
        return self.start is not None or self.end is not None or self.event_type is not None


@dataclass(frozen=True)
class Node:
    """An actor: its IRI, a label, its class key and its Wikidata id (``Q…``), when known."""

    iri: str
    label: str
    actor_class: str
    wikidata: str | None = None


@dataclass(frozen=True)
class Edge:
    """A pair of actors (``source`` < ``target`` as strings) and the events they share: how
    many, the first and last start dates (ISO text), the events' most specific types (IRIs)."""

    source: str
    target: str
    count: int
    first: str | None = None
    last: str | None = None
    event_types: tuple[str, ...] = ()


@dataclass
class Network:
    """Nodes and edges (strongest first); ``total_edges`` counts the edges before any limit."""

    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    total_edges: int = 0
    from_summary: bool = False


def event_type_iri(text: str) -> str:
    """An event type given as ``Visit``, ``dip:Visit`` or a full IRI, as its IRI."""
    match = _NAME.match(text.strip())
    if match:
        return DIP + match.group(2)
    if _IRI.match(text.strip()):
        return text.strip()
    raise InputError(f"type={text!r}: give an event type as Visit, dip:Visit or an IRI")


def read_network(
    store: Store,
    base_iri: str,
    where: NetworkFilter | None = None,
    *,
    details: bool = False,
    limit: int | None = None,
) -> Network:
    """The network of the events ``where`` selects, its ``limit`` strongest edges (all when
    None); ``details`` adds first and last dates and event types to the edges."""
    where = where or NetworkFilter()
    listed = _summary_top_rank(store, base_iri)  # None: no summary to trust
    from_summary = listed is not None and not where.on_events and not details
    if listed is not None and from_summary and not where.classes and limit is not None:
        # The strongest pairs: from the summary's top list when they are in it (a hundred
        # nodes to read), else sorted and cut by the store.
        edges, total = _strongest_summary_edges(store, base_iri, limit, top=limit <= listed)
        return _network(store, edges, total, from_summary=True)
    edges = _summary_edges(store, base_iri) if from_summary else _event_edges(store, where)
    if where.classes:
        actors = {iri for edge in edges for iri in (edge.source, edge.target)}
        kinds = _classes(store, actors)
        keep = set(where.classes)
        edges = [e for e in edges if kinds[e.source] in keep and kinds[e.target] in keep]
    edges.sort(key=lambda e: (-e.count, e.source, e.target))
    total = len(edges)
    if limit is not None:
        edges = edges[:limit]
    if details:
        types = _event_types(store, where, edges)
        edges = [
            Edge(e.source, e.target, e.count, e.first, e.last, types.get((e.source, e.target), ()))
            for e in edges
        ]
    return _network(store, edges, total, from_summary=from_summary)


def _network(store: Store, edges: list[Edge], total: int, *, from_summary: bool) -> Network:
    """The network of ``edges``, with their actors' labels, classes and ids (only theirs: far
    fewer than all actors under a limit)."""
    nodes = _nodes(store, {iri for edge in edges for iri in (edge.source, edge.target)})
    return Network(
        nodes=sorted(nodes.values(), key=lambda n: (n.label.casefold(), n.iri)),
        edges=edges,
        total_edges=total,
        from_summary=from_summary,
    )


def event_types(store: Store, base_iri: str) -> list[tuple[str, str]]:
    """The event types events in the store have, as (IRI, label), from the summary's monthly
    counts (every type of every dated event, supertypes included); sorted by label."""
    graph = IriMinter(base_iri).summary_graph()
    rows = _select(
        store,
        f"SELECT DISTINCT ?t WHERE {{ GRAPH <{graph}> {{ ?n a dip:EventCountByMonth ; "
        "dip:eventType ?t } }",
    )
    found = {t.value for (t,) in rows if isinstance(t, NamedNode)}
    return sorted(
        ((iri, iri.removeprefix(DIP)) for iri in found), key=lambda pair: pair[1].casefold()
    )


_PAIRS = "?n a dip:InteractionCount ; dip:firstActor ?a ; dip:secondActor ?b ; dip:eventCount ?c"


def _summary_edges(store: Store, base_iri: str) -> list[Edge]:
    """Every pair's count from the summary graph's ``dip:InteractionCount`` nodes."""
    graph = IriMinter(base_iri).summary_graph()
    return _edges(_select(store, f"SELECT ?a ?b ?c WHERE {{ GRAPH <{graph}> {{ {_PAIRS} }} }}"))


def _summary_top_rank(store: Store, base_iri: str) -> int | None:
    """How many of the highest pair counts the summary lists (``dip:topInteractionRank``: the
    list holds every pair at or above that rank's count); None when there is no summary, or
    one marked stale (docs/mapping.md "Summaries"), whose counts are not to be trusted."""
    graph = IriMinter(base_iri).summary_graph()
    rows = _select(
        store,
        f"SELECT ?rank ?stale WHERE {{ GRAPH <{graph}> {{ <{graph}> dip:quadCount ?quads "
        f"OPTIONAL {{ <{graph}> dip:topInteractionRank ?rank }} "
        f"OPTIONAL {{ <{graph}> dip:summaryStale ?stale }} }} }}",
    )
    if not rows or any(stale is not None for _, stale in rows):
        return None
    rank = rows[0][0]
    return int(rank.value) if isinstance(rank, Literal) else 0


def _strongest_summary_edges(
    store: Store, base_iri: str, limit: int, *, top: bool
) -> tuple[list[Edge], int]:
    """The ``limit`` highest counts of the summary (ties by IRI, as :func:`read_network` sorts),
    read from its top list when ``top``, and how many pairs there are."""
    graph = IriMinter(base_iri).summary_graph()
    listed = f"<{graph}> dip:topInteraction ?n . " if top else ""
    rows = _select(
        store,
        f"SELECT ?a ?b ?c WHERE {{ GRAPH <{graph}> {{ {listed}{_PAIRS} }} }} "
        f"ORDER BY DESC(?c) STR(?a) STR(?b) LIMIT {int(limit)}",
    )
    (count,) = _select(
        store,
        f"SELECT (COUNT(*) AS ?pairs) WHERE {{ GRAPH <{graph}> {{ ?n a dip:InteractionCount }} }}",
    )[0]
    return _edges(rows), int(count.value) if count is not None else 0


def _edges(rows: list[tuple[Value, ...]]) -> list[Edge]:
    return [
        Edge(a.value, b.value, int(c.value))
        for a, b, c in rows
        if isinstance(a, NamedNode) and isinstance(b, NamedNode) and c is not None
    ]


def _event_pattern(where: NetworkFilter) -> str:
    """The events ``?e`` that ``where`` selects and their pairs ``?a`` < ``?b``."""
    pattern = (
        "?e a dip:Event ; dip:hasParticipant ?a , ?b . "
        "FILTER (isIRI(?a) && isIRI(?b) && STR(?a) < STR(?b)) "
    )
    if where.event_type is not None:
        pattern += f"?e a <{where.event_type}> . "
    if where.start is not None or where.end is not None:
        # Compared at the coarser of the two precisions: an event of "2023-10" is in a range
        # from 2023-10-20, and one of 2022-11-14 in a range to 2022.
        pattern += "?e dip:startDate ?when . BIND (STR(?when) AS ?w) "
        for bound, sign in ((where.start, ">="), (where.end, "<=")):
            if bound is not None:
                pattern += (
                    f'FILTER (SUBSTR(?w, 1, {len(bound)}) {sign} SUBSTR("{bound}", 1, STRLEN(?w))) '
                )
    return pattern


def _event_edges(store: Store, where: NetworkFilter) -> list[Edge]:
    """Every pair's count and first and last start date, over the events ``where`` selects."""
    rows = _select(
        store,
        "SELECT ?a ?b (COUNT(DISTINCT ?e) AS ?c) (MIN(?d) AS ?first) (MAX(?d) AS ?last) "
        f"WHERE {{ {_event_pattern(where)} "
        "OPTIONAL { ?e dip:startDate ?start BIND (STR(?start) AS ?d) } } GROUP BY ?a ?b",
    )
    return [
        Edge(a.value, b.value, int(c.value), _text(first), _text(last))
        for a, b, c, first, last in rows
        if isinstance(a, NamedNode) and isinstance(b, NamedNode) and c is not None
    ]


def _event_types(
    store: Store, where: NetworkFilter, edges: Sequence[Edge]
) -> dict[tuple[str, str], tuple[str, ...]]:
    """Each edge's events' most specific types (no subclass of it is also a type of the event;
    the ontology graph says which classes are subclasses)."""
    wanted = {(e.source, e.target) for e in edges}
    if not wanted:
        return {}
    rows = _select(
        store,
        f"SELECT DISTINCT ?a ?b ?t WHERE {{ {_event_pattern(where)} ?e a ?t . "
        "FILTER NOT EXISTS { ?e a ?sub . ?sub rdfs:subClassOf ?t . FILTER (?sub != ?t) } }",
    )
    types: dict[tuple[str, str], set[str]] = {}
    for a, b, t in rows:
        if a is None or b is None or not isinstance(t, NamedNode):
            continue
        key = (a.value, b.value)
        if key in wanted:
            types.setdefault(key, set()).add(t.value)
    return {key: tuple(sorted(found)) for key, found in types.items()}


def _classes(store: Store, actors: Iterable[str]) -> dict[str, str]:
    """The class key (:data:`ACTOR_CLASSES`, else :data:`OTHER`) of each of ``actors``."""
    found: dict[str, set[str]] = {}
    ordered = sorted(actors)
    class_values = " ".join(f"<{iri}>" for iri in ACTOR_CLASSES.values())
    for i in range(0, len(ordered), _CHUNK):
        values = " ".join(f"<{iri}>" for iri in ordered[i : i + _CHUNK])
        for x, kind in _select(
            store,
            f"SELECT DISTINCT ?x ?c WHERE {{ VALUES ?x {{ {values} }} "
            f"VALUES ?c {{ {class_values} }} ?x a ?c }}",
        ):
            if x is not None and kind is not None:
                found.setdefault(x.value, set()).add(kind.value)
    return {iri: _class(found.get(iri, set())) for iri in ordered}


def _nodes(store: Store, actors: Iterable[str]) -> dict[str, Node]:
    """Label, class and Wikidata id of each of ``actors``."""
    labels: dict[str, dict[str, str]] = {}
    wikidata: dict[str, str] = {}
    ordered = sorted(actors)
    classes = _classes(store, ordered)
    for i in range(0, len(ordered), _CHUNK):
        values = " ".join(f"<{iri}>" for iri in ordered[i : i + _CHUNK])
        for x, label in _select(
            store, f"SELECT ?x ?l WHERE {{ VALUES ?x {{ {values} }} ?x rdfs:label ?l }}"
        ):
            if x is not None and isinstance(label, Literal):
                labels.setdefault(x.value, {}).setdefault(label.language or "", label.value)
        for x, same in _select(
            store,
            f"SELECT ?x ?w WHERE {{ VALUES ?x {{ {values} }} ?x owl:sameAs ?w "
            f'FILTER (STRSTARTS(STR(?w), "{WD}")) }}',
        ):
            if x is not None and same is not None:
                qid = same.value[len(WD) :]
                if x.value not in wikidata or qid < wikidata[x.value]:
                    wikidata[x.value] = qid
    return {
        iri: Node(iri, _label(iri, labels.get(iri, {})), classes[iri], wikidata.get(iri))
        for iri in ordered
    }


def _label(iri: str, by_language: dict[str, str]) -> str:
    """The English label, else one without a language, else the first by language, else the
    IRI's last segment."""
    for language in ("en", ""):
        if language in by_language:
            return by_language[language]
    if by_language:
        return by_language[min(by_language)]
    return iri.rstrip("/").rsplit("/", 1)[-1]


def _class(found: set[str]) -> str:
    """The first key of :data:`ACTOR_CLASSES` whose class is in ``found``, else :data:`OTHER`."""
    return next((key for key, iri in ACTOR_CLASSES.items() if iri in found), OTHER)


def _text(term: Value) -> str | None:
    return term.value if term is not None else None


def _select(store: Store, sparql: str) -> list[tuple[Value, ...]]:
    """The rows of a SELECT over the union graph, as tuples of IRIs and literals (None when
    unbound or another kind of term)."""
    result = store.query(_PROLOGUE + sparql, union_default_graph=True)
    assert isinstance(result, QuerySolutions)
    width = len(result.variables)
    return [tuple(_value(solution[i]) for i in range(width)) for solution in result]


def _value(term: object) -> Value:
    return term if isinstance(term, NamedNode | Literal) else None
