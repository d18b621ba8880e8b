"""Reading a resource's description from the store, by SPARQL over the union of all graphs.

:func:`describe` is the RDF answer for an IRI: its outgoing triples, the links into it and the
labels of the nodes on either side. :func:`resource_view` adds what the HTML page shows besides:
the facts an actor takes part in, the sources (article, publisher, confidence, evidence offsets)
a fact rests on, and the documents (named graphs) that describe the resource.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode, Triple

from diplograph.api.store_reads import Row, construct, select, value_of
from diplograph.loader.conflicts import Conflict, find_conflicts
from diplograph.loader.namespaces import DIP
from diplograph.loader.store import Store

__all__ = [
    "MAX_FACTS",
    "MAX_INCOMING",
    "MAX_OUTGOING",
    "FactRow",
    "ResourceView",
    "describe",
    "resource_view",
]

#: How many outgoing triples and incoming links a description holds at most.
MAX_OUTGOING = 5000
MAX_INCOMING = 1000
#: How many facts an actor's page lists at most.
MAX_FACTS = 1000

_LABEL_PROPERTIES = "rdfs:label skos:prefLabel dcterms:title dip:summary"

_DESCRIBE = """
CONSTRUCT {{ <{iri}> ?p ?o . ?o ?olp ?ol . ?s ?q <{iri}> . ?s ?slp ?sl . }}
WHERE {{
  {{ {{ SELECT DISTINCT ?p ?o WHERE {{ <{iri}> ?p ?o }} LIMIT {outgoing} }}
     OPTIONAL {{ VALUES ?olp {{ {labels} }} ?o ?olp ?ol FILTER(isIRI(?o)) }} }}
  UNION
  {{ {{ SELECT DISTINCT ?s ?q WHERE {{ ?s ?q <{iri}> }} LIMIT {incoming} }}
     OPTIONAL {{ VALUES ?slp {{ {labels} }} ?s ?slp ?sl }} }}
}}
"""


def describe(store: Store, iri: str) -> list[Triple]:
    """The description of ``iri``: outgoing triples, incoming links, labels of linked nodes."""
    triples = construct(
        store,
        _DESCRIBE.format(
            iri=iri, outgoing=MAX_OUTGOING, incoming=MAX_INCOMING, labels=_LABEL_PROPERTIES
        ),
    )
    subject = NamedNode(iri)

    def order(t: Triple) -> tuple[int, str, str, str]:
        return (0 if t.subject == subject else 1, str(t.subject), str(t.predicate), str(t.object))

    return sorted(triples, key=order)


_FACTS_OF = """
SELECT DISTINCT ?fact ?kind ?role WHERE {{
  VALUES ?kind {{ dip:Event dip:Situation dip:PostHolding }}
  ?fact ?role <{iri}> ; a ?kind .
}} LIMIT {limit}
"""

_FACT_DETAILS = """
SELECT ?fact ?type ?date ?summary ?label WHERE {{
  VALUES ?fact {{ {facts} }}
  {{ ?fact a ?type FILTER(STRSTARTS(STR(?type), STR(dip:))) }}
  UNION {{ ?fact dip:startDate ?date }} UNION {{ ?fact dip:earliestStart ?date }}
  UNION {{ ?fact dip:summary ?summary }} UNION {{ ?fact rdfs:label ?label }}
}}
"""

_FACT_OTHERS = """
SELECT DISTINCT ?fact ?other ?otherLabel WHERE {{
  VALUES ?fact {{ {facts} }}
  VALUES ?p {{ dip:hasParticipant dip:relationParty dip:sponsor dip:client dip:stanceHolder
              org:member dip:post org:organization }}
  ?fact ?p ?other FILTER(?other != <{iri}>)
  OPTIONAL {{ ?other rdfs:label ?otherLabel }}
}}
"""

_FACT_DOCUMENTS = """
SELECT DISTINCT ?fact ?doc ?title WHERE {{
  VALUES ?fact {{ {facts} }}
  ?fact prov:wasDerivedFrom ?doc OPTIONAL {{ ?doc dcterms:title ?title }}
}}
"""

_SOURCES = """
SELECT ?att ?doc ?title ?url ?issued ?publisher ?publisherLabel ?confidence ?span ?start ?end
WHERE {{
  <{iri}> dip:attestedBy ?att .
  OPTIONAL {{ ?att dip:confidence ?confidence }}
  OPTIONAL {{ ?att prov:wasDerivedFrom ?doc .
    OPTIONAL {{ ?doc dcterms:title ?title }}
    OPTIONAL {{ ?doc schema:url ?url }}
    OPTIONAL {{ ?doc dcterms:issued ?issued }}
    OPTIONAL {{ ?doc dcterms:publisher ?publisher
                OPTIONAL {{ ?publisher rdfs:label ?publisherLabel }} }}
  }}
  OPTIONAL {{ ?att dip:evidence ?span
    OPTIONAL {{ ?span dip:startOffset ?start }} OPTIONAL {{ ?span dip:endOffset ?end }} }}
}}
LIMIT 500
"""

_GRAPHS_OF = """
SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ <{iri}> ?p ?o }} }} ORDER BY ?g LIMIT 200
"""


@dataclass
class FactRow:
    """One fact an actor takes part in, as the resource page lists it."""

    iri: str
    kind: str
    roles: set[str] = field(default_factory=set)
    types: set[str] = field(default_factory=set)
    dates: set[str] = field(default_factory=set)
    summaries: list[Literal] = field(default_factory=list)
    labels: list[Literal] = field(default_factory=list)
    others: dict[str, str] = field(default_factory=dict)
    documents: dict[str, str] = field(default_factory=dict)


@dataclass
class ResourceView:
    """Everything the HTML page of a resource shows."""

    iri: str
    triples: list[Triple]
    facts: list[FactRow] = field(default_factory=list)
    sources: list[Row] = field(default_factory=list)
    graphs: list[str] = field(default_factory=list)
    #: Conflicts between documents and candidate duplicates about the resource.
    conflicts: list[Conflict] = field(default_factory=list)


def resource_view(store: Store, iri: str, *, with_facts: bool = True) -> ResourceView:
    """The description of ``iri`` plus, for the HTML page, its facts, sources and graphs."""
    view = ResourceView(iri, describe(store, iri))
    if not view.triples or not with_facts:
        return view
    view.facts = _facts(store, iri)
    view.sources = select(store, _SOURCES.format(iri=iri))
    view.graphs = [
        g for row in select(store, _GRAPHS_OF.format(iri=iri)) if (g := value_of(row, "g"))
    ]
    view.conflicts = find_conflicts(store, nodes=[iri])
    return view


def _facts(store: Store, iri: str) -> list[FactRow]:
    """The events, situations and post holdings ``iri`` takes part in, by their first date."""
    facts: dict[str, FactRow] = {}
    for row in select(store, _FACTS_OF.format(iri=iri, limit=MAX_FACTS)):
        fact, kind, role = value_of(row, "fact"), value_of(row, "kind"), value_of(row, "role")
        if fact is None or kind is None or role is None or not isinstance(row["fact"], NamedNode):
            continue
        entry = facts.setdefault(fact, FactRow(fact, kind.removeprefix(DIP)))
        entry.roles.add(role)
    if facts:
        values = " ".join(f"<{f}>" for f in facts)
        for row in select(store, _FACT_DETAILS.format(facts=values)):
            entry = facts[value_of(row, "fact") or ""]
            if (t := value_of(row, "type")) is not None:
                entry.types.add(t)
            if (d := value_of(row, "date")) is not None:
                entry.dates.add(d)
            for name, target in (("summary", entry.summaries), ("label", entry.labels)):
                term = row.get(name)
                if isinstance(term, Literal):
                    target.append(term)
        for row in select(store, _FACT_OTHERS.format(facts=values, iri=iri)):
            entry = facts[value_of(row, "fact") or ""]
            other = value_of(row, "other")
            if other is not None:
                label = value_of(row, "otherLabel")
                if label or other not in entry.others:
                    entry.others[other] = label or ""
        for row in select(store, _FACT_DOCUMENTS.format(facts=values)):
            entry = facts[value_of(row, "fact") or ""]
            doc = value_of(row, "doc")
            if doc is not None:
                entry.documents[doc] = value_of(row, "title") or entry.documents.get(doc, "")
    return sorted(facts.values(), key=lambda f: (min(f.dates, default="~"), f.iri))
