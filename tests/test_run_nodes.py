"""The nodes a load run describes keep answering membership once kept as hashes
(loader/run_nodes.py); the bulk run's conflict report relies on it
(tests/test_conflicts.py, the bulk-mode run)."""

from __future__ import annotations

import pytest

from diplograph.loader.run_nodes import RunNodes

ID = "https://w3id.org/diplograph/id/"


def test_the_nodes_added_before_and_after_compacting_are_members() -> None:
    nodes = RunNodes()
    nodes.add([ID + "state/Q30", ID + "person/Q100"])
    nodes.compact()
    nodes.add([ID + "event/meeting-2023-06-18-abc"])
    assert ID + "state/Q30" in nodes
    assert ID + "event/meeting-2023-06-18-abc" in nodes
    assert ID + "state/Q148" not in nodes
    assert 42 not in nodes


def test_the_iris_are_given_until_compacted_then_refused() -> None:
    nodes = RunNodes()
    nodes.add([ID + "state/Q30"])
    assert nodes.iris() == {ID + "state/Q30"}
    nodes.compact()
    assert nodes.compacted
    with pytest.raises(ValueError, match="membership"):
        nodes.iris()


def test_a_run_without_nodes_is_empty_in_either_form() -> None:
    nodes = RunNodes()
    assert not nodes
    nodes.compact()
    assert not nodes
    nodes.add([ID + "state/Q30"])
    assert nodes
