"""What an I/O error of the embedded store means, as a :class:`~loader.errors.StoreError` that
says what to do: a store another process holds, a full disk, a read-only file system, a
directory this user may not write."""

from __future__ import annotations

import re
from pathlib import Path

from diplograph.loader.errors import StoreError, StoreLockedError

__all__ = ["io_error", "open_error", "what_to_do"]

#: How RocksDB words "another process holds the LOCK file" (and the same process, twice).
_LOCKED = re.compile(
    r"/LOCK: (?:Resource temporarily unavailable|No locks available)|lock hold by current process",
    re.IGNORECASE,
)
_FULL = ("no space left on device", "file too large", "disk quota exceeded")
_HINTS = (
    (_FULL, "the disk is full or a file-size limit was reached: free space (or raise the limit)"),
    (
        ("read-only file system",),
        "the store directory is on a read-only file system: mount it read-write, or point "
        "DIPLOGRAPH_STORE_PATH at a writable directory",
    ),
    (
        ("permission denied", "operation not permitted"),
        "this user may not write (or read) the store directory: give this user access to it, "
        "or point DIPLOGRAPH_STORE_PATH at a writable directory",
    ),
)


def what_to_do(exc: OSError) -> str | None:
    """What an I/O error from the store means and what to do about it, when we recognize it."""
    text = str(exc).lower()
    for reasons, hint in _HINTS:
        if any(reason in text for reason in reasons):
            return hint
    return None


def open_error(path: Path, exc: OSError) -> StoreError:
    """The error for a store that cannot be opened: locked, full, not writable, or other."""
    hint = what_to_do(exc)
    if hint is None and _LOCKED.search(str(exc)):
        return StoreLockedError(
            f"the store at {path} is in use by another diplograph process; "
            "stop it or point DIPLOGRAPH_STORE_PATH at another directory"
        )
    if hint is None:
        return StoreError(f"cannot open the store at {path}: {exc}")
    return StoreError(
        f"cannot open the store at {path}: {hint}, then run the command again ({exc})"
    )


def io_error(path: Path | None, action: str, exc: OSError) -> StoreError:
    """The error for a failed read or write; a failed write never leaves half a commit."""
    where = f"the store at {path}" if path is not None else "the in-memory store"
    hint = what_to_do(exc)
    kept = "; documents committed before are intact" if action != "read" else ""
    return StoreError(f"cannot {action} {where}: {hint or 'I/O error'}{kept} ({exc})")
