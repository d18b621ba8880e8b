"""The fair queue of the query workers: clients take turns, each with at most its limit of
running queries, and the queue refuses with 429 (this client) or 503 (everyone) when full."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from diplograph.api.admission import ClientHistory, ClientLimitError, FairQueue, ServerBusyError
from diplograph.api.errors import error_response


@dataclass(eq=False)
class Job:
    client: str
    name: str
    dropped: bool = False


def fair_queue(client_limit: int = 1, client_waiting: int = 8, waiting: int = 64) -> Any:
    return FairQueue(
        client_limit=client_limit,
        client_waiting=client_waiting,
        waiting=waiting,
        client_of=lambda job: job.client,
        dropped=lambda job: job.dropped,
    )


def test_clients_take_turns() -> None:
    queue = fair_queue(client_limit=5)
    for name in ("a1", "a2", "a3"):
        queue.put(Job("a", name))
    queue.put(Job("b", "b1"))
    assert [queue.take().name for _ in range(4)] == ["a1", "b1", "a2", "a3"]


def test_a_client_at_its_limit_waits_while_others_run() -> None:
    queue = fair_queue(client_limit=1)
    first = Job("a", "a1")
    queue.put(first)
    queue.put(Job("a", "a2"))
    queue.put(Job("b", "b1"))
    assert queue.take() is first
    assert queue.take().name == "b1"  # a2 waits: a already runs its one query
    queue.done(first)
    assert queue.take().name == "a2"


def test_only_jobs_of_clients_under_their_limit_count_as_runnable() -> None:
    queue = fair_queue(client_limit=2)
    for name in ("a1", "a2", "a3", "a4"):
        queue.put(Job("a", name))
    queue.put(Job("b", "b1"))
    assert queue.runnable() == 3  # a may start two, b one
    queue.take()
    queue.take()
    queue.take()  # a1, b1, a2: a is at its limit
    assert (queue.queued(), queue.runnable()) == (2, 0)


def test_a_dropped_job_is_never_taken() -> None:
    queue = fair_queue()
    gone = Job("a", "gone")
    queue.put(gone)
    queue.put(Job("b", "b1"))
    gone.dropped = True
    assert queue.take().name == "b1"
    assert queue.queued() == 0


def test_a_client_with_too_many_waiting_gets_429_with_retry_after() -> None:
    queue = fair_queue(client_waiting=2)
    queue.put(Job("a", "a1"))
    queue.put(Job("a", "a2"))
    with pytest.raises(ClientLimitError) as refused:
        queue.put(Job("a", "a3"))
    queue.put(Job("b", "b1"))  # another client is still welcome
    response = error_response(refused.value)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"


def test_a_full_queue_refuses_everyone_with_503() -> None:
    queue = fair_queue(waiting=2)
    queue.put(Job("a", "a1"))
    queue.put(Job("b", "b1"))
    with pytest.raises(ServerBusyError) as refused:
        queue.put(Job("c", "c1"))
    assert error_response(refused.value).status_code == 503
    assert error_response(refused.value).headers["retry-after"] == "1"


def test_closing_wakes_a_waiting_worker_with_none() -> None:
    queue = fair_queue()
    queue.close()
    assert queue.take() is None


def test_clients_whose_last_query_was_quick_go_before_unknown_and_heavy_ones() -> None:
    history = ClientHistory()
    history.record("quick", heavy=False)
    history.record("heavy", heavy=True)
    queue = FairQueue(
        client_limit=1,
        client_waiting=8,
        waiting=64,
        client_of=lambda job: job.client,
        dropped=lambda job: job.dropped,
        rank=history.rank,
    )
    for client in ("heavy", "new", "quick"):
        queue.put(Job(client, client))
    assert [queue.take().name for _ in range(3)] == ["quick", "new", "heavy"]


def test_the_history_keeps_the_latest_clients_only() -> None:
    history = ClientHistory(size=2)
    for client in ("a", "b", "c"):
        history.record(client, heavy=True)
    assert [history.rank(c) for c in ("a", "b", "c")] == [1, 2, 2]
