"""What a query is and how it is timed, the same for every engine: a warm-up, then the median
of the timed runs (one run when the warm-up was slow)."""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from typing import Any

#: A query whose warm-up takes longer than this is timed once more, not five times.
SLOW_QUERY_S = 20.0


def query_kind(text: str) -> str:
    """SELECT, ASK or CONSTRUCT, from the query text (comments and prefixes skipped)."""
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    match = re.search(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", body, re.IGNORECASE)
    return match.group(1).upper() if match else "SELECT"


def run_query(store: Any, text: str, union: str = "materialized") -> int:
    """Evaluate and consume every result; the number of rows (distinct triples, 1 for ASK).

    ``union="materialized"`` reads the store's default graph, where diplograph keeps the union
    of the named graphs as a set (docs/stores.md); ``union="bag"`` asks Oxigraph for its own
    union of the named graphs (a bag), on a store that has no materialized union yet.
    """
    from pyoxigraph import QueryBoolean, QuerySolutions

    result = store.query(text, use_default_graph_as_union=union == "bag")
    if isinstance(result, QueryBoolean):
        return 1
    if isinstance(result, QuerySolutions):
        return sum(1 for _ in result)
    # CONSTRUCT: pyoxigraph may yield a triple once per graph that holds it; count each once,
    # as the serialized answer over HTTP does
    return len(set(result))


def timed_runs(run: Callable[[], int], repeat: int, slow_s: float = SLOW_QUERY_S) -> dict[str, Any]:
    """A warm-up, then ``repeat`` timed runs (one when the warm-up was slow): times in ms."""
    t0 = time.perf_counter()
    rows = run()
    warmup_ms = (time.perf_counter() - t0) * 1000
    times = []
    for _ in range(1 if warmup_ms > slow_s * 1000 else repeat):
        t0 = time.perf_counter()
        rows_again = run()
        times.append((time.perf_counter() - t0) * 1000)
        rows = rows_again
    return {
        "rows": rows,
        "warmup_ms": warmup_ms,
        "times_ms": times,
        "median_ms": statistics.median(times),
    }
