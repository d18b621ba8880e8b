"""Reading ``results.json`` and formatting table cells, for every section of the report."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeGuard

Result = dict[str, Any]
#: Appends one line (or block) to the report.
Add = Callable[[str], None]


def is_ok(r: Any) -> TypeGuard[Result]:
    """Whether ``r`` is a step's result that succeeded."""
    return isinstance(r, dict) and bool(r.get("ok"))


def num(value: float | None, digits: int = 0) -> str:
    """A number with thousands separators, ``—`` when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if digits == 0:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def ms_cell(value: float | None) -> str:
    """Milliseconds with as many decimals as are meaningful at that size."""
    if value is None:
        return "—"
    if value < 10:
        return f"{value:.2f}"
    if value < 100:
        return f"{value:.1f}"
    return f"{value:,.0f}"


def ratio_cell(value: float | None) -> str:
    """A ratio as ``1.23×``."""
    return "—" if value is None else f"{value:.2f}×"


def verdict(met: bool | None) -> str:
    """A goal's verdict: met, not met, not measured."""
    return {True: "met", False: "**not met**", None: "not measured"}[met]


def other_load(r: Any) -> str:
    """Cores busy with other processes during a step (machine busy minus our worker)."""
    if not is_ok(r) or "busy_cores" not in r:
        return "—"
    return f"{max(r['busy_cores'] - r['own_cores'], 0.0):.1f}"


def rate(r: Result, count_key: str, seconds_key: str) -> float | None:
    """``count_key`` per second of ``seconds_key`` in a step's result."""
    if not is_ok(r) or not r.get(seconds_key):
        return None
    return float(r[count_key]) / float(r[seconds_key])


def sizes_of(results: Result) -> list[tuple[str, Result]]:
    """The measured sizes (tag, entry), smallest first."""
    return sorted(results["sizes"].items(), key=lambda kv: kv[1]["docs"])


def e2e_docs(r: Result) -> float | None:
    """Documents loaded per second, end to end."""
    return rate(r, "loaded", "total_s")


def raw_docs(r: Result) -> float | None:
    """Documents per second of the raw insert (insert time only)."""
    return rate(r, "docs", "insert_s")


def load_ratio(entry: Result) -> float | None:
    """diplograph's triples/s over the raw insert's quads/s."""
    e2e, raw = entry.get("diplograph", {}), entry.get("raw", {})
    a, b = rate(e2e, "triples", "total_s"), rate(raw, "quads", "insert_s")
    return a / b if a and b else None


def probe_ratio(entry: Result) -> float | None:
    """Time of the probe into the full store over its time into an empty one."""
    empty, full = entry.get("probe_empty", {}), entry.get("probe_full", {})
    if is_ok(empty) and is_ok(full) and empty.get("total_s"):
        return float(full["total_s"]) / float(empty["total_s"])
    return None


def query_result(entry: Result, target: str, query: str) -> Result | None:
    """One query's result on one engine; in-process blocks hold the queries directly."""
    block = entry.get(target)
    if not target.startswith("inprocess"):
        block = block.get("queries", {}) if is_ok(block) else {}
    r: Result | None = (block or {}).get(query)
    return r


def median_ms(r: Any) -> float | None:
    """A query result's median ms, None when it did not run or failed."""
    return float(r["median_ms"]) if is_ok(r) else None


def query_median(entry: Result, target: str, query: str) -> float | None:
    """A query's median ms on one engine, None when it did not run or failed."""
    return median_ms(query_result(entry, target, query))


def query_rows(entry: Result, target: str, query: str) -> int | None:
    """A query's row count on one engine, None when it did not run or failed."""
    r = query_result(entry, target, query)
    return int(r["rows"]) if is_ok(r) else None


def failure_cell(entry: Result, key: str, query: str) -> str:
    """Why a query has no time: timeout, skipped, error, or ``—`` when not run."""
    r = query_result(entry, key, query)
    if not r:
        return "—"
    error = str(r.get("error", ""))
    if "timeout" in error.lower() or "timed out" in error.lower():
        return "timeout"
    if error == "skipped":
        return "skipped"
    return "error"


def remote_block(entry: Result) -> Result | None:
    """The remote-store measurements inside Virtuoso's, if any."""
    virtuoso = entry.get("virtuoso")
    if not is_ok(virtuoso) or not isinstance(virtuoso.get("remote"), dict):
        return None
    remote: Result = virtuoso["remote"]
    return remote


def at_clients(block: Any, clients: int) -> Result | None:
    """An endpoint's wrk result at ``clients`` connections."""
    if not is_ok(block):
        return None
    for r in block.get("concurrency", []):
        if is_ok(r) and r.get("clients") == clients:
            return dict(r)
    return None
