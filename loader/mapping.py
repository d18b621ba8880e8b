"""Facts to RDF: one :class:`~loader.facts.FactsDocument` becomes the triples of its named graph.

Pure: no I/O, no store. The triple patterns are specified in docs/mapping.md; IRIs come from
:mod:`diplograph.loader.iris`. Besides the triples, the mapping records where each node came from
in the input (its JSON path), so that a SHACL violation on a node can name the record and field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode, Triple

from diplograph.loader.errors import FactsError, InputWarning, Location
from diplograph.loader.facts import Entity, EntityType, Fact, FactsDocument, Participant, Role
from diplograph.loader.facts.identifiers import ISO3166
from diplograph.loader.gazetteer import State, identify_state
from diplograph.loader.identity import Identities
from diplograph.loader.iris import SITUATION_TYPES, IriMinter, slug
from diplograph.loader.literals import decimal_literal, duration_literal, when_literal
from diplograph.loader.measures import coordinate_literals, measure_literals
from diplograph.loader.mentions import Claims, claims, publisher_mention
from diplograph.loader.namespaces import (
    CAMEO,
    DCTERMS,
    DIP,
    KW,
    ORG,
    OWL,
    PLOVER,
    PROV,
    RDF,
    RDFS,
    SCHEMA,
    SKOS,
    WD,
    XSD,
)
from diplograph.loader.tenure import DocumentHolding, derive_capacity, document_holdings

_ISO_ALPHA2 = NamedNode(DIP + "ISO3166Alpha2Code")
_ISO_ALPHA3 = NamedNode(DIP + "ISO3166Alpha3Code")

#: Roles that are properties of events: role -> dip property (``participant`` has none of its own).
EVENT_ROLES: dict[Role, str | None] = {
    Role.initiator: "initiator",
    Role.recipient: "recipient",
    Role.party: "party",
    Role.mediator: "mediator",
    Role.speaker: "speaker",
    Role.issuer: "issuer",
    Role.visitor: "visitor",
    Role.host: "host",
    Role.attacker: "attacker",
    Role.target: "target",
    Role.participant: None,
}
#: Roles of situations, per situation type.
SITUATION_ROLES: dict[str, dict[Role, str]] = {
    "BilateralRelation": {Role.party: "relationParty"},
    "Agreement": {Role.party: "relationParty"},
    "Backing": {Role.sponsor: "sponsor", Role.client: "client"},
    "Stance": {Role.holder: "stanceHolder"},
}
_FACT_LINKS = {
    "reports_on": "reportsOn",
    "first_since": "firstSince",
}
_FACT_LIST_LINKS = {"enabled": "enabled", "resulted_in": "resultedIn", "concerns": "concerns"}
#: The day bounds of a holding (loader/tenure.py) -> their dip properties.
_TENURE_BOUNDS = {
    "from_earliest": "heldFromEarliest",
    "from_latest": "heldFromLatest",
    "until_earliest": "heldUntilEarliest",
    "until_latest": "heldUntilLatest",
}
_DATE = NamedNode(XSD + "date")
_ENTITY_LINKS = {
    "part_of": ORG + "subOrganizationOf",
    "governs": DIP + "governs",
    "based_in": DIP + "basedIn",
    "located_in": DIP + "locatedIn",
    "post_in": ORG + "postIn",
}


@dataclass
class MappedDocument:
    """The RDF of one document: its graph IRI, its triples and where each node came from."""

    graph: str
    document_id: str
    triples: list[Triple]
    #: node IRI -> JSON path of the record it was made from (e.g. "facts[2]")
    origins: dict[str, str] = field(default_factory=dict)
    #: what the load report should say without rejecting the document (a state name the
    #: gazetteer does not know), each naming source, record, field and rule
    warnings: list[InputWarning] = field(default_factory=list)
    #: triples written with the document but not validated: the kept facts document (a 4 KB
    #: literal no shape is about, which made validating a batch a quarter slower)
    kept: list[Triple] = field(default_factory=list)

    @property
    def written(self) -> list[Triple]:
        """Everything the document's graph holds: its triples and the kept ones."""
        return [*self.triples, *self.kept]

    @property
    def nodes(self) -> set[str]:
        """IRIs of the nodes this document describes (the SHACL focus nodes)."""
        return set(self.origins)


def dip(local: str) -> NamedNode:
    """A term of the diplograph ontology."""
    return NamedNode(DIP + local)


class _Builder:
    """Accumulates one document's triples, minting IRIs with one minter."""

    def __init__(
        self,
        doc: FactsDocument,
        minter: IriMinter,
        superclasses: Mapping[str, frozenset[str]],
        source: str | None,
        line: int | None,
        identities: Identities,
        claimed: Claims,
    ) -> None:
        self.doc = doc
        self.minter = minter
        self.identities = identities
        self.claims = claimed
        self.superclasses = superclasses
        self.lang = doc.document.language
        self.triples: list[Triple] = []
        self.seen: set[Triple] = set()
        #: the NamedNode of each IRI this document has built (:meth:`add`)
        self.iris: dict[str, NamedNode] = {}
        self.origins: dict[str, str] = {}
        self.location = Location(source=source, line=line, record=doc.document.id)
        self.graph = minter.document(doc.document.id)
        self.entities: dict[str, str] = {}
        self.entity_types: dict[str, str] = {}
        self.facts: dict[str, str] = {}
        #: fact id -> the event node a joined report would have alone (loader/coreference.py)
        self.reported_as: dict[str, str] = {}
        self.holdings: list[DocumentHolding] = []
        self.states: dict[str, State] = {}
        self.warnings: list[InputWarning] = []

    # -- primitives ------------------------------------------------------------------------

    def add(self, s: str, p: str, o: NamedNode | Literal | str) -> None:
        # Called for every triple of every document (3.3M times for 10k documents): the same
        # IRIs recur within a document, and building a NamedNode checks its IRI each time.
        built, iris = self.iris.get, self.iris
        subject = built(s) or iris.setdefault(s, NamedNode(s))
        predicate = built(p) or iris.setdefault(p, NamedNode(p))
        obj = (built(o) or iris.setdefault(o, NamedNode(o))) if isinstance(o, str) else o
        triple = Triple(subject, predicate, obj)
        if triple not in self.seen:
            self.seen.add(triple)
            self.triples.append(triple)

    def typed(self, node: str, class_local: str, origin: str) -> None:
        self.add(node, RDF + "type", DIP + class_local)
        for sup in sorted(self.superclasses.get(DIP + class_local, ())):
            self.add(node, RDF + "type", sup)
        self.origins.setdefault(node, origin)

    def text(self, value: str) -> Literal:
        return Literal(value, language=self.lang)

    def error(self, rule: str, fact_id: str | None, path: str) -> FactsError:
        record = (self.location.record or "") + (f"#{fact_id}" if fact_id else "")
        return FactsError(
            rule,
            Location(
                source=self.location.source, line=self.location.line, record=record, field=path
            ),
        )

    # -- document ----------------------------------------------------------------------------

    def document(self) -> None:
        meta, ex = self.doc.document, self.doc.extraction
        g = self.graph
        self.typed(g, "NewsArticle", "document")
        self.add(g, DCTERMS + "identifier", Literal(meta.id))
        self.add(g, DCTERMS + "issued", when_literal(meta.published))
        self.add(g, DCTERMS + "language", Literal(meta.language))
        if meta.url:
            self.add(g, SCHEMA + "url", NamedNode(meta.url))
        if meta.title:
            self.add(g, DCTERMS + "title", self.text(meta.title))
        if meta.publisher:
            publisher = self.minter.entity_key(
                "Organization", self.identities.key(publisher_mention(meta.publisher))
            )
            self.typed(publisher, "Organization", "document.publisher")
            self.add(publisher, RDFS + "label", self.text(meta.publisher))
            self.add(g, DCTERMS + "publisher", publisher)
        if meta.revision_of:
            self.add(g, PROV + "wasRevisionOf", self.minter.document(meta.revision_of))
        run = self.minter.run(g)
        extractor = self.minter.extractor(ex.tool, ex.version)
        self.typed(run, "ExtractionRun", "extraction")
        self.add(run, PROV + "used", g)
        self.add(run, PROV + "wasAssociatedWith", extractor)
        self.add(run, PROV + "startedAtTime", when_literal(ex.time))
        self.typed(extractor, "Extractor", "extraction")
        self.add(extractor, RDFS + "label", Literal(ex.tool, language="en"))
        self.add(extractor, SCHEMA + "softwareVersion", Literal(ex.version))

    # -- entities ----------------------------------------------------------------------------

    def entities_(self) -> None:
        state_keys: dict[str, str] = {}
        for i, entity in enumerate(self.doc.entities):
            # the document's claims hold each entity's mention (None for a state or the
            # government of one, whose node the gazetteer fixes)
            mention = self.claims.refs[entity.id].mention
            if mention is not None:
                # Which node the mention is, over every document (loader/identity.py).
                key = self.identities.key(mention)
            else:
                key = entity.wikidata or slug(entity.name)
            if entity.type is EntityType.State:
                state = self.state(entity, f"entities[{i}]")
                if state is not None:
                    self.states[entity.id] = state
                    key = state.wikidata
                state_keys[entity.id] = key
            iri = self.minter.entity_key(entity.type.value, key)
            self.entities[entity.id] = iri
            self.entity_types[entity.id] = entity.type.value
        # A government is the government of the state it governs: one node per state whatever
        # each document calls it ("Government of China", "Beijing"), docs/mapping.md.
        for entity in self.doc.entities:
            if entity.type is EntityType.Government and entity.governs in state_keys:
                self.entities[entity.id] = self.minter.government(state_keys[entity.governs])
        for i, entity in enumerate(self.doc.entities):
            self.entity(entity, f"entities[{i}]")

    def state(self, entity: Entity, path: str) -> State | None:
        """The gazetteer's state for a State entity (docs/mapping.md, "Identity of states"),
        or ``None`` with a warning when a state known only by names is not in the gazetteer."""
        where = Location(
            source=self.location.source,
            line=self.location.line,
            record=f"{self.location.record}#{entity.id}",
            field=f"{path}.identifiers.{ISO3166}",
        )
        names = [entity.name, *entity.aliases]
        state = identify_state(entity.wikidata, entity.identifiers.get(ISO3166), names, where)
        if state is None and entity.wikidata is None:
            rule = (
                f"the state {entity.name!r} is not in the gazetteer of states, so it is keyed by "
                "its name and other documents may make it another node; give its 'wikidata' id "
                f"or its identifiers.{ISO3166} code if it is a state"
            )
            at = Location(where.source, where.line, where.record, f"{path}.name")
            self.warnings.append(InputWarning(rule, at))
        return state

    def entity(self, entity: Entity, path: str) -> None:
        iri = self.entities[entity.id]
        self.typed(iri, entity.type.value, path)
        self.add(iri, RDFS + "label", self.text(entity.name))
        for alias in entity.aliases:
            if alias != entity.name:
                self.add(iri, SKOS + "altLabel", self.text(alias))
        if entity.wikidata:
            self.add(iri, OWL + "sameAs", WD + entity.wikidata)
        state = self.states.get(entity.id)
        if state is not None:
            # Every document writes the same identity for a state, whatever it called it.
            self.add(iri, OWL + "sameAs", WD + state.wikidata)
            self.add(iri, SKOS + "prefLabel", Literal(state.name, language="en"))
            self.add(iri, SKOS + "notation", Literal(state.iso2, datatype=_ISO_ALPHA2))
            self.add(iri, SKOS + "notation", Literal(state.iso3, datatype=_ISO_ALPHA3))
        for scheme, value in sorted(entity.identifiers.items()):
            if scheme != ISO3166:
                self.add(iri, DIP + "externalIdentifier", Literal(f"{scheme}:{value}"))
        for name, prop in _ENTITY_LINKS.items():
            ref = getattr(entity, name)
            if ref is not None:
                self.add(iri, prop, self.entities[ref])
        if entity.latitude is not None and entity.longitude is not None:
            point = self.minter.point(self.graph, entity.id)
            self.add(iri, DIP + "position", point)
            self.typed(point, "Point", path)
            self.add(point, PROV + "wasDerivedFrom", self.graph)
            for prop, degrees in coordinate_literals(entity.latitude, entity.longitude):
                self.add(point, prop, degrees)

    # -- facts -------------------------------------------------------------------------------

    def fact_iri(self, fact: Fact, path: str) -> str:
        kind = fact.type.value
        if kind == "PostHolding":
            holders = [p for p in fact.participants if p.role is Role.holder]
            if len(holders) != 1 or fact.post is None:
                raise self.error(
                    "a PostHolding needs exactly one participant with role 'holder' and a 'post'",
                    fact.id,
                    path,
                )
            start = fact.time.start if fact.time else None
            return self.minter.holding(
                self.entities[holders[0].entity], self.entities[fact.post], start
            )
        pairs = [(p.role.value, self.entities[p.entity]) for p in fact.participants]
        t = fact.time
        time_key = [t.start or "", t.earliest or "", t.latest or ""] if t else []
        if kind in SITUATION_TYPES:
            qualifiers = [
                fact.polarity.value if fact.polarity else "",
                fact.topic or "",
                fact.quality.value if fact.quality else "",
            ]
            # An agreement is concluded at a time: two agreements between the same parties in
            # other years are two nodes (docs/mapping.md). Relations, backings and stances last,
            # so one node gathers their dated reports, and differing starts show as conflicts.
            if kind == "Agreement":
                qualifiers += time_key
            return self.minter.situation(kind, pairs, qualifiers)
        # The event node of the report, over every document (loader/coreference.py): a vague
        # report of an event reported precisely elsewhere is keyed by the precise time.
        report = self.claims.reports[fact.id]
        node = self.minter.event(kind, pairs, self.identities.event_time(report))
        own = self.minter.event(kind, pairs, report.time_key)
        if own != node:
            # The node the report would have alone is the same event: linked-data clients that
            # knew it find the node, and a curator can say "different" to undo the join.
            self.reported_as[fact.id] = own
        return node

    def facts_(self) -> None:
        for i, fact in enumerate(self.doc.facts):
            self.facts[fact.id] = self.fact_iri(fact, f"facts[{i}]")
        self.holdings = document_holdings(self.doc)
        for i, fact in enumerate(self.doc.facts):
            self.fact(fact, f"facts[{i}]")
        for held in self.holdings:
            if held.fact is None:
                self.implied_holding(held)

    def holding_iri(self, held: DocumentHolding) -> str:
        if held.fact is not None:
            return self.facts[held.fact.id]
        return self.minter.holding(self.entities[held.holder], self.entities[held.post], None)

    def fact(self, fact: Fact, path: str) -> None:
        node = self.facts[fact.id]
        kind = fact.type.value
        self.typed(node, kind, path)
        self.provenance(node, fact, path)
        if fact.id in self.reported_as:
            self.add(node, OWL + "sameAs", self.reported_as[fact.id])
        self.add(node, DIP + "modality", KW + fact.modality.value)
        if fact.summary:
            self.add(node, DIP + "summary", self.text(fact.summary))
        if fact.cameo:
            self.add(node, DIP + "cameoCode", CAMEO + fact.cameo)
        if fact.plover:
            self.add(node, DIP + "ploverType", PLOVER + fact.plover)
        self.time(node, fact)
        if fact.place:
            self.add(node, DIP + "atPlace", self.entities[fact.place])
        if kind == "PostHolding":
            self.post_holding(node, next(h for h in self.holdings if h.fact is fact))
        elif kind in SITUATION_TYPES:
            self.situation_participants(node, fact, path)
        else:
            self.event_participants(node, fact, path)
        if fact.polarity:
            self.add(node, DIP + "polarity", KW + fact.polarity.value)
        if fact.topic:
            self.add(node, DIP + "topic", self.text(fact.topic))
        if fact.quality:
            self.add(node, DIP + "relationQuality", KW + fact.quality.value)
        if fact.requested_action:
            self.add(node, DIP + "requestedAction", self.text(fact.requested_action))
        if fact.reiterated is not None:
            self.add(node, DIP + "reiterated", Literal(fact.reiterated))
        if fact.sub_event_of:
            parent = self.facts[fact.sub_event_of]
            self.add(node, DIP + "subEventOf", parent)
            self.add(parent, DIP + "hasSubEvent", node)
        for name, prop in _FACT_LINKS.items():
            ref = getattr(fact, name)
            if ref is not None:
                self.add(node, DIP + prop, self.facts[ref])
        for name, prop in _FACT_LIST_LINKS.items():
            for ref in getattr(fact, name):
                self.add(node, DIP + prop, self.facts[ref])
        if fact.according_to:
            ref = fact.according_to
            self.add(node, DIP + "accordingTo", self.entities.get(ref) or self.facts[ref])
        if fact.stances:
            self.stances(node, fact, path)

    def provenance(self, node: str, fact: Fact, path: str) -> None:
        att = self.minter.attestation(self.graph, fact.id)
        self.add(node, PROV + "wasDerivedFrom", self.graph)
        self.add(node, DIP + "attestedBy", att)
        self.typed(att, "Attestation", path)
        self.add(att, PROV + "wasDerivedFrom", self.graph)
        self.add(att, PROV + "wasGeneratedBy", self.minter.run(self.graph))
        self.add(att, DIP + "confidence", decimal_literal(fact.confidence))
        for prop, value in measure_literals(fact.measures):
            self.add(att, prop, value)
        for j, ev in enumerate(fact.evidence):
            span = self.minter.span(att, ev.start, ev.end)
            self.add(att, DIP + "evidence", span)
            self.typed(span, "TextSpan", f"{path}.evidence[{j}]")
            self.add(span, DIP + "startOffset", Literal(ev.start))
            self.add(span, DIP + "endOffset", Literal(ev.end))

    def time(self, node: str, fact: Fact) -> None:
        if fact.time:
            t = fact.time
            if t.text:
                self.add(node, DIP + "timeExpression", self.text(t.text))
            for name, prop in (
                ("start", "startDate"),
                ("end", "endDate"),
                ("earliest", "earliestStart"),
                ("latest", "latestStart"),
            ):
                value = getattr(t, name)
                if value:
                    self.add(node, DIP + prop, when_literal(value))
        if fact.duration:
            self.add(node, DIP + "duration", duration_literal(fact.duration))

    def event_participants(self, node: str, fact: Fact, path: str) -> None:
        for j, part in enumerate(fact.participants):
            if part.role not in EVENT_ROLES:
                raise self.error(
                    f"role {part.role.value!r} is not a role of events (a {fact.type.value}); "
                    f"use one of {', '.join(r.value for r in EVENT_ROLES)}",
                    fact.id,
                    f"{path}.participants[{j}].role",
                )
            agent = self.entities[part.entity]
            prop = EVENT_ROLES[part.role]
            self.add(node, DIP + "hasParticipant", agent)
            if prop:
                self.add(node, DIP + prop, agent)
            own = part.place or part.on_behalf_of or part.confidence is not None or part.capacity
            derived = derive_capacity(self.holdings, part, fact.time)
            if own or derived is not None:
                self.participation(node, part, f"{path}.participants[{j}]", derived)

    def participation(
        self, event: str, part: Participant, path: str, derived: DocumentHolding | None
    ) -> None:
        agent = self.entities[part.entity]
        p = self.minter.participation(event, part.role.value, agent)
        self.add(event, DIP + "participation", p)
        self.typed(p, "Participation", path)
        self.add(p, DIP + "participationIn", event)
        self.add(p, DIP + "agent", agent)
        self.add(p, DIP + "role", KW + part.role.value)
        if part.place:
            self.add(p, DIP + "atPlace", self.entities[part.place])
        if part.on_behalf_of:
            self.add(p, DIP + "onBehalfOf", self.entities[part.on_behalf_of])
        if part.confidence is not None:
            self.add(p, DIP + "confidence", decimal_literal(part.confidence))
        if part.capacity:
            self.add(p, DIP + "inCapacity", self.entities[part.capacity])
        elif derived is not None:
            # The one post the participant held throughout the event (docs/mapping.md).
            self.add(p, DIP + "inCapacity", self.entities[derived.post])
            self.add(p, DIP + "capacityDerivedFrom", self.holding_iri(derived))

    def situation_participants(self, node: str, fact: Fact, path: str) -> None:
        roles = SITUATION_ROLES[fact.type.value]
        for j, part in enumerate(fact.participants):
            where = f"{path}.participants[{j}]"
            if part.role not in roles:
                raise self.error(
                    f"role {part.role.value!r} is not a role of a {fact.type.value}; "
                    f"use {' or '.join(r.value for r in roles)}",
                    fact.id,
                    where + ".role",
                )
            if part.place or part.on_behalf_of or part.capacity:
                raise self.error(
                    "place, on_behalf_of and capacity are only for participants of events",
                    fact.id,
                    where,
                )
            agent = self.entities[part.entity]
            self.add(node, DIP + roles[part.role], agent)
        if fact.type.value == "Backing":
            sponsors = [
                self.entities[p.entity] for p in fact.participants if p.role is Role.sponsor
            ]
            clients = [self.entities[p.entity] for p in fact.participants if p.role is Role.client]
            for s in sponsors:
                for c in clients:
                    self.add(s, DIP + "backs", c)
                    self.add(c, DIP + "backedBy", s)

    def post_holding(self, node: str, held: DocumentHolding) -> None:
        holder, post = self.entities[held.holder], self.entities[held.post]
        self.add(node, ORG + "member", holder)
        self.add(node, DIP + "post", post)
        self.add(holder, DIP + "holdsPost", post)
        post_entity = next(e for e in self.doc.entities if e.id == held.post)
        if post_entity.post_in:
            self.add(node, ORG + "organization", self.entities[post_entity.post_in])
        if self.entity_types[held.post] == "DiplomaticPost":
            # The ontology defines Diplomat as a Person holding a DiplomaticPost; write the
            # entailment so that plain SPARQL (and remote stores without a reasoner) sees it.
            self.typed(holder, "Diplomat", self.origins.get(holder, "entities"))
        if held.observed:
            self.add(node, DIP + "observedHeldOn", when_literal(held.observed))
        if held.tenure is not None:
            for name, prop in _TENURE_BOUNDS.items():
                day = getattr(held.tenure, name)
                if day is not None:
                    self.add(node, DIP + prop, Literal(day.isoformat(), datatype=_DATE))

    def implied_holding(self, held: DocumentHolding) -> None:
        """The holding a given capacity states: the fact of the event it was given in."""
        node = self.holding_iri(held)
        self.typed(node, "PostHolding", held.origin)
        self.add(node, PROV + "wasDerivedFrom", self.graph)
        self.add(node, DIP + "attestedBy", self.minter.attestation(self.graph, held.source.id))
        self.add(node, DIP + "modality", KW + "asserted")
        self.post_holding(node, held)

    def stances(self, node: str, fact: Fact, path: str) -> None:
        voices = [p for p in fact.participants if p.role in (Role.speaker, Role.issuer)]
        holder_ids = [p.on_behalf_of or p.entity for p in voices]
        holders = [self.entities[h] for h in holder_ids]
        for k, claim in enumerate(fact.stances):
            pairs = [("holder", h) for h in holders]
            stance = self.minter.situation("Stance", pairs, [claim.polarity.value, claim.topic, ""])
            where = f"{path}.stances[{k}]"
            self.add(node, DIP + "expressesStance", stance)
            self.typed(stance, "Stance", where)
            for h in holders:
                self.add(stance, DIP + "stanceHolder", h)
            self.add(stance, DIP + "polarity", KW + claim.polarity.value)
            self.add(stance, DIP + "topic", self.text(claim.topic))
            self.add(stance, DIP + "modality", KW + fact.modality.value)
            self.add(stance, PROV + "wasDerivedFrom", self.graph)
            self.add(stance, DIP + "attestedBy", self.minter.attestation(self.graph, fact.id))


def map_document(
    doc: FactsDocument,
    minter: IriMinter,
    superclasses: Mapping[str, frozenset[str]],
    *,
    source: str | None = None,
    line: int | None = None,
    identities: Identities | None = None,
    claimed: Claims | None = None,
) -> MappedDocument:
    """Map one facts document to the triples of its named graph.

    ``superclasses`` maps each ontology class IRI to its named superclasses (see
    ``diplograph.loader.ontology.superclass_closure``); their ``rdf:type`` triples are written
    too, so queries for a superclass find instances of its subclasses. Raises
    :class:`~loader.errors.FactsError` for input the mapping cannot express, and for state
    identifiers the gazetteer refuses (an unknown ISO code, a Wikidata id and an ISO code of two
    states). ``identities`` says which node each entity mention and event report is, over the
    documents of the store (loader/identity.py); without it, each is keyed as in a document
    alone. ``claimed`` is the document's :func:`~diplograph.loader.mentions.claims`, when the
    caller has it.
    """
    builder = _Builder(
        doc,
        minter,
        superclasses,
        source,
        line,
        identities or Identities.alone(),
        claimed or claims(doc, source=source, line=line),
    )
    builder.document()
    builder.entities_()
    builder.facts_()
    return MappedDocument(
        builder.graph, doc.document.id, builder.triples, builder.origins, builder.warnings
    )


__all__ = ["MappedDocument", "decimal_literal", "dip", "map_document", "when_literal"]
