"""One measured step: a ``bench.workers`` subprocess bounded in time, with the machine's load.

Every step of ``bench.run`` goes through :func:`worker`, which records the wall time, the
1-minute load average and how many cores other processes kept busy meanwhile (the machine is
shared: a step with other load ran slower than it would alone).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.metadata
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.paths import ROOT

PACKAGES = ("pyoxigraph", "pyshacl", "rdflib", "pydantic", "fastapi", "starlette", "uvicorn")


def log(message: str) -> None:
    """A timestamped progress line on stderr."""
    stamp = dt.datetime.now().strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", file=sys.stderr, flush=True)


def label(n: int) -> str:
    """A document count as the runs name it: 1000 -> ``1k``, 2000000 -> ``2M``."""
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def cpu_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return (0, 0)
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields) - idle, sum(fields))


def loadavg() -> float:
    """The 1-minute load average (NaN where /proc/loadavg cannot be read)."""
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError):
        return float("nan")


def vmhwm(pid: int | None) -> float | None:
    """Peak resident memory of a running process, in MB (``VmHWM``); None when unknown."""
    if pid is None:
        return None
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def machine() -> dict[str, Any]:
    """CPU, cores, RAM, OS, kernel, Python and the versions of the packages measured."""
    info: dict[str, Any] = {"cores": os.cpu_count()}
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["ram_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                info["os"] = line.split("=", 1)[1].strip('"')
    info["kernel"] = platform.release()
    info["python"] = platform.python_version()
    versions = {}
    for name in PACKAGES:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[name] = importlib.metadata.version(name)
    info["packages"] = versions
    return info


def clean_env() -> dict[str, str]:
    """This process's environment without ``DIPLOGRAPH_*`` settings, the repository importable.

    A child must not pick up the settings of the shell the run was started from.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIPLOGRAPH_")}
    env["PYTHONPATH"] = str(ROOT)
    return env


@dataclass(frozen=True)
class Finished:
    """A child process run to its end by :func:`run_measured`."""

    returncode: int
    stdout: str
    stderr: str
    #: user and system CPU seconds of the child and of the descendants it waited for
    cpu_s: float
    #: the child's own peak resident memory (``VmHWM``), None when it was never read
    peak_rss_mb: float | None


#: Seconds between two reads of a running child's ``VmHWM``.
_SAMPLE_S = 0.1


def run_measured(cmd: Sequence[str], *, cwd: Path, env: dict[str, str]) -> Finished:
    """Run ``cmd`` to its end, with its own CPU time and peak memory.

    The peak is the child's ``VmHWM``, read every 0.1 s while it runs (the last read before it
    ends: a peak in its last tenth of a second is missed). Not ``ru_maxrss``: at ``exec`` a
    child keeps the high-water mark of the process it was forked from, so a child that
    allocated nothing reported the 114 MB of the test process that started it, and every
    load of bench.incremental the 1,007 MB of the bench process, which had read the claims of
    the 100k store. ``getrusage(RUSAGE_CHILDREN)`` adds the largest peak of every earlier
    child. The CPU time is this child's (``wait4``), with the descendants it waited for, such
    as a load's validation workers."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err, text=True)
        peak: list[float] = []
        done = threading.Event()

        def sample() -> None:
            while not done.wait(_SAMPLE_S):
                seen = vmhwm(proc.pid)
                if seen is not None:
                    peak[:] = [seen]

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            done.set()
            sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        return Finished(
            proc.returncode,
            out.read(),
            err.read(),
            usage.ru_utime + usage.ru_stime,
            peak[0] if peak else None,
        )


def worker(task: str, *args: str, timeout: float) -> dict[str, Any]:
    """Run ``python -m bench.workers TASK ARGS``; its RESULT, or why there is none."""
    cmd = [sys.executable, "-m", "bench.workers", task, *args]
    started = time.perf_counter()
    load_before = loadavg()
    busy0, total0 = cpu_jiffies()
    child0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()  # our own child, by PID
        proc.communicate()
        return {"ok": False, "error": f"timeout after {timeout:.0f} s", "wall_s": timeout}
    wall = time.perf_counter() - started
    busy1, total1 = cpu_jiffies()
    child1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = (child1.ru_utime + child1.ru_stime) - (child0.ru_utime + child0.ru_stime)
    cores = os.cpu_count() or 1
    busy_cores = (busy1 - busy0) / (total1 - total0) * cores if total1 > total0 else 0.0
    for line in reversed(out.splitlines()):
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line[len("RESULT ") :])
            result.update(
                ok=True,
                wall_s=wall,
                loadavg=[load_before, loadavg()],
                # the machine's busy cores during the step, and what our worker used of them
                busy_cores=busy_cores,
                own_cores=own / wall if wall else 0.0,
            )
            return result
    tail = " | ".join(err.strip().splitlines()[-3:])
    return {"ok": False, "error": f"exit {proc.returncode}: {tail}"[:500], "wall_s": wall}


def load_line(r: dict[str, Any]) -> str:
    """A load step's result as one progress line: rates, peak RSS, whether it finished."""
    if not r.get("ok"):
        return str(r.get("error"))
    docs = r.get("loaded", r.get("docs", 0))
    seconds = r.get("insert_s", r.get("total_s", 0.0))
    quads = r.get("quads", r.get("triples", 0))
    return (
        f"{docs} docs, {quads} quads in {seconds:.1f} s ({docs / seconds:.0f} docs/s, "
        f"{quads / seconds:.0f} quads/s), peak RSS {r.get('vmhwm_mb', 0):.0f} MB"
        + ("" if r.get("finished", True) else " — stopped at the time limit")
        + (f", {r['rejected']} rejected" if r.get("rejected") else "")
    )
