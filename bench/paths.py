"""Where the benchmarks read and write: the repository, ``bench/out/`` and the report."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Data, stores, dumps, logs, profiles and results (git-ignored).
OUT = ROOT / "bench" / "out"
QUERIES = ROOT / "bench" / "queries"
DOC = ROOT / "docs" / "benchmarks.md"
PLOT = ROOT / "docs" / "benchmarks-scaling.png"
