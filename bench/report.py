"""Markdown tables and the plot for ``docs/benchmarks.md``, from ``bench/out/results.json``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

Result = dict[str, Any]

STAGES = (
    "parse (read + pydantic)",
    "map",
    "validate",
    "neighbourhood (types_of)",
    "unchanged check",
    "commit",
    "other",
)


def _ok(r: Any) -> bool:
    return isinstance(r, dict) and bool(r.get("ok"))


def _num(value: float | None, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if digits == 0:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 10:
        return f"{value:.2f}"
    if value < 100:
        return f"{value:.1f}"
    return f"{value:,.0f}"


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def _mark(met: bool | None) -> str:
    return {True: "met", False: "**not met**", None: "not measured"}[met]


def _other(r: Any) -> str:
    """Cores busy with other processes during a step (machine busy minus our worker)."""
    if not _ok(r) or "busy_cores" not in r:
        return "—"
    return f"{max(r['busy_cores'] - r['own_cores'], 0.0):.1f}"


def _rate(r: Result, count_key: str, seconds_key: str) -> float | None:
    if not _ok(r) or not r.get(seconds_key):
        return None
    return float(r[count_key]) / float(r[seconds_key])


def _sizes(results: Result) -> list[tuple[str, Result]]:
    return sorted(results["sizes"].items(), key=lambda kv: kv[1]["docs"])


def _e2e_docs(r: Result) -> float | None:
    return _rate(r, "loaded", "total_s")


def _raw_docs(r: Result) -> float | None:
    return _rate(r, "docs", "insert_s")


def _load_ratio(entry: Result) -> float | None:
    e2e, raw = entry.get("diplograph", {}), entry.get("raw", {})
    a, b = _rate(e2e, "triples", "total_s"), _rate(raw, "quads", "insert_s")
    return a / b if a and b else None


def _probe_ratio(entry: Result) -> float | None:
    empty, full = entry.get("probe_empty", {}), entry.get("probe_full", {})
    if _ok(empty) and _ok(full) and empty.get("total_s"):
        return float(full["total_s"]) / float(empty["total_s"])
    return None


def _query_median(entry: Result, target: str, query: str) -> float | None:
    block = entry.get(target)
    if not target.startswith("inprocess"):
        block = block.get("queries", {}) if _ok(block) else {}
    r = (block or {}).get(query)
    return float(r["median_ms"]) if _ok(r) else None


def _query_rows(entry: Result, target: str, query: str) -> int | None:
    block = entry.get(target)
    if not target.startswith("inprocess"):
        block = block.get("queries", {}) if _ok(block) else {}
    r = (block or {}).get(query)
    return int(r["rows"]) if _ok(r) else None


# ------------------------------------------------------------------------------------------------


def render_markdown(results: Result) -> str:
    out: list[str] = []
    add = out.append
    m = results["machine"]
    s = results["settings"]
    add(f"## Run of {results['date']}\n")
    commands = results.get("commands") or [results["command"]]
    if len(commands) == 1:
        add(f"Command: `{commands[0]}` (from the repository root, in its venv).\n")
    else:
        add(
            "Commands (from the repository root, in its venv; the second resumed the first, "
            "keeping the sizes it had finished):\n"
        )
        add("\n".join(f"- `{c}`" for c in commands) + "\n")
    packages = ", ".join(f"{k} {v}" for k, v in m.get("packages", {}).items())
    add(
        f"Machine: {m.get('cpu', '?')}, {m.get('cores', '?')} cores, "
        f"{m.get('ram_gib', '?')} GiB RAM, {m.get('os', '?')}, kernel {m.get('kernel', '?')}; "
        f"Python {m.get('python', '?')}; {packages}"
        + (f"; Virtuoso {m['virtuoso']}" if m.get("virtuoso") else "")
        + ".\n"
    )
    add(
        f"Settings: seed {s['seed']}, batch size {s['batch_size']} documents, queries timed as "
        f"the median of {s['repeat']} runs after a warm-up (one run when the warm-up took over "
        f"20 s), {s['probe_docs']} documents for the store-size probe, each step capped at "
        f"{s['step_timeout_s']:.0f} s and each query at {s['query_timeout_s']:.0f} s. "
        + (f"Whole run: {results['elapsed_s'] / 60:.0f} min. " if "elapsed_s" in results else "")
        + "Every step runs in a fresh subprocess; the 1-minute load average at its start and "
        "end is in `bench/out/results.json`.\n"
    )
    _goals(results, add)
    _data(results, add)
    _loading(results, add)
    _stages(results, add)
    _profile(results, add)
    _probe(results, add)
    _baseline(results, add)
    _queries(results, add)
    _scale_out(results, add)
    _concurrency(results, add)
    _unfinished(results, add)
    return "\n".join(out).rstrip() + "\n"


def _goals(results: Result, add: Any) -> None:
    sizes = _sizes(results)
    add("### Goals at a glance\n")
    add("| goal (issue 5) | measured | verdict |")
    add("|---|---|---|")
    for tag, entry in sizes:
        ratio = _load_ratio(entry)
        add(
            f"| validated load ≥ 25% of the raw insert rate ({tag}) | "
            f"{'—' if ratio is None else f'{ratio:.1%}'} | "
            f"{_mark(None if ratio is None else ratio >= 0.25)} |"
        )
    probed = [(tag, e) for tag, e in sizes if _probe_ratio(e) is not None]
    if probed:
        tag, entry = probed[-1]
        ratio = _probe_ratio(entry)
        add(
            f"| 1k documents into a store of {tag} documents ≤ 1.5× into an empty store "
            f"(goal stated for 100k) | {_ratio(ratio)} | "
            f"{_mark(None if ratio is None else ratio <= 1.5)} |"
        )
    for tag, entry in sizes:
        base, e2e = entry.get("baseline"), entry.get("diplograph")
        if _ok(base) and _ok(e2e) and e2e.get("finished"):
            speed = float(base["total_s"]) / float(e2e["total_s"])
            add(
                f"| ≥ 10× faster than map-then-validate-the-whole-graph ({tag}; goal stated "
                f"for 10k) | {speed:.2f}× | {_mark(speed >= 10)} |"
            )
    rss = {tag: e["diplograph"].get("vmhwm_mb") for tag, e in sizes if _ok(e.get("diplograph"))}
    if "10k" in rss and "100k" in rss:
        ratio = rss["100k"] / rss["10k"]
        add(f"| peak RSS loading 100k ≤ 1.5× loading 10k | {ratio:.2f}× | {_mark(ratio <= 1.5)} |")
    for tag, entry in sizes:
        over = []
        for q in results["queries"]:
            a, b = _query_median(entry, "inprocess", q), _query_median(entry, "http", q)
            if a is not None and b is not None:
                over.append(b - a)
        if over:
            n_ok = sum(1 for x in over if x <= 2.0)
            add(
                f"| HTTP overhead ≤ in-process + 2 ms, every query ({tag}) | {n_ok} of "
                f"{len(over)} queries within; worst +{max(over):.1f} ms | "
                f"{_mark(n_ok == len(over))} |"
            )
        ratios = []
        slower = []
        for q in results["queries"]:
            ours = _query_median(entry, "http", q)
            rdf = _query_median(entry, "rdflib_endpoint", q)
            virt = _query_median(entry, "virtuoso", q)
            if ours and rdf:
                ratios.append(rdf / ours)
            if ours and virt and ours > virt:
                slower.append(q)
        if ratios:
            med = sorted(ratios)[len(ratios) // 2]
            add(
                f"| ≥ 10× faster than rdflib-endpoint, median over the queries ({tag}) | "
                f"{med:.1f}× | {_mark(med >= 10)} |"
            )
        if _ok(entry.get("virtuoso")) and _ok(entry.get("http")):
            n = sum(1 for q in results["queries"] if _query_median(entry, "virtuoso", q))
            add(
                f"| no slower than Virtuoso on every query ({tag}) | slower on "
                f"{len(slower)} of {n}"
                + (f": {', '.join(slower)}" if slower else "")
                + f" | {_mark(not slower)} |"
            )
            behind = _slower_questions(results["queries"], entry)
            if behind is not None:
                add(
                    f"| no slower than Virtuoso on every analyst question, each answered by its "
                    f"faster query, from the summary where there is one ({tag}) | slower on "
                    f"{len(behind)}"
                    + (f": {', '.join(behind)}" if behind else "")
                    + f" | {_mark(not behind)} |"
                )
            remote = _remote(entry)
            load = remote.get("load") if remote else None
            remote_rate = _e2e_docs(load) if isinstance(load, dict) else None
            local_rate = _e2e_docs(entry.get("probe_full", {}))
            if remote_rate and local_rate:
                share = remote_rate / local_rate
                add(
                    f"| validated load through the remote store ≥ 50% of the embedded rate "
                    f"({tag}) | {share:.0%} | {_mark(share >= 0.5)} |"
                )
            if remote and isinstance(remote.get("queries"), dict):
                overs = []
                for q in results["queries"]:
                    virt = _query_median(entry, "virtuoso", q)
                    hit = remote["queries"].get(q)
                    if virt is not None and _ok(hit):
                        overs.append(float(hit["median_ms"]) - virt)
                if overs:
                    n_ok = sum(1 for x in overs if x <= 2.0)
                    add(
                        f"| queries through the remote store within +2 ms of Virtuoso ({tag}) "
                        f"| {n_ok} of {len(overs)}; worst {max(overs):+.1f} ms | "
                        f"{_mark(n_ok == len(overs))} |"
                    )
            ours16 = _conc(entry.get("http"), 16)
            virt16 = _conc(entry.get("virtuoso"), 16)
            if ours16 and virt16:
                share = ours16["rps"] / virt16["rps"]
                add(
                    f"| cheap lookup at 16 clients ≥ ½ of Virtuoso's req/s ({tag}) | "
                    f"{share:.2f} of Virtuoso (p99 {ours16['p99_ms']:.1f} ms vs "
                    f"{virt16['p99_ms']:.1f} ms) | {_mark(share >= 0.5)} |"
                )
    add("")


def _slower_questions(queries: Sequence[str], entry: Result) -> list[str] | None:
    """The questions on which diplograph's faster form (over HTTP) is slower than Virtuoso's
    faster form of the same question; a ``*_summary`` query is another form of its question.
    None when no question was measured on both."""
    forms: dict[str, list[str]] = {}
    for q in queries:
        forms.setdefault(q.removesuffix("_summary"), []).append(q)
    behind, measured = [], 0
    for question, names in forms.items():
        ours = [m for q in names if (m := _query_median(entry, "http", q)) is not None]
        theirs = [m for q in names if (m := _query_median(entry, "virtuoso", q)) is not None]
        if ours and theirs:
            measured += 1
            if min(ours) > min(theirs):
                behind.append(question)
    return behind if measured else None


def _conc(block: Any, clients: int) -> Result | None:
    if not _ok(block):
        return None
    for r in block.get("concurrency", []):
        if _ok(r) and r.get("clients") == clients:
            return dict(r)
    return None


def _data(results: Result, add: Any) -> None:
    add("### Data\n")
    add(
        "Generated by `python -m bench.generate --docs N --seed 1` (see bench/README.md): "
        "5–15 facts per document, Zipf-skewed actors, about a quarter of the documents "
        "re-reporting an event of another. Quads are what the store holds after the load "
        "(ontology graph included). The union is the set of distinct triples diplograph keeps "
        "in the store's default graph (docs/stores.md); *build* is how long opening a store "
        "without it took to build it, and *summary* how long building the summary graph "
        "(docs/mapping.md) from scratch took.\n"
    )
    add(
        "| documents | JSONL size | quads in the named graphs | quads per document | "
        "union: triples | union: build s | summary: build s |"
    )
    add("|---|---|---|---|---|---|---|")
    for tag, entry in _sizes(results):
        raw = entry.get("raw", {})
        quads = raw.get("store_quads") if _ok(raw) else None
        per = (raw["quads"] / raw["docs"]) if _ok(raw) and raw.get("docs") else None
        union = entry.get("union", {})
        u_quads = union.get("union_quads") if _ok(union) else None
        u_s = union.get("union_s") if _ok(union) else None
        s_s = union.get("summary_s") if _ok(union) else None
        add(
            f"| {tag} | {_num(entry.get('file_mb'), 1)} MB | {_num(quads)} | {_num(per)} | "
            f"{_num(u_quads)} | {_num(u_s, 1)} | {_num(s_s, 1)} |"
        )
    add("")


def _loading(results: Result, add: Any) -> None:
    add("### Loading\n")
    add(
        "Raw insert = the same quads (mapped by `loader.mapping` beforehand, untimed) written "
        "with `pyoxigraph.Store.extend`, one call per batch, into an on-disk store: the floor. "
        "diplograph = `Loader.load` end to end (read, parse, map, SHACL-validate, commit) into "
        "an on-disk store. Peak RSS is the worker process's `VmHWM` (the raw worker streams "
        "too: it maps one batch at a time). *Other load* is how many cores other processes "
        "kept busy during the step (from /proc/stat, minus our worker's CPU time): the machine "
        "is shared, and a step with other load above ~0.3 cores ran slower than it would "
        "alone.\n"
    )
    add(
        "| documents | raw insert: docs/s | raw: quads/s | diplograph: docs/s | "
        "diplograph: triples/s | ratio (goal ≥ 25%) | peak RSS raw | peak RSS diplograph | "
        "other load, cores (raw / diplograph) | notes |"
    )
    add("|---|---|---|---|---|---|---|---|---|---|")
    for tag, entry in _sizes(results):
        raw, e2e = entry.get("raw", {}), entry.get("diplograph", {})
        ratio = _load_ratio(entry)
        notes = []
        for name, r in (("raw", raw), ("diplograph", e2e)):
            if not _ok(r):
                notes.append(f"{name}: {r.get('error', 'not run')}")
            elif not r.get("finished", True):
                notes.append(
                    f"{name} stopped at the time limit after {r.get('loaded', r.get('docs'))} "
                    "documents (rates are over those)"
                )
        if _ok(e2e) and e2e.get("rejected"):
            notes.append(f"{e2e['rejected']} rejected")
        complete = _ok(raw) and _ok(e2e) and raw.get("finished") and e2e.get("finished")
        if complete and raw.get("store_quads") != e2e.get("store_quads"):
            notes.append(
                f"stores differ: {raw.get('store_quads')} vs {e2e.get('store_quads')} quads"
            )
        add(
            f"| {tag} | {_num(_raw_docs(raw))} | {_num(_rate(raw, 'quads', 'insert_s'))} | "
            f"{_num(_e2e_docs(e2e))} | {_num(_rate(e2e, 'triples', 'total_s'))} | "
            f"{'—' if ratio is None else f'{ratio:.1%}'} | "
            f"{_num(raw.get('vmhwm_mb') if _ok(raw) else None)} MB | "
            f"{_num(e2e.get('vmhwm_mb') if _ok(e2e) else None)} MB | "
            f"{_other(raw)} / {_other(e2e)} | {'; '.join(notes)} |"
        )
    add("")


def _stages(results: Result, add: Any) -> None:
    rows = [(tag, e["diplograph"]) for tag, e in _sizes(results) if _ok(e.get("diplograph"))]
    if _ok(results.get("profile")):
        rows.insert(
            0, (f"{results['profile'].get('docs_n', '')} (profiled run)", results["profile"])
        )
    if not rows:
        return
    add("### Where the load time goes\n")
    add(
        "Wall time per stage of `Loader.load`, from timers wrapped around the functions the "
        "loader calls (`read_path`'s iterator, `map_document`, `Validator.validate`, "
        "`Store.types_of`, `Store.graph_triples`, `Store.commit`); *other* is the rest of the "
        "loader (batching, comparisons, building the validation input). Seconds (share).\n"
    )
    add("| documents | total s | " + " | ".join(STAGES) + " |")
    add("|---|---|" + "---|" * len(STAGES))
    for tag, r in rows:
        total = float(r["total_s"])
        cells = []
        for stage in STAGES:
            value = r.get("stages_s", {}).get(stage)
            cells.append("—" if value is None else f"{value:.1f} ({value / total:.0%})")
        add(f"| {tag} | {total:.1f} | " + " | ".join(cells) + " |")
    add("")


def _profile(results: Result, add: Any) -> None:
    p = results.get("profile")
    if not _ok(p) or not p.get("excerpt"):
        return
    add(f"### Profile of a {p.get('docs_n', '')}-document load (pyinstrument, top)\n")
    add("The full report is written to `bench/out/profile-*.txt` and `.html` (not committed).\n")
    add("```text")
    add(p["excerpt"])
    add("```\n")


def _probe(results: Result, add: Any) -> None:
    rows = [(tag, e) for tag, e in _sizes(results) if "probe_empty" in e]
    if not rows:
        return
    add("### Validation cost against store size\n")
    add(
        "The same 1k documents (the ones that follow the data set in the generator's stream: "
        "same world, later dates) loaded end to end into an empty store and into the store "
        "holding the data set. Goal: at most 1.5× (stated for a store of 100k documents).\n"
    )
    add(
        "| store holds | empty: total s | empty: validate s | full: total s | full: validate s | "
        "full: neighbourhood s | ratio full/empty | other load, cores (empty / full) |"
    )
    add("|---|---|---|---|---|---|---|---|")
    for tag, e in rows:
        empty, full = e["probe_empty"], e["probe_full"]

        def stage(r: Result, name: str) -> str:
            return _num(r.get("stages_s", {}).get(name), 1) if _ok(r) else "—"

        add(
            f"| {tag} documents ({_num(full.get('store_quads_before'))} quads) | "
            f"{_num(empty.get('total_s'), 1) if _ok(empty) else empty.get('error')} | "
            f"{stage(empty, 'validate')} | "
            f"{_num(full.get('total_s'), 1) if _ok(full) else full.get('error')} | "
            f"{stage(full, 'validate')} | {stage(full, 'neighbourhood (types_of)')} | "
            f"{_ratio(_probe_ratio(e))} | {_other(empty)} / {_other(full)} |"
        )
    add("")


def _baseline(results: Result, add: Any) -> None:
    rows = [(tag, e) for tag, e in _sizes(results) if "baseline" in e]
    if not rows:
        return
    add("### Map, then validate the whole graph\n")
    add(
        "What a user would otherwise assemble: map every document (here with diplograph's own "
        "mapping, standing in for a generic mapper such as Morph-KGC, whose share of the time is "
        "small either way), validate the union graph once with pySHACL (same shapes and "
        "ontology, no focus nodes), then insert. Goal: diplograph ≥ 10× faster at 10k.\n"
    )
    add(
        "| documents | distinct triples | map s | pySHACL s | insert s | total s | "
        "peak RSS | diplograph s | diplograph faster by |"
    )
    add("|---|---|---|---|---|---|---|---|---|")
    for tag, e in rows:
        b, d = e["baseline"], e.get("diplograph", {})
        if not _ok(b):
            add(f"| {tag} | {b.get('error')} | | | | | | | |")
            continue
        speed = float(b["total_s"]) / float(d["total_s"]) if _ok(d) and d.get("finished") else None
        add(
            f"| {tag} | {_num(b['union_triples'])} | {b['map_s']:.1f} | {b['validate_s']:.1f} | "
            f"{b['insert_s']:.1f} | {b['total_s']:.1f} | {_num(b.get('vmhwm_mb'))} MB | "
            f"{_num(d.get('total_s'), 1) if _ok(d) else '—'} | {_ratio(speed)} |"
        )
    add("")


def _queries(results: Result, add: Any) -> None:
    add("### Queries (median ms)\n")
    add(
        "*pyoxigraph, bag union* = pyoxigraph on the store as the raw insert wrote it, with "
        "Oxigraph's own union of the named graphs as the default graph (a bag: a triple that N "
        "documents assert matches N times): the engine alone. *pyoxigraph in process* = the "
        "same store once diplograph has materialized the union as a set in its default graph "
        "(docs/stores.md; the build time is under *Data*): the floor for the HTTP overhead. "
        "Every row consumed. Queries named `*_summary` read the summary graph "
        "(docs/mapping.md). HTTP = GET with httpx (keep-alive) until the whole "
        "body is received; SPARQL JSON results, N-Triples for CONSTRUCT. Rows = solutions "
        "(distinct triples for CONSTRUCT); a cell is marked † where an engine's row count "
        "differs from pyoxigraph's.\n"
    )
    names = results["queries"]
    add("| query | |\n|---|---|")
    for q, title in names.items():
        add(f"| `{q}` | {title} |")
    add("")
    for tag, entry in _sizes(results):
        if "inprocess" not in entry:
            continue
        targets = [("inprocess", "pyoxigraph in process"), ("http", "diplograph HTTP")]
        if "inprocess_bag" in entry:
            targets.insert(0, ("inprocess_bag", "pyoxigraph, bag union"))
        for key, title in (("virtuoso", "Virtuoso HTTP"), ("rdflib_endpoint", "rdflib-endpoint")):
            if key in entry:
                targets.append((key, title))
        add(f"#### {tag} documents\n")
        add("| query | rows | " + " | ".join(t for _, t in targets) + " | HTTP overhead |")
        add("|---|---|" + "---|" * len(targets) + "---|")
        for q in names:
            rows = _query_rows(entry, "inprocess", q)
            cells = []
            for key, _ in targets:
                value = _query_median(entry, key, q)
                other = _query_rows(entry, key, q)
                mark = "†" if other is not None and rows is not None and other != rows else ""
                if value is None:
                    cells.append(_failure(entry, key, q))
                else:
                    cells.append(_ms(value) + mark + (f" ({other})" if mark else ""))
            a, b = _query_median(entry, "inprocess", q), _query_median(entry, "http", q)
            over = f"{b - a:+.2f}" if a is not None and b is not None else "—"
            add(f"| `{q}` | {_num(rows)} | " + " | ".join(cells) + f" | {over} |")
        add("")


def _remote(entry: Result) -> Result | None:
    virtuoso = entry.get("virtuoso")
    if not _ok(virtuoso) or not isinstance(virtuoso.get("remote"), dict):
        return None
    return virtuoso["remote"]  # type: ignore[no-any-return]


def _scale_out(results: Result, add: Any) -> None:
    rows = [(tag, e, r) for tag, e in _sizes(results) if (r := _remote(e)) is not None]
    if not rows:
        return
    add("### Scale-out: Virtuoso as diplograph's remote store\n")
    add(
        "The Virtuoso of the query runs, driven by diplograph over the standard protocols "
        "(`DIPLOGRAPH_STORE=remote`, SPARQL 1.1 Query and Update at `/sparql-auth`, the Graph "
        "Store Protocol at `/sparql-graph-crud-auth`). *Load*: the probe documents (the ones "
        "that follow the data set) loaded end to end, validated, into the Virtuoso holding the "
        "data set, against the same documents into the embedded store holding the same data. "
        "Goal: ≥ 50% of the embedded rate.\n"
    )
    add("| data set | remote: docs/s | embedded: docs/s | ratio (goal ≥ 50%) | notes |")
    add("|---|---|---|---|---|")
    for tag, e, r in rows:
        load = r.get("load")
        remote_rate = _e2e_docs(load) if isinstance(load, dict) else None
        local_rate = _e2e_docs(e.get("probe_full", {}))
        ratio = remote_rate / local_rate if remote_rate and local_rate else None
        note = ""
        if isinstance(load, dict) and not _ok(load):
            note = str(load.get("error", ""))[:200]
        elif isinstance(load, dict) and load.get("rejected"):
            note = f"{load['rejected']} rejected"
        add(
            f"| {tag} | {_num(remote_rate, 1)} | {_num(local_rate, 1)} | "
            f"{'—' if ratio is None else f'{ratio:.0%}'} | {note} |"
        )
    add("")
    add(
        "*Queries*: median ms over HTTP, Virtuoso's own endpoint against `diplograph serve` "
        "forwarding the same query to it (goal: within the HTTP overhead, here taken as "
        "+2 ms).\n"
    )
    for tag, e, r in rows:
        add(f"#### {tag} documents\n")
        add("| query | Virtuoso HTTP | diplograph → Virtuoso | overhead ms |")
        add("|---|---|---|---|")
        block = r.get("queries", {})
        for q in results["queries"]:
            virt = _query_median(e, "virtuoso", q)
            hit = block.get(q) if isinstance(block, dict) else None
            ours = float(hit["median_ms"]) if _ok(hit) else None
            over = f"{ours - virt:+.2f}" if ours is not None and virt is not None else "—"
            add(f"| `{q}` | {_ms(virt)} | {_ms(ours)} | {over} |")
        add("")


def _failure(entry: Result, key: str, query: str) -> str:
    block = entry.get(key)
    if not key.startswith("inprocess"):
        if not _ok(block):
            return "—"
        block = block.get("queries", {})
    r = (block or {}).get(query)
    if not r:
        return "—"
    error = str(r.get("error", ""))
    if "timeout" in error.lower() or "timed out" in error.lower():
        return "timeout"
    if error == "skipped":
        return "skipped"
    return "error"


def _concurrency(results: Result, add: Any) -> None:
    rows = []
    for tag, entry in _sizes(results):
        for key, title in (("http", "diplograph"), ("virtuoso", "Virtuoso")):
            block = entry.get(key)
            if _ok(block):
                for r in block.get("concurrency", []):
                    rows.append((tag, title, r))
    if not rows:
        return
    add("### Cheap lookup under concurrency\n")
    add(
        "`q02_entity_properties` over GET with wrk (same machine, so these are floors: wrk "
        "shares the cores with the server).\n"
    )
    add("| documents | endpoint | clients | req/s | p50 ms | p99 ms | non-2xx |")
    add("|---|---|---|---|---|---|---|")
    for tag, title, r in rows:
        if _ok(r):
            add(
                f"| {tag} | {title} | {r['clients']} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | "
                f"{r['p99_ms']:.2f} | {r['non_2xx']} |"
            )
        else:
            add(f"| {tag} | {title} | | {r.get('error')} | | | |")
    add("")


def _unfinished(results: Result, add: Any) -> None:
    problems = []
    for tag, entry in _sizes(results):
        for key, r in entry.items():
            if isinstance(r, dict) and "ok" in r and not r["ok"]:
                problems.append(f"- {tag} {key}: {r.get('error')}")
            elif isinstance(r, dict) and r.get("finished") is False:
                problems.append(f"- {tag} {key}: stopped at the step's time limit")
    if _ok(results.get("profile")) is False and "profile" in results:
        problems.append(f"- profile: {results['profile'].get('error')}")
    add("### What did not finish\n")
    add("\n".join(problems) if problems else "Everything finished within its limits.")
    add("")


# ------------------------------------------------------------------------------------------------


def plot(results: Result, path: Path) -> None:
    """Load time and query time against data size (log–log), as one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = _sizes(results)
    fig, (left, right, bars) = plt.subplots(
        1, 3, figsize=(19, 5.6), gridspec_kw={"width_ratios": [1, 1, 1.2]}
    )
    series = {
        "raw pyoxigraph insert": lambda e: (
            e.get("raw", {}).get("insert_s")
            if _ok(e.get("raw")) and e["raw"].get("finished")
            else None
        ),
        "diplograph end to end": lambda e: (
            e.get("diplograph", {}).get("total_s")
            if _ok(e.get("diplograph")) and e["diplograph"].get("finished")
            else None
        ),
        "map + whole-graph pySHACL": lambda e: (
            e.get("baseline", {}).get("total_s") if _ok(e.get("baseline")) else None
        ),
    }
    for name, get in series.items():
        points = [(e["docs"], get(e)) for _, e in sizes if get(e)]
        if points:
            xs, ys = zip(*points, strict=True)
            left.plot(xs, ys, marker="o", label=name)
    left.set(
        xscale="log", yscale="log", xlabel="documents", ylabel="seconds", title="Loading: wall time"
    )
    left.grid(True, which="both", alpha=0.3)
    left.legend()
    for q in results["queries"]:
        points = []
        for _, e in sizes:
            value = _query_median(e, "inprocess", q)
            if value is not None:
                points.append((e["docs"], value))
        if points:
            xs, ys = zip(*points, strict=True)
            right.plot(xs, ys, marker="o", label=q)
    right.set(
        xscale="log",
        yscale="log",
        xlabel="documents",
        ylabel="median ms",
        title="Queries: pyoxigraph in process",
    )
    right.grid(True, which="both", alpha=0.3)
    right.legend(fontsize=7)
    with_queries = [(tag, e) for tag, e in sizes if "inprocess" in e]
    if with_queries:
        tag, entry = with_queries[-1]
        targets = [
            (key, name)
            for key, name in (
                ("inprocess_bag", "pyoxigraph, bag union"),
                ("inprocess", "pyoxigraph in process"),
                ("http", "diplograph HTTP"),
                ("virtuoso", "Virtuoso HTTP"),
                ("rdflib_endpoint", "rdflib-endpoint"),
            )
            if key in entry
        ]
        names = list(results["queries"])
        width = 0.8 / max(len(targets), 1)
        for i, (key, name) in enumerate(targets):
            values = [_query_median(entry, key, q) or 0.0 for q in names]
            xs = [j + i * width for j in range(len(names))]
            bars.bar(xs, values, width=width, label=name)
        bars.set_xticks([j + 0.4 - width / 2 for j in range(len(names))])
        bars.set_xticklabels([q.split("_", 1)[0] for q in names])
        bars.set(
            yscale="log",
            ylabel="median ms (missing bar: timeout or not run)",
            title=f"Queries at {tag} documents",
        )
        bars.grid(True, axis="y", which="both", alpha=0.3)
        bars.legend(fontsize=8)
    fig.suptitle(f"diplograph benchmarks, {results['date']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
