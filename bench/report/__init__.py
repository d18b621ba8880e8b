"""Markdown tables and the plot for ``docs/benchmarks.md``, from ``bench/out/results.json``.

``cells`` reads results and formats cells; ``verdicts`` states the goals; ``loading`` and
``queries`` hold the tables; ``markdown`` puts them in order; ``plot`` draws the PNG;
``document`` writes both into ``docs/``.
"""

from bench.report.markdown import render_markdown
from bench.report.plot import plot

__all__ = ["plot", "render_markdown"]
