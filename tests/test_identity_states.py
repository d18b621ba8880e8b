"""One node per state, whatever a document calls it (issue 12, "Coherence across documents").

A State entity resolves through the gazetteer by its Wikidata id, its ISO 3166-1 code, its name
and its aliases, in that order; every document's node for the state is then
``{base}id/state/Q…`` with the state's identifiers and preferred label. Identifiers the gazetteer
refuses reject the record with record, field and rule; a state name it does not know keeps the
name's node and warns. docs/mapping.md, "Identity of states".
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyoxigraph import CanonicalizationAlgorithm, Dataset, Literal, NamedNode, Quad, QuerySolutions

from diplograph.loader.config import load_settings
from diplograph.loader.facts import parse_document
from diplograph.loader.iris import IriMinter
from diplograph.loader.mapping import MappedDocument, map_document
from diplograph.loader.namespaces import DEFAULT_BASE_IRI, DIP, SKOS, sparql_prologue
from diplograph.loader.ontology import superclass_closure
from diplograph.loader.pipeline import Loader, retract
from diplograph.loader.report import LoadReport
from diplograph.loader.store import Store
from diplograph.loader.store.embedded import EmbeddedStore

CHINA = f"{DEFAULT_BASE_IRI}id/state/Q148"

#: Six ways a document names China: by name, alias-like name, both ISO codes, Wikidata id and
#: official name. The names given with a code or id are ones the gazetteer does not know, so
#: the identifier alone must do the work.
SIX_WAYS: dict[str, dict[str, Any]] = {
    "china": {"name": "China"},
    "prc": {"name": "PRC"},
    "cn": {"name": "Beijing's state", "identifiers": {"iso3166": "CN"}},
    "chn": {"name": "Chinese state", "identifiers": {"iso3166": "CHN"}},
    "q148": {"name": "Zhongguo", "wikidata": "Q148"},
    "official": {"name": "People's Republic of China"},
}


def _document(doc_id: str, state: dict[str, Any], *extra: dict[str, Any]) -> dict[str, Any]:
    """A small document: a state (and other entities) issuing a statement."""
    return {
        "document": {"id": doc_id, "published": "2023-10-15"},
        "extraction": {"tool": "test", "version": "1", "time": "2023-10-15T08:00:00Z"},
        "entities": [{"id": "s", "type": "State", **state}, *extra],
        "facts": [
            {
                "id": "f",
                "type": "Statement",
                "participants": [{"entity": "s", "role": "issuer"}],
                "time": {"start": "2023-10-14"},
            }
        ],
    }


def _map(doc: dict[str, Any]) -> MappedDocument:
    record = parse_document(doc, source="test.jsonl", line=1)
    assert record.document is not None, record.error
    return map_document(
        record.document,
        IriMinter(DEFAULT_BASE_IRI),
        superclass_closure(),
        source="test.jsonl",
        line=1,
    )


def _nodes_of_type(mapped: MappedDocument, local: str) -> set[str]:
    return {
        t.subject.value
        for t in mapped.triples
        if isinstance(t.subject, NamedNode)
        and t.predicate.value.endswith("#type")
        and t.object == NamedNode(DIP + local)
    }


def _objects(mapped: MappedDocument, subject: str, predicate: str) -> set[Any]:
    return {
        t.object
        for t in mapped.triples
        if t.subject == NamedNode(subject) and t.predicate == NamedNode(predicate)
    }


@pytest.fixture
def store() -> Iterator[Store]:
    memory = EmbeddedStore(None)
    yield memory
    memory.close()


def _load(store: Store, *docs: dict[str, Any]) -> LoadReport:
    loader = Loader(store, load_settings(store="memory"))
    records = [parse_document(d, source="test.jsonl", line=i) for i, d in enumerate(docs, 1)]
    return loader.load(records)


def _select(store: Store, query: str) -> list[tuple[str, ...]]:
    result = store.query(sparql_prologue() + query)
    assert isinstance(result, QuerySolutions)
    names = [v.value for v in result.variables]
    return sorted(tuple(row[n].value if row[n] else "" for n in names) for row in result)


# --- one node ------------------------------------------------------------------------------------


@pytest.mark.parametrize("way", sorted(SIX_WAYS))
def test_each_way_of_naming_china_maps_to_its_wikidata_node(way: str) -> None:
    mapped = _map(_document(f"doc-{way}", SIX_WAYS[way]))
    assert _nodes_of_type(mapped, "State") == {CHINA}
    assert _objects(mapped, CHINA, SKOS + "prefLabel") == {Literal("China", language="en")}
    assert _objects(mapped, CHINA, SKOS + "notation") == {
        Literal("CN", datatype=NamedNode(DIP + "ISO3166Alpha2Code")),
        Literal("CHN", datatype=NamedNode(DIP + "ISO3166Alpha3Code")),
    }
    assert [str(w) for w in mapped.warnings] == []


def test_china_prc_cn_chn_q148_and_its_official_name_in_six_documents_are_one_node(
    store: Store,
) -> None:
    docs = [_document(f"doc-{way}", state) for way, state in SIX_WAYS.items()]
    report = _load(store, *docs)
    assert report.documents_loaded == 6, report.to_dict()
    states = _select(store, "SELECT DISTINCT ?s WHERE { GRAPH ?g { ?s a dip:State } }")
    assert states == [(CHINA,)]
    labels = _select(
        store, f"SELECT DISTINCT ?l WHERE {{ GRAPH ?g {{ <{CHINA}> rdfs:label ?l }} }}"
    )
    assert labels == sorted((state["name"],) for state in SIX_WAYS.values())
    preferred = _select(
        store, f"SELECT DISTINCT ?l WHERE {{ GRAPH ?g {{ <{CHINA}> skos:prefLabel ?l }} }}"
    )
    assert preferred == [("China",)]
    issuers = _select(store, "SELECT DISTINCT ?who WHERE { GRAPH ?g { ?s dip:issuer ?who } }")
    assert issuers == [(CHINA,)]


def test_aliases_resolve_when_the_name_does_not() -> None:
    mapped = _map(_document("d", {"name": "the Kingdom", "aliases": ["KSA"]}))
    assert _nodes_of_type(mapped, "State") == {f"{DEFAULT_BASE_IRI}id/state/Q851"}


def test_a_realm_id_resolves_to_its_state_and_keeps_the_id_given() -> None:
    mapped = _map(_document("d", {"name": "Kingdom of the Netherlands", "wikidata": "Q29999"}))
    netherlands = f"{DEFAULT_BASE_IRI}id/state/Q55"
    assert _nodes_of_type(mapped, "State") == {netherlands}
    wikidata = "http://www.wikidata.org/entity/"
    assert _objects(mapped, netherlands, "http://www.w3.org/2002/07/owl#sameAs") == {
        NamedNode(wikidata + "Q55"),
        NamedNode(wikidata + "Q29999"),
    }


def test_a_wikidata_id_outside_the_gazetteer_keeps_its_node_without_a_name_lookup() -> None:
    # "NL" would resolve to the Netherlands; the id the document gave wins over its names.
    mapped = _map(_document("d", {"name": "Northland", "aliases": ["NL"], "wikidata": "Q1340"}))
    assert _nodes_of_type(mapped, "State") == {f"{DEFAULT_BASE_IRI}id/state/Q1340"}
    assert _objects(mapped, f"{DEFAULT_BASE_IRI}id/state/Q1340", SKOS + "prefLabel") == set()
    assert [str(w) for w in mapped.warnings] == []


def test_other_schemes_are_external_identifiers_scheme_colon_value() -> None:
    militia = {"id": "m", "type": "Militia", "name": "Ansar Allah", "identifiers": {"acled": "AA"}}
    mapped = _map(_document("d", {"name": "Yemen", "identifiers": {"cameo": "YEM"}}, militia))
    prop = DIP + "externalIdentifier"
    assert _objects(mapped, f"{DEFAULT_BASE_IRI}id/state/Q805", prop) == {Literal("cameo:YEM")}
    assert _objects(mapped, f"{DEFAULT_BASE_IRI}id/org/ansar-allah", prop) == {Literal("acled:AA")}


# --- any order, and retraction -------------------------------------------------------------------

_SMALL = [
    _document("order-a", {"name": "China"}),
    _document("order-b", {"name": "PRC", "identifiers": {"cameo": "CHN"}}),
    _document("order-c", {"name": "Chinese state", "wikidata": "Q148"}),
    _document("order-d", {"name": "Somaliland"}),
]


def _all_quads(docs: list[dict[str, Any]]) -> set[Quad]:
    memory = EmbeddedStore(None)
    try:
        for doc in docs:  # one load each: across loads, not only within one batch
            _load(memory, doc)
        # Every quad of the store, the ontology graph's blank nodes labelled canonically.
        dataset = Dataset(memory.quads())
        dataset.canonicalize(CanonicalizationAlgorithm.UNSTABLE)
        return set(dataset)
    finally:
        memory.close()


@settings(max_examples=24, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.permutations(_SMALL))
def test_loading_the_documents_in_any_order_gives_the_same_graph(
    order: list[dict[str, Any]],
) -> None:
    assert _all_quads(order) == _REFERENCE


_REFERENCE = _all_quads(_SMALL)


def test_retracting_one_document_leaves_the_others_state_node_intact(store: Store) -> None:
    _load(store, *_SMALL[:3])
    before = _select(store, f"SELECT ?p ?o WHERE {{ GRAPH ?g {{ <{CHINA}> ?p ?o }} }}")
    retract(store, load_settings(store="memory"), "order-a")
    after = _select(store, f"SELECT DISTINCT ?p ?o WHERE {{ GRAPH ?g {{ <{CHINA}> ?p ?o }} }}")
    assert ("http://www.w3.org/2000/01/rdf-schema#label", "China") not in after
    kept = {(p, o) for p, o in before if o != "China" or p == SKOS + "prefLabel"}
    assert set(after) == kept
    assert (SKOS + "prefLabel", "China") in after
    assert (SKOS + "notation", "CHN") in after


# --- rejected identifiers ------------------------------------------------------------------------


def _rejection(store: Store, doc: dict[str, Any]) -> dict[str, Any]:
    report = _load(store, doc)
    assert report.documents_rejected == 1, report.to_dict()
    [rejection] = report.rejections
    [violation] = rejection.violations
    return {"record": rejection.record, "field": violation["field"], "rule": violation["message"]}


@pytest.mark.parametrize(
    ("state", "field", "rule"),
    [
        (
            {"name": "China", "wikidata": "Q0148"},
            "entities[0].wikidata",
            "malformed Wikidata id 'Q0148': expected Q followed by digits",
        ),
        (
            {"name": "China", "identifiers": {"iso3166": "XX"}},
            "entities[0].identifiers.iso3166",
            "unknown ISO 3166-1 code 'XX'",
        ),
        (
            {"name": "China", "identifiers": {"iso3166": "C1"}},
            "entities[0].identifiers.iso3166",
            "malformed ISO 3166-1 code 'C1': expected two or three letters",
        ),
        (
            {"name": "Puerto Rico", "identifiers": {"iso3166": "PR"}},
            "entities[0].identifiers.iso3166",
            "ISO 3166-1 code 'PR' (Puerto Rico) is not of a UN member or observer state",
        ),
        (
            {"name": "China", "wikidata": "Q148", "identifiers": {"iso3166": "SAU"}},
            "entities[0].identifiers.iso3166",
            "the Wikidata id 'Q148' and the ISO 3166-1 code 'SAU' name different states: "
            "'SAU' is Saudi Arabia (Q851), 'Q148' is China (Q148)",
        ),
        (
            {"name": "China", "identifiers": {"wikidata": "Q148"}},
            "entities[0].identifiers.wikidata",
            "give the Wikidata id in the entity's field 'wikidata', not among its identifiers",
        ),
        (
            {"name": "China", "identifiers": {"CAMEO": "CHN"}},
            "entities[0].identifiers.CAMEO",
            "identifier scheme 'CAMEO': expected 2 to 32 lower-case letters, digits or '_', "
            "starting with a letter (iso3166, cameo, acled)",
        ),
    ],
)
def test_a_bad_state_identifier_is_rejected_with_record_field_and_rule(
    store: Store, state: dict[str, Any], field: str, rule: str
) -> None:
    rejected = _rejection(store, _document("bad", state))
    assert rejected == {"record": "bad#s", "field": field, "rule": rule}


def test_an_iso_code_on_anything_but_a_state_is_rejected_naming_the_rule(store: Store) -> None:
    government = {
        "id": "gov",
        "type": "Government",
        "name": "Government of China",
        "governs": "s",
        "identifiers": {"iso3166": "CN"},
    }
    rejected = _rejection(store, _document("bad", {"name": "China"}, government))
    assert rejected == {
        "record": "bad#gov",
        "field": "entities[1].identifiers.iso3166",
        "rule": "an ISO 3166-1 code identifies a State, not a Government: give it on the State "
        "entity (and link it, e.g. with 'governs')",
    }


# --- unknown names -------------------------------------------------------------------------------


def test_an_unknown_state_name_keeps_its_name_node_and_warns_naming_document_and_entity() -> None:
    mapped = _map(_document("wire-1", {"name": "Somaliland"}))
    assert _nodes_of_type(mapped, "State") == {f"{DEFAULT_BASE_IRI}id/state/somaliland"}
    assert [str(w) for w in mapped.warnings] == [
        "test.jsonl:1, record 'wire-1#s', field 'entities[0].name': the state 'Somaliland' is "
        "not in the gazetteer of states, so it is keyed by its name and other documents may "
        "make it another node; give its 'wikidata' id or its identifiers.iso3166 code if it is "
        "a state"
    ]


def test_an_unknown_state_in_many_documents_is_one_warning_with_a_count(store: Store) -> None:
    docs = [_document(f"wire-{n}", {"name": "Somaliland"}) for n in range(3)]
    report = _load(store, *docs)
    about = [w for w in report.warnings if "Somaliland" in w]
    assert len(about) == 2
    assert about[0].startswith("test.jsonl:1, record 'wire-0#s'")
    assert about[1].startswith("the state 'Somaliland' is not in the gazetteer")
    assert about[1].endswith("(the same in 2 more record(s) of this run)")


def test_an_unknown_state_name_is_loaded_not_rejected(store: Store) -> None:
    report = _load(store, _document("wire-1", {"name": "Somaliland"}))
    assert report.documents_loaded == 1 and report.documents_rejected == 0


def test_the_load_report_carries_the_unknown_state_warning(store: Store) -> None:
    report = _load(store, _document("wire-1", {"name": "Somaliland"}))
    assert [w for w in report.warnings if "Somaliland" in w] == [
        "test.jsonl:1, record 'wire-1#s', field 'entities[0].name': the state 'Somaliland' is "
        "not in the gazetteer of states, so it is keyed by its name and other documents may "
        "make it another node; give its 'wikidata' id or its identifiers.iso3166 code if it is "
        "a state"
    ]


def test_the_documents_are_not_changed_by_mapping() -> None:
    doc = _document("d", {"name": "China"})
    kept = copy.deepcopy(doc)
    _map(doc)
    assert doc == kept


# -- the government of a state --------------------------------------------------------------


def _with_government(doc_id: str, state: dict[str, Any], name: str) -> dict[str, Any]:
    return _document(doc_id, state, {"id": "g", "type": "Government", "name": name, "governs": "s"})


def test_the_governments_of_one_state_are_one_node_whatever_each_document_calls_them() -> None:
    a = _map(_with_government("a", {"name": "China"}, "Government of China"))
    b = _map(_with_government("b", {"name": "PRC"}, "Beijing"))
    assert (
        _nodes_of_type(a, "Government")
        == _nodes_of_type(b, "Government")
        == {f"{DEFAULT_BASE_IRI}id/org/government-of-Q148"}
    )


def test_a_government_of_a_state_outside_the_gazetteer_is_keyed_by_the_state_name() -> None:
    mapped = _map(_with_government("a", {"name": "Somaliland"}, "Hargeisa government"))
    assert _nodes_of_type(mapped, "Government") == {
        f"{DEFAULT_BASE_IRI}id/org/government-of-somaliland"
    }


def test_a_government_without_governs_keeps_its_own_key() -> None:
    doc = _document("a", {"name": "China"}, {"id": "g", "type": "Government", "name": "Junta"})
    assert _nodes_of_type(_map(doc), "Government") == {f"{DEFAULT_BASE_IRI}id/org/junta"}
