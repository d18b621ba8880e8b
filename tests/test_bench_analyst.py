"""The analyst questions' table (bench/analyst.py), on hand-made results."""

from __future__ import annotations

from typing import Any

from bench.analyst import best, questions, table

NAMES = ["q04_who_talks_to_whom", "q04_who_talks_to_whom_summary", "q10_corroborated_events"]


def _block(times: dict[str, float | None]) -> dict[str, Any]:
    return {
        q: {"ok": True, "median_ms": t} if t is not None else {"ok": False, "error": "skipped"}
        for q, t in times.items()
    }


def test_the_best_form_is_the_fastest_measured_one() -> None:
    results = _block({"q04_who_talks_to_whom": 900.0, "q04_who_talks_to_whom_summary": 2.0})
    assert best(results, NAMES[:2]) == ("q04_who_talks_to_whom_summary", 2.0)
    assert best(_block({"q04_who_talks_to_whom": None}), NAMES[:1]) is None


def test_each_question_is_judged_by_both_sides_best_forms_against_the_goal() -> None:
    entry = {
        "inprocess": _block(
            {
                "q04_who_talks_to_whom": 900.0,
                "q04_who_talks_to_whom_summary": 0.5,
                "q10_corroborated_events": 400.0,
            }
        ),
        "http": {
            "queries": _block(
                {
                    "q04_who_talks_to_whom": 950.0,
                    "q04_who_talks_to_whom_summary": 2.9,
                    "q10_corroborated_events": 420.0,
                }
            )
        },
        # Virtuoso was not asked the full q04.
        "virtuoso": {
            "queries": _block(
                {
                    "q04_who_talks_to_whom": None,
                    "q04_who_talks_to_whom_summary": 2.0,
                    "q10_corroborated_events": 200.0,
                }
            )
        },
    }
    lines = table(entry, NAMES).splitlines()
    q04 = next(line for line in lines if "`q04_who_talks_to_whom`" in line)
    q10 = next(line for line in lines if "`q10_corroborated_events`" in line)
    assert "0.50 (summary)" in q04 and "1.45×" in q04 and q04.endswith("| yes |")
    assert "2.10×" in q10 and q10.endswith("| **no** |")


def test_the_forms_of_a_question_share_its_number_and_the_full_form_names_it() -> None:
    names = ["q03_range", "q03_range_scans", "q05_month", "q05_month_summary", "q09_ask"]
    assert questions(names) == {
        "q03_range": ["q03_range", "q03_range_scans"],
        "q05_month": ["q05_month", "q05_month_summary"],
        "q09_ask": ["q09_ask"],
    }
