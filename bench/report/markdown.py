"""The report's markdown: the run's head, then every section in order."""

from __future__ import annotations

from bench.report.cells import Add, Result, is_ok, sizes_of
from bench.report.loading import (
    baseline_section,
    data_section,
    loading_section,
    probe_section,
    profile_section,
    stages_section,
)
from bench.report.queries import concurrency_section, queries_section, scale_out_section
from bench.report.verdicts import goals_section


def render_markdown(results: Result) -> str:
    """The whole report, from ``results.json``'s content, as markdown."""
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
    goals_section(results, add)
    data_section(results, add)
    loading_section(results, add)
    stages_section(results, add)
    profile_section(results, add)
    probe_section(results, add)
    baseline_section(results, add)
    queries_section(results, add)
    scale_out_section(results, add)
    concurrency_section(results, add)
    unfinished_section(results, add)
    return "\n".join(out).rstrip() + "\n"


def unfinished_section(results: Result, add: Add) -> None:
    """Every step that failed or stopped at its time limit."""
    problems = []
    for tag, entry in sizes_of(results):
        for key, r in entry.items():
            if isinstance(r, dict) and "ok" in r and not r["ok"]:
                problems.append(f"- {tag} {key}: {r.get('error')}")
            elif isinstance(r, dict) and r.get("finished") is False:
                problems.append(f"- {tag} {key}: stopped at the step's time limit")
    if is_ok(results.get("profile")) is False and "profile" in results:
        problems.append(f"- profile: {results['profile'].get('error')}")
    add("### What did not finish\n")
    add("\n".join(problems) if problems else "Everything finished within its limits.")
    add("")
