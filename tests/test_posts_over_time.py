"""Posts over time (docs/mapping.md, "Posts over time"): the article's date as an observation,
a holding's day bounds at every precision, the as-of rule's three answers in Python and in
SPARQL, and the capacity a participant acted in, given or derived within one document."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pyoxigraph import Literal, NamedNode, Quad, QuerySolutions, Store

from diplograph.loader.errors import FactsError
from diplograph.loader.facts import FactsDocument, Modality, Time
from diplograph.loader.iris import IriMinter
from diplograph.loader.mapping import MappedDocument, map_document
from diplograph.loader.namespaces import DIP, ORG, XSD
from diplograph.loader.ontology import superclass_closure
from diplograph.loader.tenure import Held, tenure
from diplograph.loader.validate import Validator

BASE = "https://w3id.org/diplograph/"
MINTER = IriMinter(BASE)
PUBLISHED = "2023-10-14"
ENTITIES = [
    {"id": "gov", "type": "Government", "name": "Government of Northland"},
    {"id": "fm", "type": "DiplomaticPost", "name": "Foreign Minister", "post_in": "gov"},
    {"id": "pm", "type": "Post", "name": "Prime Minister", "post_in": "gov"},
    {"id": "ana", "type": "Person", "name": "Ana Diplomat"},
    {"id": "bo", "type": "Person", "name": "Bo Minister"},
    {"id": "north", "type": "State", "name": "Northland"},
]


def holding(
    fact_id: str, holder: str, post: str, time: dict[str, str] | None = None, **extra: Any
) -> dict[str, Any]:
    fact: dict[str, Any] = {
        "id": fact_id,
        "type": "PostHolding",
        "participants": [{"entity": holder, "role": "holder"}],
        "post": post,
        **extra,
    }
    if time:
        fact["time"] = time
    return fact


def call(start: str | None, *participants: dict[str, Any]) -> dict[str, Any]:
    fact: dict[str, Any] = {"id": "call", "type": "PhoneCall", "participants": list(participants)}
    if start:
        fact["time"] = {"start": start}
    return fact


def document(*facts: dict[str, Any]) -> FactsDocument:
    return FactsDocument.model_validate(
        {
            "document": {"id": "posts-over-time", "published": PUBLISHED},
            "extraction": {"tool": "test", "version": "1", "time": "2023-10-14T12:00:00Z"},
            "entities": ENTITIES,
            "facts": list(facts),
        }
    )


def mapped(*facts: dict[str, Any]) -> MappedDocument:
    return map_document(document(*facts), MINTER, superclass_closure())


def values(result: MappedDocument, subject: str, local: str) -> set[str]:
    return {
        t.object.value
        for t in result.triples
        if t.subject == NamedNode(subject)
        and t.predicate == NamedNode(DIP + local)
        and isinstance(t.object, NamedNode | Literal)
    }


def holding_iri(holder: str, post: str, start: str | None = None) -> str:
    names = {
        "ana": "ana-diplomat",
        "bo": "bo-minister",
        "fm": "foreign-minister",
        "pm": "prime-minister",
    }
    return MINTER.holding(f"{BASE}id/person/{names[holder]}", f"{BASE}id/post/{names[post]}", start)


def participations(result: MappedDocument) -> dict[str, dict[str, set[str]]]:
    """agent IRI -> {property local name -> values} of every participation node."""
    nodes = {
        t.subject.value
        for t in result.triples
        if t.predicate == NamedNode(DIP + "participationIn") and isinstance(t.subject, NamedNode)
    }
    found: dict[str, dict[str, set[str]]] = {}
    for node in nodes:
        [agent] = values(result, node, "agent")
        found[agent] = {p: values(result, node, p) for p in ("inCapacity", "capacityDerivedFrom")}
    return found


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# ------------------------------------------------------------------------------------------------
# The as-of rule, at every precision


@pytest.mark.parametrize(
    ("time", "modality", "on", "answer"),
    [
        # a year start and a month end, said of the past (no observation)
        ({"start": "2020", "end": "2021-06"}, "historical", "2019-12-31", Held.not_held),
        ({"start": "2020", "end": "2021-06"}, "historical", "2020-01-01", Held.unknown),
        ({"start": "2020", "end": "2021-06"}, "historical", "2020-12-31", Held.held),
        ({"start": "2020", "end": "2021-06"}, "historical", "2021-06-01", Held.held),
        ({"start": "2020", "end": "2021-06"}, "historical", "2021-06-02", Held.unknown),
        ({"start": "2020", "end": "2021-06"}, "historical", "2021-06-30", Held.unknown),
        ({"start": "2020", "end": "2021-06"}, "historical", "2021-07-01", Held.not_held),
        # a month start, observed on the article's date, no end
        ({"start": "2023-07"}, "asserted", "2023-06-30", Held.not_held),
        ({"start": "2023-07"}, "asserted", "2023-07-15", Held.unknown),
        ({"start": "2023-07"}, "asserted", "2023-07-31", Held.held),
        ({"start": "2023-07"}, "asserted", PUBLISHED, Held.held),
        ({"start": "2023-07"}, "asserted", "2023-10-15", Held.unknown),
        ({"start": "2023-07"}, "asserted", "2030-01-01", Held.unknown),
        # a day start and a day end
        ({"start": "2023-07-25", "end": "2023-08-01"}, "historical", "2023-07-24", Held.not_held),
        ({"start": "2023-07-25", "end": "2023-08-01"}, "historical", "2023-07-25", Held.held),
        ({"start": "2023-07-25", "end": "2023-08-01"}, "historical", "2023-08-01", Held.held),
        ({"start": "2023-07-25", "end": "2023-08-01"}, "historical", "2023-08-02", Held.not_held),
        # a date-time start counts on its day in UTC: the evening of 25 July in New York
        ({"start": "2023-07-25T23:30:00-05:00"}, "asserted", "2023-07-25", Held.not_held),
        ({"start": "2023-07-25T23:30:00-05:00"}, "asserted", "2023-07-26", Held.held),
        # an uncertain start: earliest and latest
        ({"earliest": "2023-01-01", "latest": "2023-03"}, "asserted", "2022-12-31", Held.not_held),
        ({"earliest": "2023-01-01", "latest": "2023-03"}, "asserted", "2023-03-15", Held.unknown),
        ({"earliest": "2023-01-01", "latest": "2023-03"}, "asserted", "2023-04-01", Held.held),
        # undated: held on the article's day only, unknown before and after
        ({}, "asserted", "2023-10-13", Held.unknown),
        ({}, "asserted", PUBLISHED, Held.held),
    ],
)
def test_the_as_of_rule_answers_held_not_held_or_unknown(
    time: dict[str, str], modality: str, on: str, answer: Held
) -> None:
    bounds = tenure(Time.model_validate(time) if time else None, Modality(modality), PUBLISHED)
    assert bounds is not None
    assert bounds.on(day(on)) is answer


def test_a_holding_that_is_not_said_to_be_real_has_no_bounds() -> None:
    for modality in (Modality.negated, Modality.hypothetical, Modality.future):
        assert tenure(Time.model_validate({"start": "2023-07"}), modality, PUBLISHED) is None
    result = mapped(holding("h", "ana", "fm", {"start": "2023-07"}, modality="negated"))
    node = holding_iri("ana", "fm", "2023-07")
    assert values(result, node, "startDate") == {"2023-07"}
    for local in ("observedHeldOn", "heldFromEarliest", "heldFromLatest", "heldUntilEarliest"):
        assert values(result, node, local) == set()


_AS_OF = """
PREFIX dip: <https://w3id.org/diplograph/ns#>
SELECT ?answer WHERE {
  BIND (<%s> AS ?holding)
  BIND ("%s"^^<http://www.w3.org/2001/XMLSchema#date> AS ?day)
  BIND (IF(EXISTS { ?holding dip:heldFromLatest ?begun ; dip:heldUntilEarliest ?lasted
                    FILTER (?begun <= ?day && ?day <= ?lasted) }, "held",
        IF(EXISTS { ?holding dip:heldFromEarliest ?first FILTER (?day < ?first) }
           || EXISTS { ?holding dip:heldUntilLatest ?last FILTER (?day > ?last) },
           "not held", "unknown")) AS ?answer)
}
"""


@pytest.mark.parametrize(
    "time",
    [
        {"start": "2020", "end": "2021-06"},
        {"start": "2023-07"},
        {"start": "2023-07-25", "end": "2023-11-02"},
        {"start": "2023-07-25T23:30:00-05:00"},
        {"earliest": "2023-01-01", "latest": "2023-03"},
        {"text": "for years"},
    ],
    ids=["year-to-month", "month", "day-to-day", "date-time", "uncertain-start", "undated"],
)
def test_sparql_over_the_written_bounds_gives_the_rules_answer(time: dict[str, str]) -> None:
    result = mapped(holding("h", "ana", "fm", time))
    store = Store()
    store.extend(Quad(t.subject, t.predicate, t.object) for t in result.triples)
    node = holding_iri("ana", "fm", time.get("start"))
    bounds = tenure(Time.model_validate(time), Modality.asserted, PUBLISHED)
    assert bounds is not None
    days = [day("2019-12-31") + dt.timedelta(days=n) for n in range(0, 1500, 7)]
    for on in [*days, day(PUBLISHED), day("2023-07-31"), day("2023-08-01")]:
        rows = store.query(_AS_OF % (node, on.isoformat()))
        assert isinstance(rows, QuerySolutions)
        [row] = list(rows)
        answer = row["answer"]
        assert answer is not None and answer.value == bounds.on(on).value, (on, bounds)


# ------------------------------------------------------------------------------------------------
# The observation


def test_the_article_date_is_an_observation_that_a_current_holding_was_held() -> None:
    result = mapped(holding("h", "ana", "fm"))
    node = holding_iri("ana", "fm")
    assert values(result, node, "observedHeldOn") == {PUBLISHED}
    [issued] = [t.object for t in result.triples if t.predicate.value.endswith("issued")]
    [seen] = [t.object for t in result.triples if t.predicate == NamedNode(DIP + "observedHeldOn")]
    assert seen == issued == Literal(PUBLISHED, datatype=NamedNode(XSD + "date"))
    assert values(result, node, "heldFromLatest") == {PUBLISHED}
    assert values(result, node, "heldUntilEarliest") == {PUBLISHED}
    # undated: it may have begun at any time before, and may still be held
    assert (
        values(result, node, "heldFromEarliest") == values(result, node, "heldUntilLatest") == set()
    )


@pytest.mark.parametrize(
    ("time", "extra"),
    [
        ({"start": "2019", "end": "2023-09"}, {}),  # ended before the article
        ({"start": "2023-11"}, {}),  # begins after it
        ({"start": "2019"}, {"modality": "historical"}),  # said of the past
        ({"start": "2024"}, {"modality": "future"}),
    ],
)
def test_no_observation_when_the_holding_is_not_current(
    time: dict[str, str], extra: dict[str, str]
) -> None:
    result = mapped(holding("h", "ana", "fm", time, **extra))
    assert values(result, holding_iri("ana", "fm", time["start"]), "observedHeldOn") == set()


def test_an_end_in_the_articles_month_keeps_the_observation() -> None:
    result = mapped(holding("h", "ana", "fm", {"start": "2019", "end": "2023-10"}))
    node = holding_iri("ana", "fm", "2019")
    assert values(result, node, "observedHeldOn") == {PUBLISHED}
    assert values(result, node, "heldUntilEarliest") == {PUBLISHED}
    assert values(result, node, "heldUntilLatest") == {"2023-10-31"}


# ------------------------------------------------------------------------------------------------
# The capacity a participant acted in


def test_a_given_capacity_is_written_and_implies_a_holding_seen_on_the_article_date() -> None:
    result = mapped(
        call(
            PUBLISHED,
            {"entity": "ana", "role": "initiator", "capacity": "fm"},
            {"entity": "north", "role": "recipient"},
        )
    )
    [part] = participations(result).values()
    assert part == {"inCapacity": {f"{BASE}id/post/foreign-minister"}, "capacityDerivedFrom": set()}
    node = holding_iri("ana", "fm")
    assert values(result, node, "observedHeldOn") == {PUBLISHED}
    assert values(result, node, "post") == {f"{BASE}id/post/foreign-minister"}
    assert result.origins[node] == "facts[0].participants[0].capacity"


def test_a_given_capacity_adds_no_holding_when_the_document_states_one() -> None:
    result = mapped(
        holding("h", "ana", "fm", {"start": "2023-07"}),
        call(
            PUBLISHED,
            {"entity": "ana", "role": "initiator", "capacity": "fm"},
            {"entity": "north", "role": "recipient"},
        ),
    )
    holdings = {
        t.subject.value
        for t in result.triples
        if t.predicate == NamedNode(ORG + "member") and isinstance(t.subject, NamedNode)
    }
    assert holdings == {holding_iri("ana", "fm", "2023-07")}


def test_capacity_is_derived_from_the_one_holding_held_on_the_events_day() -> None:
    result = mapped(
        holding("h-fm", "ana", "fm", {"start": "2023-07"}),
        holding("h-pm", "ana", "pm", {"start": "2019", "end": "2023-06"}),
        call(
            "2023-10-10",
            {"entity": "ana", "role": "initiator"},
            {"entity": "bo", "role": "recipient"},
        ),
    )
    found = participations(result)
    assert found == {
        f"{BASE}id/person/ana-diplomat": {
            "inCapacity": {f"{BASE}id/post/foreign-minister"},
            "capacityDerivedFrom": {holding_iri("ana", "fm", "2023-07")},
        }
    }


@pytest.mark.parametrize(
    ("facts", "event_start"),
    [
        # two posts held that day
        ([holding("h-fm", "ana", "fm"), holding("h-pm", "ana", "pm")], PUBLISHED),
        # the only holding is unknown on the event's day (seen on the 14th, begun in July)
        ([holding("h-fm", "ana", "fm", {"start": "2023-07"})], "2023-07-20"),
        # unknown on part of the event's month
        ([holding("h-fm", "ana", "fm", {"start": "2023-07"})], "2023-10"),
        # an undated event
        ([holding("h-fm", "ana", "fm")], None),
        # a holding that is not said to be real
        ([holding("h-fm", "ana", "fm", modality="negated")], PUBLISHED),
    ],
    ids=["two-posts", "unknown", "unknown-over-the-month", "undated-event", "negated"],
)
def test_capacity_is_not_derived_without_exactly_one_post_held(
    facts: list[dict[str, Any]], event_start: str | None
) -> None:
    event = call(
        event_start,
        {"entity": "ana", "role": "initiator", "on_behalf_of": "north"},
        {"entity": "bo", "role": "recipient"},
    )
    found = participations(mapped(*facts, event))
    assert found[f"{BASE}id/person/ana-diplomat"] == {
        "inCapacity": set(),
        "capacityDerivedFrom": set(),
    }


def test_two_holdings_of_one_post_still_give_the_capacity() -> None:
    result = mapped(
        holding("h-1", "ana", "fm"),
        holding("h-2", "ana", "fm", {"start": "2023-07"}),
        call(
            PUBLISHED, {"entity": "ana", "role": "initiator"}, {"entity": "bo", "role": "recipient"}
        ),
    )
    part = participations(result)[f"{BASE}id/person/ana-diplomat"]
    assert part["inCapacity"] == {f"{BASE}id/post/foreign-minister"}
    assert part["capacityDerivedFrom"] == {holding_iri("ana", "fm")}


def test_a_capacity_must_be_a_post() -> None:
    with pytest.raises(
        ValueError, match=r"participants\[0\].capacity: the capacity must be a Post"
    ):
        document(call(PUBLISHED, {"entity": "ana", "role": "initiator", "capacity": "gov"}))


def test_a_capacity_is_only_for_participants_of_events() -> None:
    relation = {
        "id": "rel",
        "type": "BilateralRelation",
        "participants": [
            {"entity": "north", "role": "party", "capacity": "fm"},
            {"entity": "gov", "role": "party"},
        ],
    }
    with pytest.raises(FactsError, match="capacity are only for participants of events"):
        mapped(relation)


# ------------------------------------------------------------------------------------------------
# The shapes


@pytest.mark.parametrize(
    ("time", "rule"),
    [
        ({"start": "2023-07", "latest": "2023-06"}, "dsh:PostHolding-begins-in-order"),
        ({"earliest": "2023-02-01", "end": "2023-01"}, "dsh:PostHolding-ends-before-it-may-begin"),
    ],
)
def test_the_shapes_reject_inverted_bounds(time: dict[str, str], rule: str) -> None:
    result = mapped(holding("h", "ana", "fm", time, modality="historical"))
    report = Validator().validate(result.triples, focus_nodes=result.nodes)
    assert rule in {v.shape for v in report.violations}
    assert not report.conforms
