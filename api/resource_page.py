"""The HTML page of a resource (``templates/resource.html``) and the page for an IRI nothing is
known about (``templates/not_found.html``).

This module turns a :class:`~diplograph.api.describe.ResourceView` into what the template
shows: the title, the most specific types, the sources, the facts by kind, the properties, the
links in and the documents that describe the resource.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from pyoxigraph import Literal, NamedNode, Triple

from diplograph.api.describe import MAX_INCOMING, FactRow, ResourceView
from diplograph.api.links import ONTOLOGY_ROOT, Linker, compact
from diplograph.api.negotiation import RDF_FORMATS
from diplograph.api.pages import render
from diplograph.api.store_reads import Row, Term, value_of
from diplograph.loader.config import Settings
from diplograph.loader.iris import IriMinter
from diplograph.loader.namespaces import DCTERMS, DIP, ORG, RDF, RDFS, SKOS

__all__ = ["INCOMING_OPEN", "labels_from", "not_found_page", "resource_page"]

#: Up to this many incoming links are shown open on a page; more are folded.
INCOMING_OPEN = 12

_RDF_TYPE = RDF + "type"
_LABEL_ORDER = (RDFS + "label", SKOS + "prefLabel", DCTERMS + "title", DIP + "summary")
# Every participant also has the generic role; the page shows the specific one when there is.
_ROLE_LIKE = {DIP + "hasParticipant"}
# The links of a post holding to its holder, post and organization (their pages get a timeline).
_HOLDING_ROLES = {ORG + "member", DIP + "post", ORG + "organization"}


def _pick_label(literals: Iterable[Literal]) -> str | None:
    """The English (or untagged, or first) of ``literals``."""
    found = list(literals)
    for literal in found:
        if (literal.language or "").lower().startswith("en"):
            return literal.value
    for literal in found:
        if not literal.language:
            return literal.value
    return found[0].value if found else None


def labels_from(triples: Iterable[Triple]) -> dict[str, str]:
    """A label for every IRI the triples give one (label, prefLabel, title, then summary)."""
    by_node: dict[str, dict[str, list[Literal]]] = {}
    for t in triples:
        if (
            isinstance(t.subject, NamedNode)
            and isinstance(t.object, Literal)
            and t.predicate.value in _LABEL_ORDER
        ):
            by_node.setdefault(t.subject.value, {}).setdefault(t.predicate.value, []).append(
                t.object
            )
    labels: dict[str, str] = {}
    for node, props in by_node.items():
        for prop in _LABEL_ORDER:
            label = _pick_label(props.get(prop, ()))
            if label:
                labels[node] = label
                break
    return labels


def _specific_types(types: Iterable[str]) -> list[str]:
    """The most specific of ``types`` (the loader also writes every superclass)."""
    from diplograph.loader.ontology import superclass_closure

    closure = superclass_closure()
    found = set(types)
    return sorted(
        t for t in found if not any(t != u and t in closure.get(u, frozenset()) for u in found)
    )


@dataclass(frozen=True)
class FactLine:
    """One row of a facts table: the fact, its types, the roles, who else, when, sources."""

    iri: str
    label: str
    types: list[str]
    roles: list[str]
    others: list[tuple[str, str]]  #: (IRI, label or "")
    documents: list[tuple[str, str]]  #: (IRI, title or "")
    date: str


@dataclass(frozen=True)
class FactTable:
    """The facts of one kind (events, situations, post holdings)."""

    anchor: str
    heading: str
    rows: list[FactLine]


@dataclass(frozen=True)
class SourceLine:
    """One attestation of a fact: the document, its publisher, and where the evidence is."""

    attestation: str
    document: str | None
    title: str | None
    publisher: str | None
    publisher_label: str | None
    issued: str
    confidence: str
    spans: str
    url: str | None


def resource_page(
    view: ResourceView,
    settings: Settings,
    term_labels: Mapping[str, str],
    definitions: Mapping[str, str],
) -> str:
    """The HTML page of one resource; ``term_labels`` and ``definitions`` are the ontology's."""
    labels = {**term_labels, **labels_from(view.triples)}
    r = Linker(settings, labels, definitions)
    subject = NamedNode(view.iri)
    outgoing = [t for t in view.triples if t.subject == subject]
    incoming = [t for t in view.triples if t.object == subject and t.subject != subject]
    types = [
        t.object.value
        for t in outgoing
        if t.predicate.value == _RDF_TYPE and isinstance(t.object, NamedNode)
    ]
    is_fact = bool(view.sources)
    kinds = (
        ("Event", "Related events" if is_fact else "Events"),
        ("Situation", "Related situations" if is_fact else "Relations, backings and stances"),
        ("PostHolding", "Post holdings" if is_fact else "Posts held"),
    )
    fact_tables = [
        FactTable(kind.lower(), heading, [_fact_line(f, kind, r) for f in rows])
        for kind, heading in kinds
        if (rows := [f for f in view.facts if f.kind == kind])
    ]
    incoming_pairs = sorted(
        {(t.predicate.value, t.subject) for t in incoming},
        key=lambda pair: (compact(pair[0], r.prefixes), str(pair[1])),
    )
    # an actor takes part in events or holds posts (a document's facts only derive from it)
    has_events = any(f.kind == "Event" and DIP + "hasParticipant" in f.roles for f in view.facts)
    has_posts = any(f.kind == "PostHolding" and f.roles & _HOLDING_ROLES for f in view.facts)
    has_time = not is_fact and (has_events or has_posts)
    actor = quote(view.iri, safe="")
    uses_href = None
    if view.iri.startswith(ONTOLOGY_ROOT) and not view.iri.startswith(
        IriMinter(settings.base_iri).ids()
    ):
        uses = f"SELECT ?fact ?property WHERE {{\n  ?fact ?property <{view.iri}> .\n}}\nLIMIT 200\n"
        uses_href = "/?run=1&query=" + quote(uses)
    return render(
        "resource.html",
        title=labels.get(view.iri) or compact(view.iri, r.prefixes),
        r=r,
        iri=view.iri,
        types=_specific_types(types),
        formats=RDF_FORMATS,
        sources=_source_lines(view.sources),
        fact_tables=fact_tables,
        properties=_properties(outgoing, r),
        incoming=incoming_pairs,
        incoming_open=len(incoming_pairs) <= INCOMING_OPEN,
        incoming_cut=len(incoming_pairs) >= MAX_INCOMING,
        max_incoming=MAX_INCOMING,
        graphs=view.graphs,
        conflicts=view.conflicts,
        uses_href=uses_href,
        timeline_src=f"/charts/timeline?actor={actor}" if has_time else None,
        chart_src=f"/charts/events-by-month?actor={actor}" if has_time and has_events else None,
        scripts=["charts.js", "timeline.js"] if has_time else [],
        page_config={"base": settings.base_iri},
    )


def _fact_line(fact: FactRow, kind: str, r: Linker) -> FactLine:
    label = _pick_label(fact.summaries) or _pick_label(fact.labels)
    types = _specific_types(fact.types)
    if not label:
        names = [r.labels.get(t) or t.rsplit("#", 1)[-1] for t in types] or [kind]
        label = " ".join(names)
    return FactLine(
        iri=fact.iri,
        label=label,
        types=types,
        roles=sorted(fact.roles - _ROLE_LIKE) or sorted(fact.roles),
        others=sorted(fact.others.items(), key=lambda i: i[1] or i[0]),
        documents=sorted(fact.documents.items()),
        date=", ".join(sorted(d[:10] for d in fact.dates)),
    )


def _source_lines(rows: Sequence[Row]) -> list[SourceLine]:
    """One line per attestation (the query gives one row per evidence span)."""
    by_att: dict[str, tuple[Row, set[tuple[int, int]]]] = {}
    for row in rows:
        att = value_of(row, "att")
        if att is None:
            continue
        _, spans = by_att.setdefault(att, (row, set()))
        start, end = value_of(row, "start"), value_of(row, "end")
        if start is not None and end is not None:
            spans.add((int(start), int(end)))
    return [
        SourceLine(
            attestation=att,
            document=value_of(row, "doc"),
            title=value_of(row, "title"),
            publisher=value_of(row, "publisher"),
            publisher_label=value_of(row, "publisherLabel"),
            issued=value_of(row, "issued") or "",
            confidence=value_of(row, "confidence") or "",
            spans=", ".join(f"{s}–{e}" for s, e in sorted(spans)),
            url=value_of(row, "url"),
        )
        for att, (row, spans) in sorted(by_att.items())
    ]


def _properties(outgoing: Sequence[Triple], r: Linker) -> list[tuple[str, list[Term]]]:
    """The values of each property: ``rdf:type`` first, then the labels, then by name."""
    grouped: dict[str, list[Term]] = {}
    for t in outgoing:
        grouped.setdefault(t.predicate.value, []).append(t.object)

    def order(p: str) -> tuple[int, str]:
        if p == _RDF_TYPE:
            return (0, "")
        if p in _LABEL_ORDER:
            return (1, str(_LABEL_ORDER.index(p)))
        return (2, compact(p, r.prefixes))

    return [(p, grouped[p]) for p in sorted(grouped, key=order)]


def not_found_page(iri: str) -> str:
    """The HTML 404 page for a resource nothing is known about."""
    return render("not_found.html", title="Not found", iri=iri)
