"""IRI minting: deterministic, IRI-safe, and merging what should be one node."""

from __future__ import annotations

from diplograph.loader.iris import IriMinter, slug

BASE = "https://w3id.org/diplograph/"
mint = IriMinter(BASE)


def test_slug_is_lower_case_ascii_with_hyphens() -> None:
    assert slug("Wang Yi") == "wang-yi"
    assert slug("  Café  Müller ") == "cafe-muller"
    assert slug("Israel's northern border") == "israel-s-northern-border"


def test_slug_of_text_without_letters_or_too_long_gets_a_stable_hash() -> None:
    assert slug("???") == slug("???")
    assert slug("???").startswith("x-")
    assert len(slug("word " * 100)) <= 80
    assert slug("word " * 100) != slug("word " * 101)


def test_an_entity_is_keyed_by_wikidata_id_when_known() -> None:
    assert mint.entity("State", "United States", "Q30") == f"{BASE}id/state/Q30"
    assert mint.entity("State", "USA", "Q30") == mint.entity("State", "United States", "Q30")


def test_an_entity_without_wikidata_id_is_keyed_by_kind_and_normalized_name() -> None:
    assert mint.entity("Person", "Antony Blinken", None) == f"{BASE}id/person/antony-blinken"
    assert mint.entity("Person", "ANTONY  BLINKEN", None) == mint.entity(
        "Person", "Antony Blinken", None
    )
    # a ministry and a government are both organizations: same name, same node
    assert mint.entity("ForeignMinistry", "X", None) == mint.entity("Organization", "X", None)


def test_the_same_event_from_two_documents_is_one_iri_whatever_the_order() -> None:
    a = [("initiator", f"{BASE}id/person/a"), ("recipient", f"{BASE}id/person/b")]
    assert mint.event("PhoneCall", a, ["2023-10-14"]) == mint.event(
        "PhoneCall", list(reversed(a)), ["2023-10-14"]
    )


def test_events_differing_in_type_participants_or_date_are_different() -> None:
    a = [("initiator", f"{BASE}id/person/a"), ("recipient", f"{BASE}id/person/b")]
    call = mint.event("PhoneCall", a, ["2023-10-14"])
    assert call != mint.event("Meeting", a, ["2023-10-14"])
    assert call != mint.event("PhoneCall", a, ["2023-10-15"])
    assert call != mint.event("PhoneCall", a[:1], ["2023-10-14"])
    assert call.startswith(f"{BASE}id/event/phonecall-2023-10-14-")


def test_an_undated_event_says_so_in_its_iri() -> None:
    assert "/id/event/attack-undated-" in mint.event("Attack", [], [])


def test_a_url_document_id_becomes_host_and_path() -> None:
    iri = mint.document("https://news.example/world/2023/10/14/story.html?x=1")
    assert iri == f"{BASE}id/doc/news-example-world-2023-10-14-story-html-x-1"


def test_minting_follows_the_configured_base() -> None:
    assert IriMinter("http://localhost:8000/").document("d") == "http://localhost:8000/id/doc/d"


def _evaluate(expression: str, bindings: str) -> str:
    """The value of the SPARQL ``expression`` with ``bindings`` (a VALUES row), by Oxigraph."""
    from pyoxigraph import NamedNode, QuerySolutions, Store

    result = Store().query(f"SELECT ?n WHERE {{ {bindings} BIND ({expression} AS ?n) }}")
    assert isinstance(result, QuerySolutions)
    node = next(iter(result))["n"]
    assert isinstance(node, NamedNode), node
    return node.value


def test_summary_nodes_are_minted_alike_in_python_and_in_sparql() -> None:
    """The summary upkeep mints count nodes in Python, the rebuild in SPARQL: same IRIs."""
    a, b = f"{BASE}id/person/antony-blinken", f"{BASE}id/person/wang-yi"
    pair = mint.interaction_count_sparql("STR(?a)", "STR(?b)")
    assert _evaluate(pair, f"VALUES (?a ?b) {{ (<{a}> <{b}>) }}") == mint.interaction_count(a, b)
    assert mint.interaction_count(a, b).startswith(mint.interaction_counts())
    kind = "https://w3id.org/diplograph/ns#Meeting"
    month = mint.events_by_month_sparql("?m", "STR(?t)")
    assert _evaluate(month, f'VALUES (?m ?t) {{ ("2023-10" <{kind}>) }}') == mint.events_by_month(
        "2023-10", kind
    )
    assert mint.events_by_month("2023-10", kind).startswith(mint.summary_nodes())
    event = f"{BASE}id/event/meeting-2023-10-14-0123456789ab"
    count = mint.corroboration_count_sparql("STR(?e)")
    assert _evaluate(count, f"VALUES ?e {{ <{event}> }}") == mint.corroboration_count(event)
    assert mint.corroboration_count(event).startswith(mint.summary_nodes() + "corroboration/")


def test_the_namespaces_of_data_iris() -> None:
    assert mint.ids() == f"{BASE}id/"
    assert mint.documents() == f"{BASE}id/doc/"
    assert mint.document("d").startswith(mint.documents())
    assert mint.summary_nodes() == f"{BASE}id/summary/"
