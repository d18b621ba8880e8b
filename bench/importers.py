"""Import rate: GDELT rows through ``diplograph import`` against loading the same documents.

``python -m bench.importers --rows 100k`` writes a seeded file of GDELT 2.0 event rows
(:func:`generate_gdelt`, cached in ``bench/out/data/``), then, each step in its own process:

- *import*: ``Graph.import_file("gdelt", FILE)`` into a fresh on-disk store, as
  ``diplograph import gdelt`` runs it (bulk writes; the rows of a file of 4 MiB or more
  converted in a second process): read, convert, map, validate, commit;
- *convert*: the importer alone, writing the facts documents as JSON Lines (``--dry-run``);
- *load*: ``Graph.load_file`` of those JSON Lines into another fresh store, the path of
  ``diplograph load``: the same documents, loaded directly.

Import and load run ``--repeat`` times each (3 by default), alternating, and the run of median
time is reported: the machine is shared. ``--until HH:MM`` (UTC) starts no further pair that
would end after that time, going by the pair before. Each step reports wall time, rows/s and
documents/s, the process's peak resident memory (``VmHWM``) and the machine's 1-minute load
average at its end. The issue's goal: the import rate is at
least the rate of loading the same facts documents directly. ``--doc`` writes the table into
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.generate import parse_count
from bench.measure import clean_env, label, machine
from bench.paths import DOC, OUT

MARKER = "importers"

#: Root codes by how often GDELT reports them, roughly (consultations and statements lead).
_ROOT_WEIGHTS = {
    "01": 12, "02": 5, "03": 8, "04": 25, "05": 8, "06": 2, "07": 3, "08": 2, "09": 1,
    "10": 3, "11": 10, "12": 3, "13": 3, "14": 4, "15": 1, "16": 1, "17": 5, "18": 3,
    "19": 6, "20": 1,
}  # fmt: skip
_GOLDSTEIN = {"1": (0.0, 4.0), "2": (4.0, 8.0), "3": (-6.0, -1.0), "4": (-10.0, -5.0)}
_ROLES = (("", 40), ("GOV", 35), ("MIL", 10), ("REB", 5), ("OPP", 5), ("KNOWN", 5))
_KNOWN = (("IGOUNO", "UNITED NATIONS", "IGO"), ("IGOEUREEC", "EUROPEAN UNION", "IGO"),
          ("NGOHRIAMN", "AMNESTY INTERNATIONAL", "NGO"))  # fmt: skip


def generate_gdelt(rows: int, seed: int, path: Path) -> Path:
    """Write ``rows`` GDELT 2.0 event rows (61 tab-separated columns): same arguments, same
    bytes. Articles of 1–8 events, their rows interleaved with the next articles' within a few
    dozen rows as in the 15-minute files; real states (the gazetteer's), Zipf-skewed; every
    code of the CAMEO list, weighted by root; one actor missing in about one row in seven."""
    from diplograph.loader.gazetteer import all_states
    from diplograph.loader.importers.codes import code_lists

    rng = random.Random(seed)
    states = sorted(all_states(), key=lambda s: s.iso3)
    rng.shuffle(states)
    state_weights = [1 / (i + 1) for i in range(len(states))]
    by_root: dict[str, list[str]] = {}
    for code in code_lists().cameo_events:
        by_root.setdefault(code[:2], []).append(code)
    roots = list(_ROOT_WEIGHTS)
    root_weights = list(_ROOT_WEIGHTS.values())

    def actor() -> list[str]:
        if rng.random() < 0.07:
            return [""] * 10
        role = rng.choices([r for r, _ in _ROLES], [w for _, w in _ROLES])[0]
        if role == "KNOWN":
            code, name, kind = rng.choice(_KNOWN)
            return [code, name, "", code[3:6], "", "", "", kind, "", ""]
        state = rng.choices(states, state_weights)[0]
        return [state.iso3 + role, state.name.upper(), state.iso3, "", "", "", "", role, "", ""]

    def geo(kind: str, name: str, lat: float, lon: float, feature: str) -> list[str]:
        return [kind, name, "", "", "", f"{lat:.4f}", f"{lon:.4f}", feature]

    pending: list[str] = []
    written = 0
    event_id = 1_000_000_000
    article = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        while written < rows:
            article += 1
            day = 1 + (article * 7) // max(1, rows // 365 + 1) % 365
            date = time.strftime("%Y%m%d", time.gmtime(1672531200 + (day - 1) * 86400))
            url = f"https://news{article % 40}.example.org/{date}/story-{article}"
            for _ in range(min(rows - written, 1 + int(rng.expovariate(0.5)) % 8)):
                event_id += 1
                root = rng.choices(roots, root_weights)[0]
                code = rng.choice(by_root[root])
                quad = (
                    "1" if root <= "05" else "2" if root <= "09" else "3" if root <= "14" else "4"
                )
                low, high = _GOLDSTEIN[quad]
                mentions = rng.randint(1, 40)
                first, second = actor(), actor()
                place = rng.choices(states, state_weights)[0]
                city = rng.randint(1, 3)
                action = (
                    geo("4", f"{place.name} City {city}", rng.uniform(-60, 60),
                        rng.uniform(-180, 180), f"-{place.iso3}{city}")
                    if rng.random() < 0.8 else [""] * 8
                )  # fmt: skip
                fields = [
                    str(event_id), date, date[:6], date[:4], f"{date[:4]}.{day:03d}",
                    *first, *second, "1", code, code[:3], root, quad,
                    f"{rng.uniform(low, high):.1f}", str(mentions), str(rng.randint(1, 4)),
                    str(mentions), f"{rng.uniform(-10, 5):.4f}",
                    *([""] * 8), *([""] * 8), *action, f"{date}{rng.randint(0, 23):02d}1500", url,
                ]  # fmt: skip
                pending.append("\t".join(fields))
                written += 1
            if len(pending) > 40:  # rows of neighbouring articles interleave
                rng.shuffle(pending)
                out.write("\n".join(pending[:20]) + "\n")
                pending = pending[20:]
        if pending:
            out.write("\n".join(pending) + "\n")
    return path


def _deadline(hh_mm: str) -> float:
    """The epoch time of the next ``HH:MM`` UTC (today's, or tomorrow's when it has passed)."""
    hours, minutes = (int(part) for part in hh_mm.split(":"))
    now = time.time()
    today = now - now % 86400 + hours * 3600 + minutes * 60
    return today if today > now else today + 86400


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def step(name: str, source: Path, target: Path) -> dict[str, Any]:
    """One measurement, in this process: ``import``, ``convert`` or ``load``."""
    from diplograph.cli_options import allow_bulk_writes
    from diplograph.graph import Graph
    from diplograph.loader.config import load_settings
    from diplograph.loader.importers import ImportNotes, import_records
    from diplograph.loader.importers.readahead import worth_reading_ahead

    started = time.perf_counter()
    out: dict[str, Any] = {"step": name}
    if name == "convert":
        notes = ImportNotes()
        with open(target, "w", encoding="utf-8") as stream:
            for record in import_records("gdelt", [source], notes=notes):
                if record.document is not None:
                    stream.write(json.dumps(record.raw, ensure_ascii=False) + "\n")
        out.update(rows=notes.rows, documents=notes.documents, events=notes.events)
    else:
        shutil.rmtree(target, ignore_errors=True)
        with Graph(load_settings(store_path=target)) as graph:
            # As the CLI's `import` and `load` run: bulk writes, and the rows of a large file
            # converted in a second process.
            allow_bulk_writes(graph.store, True)
            if name == "import":
                report = graph.import_file(
                    "gdelt", source, read_ahead=worth_reading_ahead([source])
                )
            else:
                report = graph.load_file(source)
        out.update(
            documents=report.documents_loaded,
            rejected=report.documents_rejected,
            triples=report.triples_loaded,
        )
    out["seconds"] = round(time.perf_counter() - started, 2)
    out["peak_mb"] = round(_peak_mb())
    out["load_1min"] = round(os.getloadavg()[0], 2)
    return out


def _run_step(name: str, source: Path, target: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.importers", "--step", name, str(source), str(target)],
        capture_output=True,
        text=True,
        env=clean_env(),
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median wall time (of an odd number of runs; the faster middle one else)."""
    return sorted(runs, key=lambda r: r["seconds"])[(len(runs) - 1) // 2]


def table(results: dict[str, Any]) -> str:
    """The markdown table of one run."""
    rows = results["rows"]
    lines = [
        "| step | what | seconds | rows/s | documents/s | documents | peak RSS |",
        "|---|---|---|---|---|---|---|",
    ]
    what = {
        "import": "`diplograph import gdelt FILE` (convert + load)",
        "convert": "the importer alone, documents to JSON Lines (`--dry-run`)",
        "load": "`diplograph load` of those JSON Lines",
    }
    for r in results["steps"]:
        seconds = r["seconds"] or 1e-9
        per_row = f"{rows / seconds:,.0f}" if r["step"] != "load" else "–"
        lines.append(
            f"| {r['step']} | {what[r['step']]} | {r['seconds']:.1f} | {per_row} | "
            f"{r['documents'] / seconds:,.1f} | {r['documents']:,} | {r['peak_mb']:,} MB |"
        )
    return "\n".join(lines)


def _times(count: int) -> str:
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def _run_text(run: dict[str, Any]) -> str:
    load = run.get("load_1min")
    return f"{run['seconds']:.1f} s" + (f" (load {load:.1f})" if load is not None else "")


def write_doc(results: dict[str, Any]) -> None:
    """Replace (or append) this job's section of docs/benchmarks.md."""
    m = results["machine"]
    runs = results.get("runs") or {"import": [], "load": []}
    steps = {r["step"]: r for r in results["steps"]}
    ratio = (steps["import"]["documents"] / steps["import"]["seconds"]) / (
        steps["load"]["documents"] / steps["load"]["seconds"]
    )
    command = results.get("command") or (
        f"python -m bench.importers --rows {label(results['rows'])} --seed {results['seed']}"
    )
    section = (
        f"<!-- {MARKER}:begin -->\n"
        f"## Import of GDELT rows: {results['date']}\n\n"
        f"`{command}`: "
        f"{results['rows']:,} generated GDELT 2.0 event rows ({results['events']:,} events in "
        f"{results['documents']:,} article documents after the import left out what the facts "
        "format cannot name yet), each step in its own process into a fresh on-disk store. "
        f"Machine: {m.get('cpu', '?')}, {m.get('cores')} cores, {m.get('ram_gib')} GiB, "
        f"Python {m.get('python')}, shared with other sessions.\n\n"
        f"Import and load ran {_times(len(runs['import']))} each, alternating; the table shows "
        + ("the run of median time" if len(runs["import"]) > 1 else "that run")
        + " (all runs, with the 1-minute load average at their end: import "
        + ", ".join(_run_text(r) for r in runs["import"])
        + "; load "
        + ", ".join(_run_text(r) for r in runs["load"])
        + ").\n\n"
        f"{table(results)}\n\n"
        f"Import rate against loading the same documents directly: {ratio:.0%} "
        "(goal: at least 100%).\n"
        f"<!-- {MARKER}:end -->\n"
    )
    text = DOC.read_text(encoding="utf-8")
    begin, end = f"<!-- {MARKER}:begin -->", f"<!-- {MARKER}:end -->\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOC.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.importers", description=__doc__)
    parser.add_argument("--rows", default="10k", help="GDELT rows to generate (10k, 100k …)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--doc", action="store_true", help="write the table into the docs")
    parser.add_argument(
        "--repeat", type=int, default=3, help="import and load runs, alternating (median kept)"
    )
    parser.add_argument(
        "--until",
        metavar="HH:MM",
        help="UTC time the runs must end by: no further import and load pair is started when "
        "the last pair's time would take it past (at least one pair runs)",
    )
    parser.add_argument(
        "--step", nargs=3, metavar=("NAME", "SOURCE", "TARGET"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.step:
        name, source, target = args.step
        print(json.dumps(step(name, Path(source), Path(target))))
        return 0
    rows = parse_count(args.rows)
    data = generate_gdelt(rows, args.seed, OUT / "data" / f"gdelt-{label(rows)}-s{args.seed}.tsv")
    docs = OUT / "data" / f"gdelt-{label(rows)}-s{args.seed}.jsonl"
    results: dict[str, Any] = {
        "rows": rows,
        "seed": args.seed,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine(),
        "steps": [],
        "repeat": args.repeat,
        "command": " ".join(["python -m bench.importers", *(argv or sys.argv[1:])]),
    }
    convert = _run_step("convert", data, docs)
    print(json.dumps(convert), flush=True)
    runs: dict[str, list[dict[str, Any]]] = {"import": [], "load": []}
    deadline = _deadline(args.until) if args.until else None
    for repeat in range(args.repeat):  # alternating, so a busy spell of the machine hits both
        pair = sum(r["seconds"] for r in (*runs["import"][-1:], *runs["load"][-1:]))
        if repeat and deadline is not None and time.time() + pair > deadline:
            print(f"stopped after {repeat} pair(s): another would end after {args.until} UTC")
            break
        for name, source in (("import", data), ("load", docs)):
            result = _run_step(name, source, OUT / "stores" / f"{name}-gdelt-{label(rows)}")
            print(json.dumps(result), flush=True)
            runs[name].append(result)
    results["runs"] = runs
    results["steps"] = [_median(runs["import"]), convert, _median(runs["load"])]
    results.update(documents=convert["documents"], events=convert["events"])
    (OUT / f"importers-{label(rows)}.json").write_text(json.dumps(results, indent=2))
    print(table(results))
    if args.doc:
        write_doc(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
