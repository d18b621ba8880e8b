"""The facts format: what an extraction pipeline emits for one source document.

This module is the only one that knows the format. It defines it once, as pydantic models, from
which the published JSON Schema is generated (``diplograph schema``, ``docs/facts.schema.json``),
and it reads facts from JSON Lines (one document per line), a JSON file (one document or a list)
or standard input, turning each document into a typed, validated :class:`FactsDocument` or a
:class:`~loader.errors.FactsError` that names the source, line, record and field.

Local ids (``entities[].id``, ``facts[].id``) are only meaningful inside one document; the mapping
turns them into global IRIs (see ``diplograph.loader.iris``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from diplograph.loader.errors import FactsError, Location

FORMAT_VERSION: Literal["1.0"] = "1.0"

# --------------------------------------------------------------------------------------------
# Scalar types


_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")
_DURATION = re.compile(
    r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$"
)
_LOCAL_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
_WIKIDATA = r"^Q[1-9][0-9]*$"


def _check_when(value: str) -> str:
    """A year, year-month, date, or date-time with a time zone; it must exist in the calendar."""
    if _DATETIME.match(value):
        try:
            dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{value!r} is not a real date-time") from None
        return value
    match = _PARTIAL_DATE.match(value)
    if not match:
        raise ValueError(
            f"{value!r} is not a date: use YYYY, YYYY-MM, YYYY-MM-DD or "
            "YYYY-MM-DDThh:mm:ss with a time zone (Z or ±hh:mm)"
        )
    year, month, day = match.groups()
    try:
        dt.date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        raise ValueError(f"{value!r} is not a real calendar date") from None
    return value


def _check_duration(value: str) -> str:
    if not _DURATION.match(value):
        raise ValueError(f"{value!r} is not an ISO 8601 duration such as PT1H or P3D")
    return value


When = Annotated[
    str,
    AfterValidator(_check_when),
    Field(
        description="A year (2023), year-month (2023-06), date (2023-10-14) or date-time with "
        "a time zone (2023-10-14T09:30:00Z).",
        examples=["2023-10-14", "2023-06", "2023-10-14T09:30:00Z"],
    ),
]
Duration = Annotated[
    str,
    AfterValidator(_check_duration),
    Field(description="An ISO 8601 duration, e.g. PT1H.", examples=["PT1H"]),
]
LocalId = Annotated[
    str,
    Field(
        pattern=_LOCAL_ID,
        description="An id, unique within this document, that other records use to refer to "
        "this one (letters, digits, '.', '_', ':' and '-').",
    ),
]
Confidence = Annotated[
    float, Field(ge=0.0, le=1.0, description="The extractor's confidence, from 0 to 1.")
]
ShortText = Annotated[str, Field(min_length=1, max_length=2000)]
Name = Annotated[str, Field(min_length=1, max_length=500)]


# --------------------------------------------------------------------------------------------
# Vocabularies


class EntityType(StrEnum):
    """The kinds of entity a document can mention; each is a class of the ontology."""

    Person = "Person"
    State = "State"
    Government = "Government"
    GovernmentBody = "GovernmentBody"
    ForeignMinistry = "ForeignMinistry"
    Organization = "Organization"
    NonStateArmedGroup = "NonStateArmedGroup"
    Militia = "Militia"
    Place = "Place"
    City = "City"
    Region = "Region"
    Post = "Post"
    DiplomaticPost = "DiplomaticPost"


class FactType(StrEnum):
    """The kinds of fact; each is a class of the ontology (events, situations, post holdings)."""

    # diplomatic events
    Consultation = "Consultation"
    PhoneCall = "PhoneCall"
    Meeting = "Meeting"
    Visit = "Visit"
    DiplomaticTour = "DiplomaticTour"
    Mediation = "Mediation"
    Outreach = "Outreach"
    Statement = "Statement"
    Readout = "Readout"
    Appeal = "Appeal"
    Condemnation = "Condemnation"
    Praise = "Praise"
    # conflict events
    Attack = "Attack"
    ArmedConflict = "ArmedConflict"
    # situations
    BilateralRelation = "BilateralRelation"
    Backing = "Backing"
    Stance = "Stance"
    Agreement = "Agreement"
    # posts held over time
    PostHolding = "PostHolding"


class Role(StrEnum):
    """The part a participant plays in a fact."""

    initiator = "initiator"
    recipient = "recipient"
    participant = "participant"
    party = "party"
    mediator = "mediator"
    speaker = "speaker"
    issuer = "issuer"
    visitor = "visitor"
    host = "host"
    attacker = "attacker"
    target = "target"
    sponsor = "sponsor"
    client = "client"
    holder = "holder"


class Polarity(StrEnum):
    """The stance a statement takes towards its topic."""

    supports = "supports"
    opposes = "opposes"
    condemns = "condemns"
    urges = "urges"
    concerned_about = "concerned-about"


class Modality(StrEnum):
    """Whether the fact happened, or is feared, planned, denied or past (PLOVER's modes)."""

    asserted = "asserted"
    hypothetical = "hypothetical"
    future = "future"
    negated = "negated"
    historical = "historical"


class RelationQuality(StrEnum):
    """How a bilateral relation or agreement is described."""

    close = "close"
    tense = "tense"
    improving = "improving"
    hostile = "hostile"
    detente = "detente"
    communication_reopened = "communication-reopened"


# --------------------------------------------------------------------------------------------
# Records


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
    time: Annotated[str, AfterValidator(_check_when)] = Field(
        ..., description="When the extraction ran (date-time with time zone)."
    )

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
    wikidata: Annotated[str | None, Field(pattern=_WIKIDATA, description="e.g. Q30")] = None
    # relations that hold for the entity itself (not time-bound facts)
    part_of: LocalId | None = Field(
        None, description="Parent organization (a ministry is part of a government)."
    )
    governs: LocalId | None = Field(None, description="For a government: the state it governs.")
    based_in: LocalId | None = Field(None, description="Where an organization is based.")
    located_in: LocalId | None = Field(None, description="For a place: the place it lies in.")
    post_in: LocalId | None = Field(None, description="For a post: the organization it is in.")


class Participant(_Record):
    """One argument of a fact: an entity in a role."""

    entity: LocalId
    role: Role
    on_behalf_of: LocalId | None = Field(None, description="Whom the participant acted for.")
    place: LocalId | None = Field(None, description="Where this participant was.")
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
        if self.start and self.end and _before(self.end, self.start):
            raise ValueError(f"end {self.end} is before start {self.start}")
        if self.earliest and self.latest and _before(self.latest, self.earliest):
            raise ValueError(f"latest {self.latest} is before earliest {self.earliest}")
        if not any((self.text, self.start, self.end, self.earliest, self.latest)):
            raise ValueError("give at least one of text, start, end, earliest, latest")
        return self


def _before(a: str, b: str) -> bool:
    """Whether ``a`` is certainly before ``b``: two date-times as instants, anything else by
    days at their common precision.

    ISO strings of one precision compare lexically; comparing on the shorter common prefix
    keeps "2023-06" and "2023-06-14" (or "2023" and "2023-10-14") from conflicting.
    """
    if _DATETIME.match(a) and _DATETIME.match(b):
        # two instants: compare them in time, not as text (01:00+05:00 is before 22:00Z)
        return _instant(a) < _instant(b)
    n = min(len(a[:10]), len(b[:10]))
    return a[:n] < b[:n]


def _instant(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


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
                for name in ("entity", "on_behalf_of", "place"):
                    ref = getattr(part, name)
                    if ref is not None and ref not in entity_ids:
                        raise _ref_error(
                            f"facts[{i}].participants[{j}].{name}", f"no entity with id {ref!r}"
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


class _RefError(ValueError):
    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


def _ref_error(field: str, rule: str) -> _RefError:
    return _RefError(field, rule)


# --------------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True)
class SourceRecord:
    """One document as read from the input, before or after parsing, with where it came from."""

    source: str
    line: int
    raw: Any  # the decoded JSON value (or the raw text when it was not valid JSON)
    document: FactsDocument | None
    error: FactsError | None
    warnings: tuple[str, ...] = ()

    @property
    def record_id(self) -> str | None:
        """The document id, when the record has one (even an invalid record may)."""
        if self.document is not None:
            return self.document.document.id
        if isinstance(self.raw, dict):
            doc = self.raw.get("document")
            if isinstance(doc, dict) and isinstance(doc.get("id"), str):
                return printable(doc["id"])
        return None


def json_schema() -> dict[str, Any]:
    """The JSON Schema of one facts document (what ``diplograph schema`` prints)."""
    schema = FactsDocument.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://w3id.org/diplograph/schema/facts-1.0.json"
    schema["title"] = "diplograph facts document"
    return schema


def parse_document(
    value: Any, *, source: str = "<input>", line: int = 1, unknown: str = "error"
) -> SourceRecord:
    """Validate one decoded JSON value as a :class:`FactsDocument`.

    ``unknown="warn"`` drops unknown fields with a warning instead of rejecting the record.
    """
    record_id = None
    if isinstance(value, dict) and isinstance(value.get("document"), dict):
        doc_id = value["document"].get("id")
        record_id = printable(doc_id) if isinstance(doc_id, str) else None
    warnings: list[str] = []
    if unknown == "warn":
        value, dropped = _drop_unknown(value)
        warnings = [f"{source}:{line}: ignored unknown field {f!r}" for f in dropped]
    try:
        doc = FactsDocument.model_validate(value)
    except ValidationError as exc:
        error = _first_error(exc, value, Location(source=source, line=line, record=record_id))
        return SourceRecord(source, line, value, None, error, tuple(warnings))
    return SourceRecord(source, line, value, doc, None, tuple(warnings))


def read_documents(
    stream: IO[str], *, source: str = "<stdin>", unknown: str = "error"
) -> Iterator[SourceRecord]:
    """Read facts documents from JSON Lines, a JSON document, or a JSON list of documents.

    The format is detected from the first non-blank character: ``[`` is a list, ``{`` followed
    by more than one line of JSON is one pretty-printed document, otherwise JSON Lines. Each
    document is yielded as it is read, so a large JSON Lines file streams.
    """
    first = ""
    buffered: list[str] = []
    for raw_line in stream:
        buffered.append(raw_line)
        if raw_line.strip():
            first = raw_line.lstrip()[0]
            break
    if not first:
        return
    if first == "[" or (first == "{" and not _is_complete_json(buffered[-1])):
        text = "".join(buffered) + stream.read()
        start_line = len(buffered) - len([x for x in buffered if x.strip()]) + 1
        try:
            value = decode_json(text)
        except json.JSONDecodeError as exc:
            yield _json_error(source, exc.lineno, text, f"not valid JSON: {exc.msg}")
            return
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            yield parse_document(
                item,
                source=source + (f"[{index}]" if isinstance(value, list) else ""),
                line=start_line,
                unknown=unknown,
            )
        return
    line_no = 0
    for line_no, raw_line in enumerate(_chain(buffered, stream), start=1):
        if not raw_line.strip():
            continue
        try:
            value = decode_json(raw_line)
        except json.JSONDecodeError as exc:
            yield _json_error(source, line_no, raw_line, f"not valid JSON: {exc.msg}")
            continue
        yield parse_document(value, source=source, line=line_no, unknown=unknown)


def read_path(path: Path | str, *, unknown: str = "error") -> Iterator[SourceRecord]:
    """Read facts documents from a file (``-`` for standard input); see :func:`read_documents`."""
    import sys

    if str(path) == "-":
        yield from read_documents(sys.stdin, source="<stdin>", unknown=unknown)
        return
    with open(path, encoding="utf-8", errors="strict") as stream:
        try:
            yield from read_documents(stream, source=str(path), unknown=unknown)
        except UnicodeDecodeError as exc:
            yield _json_error(str(path), None, None, f"not UTF-8 text: {exc.reason}")


def _chain(first: list[str], rest: IO[str]) -> Iterator[str]:
    yield from first
    yield from rest


def decode_json(text: str) -> Any:
    """``json.loads`` that fails only with :class:`json.JSONDecodeError`.

    The standard decoder also raises RecursionError for nesting deeper than the interpreter's
    recursion limit and ValueError for an integer longer than ``sys.get_int_max_str_digits()``;
    both are bad input like a syntax error, and must be reported as one, not crash the reader.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise json.JSONDecodeError("arrays or objects nested too deeply", text, 0) from None
    except ValueError:
        raise json.JSONDecodeError(
            f"a number with more than {sys.get_int_max_str_digits()} digits", text, 0
        ) from None


def printable(text: str) -> str:
    """``text`` with lone surrogates (``"\\ud800"`` in JSON, or undecodable input bytes) written as
    backslash escapes, so that a record id or field name taken from bad input can be encoded in
    a report or an HTTP answer."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _is_complete_json(line: str) -> bool:
    try:
        decode_json(line)
    except json.JSONDecodeError:
        return False
    return True


def _json_error(source: str, line: int | None, raw: Any, rule: str) -> SourceRecord:
    error = FactsError(rule, Location(source=source, line=line))
    return SourceRecord(source, line or 0, raw, None, error)


def _first_error(exc: ValidationError, value: Any, location: Location) -> FactsError:
    """Turn pydantic's report into one FactsError naming the field (JSON path) and the rule."""
    err = exc.errors(include_url=False)[0]
    ctx_error = (err.get("ctx") or {}).get("error")
    if isinstance(ctx_error, _RefError):
        field, rule = ctx_error.field, ctx_error.rule
    else:
        field = _json_path(err["loc"])
        rule = _rule_text(err)
    record = location.record
    fact_id = _fact_id_at(value, err["loc"])
    if fact_id:
        record = f"{record}#{fact_id}" if record else fact_id
    more = len(exc.errors()) - 1
    if more > 0:
        rule += f" (and {more} more problem{'s' if more > 1 else ''} in this record)"
    return FactsError(
        rule,
        Location(source=location.source, line=location.line, record=record, field=field or None),
    )


def _json_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in {
            "function-after[_check_when(), str]",
            "function-after[_check_duration(), str]",
        }:
            continue
        else:
            path += ("." if path else "") + printable(str(part))
    return path


def _rule_text(err: Any) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown field (not part of the facts format; see `diplograph schema`)"
    if kind == "missing":
        return "required field is missing"
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if kind == "enum":
        return msg.replace("Input should be", "must be")
    return msg


def _fact_id_at(value: Any, loc: tuple[int | str, ...]) -> str | None:
    """The id of the fact or entity the error is inside, to name the record precisely."""
    if len(loc) >= 2 and loc[0] in {"facts", "entities"} and isinstance(loc[1], int):
        try:
            item = value[loc[0]][loc[1]]
        except (KeyError, IndexError, TypeError):
            return None
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            return printable(item["id"])
    return None


def _drop_unknown(value: Any) -> tuple[Any, list[str]]:
    """Remove fields the format does not know (for ``unknown="warn"``), reporting their paths."""
    dropped: list[str] = []

    def walk(node: Any, model: type[BaseModel] | None, path: str) -> Any:
        if model is None or not isinstance(node, dict):
            return node
        out = {}
        for key, item in node.items():
            field = model.model_fields.get(key)
            if field is None:
                dropped.append(f"{path}{key}")
                continue
            out[key] = _walk_field(item, field.annotation, f"{path}{key}", walk)
        return out

    return walk(value, FactsDocument, ""), dropped


def _walk_field(item: Any, annotation: Any, path: str, walk: Any) -> Any:
    import typing

    args = typing.get_args(annotation)
    candidates = [annotation, *args]
    for cand in candidates:
        inner = typing.get_args(cand)
        if typing.get_origin(cand) is list and inner and isinstance(item, list):
            model = (
                inner[0] if isinstance(inner[0], type) and issubclass(inner[0], BaseModel) else None
            )
            return [walk(x, model, f"{path}[{i}].") for i, x in enumerate(item)]
        if isinstance(cand, type) and issubclass(cand, BaseModel):
            return walk(item, cand, f"{path}.")
    return item
