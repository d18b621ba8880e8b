"""``docs/benchmarks.md``: the tables go between its markers (text outside them is kept), the
plot next to it."""

from __future__ import annotations

from typing import Any

from bench.measure import log
from bench.paths import DOC, PLOT, ROOT
from bench.report.markdown import render_markdown
from bench.report.plot import plot

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def write_doc(results: dict[str, Any]) -> None:
    """Render ``results`` into ``docs/benchmarks.md`` (between the markers) and the PNG."""
    body = render_markdown(results)
    plot(results, PLOT)
    text = DOC.read_text() if DOC.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = f"{head}{BEGIN}\n{body}\n{END}{tail}"
    else:
        text = f"{text.rstrip()}\n\n{BEGIN}\n{body}\n{END}\n"
    DOC.write_text(text)
    log(f"wrote {DOC.relative_to(ROOT)} and {PLOT.relative_to(ROOT)}")
