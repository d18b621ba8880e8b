"""The floor: ``pyoxigraph.Store.extend`` of the mapped quads (mapping untimed), no validation.

The store it writes is then the one every query engine reads: pyoxigraph in process with its
own (bag) union, diplograph once it has built its union, and the dump for the peers.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import Any

from bench.measure import load_line, log
from bench.steps import load_step


def bench_raw_insert(docs: Path, store: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Insert ``docs`` into a new store at ``store``, which is kept for the queries."""
    shutil.rmtree(store, ignore_errors=True)
    result = load_step("load-raw", docs, store, args, bounded=True)
    log(f"  {load_line(result)}")
    return result
