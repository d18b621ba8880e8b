"""bench/measure.py's :func:`run_measured`: each child's own peak memory and CPU time, not the
high-water mark it inherits from this process, nor the largest of every child before it."""

from __future__ import annotations

import sys

from bench.measure import clean_env, run_measured
from bench.paths import ROOT

#: A child that holds 200 MB (written to, so resident) for half a second: long enough to be read.
LARGE = (
    "import time; block = bytearray(200 * 2**20); block[::4096] = b'x' * len(block[::4096]); "
    "time.sleep(0.5); print('done')"
)
#: A child that holds nothing, for half a second.
SMALL = "import time; time.sleep(0.5); print('small')"


def test_a_small_child_after_a_large_one_reports_its_own_peak() -> None:
    large = run_measured([sys.executable, "-c", LARGE], cwd=ROOT, env=clean_env())
    small = run_measured([sys.executable, "-c", SMALL], cwd=ROOT, env=clean_env())
    assert large.peak_rss_mb is not None and large.peak_rss_mb >= 200
    assert small.peak_rss_mb is not None and small.peak_rss_mb < 50
    assert (large.stdout, small.stdout) == ("done\n", "small\n")


def test_the_exit_code_and_the_error_output_are_the_childs() -> None:
    failed = run_measured(
        [sys.executable, "-c", "import sys; sys.exit('no such file')"], cwd=ROOT, env=clean_env()
    )
    assert failed.returncode == 1
    assert failed.stderr == "no such file\n"
    assert failed.cpu_s >= 0
