"""The conflict check of a load's nodes on a large store, check by check (issue 17 §5).

``python -m bench.conflict_check --store PATH --docs FILE`` opens the store read-only, takes the
nodes the documents of ``FILE`` (facts JSON lines, already loaded into the store) describe, as a
load's report does, and times each check over those nodes, ``--repeat`` times, in this process:
the conflicting values and fatality counts, the holders (listing the documents' own sources, as
a load's report does), the candidate duplicates and the candidate same events. Each line gives a
digest of the findings, so two versions of the code can be compared on the same store: the
same digest, the same findings.

Make such a store with ``diplograph load`` of the next documents into a copy of a kept one,
e.g. ``bench/out/data/docs-1k-s1-after-100k.jsonl`` into a copy of
``bench/out/stores/incremental-100k-s1`` (``python -m bench.incremental --store 100k`` builds
both).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.measure import loadavg
from diplograph.loader.config import load_settings
from diplograph.loader.conflicts import (
    Conflict,
    candidate_duplicates,
    candidate_same_events,
    conflicting_fatalities,
    conflicting_values,
    nodes_of,
    overlapping_holders,
)
from diplograph.loader.iris import IriMinter
from diplograph.loader.store.embedded import EmbeddedStore


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.conflict_check", description=__doc__)
    parser.add_argument("--store", type=Path, required=True, help="an embedded store's directory")
    parser.add_argument("--docs", type=Path, required=True, help="facts JSON lines it holds")
    parser.add_argument("--repeat", type=int, default=3, help="timings of each check (3)")
    args = parser.parse_args(argv)

    store = EmbeddedStore.read_only(args.store)
    minter = IriMinter(load_settings().base_iri)
    with args.docs.open(encoding="utf-8") as lines:
        graphs = {minter.document(json.loads(line)["document"]["id"]) for line in lines}
    started = time.perf_counter()
    nodes = sorted(nodes_of(store, graphs))
    print(
        f"{len(graphs)} documents, {len(nodes)} nodes in {time.perf_counter() - started:.2f} s, "
        f"load avg {loadavg():.2f}",
        flush=True,
    )
    checks: dict[str, Callable[[], list[Conflict]]] = {
        "values and fatalities": lambda: [
            *conflicting_values(store, nodes),
            *conflicting_fatalities(store, nodes),
        ],
        "holders": lambda: overlapping_holders(store, nodes, graphs),
        "candidate duplicates": lambda: candidate_duplicates(store, nodes),
        "candidate same events": lambda: candidate_same_events(store, nodes),
    }
    for name, check in checks.items():
        times: list[float] = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            found = check()
            times.append(time.perf_counter() - started)
        text = json.dumps([c.to_dict() for c in found], sort_keys=True)
        print(
            f"{name}: {', '.join(f'{t:.2f}' for t in times)} s (median "
            f"{statistics.median(times):.2f}); {len(found)} findings, "
            f"{sum(len(c.values) for c in found)} values, "
            f"digest {hashlib.sha1(text.encode()).hexdigest()[:12]}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
