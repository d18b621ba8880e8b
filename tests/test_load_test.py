"""The bounded load test (bench/loadtest.py) against a live server: 1, 4 and 16 clients sending
the competency questions, with zero errors. The latencies it measures go to docs/benchmarks.md
(``python -m bench.loadtest --doc``); here only correctness is asserted, never speed."""

from __future__ import annotations

import pytest

from bench.loadtest import percentile, run_level, run_load
from tests.support.server import LiveServer

pytestmark = [pytest.mark.slow, pytest.mark.server]


def test_1_4_and_16_clients_get_every_competency_question_answered_without_error(
    live_server: LiveServer,
) -> None:
    levels = run_load(live_server.sparql, levels=(1, 4, 16), requests=54, max_seconds=60)
    assert [lv.clients for lv in levels] == [1, 4, 16]
    for level in levels:
        assert level.errors == 0, level.error_samples
        assert level.requests == 54
        assert 0 < level.p50_ms <= level.p99_ms <= level.max_ms


def test_a_failing_request_is_counted_as_an_error(live_server: LiveServer) -> None:
    level = run_level(
        live_server.sparql,
        [("broken", "SELECT * WHERE {"), ("fine", "ASK {}")],
        clients=2,
        requests=10,
        max_seconds=30,
    )
    assert level.requests == 10
    assert level.errors == 5
    assert level.error_samples[0].startswith("broken: 400")


def test_the_time_bound_stops_new_requests(live_server: LiveServer) -> None:
    level = run_level(
        live_server.sparql, [("ask", "ASK {}")], clients=1, requests=10_000, max_seconds=0.3
    )
    assert 0 < level.requests < 10_000
    assert level.seconds < 5


def test_percentile_is_nearest_rank() -> None:
    values = [float(x) for x in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([3.0], 0.99) == 3.0
