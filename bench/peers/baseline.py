"""What a user would otherwise assemble: map every document, validate the whole graph with
pySHACL once, then insert (``bench.workers baseline``)."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import Any

from bench.measure import log
from bench.paths import OUT
from bench.steps import load_step


def bench_baseline(docs: Path, tag: str, args: argparse.Namespace) -> dict[str, Any]:
    """The baseline over ``docs`` into a store of its own, removed afterwards."""
    store = OUT / "stores" / f"baseline-{tag}"
    shutil.rmtree(store, ignore_errors=True)
    result = load_step("baseline", docs, store, args)
    shutil.rmtree(store, ignore_errors=True)
    log(
        "  "
        + (
            f"{result['total_s']:.1f} s (validate {result['validate_s']:.1f} s)"
            if result["ok"]
            else result["error"]
        )
    )
    return result
