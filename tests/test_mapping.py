"""Facts to RDF: the triple patterns of docs/mapping.md, typed literals, and mapping errors."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyoxigraph import Literal, NamedNode, Quad, Triple
from pyoxigraph import Store as OxStore

from diplograph.loader.errors import FactsError
from diplograph.loader.facts import FactsDocument
from diplograph.loader.iris import IriMinter
from diplograph.loader.mapping import (
    MappedDocument,
    decimal_literal,
    duration_literal,
    map_document,
    when_literal,
)
from diplograph.loader.namespaces import DIP, KW, ORG, PROV, XSD
from tests.conftest import DATA

BASE = "https://w3id.org/diplograph/"
MINTER = IriMinter(BASE)


def _doc(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((DATA / "facts" / "minimal.json").read_text())
    doc.update(changes)
    return doc


def _map(
    doc: dict[str, Any], superclasses: dict[str, frozenset[str]] | None = None
) -> MappedDocument:
    return map_document(FactsDocument.model_validate(doc), MINTER, superclasses or {})


def _objects(mapped: MappedDocument, s: str, p: str) -> set[str]:
    return {
        t.object.value
        for t in mapped.triples
        if t.subject == NamedNode(s)
        and t.predicate == NamedNode(p)
        and isinstance(t.object, NamedNode | Literal)
    }


def _subjects_of_type(mapped: MappedDocument, cls: str) -> list[str]:
    rdf_type = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    return [
        t.subject.value
        for t in mapped.triples
        if t.predicate == rdf_type
        and t.object == NamedNode(DIP + cls)
        and isinstance(t.subject, NamedNode)
    ]


@pytest.mark.parametrize(
    ("value", "lexical", "datatype"),
    [
        ("2023", "2023", "gYear"),
        ("2023-06", "2023-06", "gYearMonth"),
        ("2023-10-14", "2023-10-14", "date"),
        ("2023-10-14T09:30:00+02:00", "2023-10-14T07:30:00Z", "dateTime"),
        ("2023-10-14T23:30Z", "2023-10-14T23:30:00Z", "dateTime"),
    ],
)
def test_times_become_literals_typed_by_precision_in_utc(
    value: str, lexical: str, datatype: str
) -> None:
    assert when_literal(value) == Literal(lexical, datatype=NamedNode(XSD + datatype))


def test_confidence_is_an_xsd_decimal_without_exponent() -> None:
    assert decimal_literal(0.95) == Literal("0.95", datatype=NamedNode(XSD + "decimal"))
    assert decimal_literal(1.0) == Literal("1", datatype=NamedNode(XSD + "decimal"))
    assert decimal_literal(1e-7).value == "0.0000001"


@pytest.mark.parametrize(
    ("value", "lexical", "datatype"),
    [
        ("PT1H", "PT1H", "dayTimeDuration"),
        ("PT90M", "PT1H30M", "dayTimeDuration"),
        ("PT36H", "P1DT12H", "dayTimeDuration"),
        ("P2W", "P14D", "dayTimeDuration"),
        ("PT1.50S", "PT1.5S", "dayTimeDuration"),
        ("P14M", "P1Y2M", "yearMonthDuration"),
        ("P1Y2M3DT4H", "P1Y2M3DT4H", "duration"),
        ("P0Y", "PT0S", "dayTimeDuration"),
    ],
)
def test_durations_are_typed_by_their_parts_in_canonical_form(
    value: str, lexical: str, datatype: str
) -> None:
    assert duration_literal(value) == Literal(lexical, datatype=NamedNode(XSD + datatype))


_DURATIONS = st.builds(
    lambda parts, seconds: (
        "P"
        + "".join(f"{n}{unit}" for n, unit in zip(parts[:4], "YMWD", strict=True) if n)
        + (
            "T"
            + "".join(f"{n}{unit}" for n, unit in zip(parts[4:], "HM", strict=True) if n)
            + (f"{seconds}S" if seconds else "")
            if any(parts[4:]) or seconds
            else ""
        )
    ),
    st.lists(st.integers(0, 40), min_size=6, max_size=6),
    st.decimals(0, 100, places=2),
).filter(lambda text: text != "P")


@given(_DURATIONS)
def test_the_store_gives_back_every_duration_literal_exactly_as_mapped(value: str) -> None:
    """A store keeps values and returns the canonical form; the mapping writes that form, so
    an unchanged document reads back equal (the loader's unchanged check relies on it)."""
    literal = duration_literal(value)
    store = OxStore()
    store.add(Quad(NamedNode("urn:x:s"), NamedNode("urn:x:p"), literal))
    [stored] = [q.object for q in store]
    assert stored == literal


@given(st.decimals(0, 1, places=6), st.sampled_from(["Z", "+02:00", "-05:30"]))
def test_the_store_gives_back_confidences_and_date_times_exactly_as_mapped(
    number: Decimal, zone: str
) -> None:
    fraction = str(number)[1:] if "." in str(number) else ""
    for literal in (
        decimal_literal(float(number)),
        when_literal(f"2023-10-14T09:30:05{fraction[:7]}{zone}"),
    ):
        store = OxStore()
        store.add(Quad(NamedNode("urn:x:s"), NamedNode("urn:x:p"), literal))
        [stored] = [q.object for q in store]
        assert stored == literal


def test_every_triple_is_in_the_documents_graph_named_after_it() -> None:
    mapped = _map(_doc())
    assert mapped.graph == f"{BASE}id/doc/doc-minimal"
    assert all(isinstance(t, Triple) for t in mapped.triples)
    assert len(mapped.triples) == len(set(mapped.triples))


def test_an_event_gets_role_properties_and_has_participant() -> None:
    mapped = _map(_doc())
    [call] = _subjects_of_type(mapped, "PhoneCall")
    a, b = f"{BASE}id/person/ana-diplomat", f"{BASE}id/person/bo-minister"
    assert _objects(mapped, call, DIP + "initiator") == {a}
    assert _objects(mapped, call, DIP + "recipient") == {b}
    assert _objects(mapped, call, DIP + "hasParticipant") == {a, b}
    assert _objects(mapped, call, DIP + "modality") == {KW + "asserted"}


def test_confidence_and_evidence_live_on_the_documents_attestation() -> None:
    mapped = _map(_doc())
    [call] = _subjects_of_type(mapped, "PhoneCall")
    [att] = _objects(mapped, call, DIP + "attestedBy")
    assert att == f"{BASE}id/doc/doc-minimal/attestation/call"
    assert _objects(mapped, att, DIP + "confidence") == {"0.9"}
    assert _objects(mapped, att, PROV + "wasDerivedFrom") == {mapped.graph}
    [span] = _objects(mapped, att, DIP + "evidence")
    assert _objects(mapped, span, DIP + "startOffset") == {"10"}
    assert _objects(mapped, call, PROV + "wasDerivedFrom") == {mapped.graph}


def test_superclass_types_are_materialized_from_the_closure_given() -> None:
    closure = {DIP + "PhoneCall": frozenset({DIP + "Consultation", DIP + "Event"})}
    mapped = _map(_doc(), closure)
    [call] = _subjects_of_type(mapped, "PhoneCall")
    assert _subjects_of_type(mapped, "Consultation") == [call]
    assert _subjects_of_type(mapped, "Event") == [call]


def test_a_participant_with_place_gets_a_participation_node() -> None:
    doc = _doc()
    doc["entities"].append({"id": "r", "type": "City", "name": "Riyadh"})
    doc["facts"][0]["participants"][0]["place"] = "r"
    mapped = _map(doc)
    [p] = _subjects_of_type(mapped, "Participation")
    assert _objects(mapped, p, DIP + "atPlace") == {f"{BASE}id/place/riyadh"}
    assert _objects(mapped, p, DIP + "role") == {KW + "initiator"}


def test_a_backing_writes_the_backs_shortcut() -> None:
    doc = _doc()
    doc["entities"] += [
        {"id": "i", "type": "State", "name": "Iran"},
        {"id": "h", "type": "Militia", "name": "Hezbollah"},
    ]
    doc["facts"] = [
        {
            "id": "backing",
            "type": "Backing",
            "participants": [{"entity": "i", "role": "sponsor"}, {"entity": "h", "role": "client"}],
        }
    ]
    mapped = _map(doc)
    assert _objects(mapped, f"{BASE}id/state/Q794", DIP + "backs") == {f"{BASE}id/org/hezbollah"}


def test_a_post_holding_of_a_diplomatic_post_makes_the_holder_a_diplomat() -> None:
    doc = _doc()
    doc["entities"].append({"id": "p", "type": "DiplomaticPost", "name": "Foreign Minister"})
    doc["facts"] = [
        {
            "id": "h",
            "type": "PostHolding",
            "participants": [{"entity": "a", "role": "holder"}],
            "post": "p",
            "time": {"start": "2021-01-26"},
        }
    ]
    mapped = _map(doc)
    a = f"{BASE}id/person/ana-diplomat"
    assert a in _subjects_of_type(mapped, "Diplomat")
    assert _objects(mapped, a, DIP + "holdsPost") == {f"{BASE}id/post/foreign-minister"}
    [holding] = _subjects_of_type(mapped, "PostHolding")
    assert _objects(mapped, holding, ORG + "member") == {a}


def test_a_role_that_does_not_fit_the_fact_is_an_error_naming_the_field() -> None:
    doc = _doc()
    doc["facts"][0]["type"] = "Backing"
    with pytest.raises(FactsError) as info:
        _map(doc)
    assert info.value.location.field == "facts[0].participants[0].role"
    assert info.value.location.record == "doc-minimal#call"
    assert "not a role of a Backing" in info.value.rule


def test_statement_stances_become_stance_situations_held_by_the_represented_state() -> None:
    doc = _doc()
    doc["entities"].append({"id": "c", "type": "State", "name": "China"})
    doc["facts"] = [
        {
            "id": "s",
            "type": "Statement",
            "participants": [{"entity": "b", "role": "speaker", "on_behalf_of": "c"}],
            "stances": [{"polarity": "opposes", "topic": "harm to civilians"}],
        }
    ]
    mapped = _map(doc)
    [stance] = _subjects_of_type(mapped, "Stance")
    assert _objects(mapped, stance, DIP + "stanceHolder") == {f"{BASE}id/state/Q148"}
    assert _objects(mapped, stance, DIP + "polarity") == {KW + "opposes"}


def _agreement_iri(time: dict[str, str] | None) -> str:
    doc = json.loads((DATA / "mapping" / "agreement" / "facts.json").read_text())
    accord = next(f for f in doc["facts"] if f["id"] == "accord")
    if time is not None:
        accord["time"] = time
    [iri] = _subjects_of_type(_map(doc), "Agreement")
    return iri


def test_agreements_of_the_same_parties_at_other_times_are_two_nodes() -> None:
    assert _agreement_iri({"start": "2023-03-10"}) != _agreement_iri({"start": "2016-01-03"})


def test_an_agreement_reported_with_the_same_date_is_one_node() -> None:
    assert _agreement_iri({"start": "2023-03-10"}) == _agreement_iri({"start": "2023-03-10"})


def test_a_relation_of_the_same_parties_is_one_node_whatever_its_start() -> None:
    doc = json.loads((DATA / "mapping" / "agreement" / "facts.json").read_text())
    relation = next(f for f in doc["facts"] if f["id"] == "relation")
    iris = set()
    for start in ("2023-03-10", "2016-01-03"):
        relation["time"] = {"start": start}
        iris.update(_subjects_of_type(_map(doc), "BilateralRelation"))
    assert len(iris) == 1
