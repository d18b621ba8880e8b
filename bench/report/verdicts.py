"""The verdicts: each goal of issue 5 against what was measured ("Goals at a glance")."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bench.report.cells import (
    Add,
    Result,
    at_clients,
    e2e_docs,
    is_ok,
    load_ratio,
    median_ms,
    probe_ratio,
    query_median,
    ratio_cell,
    remote_block,
    sizes_of,
    verdict,
)

#: The HTTP overhead a query may add to the engine answering it, in ms.
OVERHEAD_MS = 2.0

Median = Callable[[str], float | None]


def goals_section(results: Result, add: Add) -> None:
    """Goals at a glance: each goal of issue 5, measured, with its verdict."""
    add("### Goals at a glance\n")
    add("| goal (issue 5) | measured | verdict |")
    add("|---|---|---|")
    _loading_goals(sizes_of(results), add)
    for tag, entry in sizes_of(results):
        _query_goals(list(results["queries"]), tag, entry, add)
    add("")


def _loading_goals(sizes: list[tuple[str, Result]], add: Add) -> None:
    for tag, entry in sizes:
        ratio = load_ratio(entry)
        add(
            f"| validated load ≥ 25% of the raw insert rate ({tag}) | "
            f"{'—' if ratio is None else f'{ratio:.1%}'} | "
            f"{verdict(None if ratio is None else ratio >= 0.25)} |"
        )
    probed = [(tag, e) for tag, e in sizes if probe_ratio(e) is not None]
    if probed:
        tag, entry = probed[-1]
        ratio = probe_ratio(entry)
        add(
            f"| 1k documents into a store of {tag} documents ≤ 1.5× into an empty store "
            f"(goal stated for 100k) | {ratio_cell(ratio)} | "
            f"{verdict(None if ratio is None else ratio <= 1.5)} |"
        )
    for tag, entry in sizes:
        base, e2e = entry.get("baseline"), entry.get("diplograph")
        if is_ok(base) and is_ok(e2e) and e2e.get("finished"):
            speed = float(base["total_s"]) / float(e2e["total_s"])
            add(
                f"| ≥ 10× faster than map-then-validate-the-whole-graph ({tag}; goal stated "
                f"for 10k) | {speed:.2f}× | {verdict(speed >= 10)} |"
            )
    rss = {tag: e["diplograph"].get("vmhwm_mb") for tag, e in sizes if is_ok(e.get("diplograph"))}
    if "10k" in rss and "100k" in rss:
        ratio = rss["100k"] / rss["10k"]
        met = verdict(ratio <= 1.5)
        add(f"| peak RSS loading 100k ≤ 1.5× loading 10k | {ratio:.2f}× | {met} |")


def _overheads(queries: Sequence[str], slow: Median, fast: Median) -> list[float]:
    """``slow - fast`` in ms for every query measured both ways."""
    out = []
    for q in queries:
        a, b = fast(q), slow(q)
        if a is not None and b is not None:
            out.append(b - a)
    return out


def _median_on(entry: Result, target: str) -> Median:
    return lambda q: query_median(entry, target, q)


def _query_goals(queries: list[str], tag: str, entry: Result, add: Add) -> None:
    over = _overheads(queries, _median_on(entry, "http"), _median_on(entry, "inprocess"))
    if over:
        n_ok = sum(1 for x in over if x <= OVERHEAD_MS)
        add(
            f"| HTTP overhead ≤ in-process + 2 ms, every query ({tag}) | {n_ok} of "
            f"{len(over)} queries within; worst +{max(over):.1f} ms | "
            f"{verdict(n_ok == len(over))} |"
        )
    ratios = []
    for q in queries:
        ours, rdf = query_median(entry, "http", q), query_median(entry, "rdflib_endpoint", q)
        if ours and rdf:
            ratios.append(rdf / ours)
    if ratios:
        med = sorted(ratios)[len(ratios) // 2]
        add(
            f"| ≥ 10× faster than rdflib-endpoint, median over the queries ({tag}) | "
            f"{med:.1f}× | {verdict(med >= 10)} |"
        )
    if is_ok(entry.get("virtuoso")) and is_ok(entry.get("http")):
        _virtuoso_goals(queries, tag, entry, add)


def _virtuoso_goals(queries: list[str], tag: str, entry: Result, add: Add) -> None:
    slower = []
    for q in queries:
        ours, virt = query_median(entry, "http", q), query_median(entry, "virtuoso", q)
        if ours and virt and ours > virt:
            slower.append(q)
    n = sum(1 for q in queries if query_median(entry, "virtuoso", q))
    add(
        f"| no slower than Virtuoso on every query ({tag}) | slower on "
        f"{len(slower)} of {n}"
        + (f": {', '.join(slower)}" if slower else "")
        + f" | {verdict(not slower)} |"
    )
    behind = slower_questions(queries, entry)
    if behind is not None:
        add(
            f"| no slower than Virtuoso on every analyst question, each answered by its "
            f"faster query, from the summary where there is one ({tag}) | slower on "
            f"{len(behind)}"
            + (f": {', '.join(behind)}" if behind else "")
            + f" | {verdict(not behind)} |"
        )
    _remote_goals(queries, tag, entry, add)
    ours16 = at_clients(entry.get("http"), 16)
    virt16 = at_clients(entry.get("virtuoso"), 16)
    if ours16 and virt16:
        share = ours16["rps"] / virt16["rps"]
        add(
            f"| cheap lookup at 16 clients ≥ ½ of Virtuoso's req/s ({tag}) | "
            f"{share:.2f} of Virtuoso (p99 {ours16['p99_ms']:.1f} ms vs "
            f"{virt16['p99_ms']:.1f} ms) | {verdict(share >= 0.5)} |"
        )


def _remote_goals(queries: list[str], tag: str, entry: Result, add: Add) -> None:
    remote = remote_block(entry)
    load = remote.get("load") if remote else None
    remote_rate = e2e_docs(load) if isinstance(load, dict) else None
    local_rate = e2e_docs(entry.get("probe_full", {}))
    if remote_rate and local_rate:
        share = remote_rate / local_rate
        add(
            f"| validated load through the remote store ≥ 50% of the embedded rate "
            f"({tag}) | {share:.0%} | {verdict(share >= 0.5)} |"
        )
    if not (remote and isinstance(remote.get("queries"), dict)):
        return
    hits = remote["queries"]
    overs = _overheads(queries, lambda q: median_ms(hits.get(q)), _median_on(entry, "virtuoso"))
    if overs:
        n_ok = sum(1 for x in overs if x <= OVERHEAD_MS)
        add(
            f"| queries through the remote store within +2 ms of Virtuoso ({tag}) "
            f"| {n_ok} of {len(overs)}; worst {max(overs):+.1f} ms | "
            f"{verdict(n_ok == len(overs))} |"
        )


def slower_questions(queries: Sequence[str], entry: Result) -> list[str] | None:
    """The questions on which diplograph's faster form (over HTTP) is slower than Virtuoso's
    faster form of the same question; the queries of one number (``q05_…``, ``q05_…_summary``,
    ``q05_…_summary_scans``) are forms of one question, named by its full form (the shortest
    name). None when no question was measured on both."""
    forms: dict[str, list[str]] = {}
    for q in queries:
        forms.setdefault(q.split("_", 1)[0], []).append(q)
    behind, measured = [], 0
    for names in forms.values():
        question = min(names, key=len)
        ours = [m for q in names if (m := query_median(entry, "http", q)) is not None]
        theirs = [m for q in names if (m := query_median(entry, "virtuoso", q)) is not None]
        if ours and theirs:
            measured += 1
            if min(ours) > min(theirs):
                behind.append(question)
    return behind if measured else None
