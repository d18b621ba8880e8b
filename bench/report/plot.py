"""The PNG next to the report: load time and query time against data size, and the engines'
query times at the largest size."""

from __future__ import annotations

from pathlib import Path

from bench.report.cells import Result, is_ok, query_median, sizes_of


def plot(results: Result, path: Path) -> None:
    """Load time and query time against data size (log–log), as one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sizes_of(results)
    fig, (left, right, bars) = plt.subplots(
        1, 3, figsize=(19, 5.6), gridspec_kw={"width_ratios": [1, 1, 1.2]}
    )
    series = {
        "raw pyoxigraph insert": lambda e: (
            e.get("raw", {}).get("insert_s")
            if is_ok(e.get("raw")) and e["raw"].get("finished")
            else None
        ),
        "diplograph end to end": lambda e: (
            e.get("diplograph", {}).get("total_s")
            if is_ok(e.get("diplograph")) and e["diplograph"].get("finished")
            else None
        ),
        "map + whole-graph pySHACL": lambda e: (
            e.get("baseline", {}).get("total_s") if is_ok(e.get("baseline")) else None
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
            value = query_median(e, "inprocess", q)
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
            values = [query_median(entry, key, q) or 0.0 for q in names]
            positions = [j + i * width for j in range(len(names))]
            bars.bar(positions, values, width=width, label=name)
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
