"""What the runs read: generated documents (cached in ``bench/out/data/``) and the queries."""

from __future__ import annotations

import re
from pathlib import Path

from bench.generate import write_jsonl
from bench.measure import label
from bench.paths import OUT, QUERIES


def ensure_docs(n: int, seed: int, after: int = 0) -> Path:
    """The JSON Lines file of ``n`` documents at ``seed`` (following the first ``after``),
    generated on first use."""
    name = f"docs-{label(n)}-s{seed}" + (f"-after-{label(after)}" if after else "") + ".jsonl"
    path = OUT / "data" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8", newline="\n") as out:
            write_jsonl(n, seed, out, after=after)
        tmp.replace(path)
    return path


def query_files() -> list[Path]:
    """The analyst queries, ``bench/queries/*.rq``, in name order."""
    return sorted(QUERIES.glob("*.rq"))


def load_queries() -> dict[str, str]:
    """Every analyst query's text by name (the file's stem)."""
    return {p.stem: p.read_text() for p in query_files()}


def query_title(text: str) -> str:
    """The ``# title:`` comment of a query, or ``""``."""
    match = re.search(r"^# title: (.*)$", text, re.MULTILINE)
    return match.group(1).strip() if match else ""
