"""A store that cannot be written — a full disk, a file-size limit, a directory the user may not
write — ends the command with our own StoreError (exit code 3, a message naming the store and
what to do), and leaves the store as it was: it reopens with its documents whole (issue 6 §2).

The faults are real, made the ways that work in a container whether the tests run as root or
not: ``RLIMIT_FSIZE`` in the child (writes past the limit fail with EFBIG), a small tmpfs filled
up (ENOSPC; needs the right to mount, skipped otherwise, as the file-size limit covers a failing
write), a store directory without write permission (as root, the child runs without the
capabilities that let root ignore file modes) and a read-only bind mount (EROFS; skipped where
mounting is denied).
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from diplograph.loader.config import load_settings
from diplograph.loader.errors import StoreError
from diplograph.loader.facts import read_path
from diplograph.loader.namespaces import DEFAULT_BASE_IRI
from diplograph.loader.pipeline import load
from diplograph.loader.store.embedded import EmbeddedStore
from tests.support.children import ROOT, child_env, command, generate_facts
from tests.support.consistency import Expected, canonical_dataset, inconsistencies

pytestmark = pytest.mark.slow

#: Documents in the store before the fault, and documents of the load that meets it.
BEFORE, LOAD = 10, 20
#: A file-size limit that lets the store open but not take a commit's write-ahead log.
FILE_SIZE_LIMIT = 512 * 1024


@pytest.fixture(scope="module")
def facts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Facts already loaded before the fault, and facts loaded when it strikes."""
    folder = tmp_path_factory.mktemp("facts")
    first = generate_facts(folder / "before.jsonl", BEFORE, seed=3)
    second = generate_facts(folder / "load.jsonl", LOAD, seed=3, after=BEFORE)
    return first, second


@pytest.fixture(scope="module")
def expected(facts: tuple[Path, Path]) -> Expected:
    return Expected.from_facts(facts, DEFAULT_BASE_IRI)


def _preload(path: Path, facts: Path) -> None:
    store = EmbeddedStore(path)
    try:
        report = load(read_path(facts), store, load_settings(store="embedded", store_path=path))
    finally:
        store.close()
    assert report.documents_loaded == BEFORE


def _run(*args: str, prefix: Sequence[str] = (), **popen: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, *command(*args)],
        env=child_env(),
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        **popen,
    )


def _assert_store_error(done: subprocess.CompletedProcess[str], store: Path, what: str) -> None:
    assert done.returncode == StoreError.exit_code, done.stderr
    assert "Traceback" not in done.stderr
    assert f"the store at {store}" in done.stderr
    assert what in done.stderr


def _documents_of(store: Path, expected: Expected) -> set[str]:
    """Open the store (no fault now), assert it is consistent; the documents it holds."""
    opened = EmbeddedStore(store)
    try:
        present, problems = inconsistencies(opened, expected)
    finally:
        opened.close()
    assert problems == []
    return present


def _graphs(expected: Expected, facts: Path) -> set[str]:
    return set(Expected.from_facts([facts], expected.base_iri).graphs)


def _limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel kills the writer
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))


def test_a_load_over_a_file_size_limit_stops_with_a_store_error_and_keeps_the_store_whole(
    tmp_path: Path, facts: tuple[Path, Path], expected: Expected
) -> None:
    store = tmp_path / "store"
    _preload(store, facts[0])

    done = _run("load", str(facts[1]), "--store-path", str(store), preexec_fn=_limit_file_size)

    _assert_store_error(done, store, "the disk is full or a file-size limit was reached")
    assert "run the same command again" in done.stderr
    assert _documents_of(store, expected) >= _graphs(expected, facts[0])


# -- a full disk -------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 32 MB tmpfs, mounted for this test (skipped when this process may not mount)."""
    mount = shutil.which("mount")
    point = tmp_path / "disk"
    point.mkdir()
    if mount is None:
        pytest.skip("no mount command; the file-size-limit test covers a write that fails")
    tried = subprocess.run(
        [mount, "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(point)],
        capture_output=True,
        text=True,
    )
    if tried.returncode != 0:
        pytest.skip(
            f"cannot mount a tmpfs here ({tried.stderr.strip()}); "
            "the file-size-limit test covers a write that fails"
        )
    try:
        yield point
    finally:
        subprocess.run(["umount", str(point)], check=True, timeout=30)


def _fill(disk: Path, leave: int) -> Path:
    """Fill ``disk`` up to ``leave`` free bytes with one file; returns the file."""
    filler = disk / "filler"
    stat = os.statvfs(disk)
    size = stat.f_bavail * stat.f_frsize - leave
    with open(filler, "wb") as out:
        os.posix_fallocate(out.fileno(), 0, size)
    return filler


def test_a_load_on_a_full_disk_stops_with_a_store_error_and_a_rerun_after_freeing_space_completes(
    small_disk: Path, facts: tuple[Path, Path], expected: Expected
) -> None:
    store = small_disk / "store"
    _preload(store, facts[0])
    # Opening the store once more lets RocksDB delete the files it no longer needs (the
    # preload's write-ahead log): left to the load, that frees room for the whole load.
    assert _run("stats", "--store-path", str(store)).returncode == 0
    filler = _fill(small_disk, leave=256 * 1024)

    failed = _run("load", str(facts[1]), "--store-path", str(store))
    still_full = _run("stats", "--store-path", str(store))
    filler.unlink()
    after_failure = _documents_of(store, expected)
    rerun = _run("load", str(facts[1]), "--store-path", str(store))

    _assert_store_error(failed, store, "the disk is full")
    assert "run the same command again" in failed.stderr
    # Reading may work on a full disk; if opening needs to write, the error must be as clear.
    if still_full.returncode != 0:
        _assert_store_error(still_full, store, "the disk is full")
    assert after_failure >= _graphs(expected, facts[0])
    assert rerun.returncode == 0, rerun.stderr
    assert _documents_of(store, expected) == set(expected.graphs)


# -- a store directory that cannot be written ----------------------------------------------------


def _without_root_privileges() -> list[str]:
    """A command prefix under which file modes bind this user, root included."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("root ignores file modes and setpriv (util-linux) is missing to drop that")
    # Without these two capabilities root obeys file modes like any other owner.
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search"]


def test_a_store_directory_without_write_permission_gives_a_store_error_and_is_left_unchanged(
    tmp_path: Path, facts: tuple[Path, Path], expected: Expected
) -> None:
    store = tmp_path / "store"
    _preload(store, facts[0])
    before = canonical_dataset(store)
    prefix = _without_root_privileges()

    store.chmod(0o555)
    try:
        done = _run("load", str(facts[1]), "--store-path", str(store), prefix=prefix)
    finally:
        store.chmod(0o755)

    _assert_store_error(done, store, "this user may not write (or read) the store directory")
    assert canonical_dataset(store) == before
    assert _documents_of(store, expected) == _graphs(expected, facts[0])


@pytest.fixture
def read_only_mount(tmp_path: Path) -> Iterator[Path]:
    """A store directory bind-mounted read-only onto itself (skipped when mounting is denied)."""
    store = tmp_path / "store"
    store.mkdir()
    bound = subprocess.run(["mount", "--bind", str(store), str(store)], capture_output=True)
    if bound.returncode != 0:
        pytest.skip(
            f"cannot bind-mount here ({bound.stderr.decode().strip()}); the "
            "permission test covers a store directory that cannot be written"
        )
    try:
        yield store
    finally:
        subprocess.run(["umount", str(store)], check=True, timeout=30)


def test_a_store_on_a_read_only_file_system_gives_a_store_error_and_is_left_unchanged(
    read_only_mount: Path, facts: tuple[Path, Path], expected: Expected
) -> None:
    store = read_only_mount
    _preload(store, facts[0])
    before = canonical_dataset(store)
    subprocess.run(["mount", "-o", "remount,ro,bind", str(store)], check=True, timeout=30)

    done = _run("load", str(facts[1]), "--store-path", str(store))

    subprocess.run(["mount", "-o", "remount,rw,bind", str(store)], check=True, timeout=30)
    _assert_store_error(done, store, "on a read-only file system: mount it read-write")
    assert canonical_dataset(store) == before
    assert _documents_of(store, expected) == _graphs(expected, facts[0])
