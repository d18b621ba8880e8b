"""A load validated on a Dask cluster: the same store and report as on one process."""

from __future__ import annotations

import pytest

from diplograph.loader.cluster import connect
from diplograph.loader.errors import ConfigError
from tests.support.mixed import Loaded, load_mixed

pytest.importorskip("distributed")


@pytest.mark.slow
def test_a_load_on_a_local_dask_cluster_gives_the_same_store_and_report(
    mixed_one_process: Loaded,
) -> None:
    dataset, report = load_mixed(cluster="local:2")
    assert report == mixed_one_process[1]
    assert set(dataset) == set(mixed_one_process[0])


@pytest.mark.parametrize("address", ["localhost:8786", "local:", "local:two", "http://x:1"])
def test_an_address_that_is_neither_a_scheduler_nor_local_is_refused(address: str) -> None:
    with pytest.raises(ConfigError, match="tcp://host:port"):
        connect(address)


def test_a_scheduler_that_does_not_answer_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no Dask scheduler answers"):
        connect("tcp://127.0.0.1:9", timeout=1.0)
