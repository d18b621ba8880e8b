"""The records of the facts format: one :class:`FactsDocument` and what it holds.

The pydantic models define the format once; the JSON Schema is generated from them
(:mod:`diplograph.loader.facts.schema`). A document's local ids (``entities[].id``,
``facts[].id``) are checked to resolve within it; the mapping turns them into global IRIs (see
``diplograph.loader.iris``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from diplograph.loader.facts.identifiers import (
    ISO3166,
    IdentifierScheme,
    IdentifierValue,
    WikidataId,
    check_entity_identifiers,
)
from diplograph.loader.facts.measures import Latitude, Longitude, Measures
from diplograph.loader.facts.scalars import (
    Confidence,
    Duration,
    LocalId,
    Name,
    ShortText,
    TimeText,
    When,
    certainly_before,
)
from diplograph.loader.facts.vocabulary import (
    EntityType,
    FactType,
    Modality,
    Polarity,
    RelationQuality,
    Role,
)

__all__ = [
    "FORMAT_VERSION",
    "DocumentMeta",
    "Entity",
    "Evidence",
    "Extraction",
    "Fact",
    "FactsDocument",
    "FieldRuleError",
    "Measures",
    "Participant",
    "RefError",
    "StanceClaim",
    "Time",
]

FORMAT_VERSION: Literal["1.0"] = "1.0"

#: The entity types that are places, which may have coordinates.
_PLACES = frozenset({EntityType.Place, EntityType.City, EntityType.Region, EntityType.State})
#: The fact types that are not events of a dataset, which have no measures.
_WITHOUT_MEASURES = frozenset(
    {FactType.PostHolding, FactType.BilateralRelation, FactType.Backing, FactType.Stance}
)


class _Record(BaseModel):
    # Unknown fields are an error, never silently dropped (see read_documents(unknown=...)).
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class DocumentMeta(_Record):
    """The source document the facts were extracted from."""

    id: Annotated[
        str,
        Field(
            min_length=1,
            max_length=300,
            pattern=r"^[^\s]+$",
            description="A stable id of the document (e.g. the publisher's article id, or its "
            "URL). The same id always names the same document: reloading it replaces its facts.",
        ),
    ]
    url: Annotated[str | None, Field(pattern=r"^https?://\S+$")] = None
    title: Name | None = None
    publisher: Name | None = None
    published: When = Field(..., description="Publication date; relative times resolve from it.")
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")] = "en"
    revision_of: Annotated[
        str | None, Field(description="The id of an earlier version of this document.")
    ] = None


class Extraction(_Record):
    """The extraction run that produced the facts (PROV-O activity)."""

    tool: Name = Field(..., description="Name of the extraction pipeline or model.")
    version: Annotated[str, Field(min_length=1, max_length=100)]
    time: TimeText = Field(..., description="When the extraction ran (date-time with time zone).")

    @model_validator(mode="after")
    def _time_is_datetime(self) -> Extraction:
        if "T" not in self.time:
            raise ValueError("time: must be a date-time with a time zone, e.g. 2023-10-14T12:00Z")
        return self


class Entity(_Record):
    """A person, organization, state, place or post mentioned in the document."""

    id: LocalId
    type: EntityType
    name: Name
    aliases: list[Name] = Field(default_factory=list, max_length=50)
    wikidata: Annotated[WikidataId | None, Field(description="e.g. Q30")] = None
    identifiers: dict[IdentifierScheme, IdentifierValue] = Field(
        default_factory=dict,
        max_length=20,
        description="Strong identifiers other than Wikidata, scheme -> value: "
        f"'{ISO3166}' (ISO 3166-1 alpha-2 or alpha-3 code, only on a State), and the actor codes "
        "of event datasets under their own scheme names ('cameo', 'acled', 'polecat', 'gdelt').",
        examples=[{"iso3166": "CN", "cameo": "CHN"}],
        json_schema_extra={
            "additionalProperties": False,
            "properties": {
                ISO3166: {
                    "type": "string",
                    "pattern": "^[A-Za-z]{2,3}$",
                    "description": "The ISO 3166-1 alpha-2 or alpha-3 code of a UN member or "
                    "observer state, in either case (CN, CHN).",
                }
            },
        },
    )
    # relations that hold for the entity itself (not time-bound facts)
    part_of: LocalId | None = Field(
        None, description="Parent organization (a ministry is part of a government)."
    )
    governs: LocalId | None = Field(None, description="For a government: the state it governs.")
    based_in: LocalId | None = Field(None, description="Where an organization is based.")
    located_in: LocalId | None = Field(None, description="For a place: the place it lies in.")
    post_in: LocalId | None = Field(None, description="For a post: the organization it is in.")
    latitude: Latitude | None = Field(
        None, description="For a place: where the document puts it (WGS 84), with longitude."
    )
    longitude: Longitude | None = Field(
        None, description="For a place: where the document puts it (WGS 84), with latitude."
    )

    @model_validator(mode="after")
    def _identifiers_fit(self) -> Entity:
        check_entity_identifiers(self.type, self.identifiers, FieldRuleError)
        return self

    @model_validator(mode="after")
    def _coordinates_fit(self) -> Entity:
        given = [name for name in ("latitude", "longitude") if getattr(self, name) is not None]
        if given and self.type not in _PLACES:
            raise FieldRuleError(
                given[0],
                f"coordinates are for places (Place, City, Region, State), not a {self.type.value}",
            )
        if len(given) == 1:
            missing = "longitude" if given == ["latitude"] else "latitude"
            raise FieldRuleError(missing, f"give {missing} with {given[0]}: a point needs both")
        return self


class Participant(_Record):
    """One argument of a fact: an entity in a role."""

    entity: LocalId
    role: Role
    on_behalf_of: LocalId | None = Field(None, description="Whom the participant acted for.")
    place: LocalId | None = Field(None, description="Where this participant was.")
    capacity: LocalId | None = Field(
        None,
        description="The post (an entity of type Post or DiplomaticPost) the participant acted "
        "in, e.g. the Secretary of State at a call. When it is left out the mapping derives it "
        "from the participant's one holding valid at the event's time, if there is one.",
    )
    confidence: Confidence | None = None


class Time(_Record):
    """When a fact happened: the words as written and what they resolve to."""

    text: ShortText | None = Field(
        None, description="The expression as written, e.g. 'Saturday', 'in June', 'a week ago'."
    )
    start: When | None = Field(None, description="Resolved start (or point in time).")
    end: When | None = Field(None, description="Resolved end, when known.")
    earliest: When | None = Field(None, description="Earliest possible start, when uncertain.")
    latest: When | None = Field(None, description="Latest possible start, when uncertain.")

    @model_validator(mode="after")
    def _ordered(self) -> Time:
        if self.start and self.end and certainly_before(self.end, self.start):
            raise ValueError(f"end {self.end} is before start {self.start}")
        if self.earliest and self.latest and certainly_before(self.latest, self.earliest):
            raise ValueError(f"latest {self.latest} is before earliest {self.earliest}")
        if not any((self.text, self.start, self.end, self.earliest, self.latest)):
            raise ValueError("give at least one of text, start, end, earliest, latest")
        return self


class StanceClaim(_Record):
    """A stance expressed in a statement: a polarity towards a topic."""

    polarity: Polarity
    topic: ShortText


class Evidence(_Record):
    """Where in the document's text the fact was found (character offsets, end exclusive)."""

    start: Annotated[int, Field(ge=0)]
    end: Annotated[int, Field(ge=0)]

    @model_validator(mode="after")
    def _ordered(self) -> Evidence:
        if self.end <= self.start:
            raise ValueError(f"end {self.end} must be greater than start {self.start}")
        return self


class Fact(_Record):
    """An event, a situation (relation, backing, stance, agreement) or a post holding."""

    id: LocalId
    type: FactType
    participants: list[Participant] = Field(default_factory=list, max_length=100)
    time: Time | None = None
    duration: Duration | None = None
    place: LocalId | None = Field(None, description="Where the event took place.")
    post: LocalId | None = Field(None, description="PostHolding: the post held.")
    stances: list[StanceClaim] = Field(
        default_factory=list, max_length=20, description="Statement: the stances it expresses."
    )
    polarity: Polarity | None = Field(None, description="Stance: its polarity.")
    topic: ShortText | None = Field(None, description="Stance or statement: what it is about.")
    quality: RelationQuality | None = Field(None, description="Relation/agreement quality.")
    requested_action: ShortText | None = Field(None, description="Appeal: what was asked.")
    summary: ShortText | None = Field(None, description="A short paraphrase of the fact.")
    modality: Modality = Modality.asserted
    reiterated: bool | None = Field(None, description="A stance repeated, not new.")
    cameo: Annotated[str | None, Field(pattern=r"^[0-9]{2,4}$", description="CAMEO code.")] = None
    plover: Annotated[str | None, Field(pattern=r"^[A-Z]+$", description="PLOVER type.")] = None
    # links to other facts of this document (local ids)
    sub_event_of: LocalId | None = None
    reports_on: LocalId | None = Field(None, description="Readout: the event it reports on.")
    enabled: list[LocalId] = Field(default_factory=list, description="Facts this one enabled.")
    first_since: LocalId | None = Field(None, description="The first such event since this one.")
    resulted_in: list[LocalId] = Field(default_factory=list)
    concerns: list[LocalId] = Field(default_factory=list, description="Facts this one is about.")
    according_to: LocalId | None = Field(
        None, description="The entity or readout (fact) the document attributes this fact to."
    )
    confidence: Confidence = 1.0
    evidence: list[Evidence] = Field(default_factory=list, max_length=50)
    measures: Measures | None = Field(
        None,
        description="What this document says of the event in numbers (an event dataset's "
        "Goldstein scale, tone, counts, fatalities, intensity): kept per source.",
    )

    @model_validator(mode="after")
    def _measures_fit(self) -> Fact:
        if self.measures is not None and self.type in _WITHOUT_MEASURES:
            raise FieldRuleError(
                "measures",
                f"measures are for events and agreements, not a {self.type.value}",
            )
        return self


class FactsDocument(_Record):
    """One source document and everything extracted from it."""

    format_version: Literal["1.0"] = FORMAT_VERSION
    document: DocumentMeta
    extraction: Extraction
    entities: list[Entity] = Field(default_factory=list, max_length=10_000)
    facts: list[Fact] = Field(default_factory=list, max_length=10_000)

    @model_validator(mode="after")
    def _references_resolve(self) -> FactsDocument:
        entity_ids: dict[str, Entity] = {}
        for i, entity in enumerate(self.entities):
            if entity.id in entity_ids:
                raise _ref_error(f"entities[{i}].id", f"duplicate entity id {entity.id!r}")
            entity_ids[entity.id] = entity
        fact_ids: set[str] = set()
        for i, fact in enumerate(self.facts):
            if fact.id in fact_ids or fact.id in entity_ids:
                raise _ref_error(f"facts[{i}].id", f"duplicate id {fact.id!r}")
            fact_ids.add(fact.id)
        for i, entity in enumerate(self.entities):
            for name in ("part_of", "governs", "based_in", "located_in", "post_in"):
                ref = getattr(entity, name)
                if ref is not None and ref not in entity_ids:
                    raise _ref_error(f"entities[{i}].{name}", f"no entity with id {ref!r}")
        for i, fact in enumerate(self.facts):
            for j, part in enumerate(fact.participants):
                for name in ("entity", "on_behalf_of", "place", "capacity"):
                    ref = getattr(part, name)
                    if ref is not None and ref not in entity_ids:
                        raise _ref_error(
                            f"facts[{i}].participants[{j}].{name}", f"no entity with id {ref!r}"
                        )
                post = entity_ids[part.capacity].type if part.capacity else EntityType.Post
                if post not in (EntityType.Post, EntityType.DiplomaticPost):
                    raise _ref_error(
                        f"facts[{i}].participants[{j}].capacity",
                        f"the capacity must be a Post or DiplomaticPost entity, "
                        f"{part.capacity!r} is a {post.value}",
                    )
            for name in ("place", "post"):
                ref = getattr(fact, name)
                if ref is not None and ref not in entity_ids:
                    raise _ref_error(f"facts[{i}].{name}", f"no entity with id {ref!r}")
            for name in ("sub_event_of", "reports_on", "first_since"):
                ref = getattr(fact, name)
                if ref is not None and ref not in fact_ids:
                    raise _ref_error(f"facts[{i}].{name}", f"no fact with id {ref!r}")
                if ref == fact.id:
                    raise _ref_error(f"facts[{i}].{name}", "a fact cannot refer to itself")
            for name in ("enabled", "resulted_in", "concerns"):
                for k, ref in enumerate(getattr(fact, name)):
                    if ref not in fact_ids:
                        raise _ref_error(f"facts[{i}].{name}[{k}]", f"no fact with id {ref!r}")
            if fact.according_to is not None and fact.according_to not in (
                entity_ids.keys() | fact_ids
            ):
                raise _ref_error(
                    f"facts[{i}].according_to", f"no entity or fact with id {fact.according_to!r}"
                )
        return self


class RefError(ValueError):
    """A local id that does not resolve, or is used twice: names the field and the rule."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class FieldRuleError(ValueError):
    """A rule broken by a field of the record being validated: ``field`` is relative to it
    (``identifiers.iso3166`` of an entity), so the report can name the whole path."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


def _ref_error(field: str, rule: str) -> RefError:
    return RefError(field, rule)
