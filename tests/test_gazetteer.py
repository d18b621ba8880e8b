"""The gazetteer of states: every UN member and observer, one state whatever a document calls it."""

from __future__ import annotations

from collections import Counter

import pytest

from diplograph.loader.errors import FactsError, Location
from diplograph.loader.gazetteer import (
    MalformedWikidataIdError,
    State,
    UnknownIsoCodeError,
    all_states,
    check_iso_code,
    check_wikidata_id,
    lookup_key,
    resolve_state,
    state_by_iso,
    state_by_wikidata,
)
from diplograph.loader.gazetteer.table import load_gazetteer

# Ids known independently of the data file, by heart and from Wikidata itself.
KNOWN_IDS = {
    "USA": "Q30",
    "CHN": "Q148",
    "SAU": "Q851",
    "IRN": "Q794",
    "ISR": "Q801",
    "RUS": "Q159",
    "GBR": "Q145",
    "FRA": "Q142",
    "DEU": "Q183",
    "JPN": "Q17",
    "IND": "Q668",
    "BRA": "Q155",
    "EGY": "Q79",
    "GRC": "Q41",
    "TUR": "Q43",
    "VAT": "Q237",
    "PSE": "Q219060",
}

# What a newsroom writes for a state, and the state it means.
NEWSROOM_NAMES = {
    "USA": ["US", "USA", "U.S.", "America", "United States of America", "United States"],
    "GBR": ["UK", "Britain", "Great Britain", "United Kingdom"],
    "RUS": ["Russia", "Russian Federation"],
    "IRN": ["Iran", "Islamic Republic of Iran"],
    "KOR": ["South Korea", "Republic of Korea"],
    "PRK": ["North Korea", "DPRK", "Democratic People's Republic of Korea"],
    "SAU": ["Saudi Arabia", "Kingdom of Saudi Arabia", "KSA"],
    "CHN": ["China", "PRC", "People's Republic of China"],
    "SYR": ["Syria", "Syrian Arab Republic"],
    "TUR": ["Türkiye", "Turkey"],
    "CIV": ["Côte d'Ivoire", "Ivory Coast"],
    "CZE": ["Czechia", "Czech Republic"],
    "PSE": ["Palestine", "State of Palestine"],
    "VAT": ["Vatican", "Holy See", "Vatican City"],
    "MMR": ["Burma", "Myanmar"],
    "COD": ["Congo-Kinshasa", "DRC", "DR Congo", "Democratic Republic of the Congo"],
    "COG": ["Congo-Brazzaville", "Republic of the Congo"],
    "NLD": ["Holland", "the Netherlands", "Netherlands"],
    "ARE": ["UAE", "United Arab Emirates"],
    "LAO": ["Laos"],
    "VNM": ["Vietnam", "Viet Nam"],
    "MDA": ["Moldova"],
    "BOL": ["Bolivia"],
    "VEN": ["Venezuela"],
    "TZA": ["Tanzania"],
    "FSM": ["Micronesia"],
    "SWZ": ["Eswatini", "Swaziland"],
    "MKD": ["North Macedonia", "Macedonia"],
    "CPV": ["Cabo Verde", "Cape Verde"],
    "TLS": ["Timor-Leste", "East Timor"],
}


def test_the_gazetteer_has_the_193_un_members_and_the_2_observer_states() -> None:
    states = all_states()
    assert len(states) == 195
    assert {"VAT", "PSE"} <= {state.iso3 for state in states}
    # territories and states outside the UN are not in it
    assert not {"TWN", "PRI", "HKG", "GRL", "ESH"} & {state.iso3 for state in states}


def test_iso_codes_and_wikidata_ids_are_unique() -> None:
    states = all_states()
    for field in ("iso2", "iso3", "wikidata"):
        counts = Counter(getattr(state, field) for state in states)
        assert [value for value, n in counts.items() if n > 1] == [], field
    every_id = Counter(qid for state in states for qid in state.wikidata_ids)
    assert [qid for qid, n in every_id.items() if n > 1] == []


def test_every_state_has_well_formed_codes_ids_and_names() -> None:
    for state in all_states():
        assert len(state.iso2) == 2 and state.iso2.isupper(), state
        assert len(state.iso3) == 3 and state.iso3.isupper(), state
        for qid in state.wikidata_ids:
            assert check_wikidata_id(qid) == qid
        assert state.name and state.official_name, state


@pytest.mark.parametrize(("iso3", "qid"), sorted(KNOWN_IDS.items()))
def test_well_known_states_have_their_wikidata_id(iso3: str, qid: str) -> None:
    state = state_by_iso(iso3)
    assert state is not None and state.wikidata == qid
    assert state_by_wikidata(qid) is state
    assert resolve_state(qid) is state


@pytest.mark.parametrize(("iso3", "names"), sorted(NEWSROOM_NAMES.items()))
def test_each_newsroom_name_resolves_to_its_state(iso3: str, names: list[str]) -> None:
    for name in names:
        state = resolve_state(name)
        assert state is not None and state.iso3 == iso3, name


def test_every_code_id_and_name_of_a_state_resolves_to_that_state() -> None:
    for state in all_states():
        for text in (state.iso2, state.iso3, *state.wikidata_ids, *state.names):
            assert resolve_state(text) is state, (text, state.iso3)


def test_no_name_or_code_is_shared_by_two_states() -> None:
    owners: dict[str, set[str]] = {}
    for state in all_states():
        for text in (state.iso2, state.iso3, *state.wikidata_ids, *state.names):
            owners.setdefault(lookup_key(text), set()).add(state.iso3)
    assert {key: iso3s for key, iso3s in owners.items() if len(iso3s) > 1} == {}


def test_a_data_file_with_a_name_for_two_states_is_refused() -> None:
    rows = "iso3\twikidata\tname\taliases\nFRA\tQ142\t\tGaul\nITA\tQ38\t\tgaul\n"
    with pytest.raises(ValueError, match="'gaul' would name both FRA and ITA"):
        load_gazetteer(rows)


def test_a_data_file_row_with_a_bad_code_or_id_is_refused() -> None:
    with pytest.raises(ValueError, match="pycountry has no country 'XXX'"):
        load_gazetteer("XXX\tQ1\t\t\n")
    with pytest.raises(ValueError, match="malformed Wikidata id"):
        load_gazetteer("FRA\tQ0142\t\t\n")


def test_names_used_for_two_states_resolve_to_none() -> None:
    for name in ("Congo", "Korea", "the Congo"):
        assert resolve_state(name) is None, name


def test_resolution_ignores_case_accents_punctuation_and_a_leading_the() -> None:
    ivory_coast = state_by_iso("CIV")
    assert ivory_coast is not None
    for text in ("COTE D'IVOIRE", "cote divoire", "Côte d’Ivoire", "  côte  d'ivoire "):
        assert resolve_state(text) is ivory_coast, text
    usa = state_by_iso("US")
    for text in ("u.s.", "U.S.A.", "the United States", "THE UNITED STATES OF AMERICA", "usa"):
        assert resolve_state(text) is usa, text
    turkey = state_by_iso("TR")
    assert resolve_state("Turkiye") is turkey and resolve_state("TÜRKIYE") is turkey
    assert resolve_state("the Gambia") is state_by_iso("GM")
    assert resolve_state("Guinea Bissau") is state_by_iso("GW")
    assert resolve_state("q148") is state_by_iso("CN")


def test_unknown_text_resolves_to_none() -> None:
    for text in ("", "the", "Atlantis", "Taiwan", "Republic of China", "Q2", "PR", "ZZZ"):
        assert resolve_state(text) is None, text


def test_a_realm_or_see_resolves_to_the_same_state_as_its_country() -> None:
    netherlands, denmark, vatican = state_by_iso("NL"), state_by_iso("DK"), state_by_iso("VA")
    assert netherlands is not None and netherlands.wikidata == "Q55"
    assert state_by_wikidata("Q29999") is netherlands  # Kingdom of the Netherlands
    assert state_by_wikidata("Q756617") is denmark  # Kingdom of Denmark
    assert state_by_wikidata("Q159583") is vatican  # Holy See


def test_state_by_wikidata_takes_the_id_exactly_and_state_by_iso_either_case() -> None:
    assert state_by_wikidata("q30") is None
    assert state_by_wikidata("Q31") is state_by_iso("bel")
    assert state_by_iso("gb") is state_by_iso("GBR")
    assert state_by_iso("UK") is None


def test_a_state_is_a_frozen_record() -> None:
    state = state_by_iso("FR")
    assert isinstance(state, State)
    with pytest.raises(AttributeError):
        state.name = "Gaul"  # type: ignore[misc]


@pytest.mark.parametrize("value", ["Q1", "Q30", "Q219060"])
def test_a_well_formed_wikidata_id_is_accepted(value: str) -> None:
    assert check_wikidata_id(value) == value


@pytest.mark.parametrize(
    "value", ["Q0x", "Q0", "Q012", "q30", "30", "Q", "P31", " Q30", "Q30 ", "Q30\n", "Q３０"]
)
def test_a_malformed_wikidata_id_is_rejected_with_value_and_rule(value: str) -> None:
    with pytest.raises(MalformedWikidataIdError) as caught:
        check_wikidata_id(value)
    assert caught.value.rule == (f"malformed Wikidata id {value!r}: expected Q followed by digits")


def test_a_rejected_identifier_names_its_record_and_field() -> None:
    where = Location(source="news.jsonl", line=3, record="e1", field="entities[0].wikidata")
    with pytest.raises(FactsError) as caught:
        check_wikidata_id("Q0x", where)
    error = caught.value
    assert error.location == where and error.status == 422 and error.exit_code == 2
    assert error.message == (
        "news.jsonl:3, record 'e1', field 'entities[0].wikidata': "
        "malformed Wikidata id 'Q0x': expected Q followed by digits"
    )
    assert error.to_dict()["rule"] == error.rule


@pytest.mark.parametrize(("code", "iso3"), [("US", "USA"), ("usa", "USA"), ("PS", "PSE")])
def test_a_known_iso_code_gives_its_state(code: str, iso3: str) -> None:
    assert check_iso_code(code).iso3 == iso3


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("XX", "unknown ISO 3166-1 code 'XX'"),
        ("UK", "unknown ISO 3166-1 code 'UK'"),
        ("XXX", "unknown ISO 3166-1 code 'XXX'"),
        ("U1", "malformed ISO 3166-1 code 'U1': expected two or three letters"),
        ("", "malformed ISO 3166-1 code '': expected two or three letters"),
        ("USAA", "malformed ISO 3166-1 code 'USAA': expected two or three letters"),
        ("US\n", "malformed ISO 3166-1 code 'US\\n': expected two or three letters"),
        ("PR", "ISO 3166-1 code 'PR' (Puerto Rico) is not of a UN member or observer state"),
        ("TWN", "ISO 3166-1 code 'TWN' (Taiwan, Province of China) is not of a UN member or"),
    ],
)
def test_an_unknown_iso_code_is_rejected_with_value_and_rule(code: str, rule: str) -> None:
    where = Location(record="e2", field="entities[1].iso")
    with pytest.raises(UnknownIsoCodeError) as caught:
        check_iso_code(code, where)
    assert caught.value.rule.startswith(rule)
    assert caught.value.location == where
