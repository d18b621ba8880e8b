"""The query sections: medians per engine, the remote store (scale-out), the concurrency test."""

from __future__ import annotations

from bench.report.cells import (
    Add,
    Result,
    e2e_docs,
    failure_cell,
    is_ok,
    median_ms,
    ms_cell,
    num,
    query_median,
    query_rows,
    remote_block,
    sizes_of,
)


def queries_section(results: Result, add: Add) -> None:
    """Median query times per engine and size, with row-count mismatches marked."""
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
    for tag, entry in sizes_of(results):
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
            rows = query_rows(entry, "inprocess", q)
            cells = []
            for key, _ in targets:
                value = query_median(entry, key, q)
                other = query_rows(entry, key, q)
                mark = "†" if other is not None and rows is not None and other != rows else ""
                if value is None:
                    cells.append(failure_cell(entry, key, q))
                else:
                    cells.append(ms_cell(value) + mark + (f" ({other})" if mark else ""))
            a, b = query_median(entry, "inprocess", q), query_median(entry, "http", q)
            over = f"{b - a:+.2f}" if a is not None and b is not None else "—"
            add(f"| `{q}` | {num(rows)} | " + " | ".join(cells) + f" | {over} |")
        add("")


def scale_out_section(results: Result, add: Add) -> None:
    """Virtuoso as diplograph's remote store: load rate and query overhead."""
    rows = [(tag, e, r) for tag, e in sizes_of(results) if (r := remote_block(e)) is not None]
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
        remote_rate = e2e_docs(load) if isinstance(load, dict) else None
        local_rate = e2e_docs(e.get("probe_full", {}))
        ratio = remote_rate / local_rate if remote_rate and local_rate else None
        note = ""
        if isinstance(load, dict) and not is_ok(load):
            note = str(load.get("error", ""))[:200]
        elif isinstance(load, dict) and load.get("rejected"):
            note = f"{load['rejected']} rejected"
        add(
            f"| {tag} | {num(remote_rate, 1)} | {num(local_rate, 1)} | "
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
            virt = query_median(e, "virtuoso", q)
            ours = median_ms(block.get(q) if isinstance(block, dict) else None)
            over = f"{ours - virt:+.2f}" if ours is not None and virt is not None else "—"
            add(f"| `{q}` | {ms_cell(virt)} | {ms_cell(ours)} | {over} |")
        add("")


def concurrency_section(results: Result, add: Add) -> None:
    """The cheap lookup under concurrency (wrk)."""
    rows = []
    for tag, entry in sizes_of(results):
        for key, title in (("http", "diplograph"), ("virtuoso", "Virtuoso")):
            block = entry.get(key)
            if is_ok(block):
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
        if is_ok(r):
            add(
                f"| {tag} | {title} | {r['clients']} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | "
                f"{r['p99_ms']:.2f} | {r['non_2xx']} |"
            )
        else:
            add(f"| {tag} | {title} | | {r.get('error')} | | | |")
    add("")
