"""The benchmark report's verdicts (bench/report.py), on hand-made results."""

from __future__ import annotations

from typing import Any

from bench.report.verdicts import slower_questions

QUERIES = ["q04_who_talks_to_whom", "q04_who_talks_to_whom_summary", "q09_ask"]


def _entry(http: dict[str, float], virtuoso: dict[str, float]) -> dict[str, Any]:
    def block(times: dict[str, float]) -> dict[str, Any]:
        return {"ok": True, "queries": {q: {"ok": True, "median_ms": t} for q, t in times.items()}}

    return {"http": block(http), "virtuoso": block(virtuoso)}


def test_a_question_is_answered_by_each_sides_faster_form() -> None:
    # diplograph's raw q04 is slow but its summary form beats Virtuoso's faster form.
    entry = _entry(
        {"q04_who_talks_to_whom": 900.0, "q04_who_talks_to_whom_summary": 2.0, "q09_ask": 1.0},
        {"q04_who_talks_to_whom": 5000.0, "q04_who_talks_to_whom_summary": 3.0, "q09_ask": 2.0},
    )
    assert slower_questions(QUERIES, entry) == []


def test_a_question_is_slower_when_virtuosos_faster_form_wins() -> None:
    entry = _entry(
        {"q04_who_talks_to_whom": 900.0, "q04_who_talks_to_whom_summary": 4.0, "q09_ask": 1.0},
        {"q04_who_talks_to_whom": 5000.0, "q04_who_talks_to_whom_summary": 3.0, "q09_ask": 2.0},
    )
    assert slower_questions(QUERIES, entry) == ["q04_who_talks_to_whom"]


def test_no_verdict_without_virtuoso_measurements() -> None:
    assert slower_questions(QUERIES, _entry({"q09_ask": 1.0}, {})) is None


def test_every_form_of_a_question_counts_under_its_full_forms_name() -> None:
    forms = ["q05_events", "q05_events_summary", "q05_events_summary_scans"]
    entry = _entry(
        {"q05_events": 600.0, "q05_events_summary": 40.0, "q05_events_summary_scans": 30.0},
        {"q05_events": 9000.0, "q05_events_summary": 35.0},
    )
    assert slower_questions(forms, entry) == []
    entry["http"]["queries"]["q05_events_summary_scans"]["median_ms"] = 36.0
    assert slower_questions(forms, entry) == ["q05_events"]
