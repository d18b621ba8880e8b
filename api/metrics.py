"""Counters of the query service, written at ``/metrics`` in the Prometheus text format (0.0.4).

Kept by hand (a few counters and one histogram need no client library); every change is under
one lock, so a scrape sees a consistent set.

    diplograph_queries_total{status="200"}          queries answered, by HTTP status
    diplograph_query_seconds_bucket{le="0.005"}     time until a query's status was known
    diplograph_query_timeouts_total                 queries stopped at their deadline
    diplograph_query_workers_killed_total           worker processes killed (and replaced)
    diplograph_queries_rejected_total{reason=…}     refused before running: client_limit, busy
    diplograph_writes_total{kind="load"}            writes (loads, updates, Graph Store)
    diplograph_query_workers{state="busy"}          workers by state (gauges, at scrape time;
                                                    ``extra``: started beyond the pool)
    diplograph_queries_waiting                      queries waiting for a worker
"""

from __future__ import annotations

import bisect
import threading
from collections import Counter

__all__ = ["CONTENT_TYPE", "LATENCY_BUCKETS", "Metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Upper bounds (seconds) of the latency histogram's buckets.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The counters of one app."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._statuses: Counter[int] = Counter()
        self._buckets = [0] * (len(LATENCY_BUCKETS) + 1)
        self._seconds = 0.0
        self._timeouts = 0
        self._killed = 0
        self._rejected: Counter[str] = Counter()
        self._writes: Counter[str] = Counter()

    def query(self, status: int, seconds: float) -> None:
        """A query was answered with ``status`` after ``seconds``."""
        with self._lock:
            self._statuses[status] += 1
            self._buckets[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
            self._seconds += seconds

    def timeout(self) -> None:
        with self._lock:
            self._timeouts += 1

    def killed(self) -> None:
        with self._lock:
            self._killed += 1

    @property
    def killed_workers(self) -> int:
        with self._lock:
            return self._killed

    def rejected(self, reason: str) -> None:
        with self._lock:
            self._rejected[reason] += 1

    def write(self, kind: str) -> None:
        with self._lock:
            self._writes[kind] += 1

    def render(self, workers: dict[str, int], waiting: int, runner: str = "threads") -> str:
        """The exposition text; ``workers`` counts workers by state, ``waiting`` queued queries,
        ``runner`` is the kind of workers (``processes`` or ``threads``)."""
        with self._lock:
            lines = [
                "# HELP diplograph_queries_total SPARQL queries answered, by HTTP status.",
                "# TYPE diplograph_queries_total counter",
            ]
            lines += [
                f'diplograph_queries_total{{status="{status}"}} {count}'
                for status, count in sorted(self._statuses.items())
            ]
            lines += [
                "# HELP diplograph_query_seconds Seconds until a query's status was known.",
                "# TYPE diplograph_query_seconds histogram",
            ]
            total = 0
            for bound, count in zip((*LATENCY_BUCKETS, None), self._buckets, strict=True):
                total += count
                le = "+Inf" if bound is None else repr(bound)
                lines.append(f'diplograph_query_seconds_bucket{{le="{le}"}} {total}')
            lines.append(f"diplograph_query_seconds_sum {self._seconds:.6f}")
            lines.append(f"diplograph_query_seconds_count {total}")
            lines += [
                "# HELP diplograph_query_timeouts_total Queries stopped at their deadline.",
                "# TYPE diplograph_query_timeouts_total counter",
                f"diplograph_query_timeouts_total {self._timeouts}",
                "# HELP diplograph_query_workers_killed_total Worker processes killed "
                "and replaced.",
                "# TYPE diplograph_query_workers_killed_total counter",
                f"diplograph_query_workers_killed_total {self._killed}",
                "# HELP diplograph_queries_rejected_total Queries refused before running.",
                "# TYPE diplograph_queries_rejected_total counter",
            ]
            for reason in ("client_limit", "busy"):
                lines.append(
                    f'diplograph_queries_rejected_total{{reason="{reason}"}} '
                    f"{self._rejected[reason]}"
                )
            lines += [
                "# HELP diplograph_writes_total Writes, by kind.",
                "# TYPE diplograph_writes_total counter",
            ]
            for kind in ("load", "write"):
                lines.append(f'diplograph_writes_total{{kind="{kind}"}} {self._writes[kind]}')
        lines += [
            "# HELP diplograph_query_workers Query workers, by state.",
            "# TYPE diplograph_query_workers gauge",
        ]
        lines += [
            f'diplograph_query_workers{{state="{state}"}} {count}'
            for state, count in workers.items()
        ]
        lines += [
            "# HELP diplograph_query_runner The kind of query workers serving (1: this one).",
            "# TYPE diplograph_query_runner gauge",
            f'diplograph_query_runner{{kind="{runner}"}} 1',
            "# HELP diplograph_queries_waiting Queries waiting for a worker.",
            "# TYPE diplograph_queries_waiting gauge",
            f"diplograph_queries_waiting {waiting}",
        ]
        return "\n".join(lines) + "\n"
