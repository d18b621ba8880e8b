"""The nodes a load run's documents describe: what its conflict report is about (and, in a
second set, the run's documents' graphs: those the report lists among a finding's sources).

A run small beside its store asks the checks about these nodes, by IRI. A run in bulk mode
(large beside its store, loader/bulk.py) checks the whole store once and keeps the findings
about these nodes: it only asks whether a node is one of them. So from the switch to bulk mode
on, :class:`RunNodes` keeps a hash of each IRI instead of the IRI: 77 bytes a node against
159, set included (tracemalloc, 100k IRIs of 68 characters; a 100k-document load describes
millions of nodes).

The hash is Python's 64-bit string hash, stable within the process: two IRIs share one with a
chance of about n / 2^64 for n nodes, and then a finding about an untouched node is reported
too. Nothing is ever left out.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["RunNodes"]


class RunNodes:
    """A set of node IRIs that can give up its IRIs for hashes (:meth:`compact`)."""

    def __init__(self) -> None:
        self._iris: set[str] = set()
        self._hashes: set[int] | None = None

    def add(self, iris: Iterable[str]) -> None:
        """Add ``iris``."""
        if self._hashes is None:
            self._iris.update(iris)
        else:
            self._hashes.update(map(hash, iris))

    def compact(self) -> None:
        """Keep hashes from now on: membership is all that will be asked."""
        if self._hashes is None:
            self._hashes = set(map(hash, self._iris))
            self._iris = set()

    @property
    def compacted(self) -> bool:
        """Whether only membership can be asked (:meth:`iris` is not available)."""
        return self._hashes is not None

    def iris(self) -> set[str]:
        """The IRIs; ValueError once :meth:`compact` was called."""
        if self._hashes is not None:
            raise ValueError("the run's nodes are kept as hashes: ask membership only")
        return self._iris

    def __contains__(self, iri: object) -> bool:
        if self._hashes is None:
            return iri in self._iris
        return isinstance(iri, str) and hash(iri) in self._hashes

    def __bool__(self) -> bool:
        return bool(self._iris if self._hashes is None else self._hashes)
