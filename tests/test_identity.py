"""One node per person, organization, place and post across documents (issue 12, "Entity
reconciliation"; docs/mapping.md, "Identity across documents").

Mentions that share a strong identifier are one node; a mention by name only joins the one
identified entity of that name, and stays its own node when there are two; which node a mention
is depends on the set of documents in the store, never on the order they came in, and
retracting a document undoes the joins it made.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyoxigraph import CanonicalizationAlgorithm, Dataset, Quad

from diplograph.loader.config import load_settings
from diplograph.loader.curation import Curation
from diplograph.loader.facts import parse_document
from diplograph.loader.identity import Identities, Mention, MentionIndex
from diplograph.loader.iris import IriMinter
from diplograph.loader.mentions import EventMention, Ref
from diplograph.loader.namespaces import DEFAULT_BASE_IRI
from diplograph.loader.pipeline import Loader, retract
from diplograph.loader.report import LoadReport
from diplograph.loader.store import Store
from diplograph.loader.store.embedded import EmbeddedStore

ID = DEFAULT_BASE_IRI + "id/"
SETTINGS = load_settings(store="memory")


def document(doc_id: str, *people: dict[str, Any]) -> dict[str, Any]:
    """A document in which each of ``people`` (entities without an ``id``) makes a statement."""
    entities = [{"id": f"e{i}", "type": "Person", **p} for i, p in enumerate(people)]
    return {
        "document": {"id": doc_id, "published": "2023-10-15"},
        "extraction": {"tool": "test", "version": "1", "time": "2023-10-15T08:00:00Z"},
        "entities": entities,
        "facts": [
            {
                "id": f"f{i}",
                "type": "Statement",
                "participants": [{"entity": e["id"], "role": "speaker"}],
                "time": {"start": "2023-10-14"},
            }
            for i, e in enumerate(entities)
        ],
    }


def load(store: Store, *docs: dict[str, Any]) -> LoadReport:
    records = [parse_document(d, source="test.jsonl", line=i) for i, d in enumerate(docs, 1)]
    report = Loader(store, SETTINGS).load(records)
    assert report.rejections == [], report.to_dict()
    return report


def speakers(store: Store, doc_id: str) -> set[str]:
    graph = IriMinter(DEFAULT_BASE_IRI).document(doc_id)
    result = store.query(f"SELECT ?p WHERE {{ GRAPH <{graph}> {{ ?s <{DIP_SPEAKER}> ?p }} }}")
    return {row["p"].value for row in result}  # type: ignore[union-attr]


DIP_SPEAKER = "https://w3id.org/diplograph/ns#speaker"


@pytest.fixture
def store() -> Iterator[Store]:
    memory = EmbeddedStore(None)
    yield memory
    memory.close()


# -- the rules -------------------------------------------------------------------------------


def test_a_name_given_without_an_id_joins_the_one_person_with_that_id(store: Store) -> None:
    load(store, document("by-name", {"name": "Ana Lind"}))
    assert speakers(store, "by-name") == {ID + "person/ana-lind"}
    report = load(store, document("with-id", {"name": "Ana Lind", "wikidata": "Q100"}))
    assert report.documents_remapped == 1
    assert speakers(store, "by-name") == speakers(store, "with-id") == {ID + "person/Q100"}


def test_retracting_the_document_with_the_id_gives_the_name_its_own_node_back(
    store: Store,
) -> None:
    load(store, document("by-name", {"name": "Ana Lind"}))
    load(store, document("with-id", {"name": "Ana Lind", "wikidata": "Q100"}))
    retract(store, SETTINGS, "with-id")
    assert speakers(store, "by-name") == {ID + "person/ana-lind"}
    leftover = store.query(f"ASK {{ <{ID}person/Q100> ?p ?o }}")
    assert not bool(leftover)


def test_a_name_two_identified_people_share_stays_a_node_of_its_own(store: Store) -> None:
    load(
        store,
        document("one", {"name": "Ana Lind", "wikidata": "Q100"}),
        document("two", {"name": "Ana Lind", "wikidata": "Q200"}),
        document("which", {"name": "Ana Lind"}),
    )
    assert speakers(store, "which") == {ID + "person/ana-lind"}
    assert speakers(store, "one") == {ID + "person/Q100"}
    assert speakers(store, "two") == {ID + "person/Q200"}


def test_an_alias_of_the_identified_person_is_enough_but_not_an_alias_of_the_name_only(
    store: Store,
) -> None:
    load(
        store,
        document("id", {"name": "Ana Lind", "aliases": ["Lind"], "wikidata": "Q100"}),
        document("short", {"name": "Lind"}),
        document("long", {"name": "Ana M. Lind", "aliases": ["Ana Lind"]}),
    )
    assert speakers(store, "short") == {ID + "person/Q100"}
    assert speakers(store, "long") == {ID + "person/ana-m-lind"}


def test_a_shared_dataset_code_joins_mentions_under_other_names(store: Store) -> None:
    load(
        store,
        document(
            "a", {"name": "Northern Brigade", "type": "Militia", "identifiers": {"acled": "7"}}
        ),
        document("b", {"name": "Liwa al-Shamal", "type": "Militia", "identifiers": {"acled": "7"}}),
    )
    assert speakers(store, "a") == speakers(store, "b") == {ID + "org/liwa-al-shamal"}


def test_two_organizations_of_one_name_and_different_codes_stay_two(store: Store) -> None:
    brigade = {"name": "Northern Brigade", "type": "Militia"}
    load(
        store,
        document("a", {**brigade, "identifiers": {"acled": "7"}}),
        document("b", {**brigade, "identifiers": {"acled": "8"}}),
        document("c", brigade),
    )
    assert speakers(store, "a") == {ID + "org/northern-brigade-acled-7"}
    assert speakers(store, "b") == {ID + "org/northern-brigade-acled-8"}
    assert speakers(store, "c") == {ID + "org/northern-brigade"}


def test_a_person_and_an_organization_of_one_name_are_not_joined(store: Store) -> None:
    load(
        store,
        document("p", {"name": "Jordan", "wikidata": "Q100"}),
        document("o", {"name": "Jordan", "type": "Organization"}),
    )
    assert speakers(store, "o") == {ID + "org/jordan"}


def test_identities_are_a_function_of_the_set_of_mentions() -> None:
    ana = Mention("person", ("ana-lind",))
    ana_id = Mention("person", ("ana-lind",), ("wikidata:Q100",))
    assert Identities([ana, ana_id]).key(ana) == "Q100"
    assert Identities([ana_id, ana]).key(ana) == "Q100"
    assert Identities([ana]).key(ana) == "ana-lind"
    assert Identities.alone().key(ana_id) == "Q100"


def test_a_report_whose_participant_moved_is_moved_between_identities_computed_afresh() -> None:
    # Its node keeps its own time key: only its group (its participants' nodes) tells.
    ana = Mention("person", ("ana-lind",))
    ana_id = Mention("person", ("ana-lind",), ("wikidata:Q100",))
    meeting = EventMention(
        "Meeting", (("party", Ref(mention=ana)),), None, ("2023-11-15", "", ""), "d"
    )
    before = Identities([ana], events=[meeting])
    after = Identities([ana, ana_id], events=[meeting])
    assert after.moved_events(before) == {meeting}
    assert after.moved_events(Identities([ana, ana_id], events=[meeting])) == set()


def statement(doc_id: str, when: str, **person: Any) -> dict[str, Any]:
    """A document in which one person (by ``person``) makes a statement at ``when``."""
    doc = document(doc_id, person)
    doc["facts"][0]["time"] = {"start": when}
    return doc


def test_a_vague_report_whose_speaker_joins_an_identified_person_joins_that_persons_report(
    store: Store,
) -> None:
    # "Ana Lind" said something in October; then a document names her with her Wikidata id,
    # and dates a statement of hers to the 14th. The name joins the identified person, so the
    # first report moves to her group, where the vague report joins the precise one: the same
    # graph as the two documents loaded at once.
    vague = statement("vague", "2023-10", name="Ana Lind")
    precise = statement("precise", "2023-10-14", name="Ana Lind", wikidata="Q100")
    load(store, vague)
    load(store, precise)
    assert _quads(store) == _loaded_at_once([vague, precise])
    events = {
        str(row["e"].value)
        for row in store.query(
            "SELECT DISTINCT ?e WHERE { ?e a <https://w3id.org/diplograph/ns#Statement> }"
        )
    }
    assert len(events) == 1


# -- any order, and retraction ---------------------------------------------------------------

_DOCS = [
    document("o-a", {"name": "Ana Lind"}),
    document("o-b", {"name": "Ana Lind", "identifiers": {"acled": "1"}}),
    document("o-c", {"name": "A. Lind", "identifiers": {"acled": "1"}, "wikidata": "Q100"}),
    document("o-d", {"name": "Ana Lind", "wikidata": "Q200"}, {"name": "Bo Berg"}),
    document("o-e", {"name": "Bo Berg", "wikidata": "Q300", "aliases": ["Berg"]}),
    document("o-f", {"name": "Berg"}, {"name": "Ana Lind"}),
]


def _quads(store: Store) -> set[Quad]:
    dataset = Dataset(store.quads())
    dataset.canonicalize(CanonicalizationAlgorithm.UNSTABLE)  # the ontology's blank nodes
    return set(dataset)


def _loaded_at_once(docs: list[dict[str, Any]]) -> set[Quad]:
    memory = EmbeddedStore(None)
    try:
        if docs:
            load(memory, *docs)
        return _quads(memory)
    finally:
        memory.close()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order=st.permutations(range(len(_DOCS))), cut=st.integers(2, len(_DOCS)))
def test_loading_documents_one_by_one_in_any_order_gives_one_graph(
    order: list[int], cut: int
) -> None:
    chosen = [_DOCS[i] for i in order[:cut]]
    memory = EmbeddedStore(None)
    try:
        for doc in chosen:
            load(memory, doc)
        assert _quads(memory) == _loaded_at_once(sorted(chosen, key=lambda d: d["document"]["id"]))
    finally:
        memory.close()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    order=st.permutations(range(len(_DOCS))),
    gone=st.sets(st.integers(0, len(_DOCS) - 1), min_size=1, max_size=3),
)
def test_retracting_documents_gives_the_graph_of_the_others(
    order: list[int], gone: set[int]
) -> None:
    memory = EmbeddedStore(None)
    try:
        for i in order:
            load(memory, _DOCS[i])
        for i in sorted(gone):
            retract(memory, SETTINGS, _DOCS[i]["document"]["id"])
        kept = [_DOCS[i] for i in range(len(_DOCS)) if i not in gone]
        assert _quads(memory) == _loaded_at_once(kept)
    finally:
        memory.close()


# -- computing again only what a change links to ---------------------------------------------

_NAMES = ["ana-lind", "lind", "bo-berg", "berg"]
_IDS = ["wikidata:Q100", "wikidata:Q200", "acled:1", "acled:2"]
_MENTIONS = st.builds(
    Mention,
    kind=st.sampled_from(["person", "org"]),
    names=st.lists(st.sampled_from(_NAMES), min_size=1, max_size=2, unique=True).map(tuple),
    ids=st.lists(st.sampled_from(_IDS), max_size=2, unique=True).map(lambda i: tuple(sorted(i))),
)
_CURATIONS = st.lists(
    st.builds(
        lambda verdict, a, b: Curation.of(verdict, ID + a, ID + b),
        st.sampled_from(["same", "different"]),
        st.sampled_from(["person/ana-lind", "person/Q100", "person/lind", "org/acled-1"]),
        st.sampled_from(["person/Q200", "person/berg", "org/bo-berg"]),
    ),
    max_size=2,
)


@settings(max_examples=300, deadline=None)
@given(
    start=st.sets(_MENTIONS, max_size=8),
    come=st.sets(_MENTIONS, max_size=4),
    go=st.sets(st.integers(0, 7), max_size=3),
    curations=_CURATIONS,
)
def test_a_change_computed_on_its_component_equals_computing_everything(
    start: set[Mention], come: set[Mention], go: set[int], curations: list[Curation]
) -> None:
    minter = IriMinter(DEFAULT_BASE_IRI)
    before = Identities(start, curations, minter=minter)
    ordered = sorted(start)
    gone = {ordered[i] for i in go if i < len(ordered)} - come
    added = come - start
    after_set = (start - gone) | come
    component = MentionIndex(start).component(
        added | gone,
        added=MentionIndex(added),
        removed=gone,
        curations=before.curations(),
        prefix=before.prefix(),
    )
    incremental = before.updated(component, gone)
    everything = Identities(after_set, curations, minter=minter)
    assert {m: incremental.key(m) for m in after_set} == dict(everything.keys())
    assert incremental.moved(before) == {
        m for m in after_set | start if everything.key(m) != before.key(m)
    }


# -- the claims of a store are read once per writer ------------------------------------------


def test_the_store_claims_are_kept_between_loads(store: Store) -> None:
    from diplograph.loader.ontology import superclass_closure
    from diplograph.loader.reconcile import Reconciler

    minter, closure = IriMinter(DEFAULT_BASE_IRI), superclass_closure()
    load(store, document("a", {"name": "Ana Lind"}))
    kept = Reconciler.of(store, minter, closure)
    load(store, document("b", {"name": "Ana Lind", "wikidata": "Q100"}))
    assert Reconciler.of(store, minter, closure) is kept  # the load kept it in step


def test_the_store_claims_are_kept_after_a_write_of_another_graph(store: Store) -> None:
    from diplograph.loader.ontology import superclass_closure
    from diplograph.loader.reconcile import Reconciler

    minter, closure = IriMinter(DEFAULT_BASE_IRI), superclass_closure()
    load(store, document("a", {"name": "Ana Lind"}))
    kept = Reconciler.of(store, minter, closure)
    # as the summary's mark before every load through the API
    store.update("INSERT DATA { GRAPH <urn:x:other> { <urn:x:s> <urn:x:p> <urn:x:o> } }")
    assert Reconciler.of(store, minter, closure) is kept


def test_the_store_claims_are_read_again_after_a_write_of_a_document(store: Store) -> None:
    from diplograph.loader.ontology import superclass_closure
    from diplograph.loader.reconcile import Reconciler

    minter, closure = IriMinter(DEFAULT_BASE_IRI), superclass_closure()
    load(store, document("a", {"name": "Ana Lind"}))
    load(store, document("b", {"name": "Ana Lind", "wikidata": "Q100"}))
    kept = Reconciler.of(store, minter, closure)
    store.update(f"DROP GRAPH <{minter.document('a')}>")
    assert Reconciler.of(store, minter, closure) is not kept


def test_the_store_claims_are_read_again_after_a_curation_written_around_the_loader(
    store: Store,
) -> None:
    from diplograph.loader.curation import SAME, Curation, change
    from diplograph.loader.ontology import superclass_closure
    from diplograph.loader.reconcile import Reconciler

    minter, closure = IriMinter(DEFAULT_BASE_IRI), superclass_closure()
    load(store, document("a", {"name": "Ana Lind"}))
    load(store, document("b", {"name": "Bo Berg"}))
    kept = Reconciler.of(store, minter, closure)
    same = Curation.of(SAME, ID + "person/ana-lind", ID + "person/bo-berg")
    store.commit([change(minter.curation_graph(), [same])])
    assert Reconciler.of(store, minter, closure) is not kept


def test_a_write_around_the_loader_is_seen_by_the_next_load(store: Store) -> None:
    load(store, document("with-id", {"name": "Ana Lind", "wikidata": "Q100"}))
    graph = IriMinter(DEFAULT_BASE_IRI).document("with-id")
    store.update(f"DROP GRAPH <{graph}>")  # the Graph Store Protocol or SPARQL Update
    load(store, document("by-name", {"name": "Ana Lind"}))
    assert speakers(store, "by-name") == {ID + "person/ana-lind"}


def test_claims_read_from_kept_facts_equal_those_of_the_document() -> None:
    import json

    from diplograph.loader.facts import FactsDocument, read_path
    from diplograph.loader.mentions import claims, kept_claims
    from diplograph.loader.reconcile import facts_record
    from tests.conftest import DATA, ROOT

    paths = [ROOT / "examples" / "story.json", *sorted((DATA / "conflicts").glob("*.json"))]
    paths += sorted((DATA / "mapping").glob("*/facts.json"))
    documents = [r.document for p in paths for r in read_path(p) if r.document is not None]
    documents += [
        parse_document(
            document("x", {"name": "Ana", "identifiers": {"acled": "1"}}), source="t", line=1
        ).document
    ]
    assert len(documents) > 15
    for doc in documents:
        assert doc is not None
        kept = facts_record(IriMinter(DEFAULT_BASE_IRI).document(doc.document.id), doc)
        assert kept_claims(json.loads(kept.object.value)) == claims(doc), doc.document.id
        again = FactsDocument.model_validate_json(kept.object.value)
        assert again == doc, doc.document.id


def test_a_dry_run_uses_the_writers_claims_and_leaves_them_as_they_were(store: Store) -> None:
    from diplograph.loader.ontology import superclass_closure
    from diplograph.loader.reconcile import Reconciler

    minter, closure = IriMinter(DEFAULT_BASE_IRI), superclass_closure()
    load(store, document("a", {"name": "Ana Lind"}))
    kept = Reconciler.of(store, minter, closure)
    loader = Loader(store, SETTINGS)
    doc = document("b", {"name": "Ana Lind", "wikidata": "Q100"})
    record = parse_document(doc, source="t", line=1)
    report = loader.load([record], dry_run=True)
    assert report.documents_remapped == 1  # what the load would do
    assert loader.reconciler is kept
    assert speakers(store, "a") == {ID + "person/ana-lind"}
    # the dry run's change is forgotten: what is held still holds after a write of another graph
    store.update("INSERT DATA { GRAPH <urn:x:other> { <urn:x:s> <urn:x:p> <urn:x:o> } }")
    assert Reconciler.of(store, minter, closure) is kept
    load(store, doc)
    assert speakers(store, "a") == {ID + "person/Q100"}
