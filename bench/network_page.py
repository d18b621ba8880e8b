"""First paint of the network page (``/network``) over generated documents, in headless chromium.

    python -m bench.network_page --docs 10k --runs 5

Generates the documents (``python -m bench.generate --docs N --seed 1``, cached in
``bench/out/data/``), loads them with ``diplograph load`` into ``bench/out/stores/network-N``
(once), starts ``diplograph serve`` on 127.0.0.1 and opens ``/network`` in a new headless
chromium (a fresh profile: nothing cached) for each run. Each run reports, in milliseconds from
the start of the navigation (the Performance API's clock):

* ``html``: the page's HTML received (``responseEnd`` of the navigation entry), which includes
  the server reading the network from the summary;
* ``fcp``: first contentful paint (``first-contentful-paint``);
* ``drawn``: the graph on screen (``window.diplographNetwork.drawnAt``: its first, quick layout
  done and two animation frames later);
* ``settled``: the force-directed layout that follows done, its last move on screen
  (``settledAt``);

and the nodes and edges drawn. The must-hold (issue 15) is first paint under 2 s; the table says
both the first paint of the page and the time until the graph is drawn.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.browser import Chromium
from bench.measure import clean_env, machine
from bench.paths import OUT, ROOT
from bench.servers import Server, diplograph_serve, free_port, http_ok

__all__ = ["main", "measure"]

_TIMES = """(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  const net = window.diplographNetwork;
  return {html: nav.responseEnd, fcp: fcp ? fcp.startTime : null, drawn: net.drawnAt,
          settled: net.settledAt, nodes: net.nodes, edges: net.edges, state: net.state};
})()"""


def _count(text: str) -> int:
    text = text.lower()
    return int(float(text[:-1]) * 1000) if text.endswith("k") else int(text)


def prepare(docs: str, seed: int) -> Path:
    """The store of ``docs`` generated documents, generated and loaded when not there yet."""
    n = _count(docs)
    data = OUT / "data" / f"docs-{n}-s{seed}.jsonl"
    store = OUT / "stores" / f"network-{n}-s{seed}"
    done = store / ".loaded"
    if done.is_file():
        return store
    data.parent.mkdir(parents=True, exist_ok=True)
    if not data.is_file():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.generate",
                "--docs",
                str(n),
                "--seed",
                str(seed),
                "-o",
                str(data),
            ],
            cwd=ROOT,
            env=clean_env(),
            check=True,
        )
    shutil.rmtree(store, ignore_errors=True)
    store.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from diplograph.cli import main; main()",
            "load",
            "--store-path",
            str(store),
            str(data),
        ],
        cwd=ROOT,
        env=clean_env(),
        check=True,
    )
    print(f"loaded {n} documents in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    done.touch()
    return store


def measure(chromium: str, url: str, runs: int) -> list[dict[str, Any]]:
    """``runs`` cold openings of ``url`` (a new browser and profile each)."""
    results = []
    for _ in range(runs):
        with (
            tempfile.TemporaryDirectory(
                prefix="diplograph-bench-", ignore_cleanup_errors=True
            ) as profile,
            Chromium(chromium, Path(profile), offline=True) as browser,
        ):
            browser.navigate(url)
            browser.wait_for(
                "window.diplographNetwork && (window.diplographNetwork.settled"
                " || window.diplographNetwork.state === 'error')",
                timeout=120,
            )
            found = browser.evaluate(_TIMES)
            if found["state"] != "drawn":
                raise RuntimeError(f"the page did not draw: {found}")
            results.append(found)
    return results


def _table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| run | HTML received (ms) | first contentful paint (ms) | graph drawn (ms) "
        "| layout settled (ms) | nodes | edges |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for i, row in enumerate(rows, 1):
        lines.append(
            f"| {i} | {row['html']:.0f} | {row['fcp']:.0f} | {row['drawn']:.0f} "
            f"| {row['settled']:.0f} | {row['nodes']} | {row['edges']} |"
        )
    keys = ("html", "fcp", "drawn", "settled")
    medians = " | ".join(f"{statistics.median(r[k] for r in rows):.0f}" for k in keys)
    lines.append(f"| median | {medians} | | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.network_page", description=__doc__)
    parser.add_argument("--docs", default="1k", help="how many generated documents (1k, 10k)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--query", default="", help="query string of /network, e.g. limit=1000")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args(argv)

    store = prepare(args.docs, args.seed)
    port = free_port()
    cmd, env = diplograph_serve(port, 60.0, ["--store-path", str(store)])
    url = f"http://127.0.0.1:{port}/network" + (f"?{args.query}" if args.query else "")
    with Server(cmd, http_ok(f"http://127.0.0.1:{port}/health"), cwd=ROOT, env=env, wait=120):
        measure(args.chromium, url, 1)  # warm-up: the server's first read of the store
        rows = measure(args.chromium, url, args.runs)
    info = machine()
    print(
        f"# /network{'?' + args.query if args.query else ''}, {args.docs} documents "
        f"(seed {args.seed}), {args.runs} cold runs"
    )
    print(f"# {info.get('cpu')}, {info.get('cores')} cores, {info.get('ram_gib')} GiB")
    print(_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
