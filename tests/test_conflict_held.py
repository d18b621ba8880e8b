"""The events a server holds for the same-event checks of its loads (loader/conflicts/held.py):
the findings are the store's, and what is held follows the loader's commits and lets go after
any other write."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from diplograph.graph import Graph, open_graph
from diplograph.loader.conflicts import (
    HeldEvents,
    candidate_same_events,
    events_unchanged_since,
    held_events,
    hold_events,
)
from diplograph.loader.conflicts import held as held_module
from diplograph.loader.conflicts.events import read_times
from diplograph.loader.conflicts.windows import kept_bound
from diplograph.loader.namespaces import DIP
from diplograph.loader.summary import Summary
from tests.conftest import WRITE_AUTH, app_client
from tests.test_conflicts import meeting_report, random_times


def event_nodes(graph: Graph) -> list[str]:
    rows = graph.store.query(f"SELECT DISTINCT ?e WHERE {{ ?e a <{DIP}Event> }}")
    return sorted(row[0].value for row in rows)  # type: ignore[union-attr]


def assert_held_findings_are_the_stores(graph: Graph) -> None:
    """For each event node, the check from the held events finds what the store's finds."""
    held = held_events(graph.store)
    assert held is not None
    for node in event_nodes(graph):
        from_store = [c.to_dict() for c in candidate_same_events(graph.store, [node])]
        assert [c.to_dict() for c in candidate_same_events(graph.store, [node], held)] == (
            from_store
        ), node


def assert_held_is_what_the_store_holds(graph: Graph) -> None:
    """The events held, with their times, are those a fresh read of the store gives."""
    held = held_events(graph.store)
    assert held is not None and len(held) > 0
    fresh = HeldEvents(graph.store)
    always = [(dt.datetime.min, dt.datetime.max)]
    everything = dict.fromkeys(held.participants(), always)
    rows = list(held.within(everything))
    assert rows == list(fresh.within(everything))
    events = {row["e"] for row in rows}
    assert held.times(events) == fresh.times(events)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_held_events_give_each_node_the_findings_the_store_gives(seed: int) -> None:
    with open_graph() as graph:
        hold_events(graph.store)
        graph.load(
            [meeting_report(f"r{i}", t) for i, t in enumerate(random_times(seed, 14, years=True))]
        )
        assert_held_findings_are_the_stores(graph)
        held = held_events(graph.store)
        assert held is not None and len(held) > 0


def test_the_held_events_follow_the_loaders_commits_without_reading_again() -> None:
    with open_graph() as graph:
        hold_events(graph.store)
        # A vague report that fits two precise ones: a finding of three nodes.
        graph.load(
            [
                meeting_report("fifteenth", {"start": "2024-05-15"}),
                meeting_report("twentieth", {"start": "2024-05-20"}),
                meeting_report("vague", {"earliest": "2024-05-01", "latest": "2024-05-31"}),
                *(meeting_report(f"r{i}", t) for i, t in enumerate(random_times(4, 8, years=True))),
            ]
        )
        held = held_events(graph.store)
        assert held is not None and len(held) > 0
        reads = held.reads
        # A new report that joins a run, and a document stated again at another time (its
        # old node goes, and the vague report is the fifteenth's): the next load's check
        # finds them without reading its participants again.
        graph.load(
            [
                meeting_report("joining", {"start": "2023-11"}),
                meeting_report("twentieth", {"start": "2024-06-20"}),
            ]
        )
        assert held_events(graph.store) is held
        assert held.reads == reads
        assert_held_is_what_the_store_holds(graph)
        assert_held_findings_are_the_stores(graph)


def test_an_event_is_held_at_the_time_the_store_gives_it_whatever_the_window_read() -> None:
    # The node of the 15th has "2024-05" too (the vague report joined it). The read for a
    # meeting in November reaches back to late May: the test of the window lets "2024-05"
    # through, not the 15th, yet the node is held at the 15th, as the store's read gives it.
    with open_graph() as graph:
        graph.load(
            [
                meeting_report("fifteenth", {"start": "2024-05-15"}),
                meeting_report("may", {"start": "2024-05"}),
            ]
        )
        hold_events(graph.store)
        graph.load([meeting_report("november", {"start": "2024-11-20"})])  # its check reads
        held = held_events(graph.store)
        assert held is not None
        nodes = event_nodes(graph)
        kept = held.times(nodes)
        assert kept == read_times(graph.store, sorted(kept), whole=False)
        assert ("2024-05-15", None, None) in kept.values()


def test_a_write_the_loader_did_not_make_lets_go_of_the_held_events() -> None:
    with open_graph() as graph:
        hold_events(graph.store)
        graph.load([meeting_report("first", {"start": "2023-11-15"})])
        held = held_events(graph.store)
        assert held is not None and len(held) > 0
        [event] = event_nodes(graph)
        participants = [
            row[0].value  # type: ignore[union-attr]
            for row in graph.store.query(
                f"SELECT ?p WHERE {{ <{event}> <{DIP}hasParticipant> ?p }}"
            )
        ]
        types = [
            row[0].value  # type: ignore[union-attr]
            for row in graph.store.query(f"SELECT ?t WHERE {{ <{event}> a ?t }}")
        ]
        by_hand = "https://example.org/by-hand/meeting"
        triples = " ".join(
            [
                f"<{by_hand}> a {', '.join(f'<{t}>' for t in types)} ;",
                f'<{DIP}startDate> "2023-11"^^<http://www.w3.org/2001/XMLSchema#gYearMonth> ;',
                " ; ".join(f"<{DIP}hasParticipant> <{p}>" for p in participants),
                ".",
            ]
        )
        written = graph.store.own_graph_template(by_hand, triples)
        graph.store.commit([], after=[f"INSERT DATA {{ {written} }}"])
        assert held_events(graph.store) is held
        assert len(held) == 0
        found = candidate_same_events(graph.store, [event], held)
        assert [c.to_dict() for c in found] == [
            c.to_dict() for c in candidate_same_events(graph.store, [event])
        ]
        assert {v.value for c in found for v in c.values} == {event, by_hand}


def test_the_summarys_mark_before_a_load_keeps_the_held_events() -> None:
    with open_graph() as graph:
        hold_events(graph.store)
        graph.load([meeting_report("first", {"start": "2023-11-15"})])
        since = graph.store.generation
        Summary(graph.store, graph.settings.base_iri).mark_stale()
        events_unchanged_since(graph.store, since)
        held = held_events(graph.store)
        assert held is not None and len(held) > 0


def holding_recent(graph: Graph, back: dt.timedelta | None = None) -> HeldEvents:
    """The events held for the store of ``graph``, its recent ones read (``back`` that far)."""
    hold_events(graph.store)
    held = held_events(graph.store)
    assert held is not None
    if back is None:
        held.hold_recent()
    else:
        held.hold_recent(back)
    return held


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_recent_events_held_give_each_node_the_findings_the_store_gives(seed: int) -> None:
    # Thirty days back from the latest start: some events are held from the start, the
    # others' windows are read as the checks need them.
    with open_graph() as graph:
        graph.load(
            [meeting_report(f"r{i}", t) for i, t in enumerate(random_times(seed, 14, years=True))]
        )
        held = holding_recent(graph, dt.timedelta(days=30))
        assert len(held) > 0
        assert_held_findings_are_the_stores(graph)


def test_a_load_of_recent_news_reads_nothing_once_the_recent_events_are_held() -> None:
    with open_graph() as graph:
        graph.load([meeting_report("fifteenth", {"start": "2024-05-15"})])
        held = holding_recent(graph)
        graph.load([meeting_report("vague", {"earliest": "2024-05-01", "latest": "2024-05-31"})])
        graph.load([meeting_report("twentieth", {"start": "2024-05-20"})])
        assert held.reads == 0
        assert_held_is_what_the_store_holds(graph)
        assert_held_findings_are_the_stores(graph)
        # Older news: its windows are read from the store, as before.
        graph.load([meeting_report("old", {"start": "2020-03-02"})])
        assert held.reads > 0
        assert_held_findings_are_the_stores(graph)


def test_the_events_of_a_participant_new_to_the_store_are_held_from_its_first_load() -> None:
    # Cy is in no event when the recent events are read: the load that brings Cy's first
    # meetings holds them, and the next load's check finds them without reading: the vague
    # report fits both, a candidate of three nodes.
    def with_cy(name: str, time: dict[str, str]) -> dict[str, Any]:
        report = meeting_report(name, time)
        report["entities"][1] = {"id": "bo", "type": "Person", "name": "Cy Envoy"}
        return report

    with open_graph() as graph:
        graph.load([meeting_report("fifteenth", {"start": "2024-05-15"})])
        held = holding_recent(graph)
        graph.load(
            [
                with_cy("cy-sixteenth", {"start": "2024-05-16"}),
                with_cy("cy-twentieth", {"start": "2024-05-20"}),
            ]
        )
        report = graph.load(
            [with_cy("cy-vague", {"earliest": "2024-05-01", "latest": "2024-05-31"})]
        )
        assert [c.kind for c in report.conflicts] == ["candidate-same-event"]
        assert held.reads == 0
        assert_held_is_what_the_store_holds(graph)
        assert_held_findings_are_the_stores(graph)


def test_the_recent_events_are_held_again_after_a_write_the_loader_did_not_make() -> None:
    with open_graph() as graph:
        graph.load([meeting_report("fifteenth", {"start": "2024-05-15"})])
        held = holding_recent(graph)
        # A start that is no time, written around the loader, moves nothing.
        other = "https://example.org/by-hand/other"
        written = graph.store.own_graph_template(other, f'<{other}> <{DIP}startDate> "soon" .')
        graph.store.commit([], after=[f"INSERT DATA {{ {written} }}"])
        assert held_events(graph.store) is held
        assert len(held) > 0
        graph.load([meeting_report("twentieth", {"start": "2024-05-20"})])
        assert held.reads == 0
        assert_held_findings_are_the_stores(graph)


def test_holding_the_recent_events_of_a_store_without_dated_events_holds_nothing() -> None:
    with open_graph() as graph:
        graph.load([meeting_report("undated", None)])
        held = holding_recent(graph)
        assert len(held) == 0
        graph.load([meeting_report("dated", {"start": "2024-05-20"})])
        assert held.reads > 0


def test_a_server_that_takes_loads_holds_their_events_between_requests() -> None:
    with open_graph() as graph, app_client(graph.store) as client:
        held = held_events(graph.store)
        assert held is not None
        headers = {"Content-Type": "application/json", **WRITE_AUTH}
        for name, day in [("a", "2023-11-15"), ("b", "2023-11-16")]:
            body = json.dumps(meeting_report(name, {"start": day}))
            assert client.post("/facts", content=body, headers=headers).status_code == 200
            assert len(held) > 0
            if name == "a":
                reads = held.reads
        assert held.reads == reads


def test_a_server_without_writes_holds_nothing() -> None:
    with open_graph() as graph, app_client(graph.store, write_token=None):
        assert held_events(graph.store) is None


def test_a_server_told_not_to_hold_events_checks_its_loads_against_the_store() -> None:
    reports = [
        meeting_report("fifteenth", {"start": "2023-11-15"}),
        meeting_report("twentieth", {"start": "2023-11-20"}),
        meeting_report("vague", {"earliest": "2023-11-01", "latest": "2023-11-30"}),
    ]
    with open_graph() as graph, app_client(graph.store, hold_events=False) as client:
        headers = {"Content-Type": "application/json", **WRITE_AUTH}
        for report in reports:
            response = client.post("/facts", content=json.dumps(report), headers=headers)
            assert response.status_code == 200
            assert held_events(graph.store) is None
        # The vague report fits both meetings: a candidate the check found in the store.
        kinds = [c["kind"] for c in response.json()["conflicts"]]
        assert kinds == ["candidate-same-event"], response.json()["conflicts"]


@pytest.mark.parametrize(
    ("index", "values", "kept"),
    [
        (0, ["2023", "2023-05-10"], "2023-05-10"),
        (0, ["2023-05-12", "2023-05-10"], "2023-05-10"),
        (1, ["2023-05", "2023-05-10"], "2023-05-10"),
        (1, ["2023-06-01", "2023-05-10"], "2023-06-01"),
        (2, ["2023-05", "2023-05-10"], "2023-05-10"),
        (2, ["2023-06-01", "2023-05-10T12:00:00Z"], "2023-05-10T12:00:00Z"),
    ],
    ids=[
        "start-precise",
        "start-least",
        "earliest-later",
        "earliest-later-day",
        "latest-earlier",
        "latest-instant",
    ],
)
def test_of_several_values_of_a_bound_the_check_keeps_those_every_document_allows(
    index: int, values: list[str], kept: str
) -> None:
    for ordered in (values, values[::-1]):
        held: str | None = None
        for value in ordered:
            held = kept_bound(index, held, value)
        assert held == kept


def test_a_read_that_fails_leaves_its_windows_to_be_read_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with open_graph() as graph:
        graph.load(
            [
                meeting_report("fifteenth", {"start": "2023-11-15"}),
                meeting_report("twentieth", {"start": "2023-11-20"}),
                meeting_report("vague", {"earliest": "2023-11-01", "latest": "2023-11-30"}),
            ]
        )
        hold_events(graph.store)
        held = held_events(graph.store)
        assert held is not None
        nodes = event_nodes(graph)
        real = held_module.rows

        def failing(store: Any, sparql: str) -> Any:
            if "?all_" in sparql:
                raise RuntimeError("the store failed")
            return real(store, sparql)

        monkeypatch.setattr(held_module, "rows", failing)
        with pytest.raises(RuntimeError):
            candidate_same_events(graph.store, nodes, held)
        monkeypatch.undo()
        found = [c.to_dict() for c in candidate_same_events(graph.store, nodes, held)]
        assert found == [c.to_dict() for c in candidate_same_events(graph.store, nodes)]
        assert len(found) == 1
