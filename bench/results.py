"""The results of a run, ``bench/out/results.json``: written after every step, read to resume."""

from __future__ import annotations

import json
from typing import Any

from bench.paths import OUT


def write_results(results: dict[str, Any]) -> None:
    """Save ``results`` to ``bench/out/results.json`` (so an interrupted run can resume)."""
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=1))


def finished_sizes(results: dict[str, Any]) -> dict[str, Any]:
    """The sizes of ``results`` that a resumed run keeps: done, or measured up to the probe."""
    return {
        tag: entry
        for tag, entry in results["sizes"].items()
        if entry.get("done") or "probe_full" in entry
    }


def timed_out_before(results: dict[str, Any], n: int, target: str) -> dict[str, str]:
    """Queries that timed out for ``target`` at a smaller size: not worth waiting for again."""
    out: dict[str, str] = {}
    for tag, entry in results["sizes"].items():
        if entry["docs"] >= n:
            continue
        block = entry.get(target)
        if not isinstance(block, dict):
            continue
        per_query = block if target.startswith("inprocess") else block.get("queries", {})
        for name, r in per_query.items():
            if isinstance(r, dict) and "timeout" in str(r.get("error", "")).lower():
                out.setdefault(name, f"skipped: timed out at {tag}")
    return out
