"""A statement about what an embedded store holds, left in its directory and withdrawn before any
write: how a later process learns that nothing was written since, without reading the store.

The claims file beside a store (loader/claims_cache.py) is keyed by a fingerprint of every
document's kept facts; a process that opens the store computes that fingerprint to learn whether
the file is still the store's. At 100k documents that reads every document's facts: 1.8-2.4 s
on a store whose files the system holds in memory, 4.2 s on a copy just made (the first read of
its files), in every process before its first load (docs/benchmarks.md). A process that knows
the fingerprint (it read the store, and saw every write since) *attests* it here; the next one
finds the statement, and so knows the fingerprint without computing it.

What makes a statement safe to trust is its withdrawal: :meth:`Attestation.withdraw` removes
the file, durably, before the store is written (:class:`~loader.store.embedded.EmbeddedStore`
does it before every write of its own: commits, SPARQL updates, bulk writes, the undo of a bulk
batch). A statement therefore holds for the store as it is, or is gone. A write that bypasses
diplograph (another program opening the store directory with Oxigraph) would leave it standing,
and so would miss the materialized union too (loader/store/embedded.py): such writes are not
supported; deleting this file makes the next process read the store in full.

The file lives inside the store directory (RocksDB leaves files it does not know alone), so it
travels with the store when the directory is copied or moved; a backup (a new directory written
by Oxigraph) starts without one.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

__all__ = ["ATTESTATION_NAME", "Attestation", "sync_directory"]

log = logging.getLogger(__name__)

#: The statement's file name in the store directory.
ATTESTATION_NAME = "diplograph-attested"


class Attestation:
    """The statement left in ``directory``: read once, then known; written and withdrawn
    durably (the file renamed into place, the directory synced)."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / ATTESTATION_NAME
        self._temporary = directory / (ATTESTATION_NAME + ".tmp")
        try:
            self._statement: str | None = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self._statement = None
        except (OSError, UnicodeDecodeError) as exc:
            # Unreadable: as good as none, and withdrawn at the next write like any other.
            log.warning("not using the attestation %s: %s", self.path, exc)
            self._statement = ""

    @property
    def statement(self) -> str | None:
        """The statement standing, or None."""
        return self._statement or None

    def write(self, statement: str) -> None:
        """Leave ``statement`` (replacing the one standing). A statement that cannot be written
        is only a lost saving: it is logged, and the standing one withdrawn."""
        if statement == self._statement:
            return
        try:
            with open(self._temporary, "w", encoding="utf-8") as out:
                out.write(statement)
                out.flush()
                os.fsync(out.fileno())
            os.replace(self._temporary, self.path)
            sync_directory(self.path.parent)
        except OSError as exc:
            log.warning("cannot leave the attestation %s: %s", self.path, exc)
            with contextlib.suppress(OSError):
                self._temporary.unlink(missing_ok=True)
            self.withdraw()
            return
        self._statement = statement

    def withdraw(self) -> None:
        """Remove the statement, durably, before the store changes; raises OSError when it
        cannot (the caller then must not write)."""
        if self._statement is None:
            return
        self.path.unlink(missing_ok=True)
        sync_directory(self.path.parent)
        self._statement = None


def sync_directory(directory: Path) -> None:
    """fsync ``directory``, so that a file created, renamed or removed in it stays so after a
    crash of the machine."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
