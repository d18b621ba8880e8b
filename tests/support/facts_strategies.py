"""Hypothesis strategies for facts documents, built from the format (docs/facts.md), and helpers
to address the values inside a decoded document; shared by the property tests of the reader,
the loader and the HTTP ingest route."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from diplograph.loader.facts import EntityType, FactType, Modality, Polarity, RelationQuality

__all__ = [
    "JSON_SCALARS",
    "JSON_VALUES",
    "ROLES",
    "format_documents",
    "json_path",
    "parent",
    "paths",
    "when",
]

#: The roles each kind of fact takes (the table in docs/facts.md).
ROLES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        ["PhoneCall", "Meeting", "Visit", "Consultation", "DiplomaticTour", "Outreach"],
        ("initiator", "recipient", "participant", "party", "visitor", "host"),
    ),
    "Mediation": ("mediator", "party"),
    **dict.fromkeys(
        ["Statement", "Readout", "Appeal", "Condemnation", "Praise"],
        ("speaker", "issuer", "initiator", "recipient"),
    ),
    **dict.fromkeys(["Attack", "ArmedConflict"], ("attacker", "target", "party")),
    **dict.fromkeys(["BilateralRelation", "Agreement"], ("party",)),
    "Backing": ("sponsor", "client"),
    "Stance": ("holder",),
    "PostHolding": ("holder",),
    # the general event classes (an event dataset's code no narrower type fits)
    "Event": ("participant", "party", "initiator", "recipient"),
    "DiplomaticEvent": ("initiator", "recipient", "participant", "party", "visitor", "host"),
    "SpeechAct": ("speaker", "issuer", "initiator", "recipient"),
    "ViolentEvent": ("attacker", "target", "party"),
}
assert set(ROLES) == {t.value for t in FactType}, "a fact type is missing from ROLES"

#: An event's measures (docs/facts.md, "Measures and coordinates"), each in its range.
MEASURES = st.fixed_dictionaries(
    {},
    optional={
        "goldstein": st.floats(-10, 10),
        "tone": st.floats(-100, 100),
        "mentions": st.integers(0, 10**6),
        "sources": st.integers(0, 10**4),
        "articles": st.integers(0, 10**6),
        "fatalities": st.integers(0, 10**5),
        "intensity": st.floats(-10, 10),
    },
)
#: The fact types that take no measures, and the entity types that take coordinates.
WITHOUT_MEASURES = {"PostHolding", "BilateralRelation", "Backing", "Stance"}
PLACE_TYPES = {"Place", "City", "Region", "State"}
LOCAL_IDS = st.from_regex(r"[a-z][a-z0-9-]{0,11}", fullmatch=True)
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
NAMES = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40
)


@st.composite
def when(draw: st.DrawFn) -> str:
    """A year, year-month, date or date-time with a time zone that exists in the calendar."""
    day = draw(st.dates(min_value=dt.date(1900, 1, 1)))
    precision = draw(st.sampled_from(["year", "month", "day", "datetime"]))
    if precision == "year":
        return f"{day.year:04d}"
    if precision == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if precision == "day":
        return day.isoformat()
    hour, minute = draw(st.integers(0, 23)), draw(st.integers(0, 59))
    zone = draw(st.sampled_from(["Z", "+00:00", "+05:30", "-08:00"]))
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00{zone}"


DURATIONS = st.builds(
    lambda n, unit: f"PT{n}{unit}" if unit in "HMS" else f"P{n}{unit}",
    st.integers(1, 99),
    st.sampled_from("HMSDWY"),
)


@st.composite
def format_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A facts document that follows every rule of the format (docs/facts.md): declared ids,
    references that resolve, roles that fit the fact type, real dates, confidences in [0, 1].

    References between records may form cycles (a ministry part of a government part of the
    ministry, an event that is a sub-event of its own sub-event): the format allows them.
    """
    entity_ids = draw(st.lists(LOCAL_IDS, min_size=2, max_size=6, unique=True))
    fact_ids = draw(
        st.lists(
            LOCAL_IDS.map(lambda s: "f-" + s).filter(lambda s: len(s) <= 128),
            max_size=5,
            unique=True,
        )
    )
    maybe_entity = st.none() | st.sampled_from(entity_ids)
    entities = []
    for entity_id in entity_ids:
        entity: dict[str, Any] = {
            "id": entity_id,
            "type": draw(st.sampled_from([t.value for t in EntityType])),
            "name": draw(NAMES),
        }
        for field in ("part_of", "located_in"):
            ref = draw(maybe_entity)
            if ref is not None:
                entity[field] = ref
        if draw(st.booleans()):
            entity["wikidata"] = f"Q{draw(st.integers(1, 10**8))}"
        entities.append(entity)
    facts = []
    for index, fact_id in enumerate(fact_ids):
        kind = draw(st.sampled_from([t.value for t in FactType]))
        participants = [
            {
                "entity": draw(st.sampled_from(entity_ids)),
                "role": draw(st.sampled_from(ROLES[kind])),
            }
            for _ in range(draw(st.integers(1, 3)))
        ]
        fact: dict[str, Any] = {
            "id": fact_id,
            "type": kind,
            "participants": participants,
            "confidence": draw(st.floats(0.0, 1.0)),
            "modality": draw(st.sampled_from([m.value for m in Modality])),
        }
        if kind == "PostHolding":
            post = entity_ids[0]
            entities[0]["type"] = "DiplomaticPost"
            fact["post"] = post
            fact["participants"] = [
                {"entity": draw(st.sampled_from(entity_ids[1:])), "role": "holder"}
            ]
        if kind == "Stance":
            fact["polarity"] = draw(st.sampled_from([p.value for p in Polarity]))
            fact["topic"] = draw(NAMES)
        if kind in ("BilateralRelation", "Agreement") and draw(st.booleans()):
            fact["quality"] = draw(st.sampled_from([q.value for q in RelationQuality]))
        if draw(st.booleans()):
            start = draw(when())
            fact["time"] = {"start": start, "text": draw(NAMES)}
        if draw(st.booleans()):
            fact["duration"] = draw(DURATIONS)
        others = [f for f in fact_ids if f != fact_id]
        if len(others) > 0 and draw(st.booleans()):
            # any other fact, earlier or later: two facts can be sub-events of each other
            fact["sub_event_of"] = draw(st.sampled_from(others))
        if index > 0 and draw(st.booleans()):
            fact["according_to"] = draw(st.sampled_from(entity_ids + fact_ids[:index]))
        if kind not in WITHOUT_MEASURES and draw(st.booleans()):
            fact["measures"] = draw(MEASURES)
        if draw(st.booleans()):
            start_at = draw(st.integers(0, 10_000))
            fact["evidence"] = [{"start": start_at, "end": start_at + draw(st.integers(1, 500))}]
        facts.append(fact)
    for entity in entities:  # types are final now (a post holding makes its post)
        if entity["type"] in PLACE_TYPES and draw(st.booleans()):
            entity["latitude"] = draw(st.floats(-90, 90))
            entity["longitude"] = draw(st.floats(-180, 180))
    return {
        "format_version": "1.0",
        "document": {
            "id": draw(st.from_regex(r"[a-z0-9][a-z0-9./:_-]{2,40}", fullmatch=True)),
            "title": draw(NAMES),
            "published": draw(when()),
            "language": draw(st.sampled_from(["en", "fr", "zh-Hans", "ar"])),
        },
        "extraction": {
            "tool": "property-test",
            "version": "1",
            "time": "2026-11-28T12:00:00Z",
        },
        "entities": entities,
        "facts": facts,
    }


#: Any JSON value (NaN and infinities included, as Python's decoder reads them).
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(st.characters(codec="utf-8")),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=25,
)


# --- addressing values inside a document ---------------------------------------------------------


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside ``value`` (dict keys and list indexes)."""
    if isinstance(value, dict):
        items: list[tuple[Any, Any]] = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return []
    out: list[tuple[Any, ...]] = []
    for key, inner in items:
        out.append((*prefix, key))
        out.extend(paths(inner, (*prefix, key)))
    return out


def json_path(path: tuple[Any, ...]) -> str:
    """The path as the reader names fields: ``facts[3].time.start``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else ("." if text else "") + str(part)
    return text


def parent(doc: Any, path: tuple[Any, ...]) -> Any:
    """The container that holds the value at ``path``."""
    for step in path[:-1]:
        doc = doc[step]
    return doc
