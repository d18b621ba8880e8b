"""diplograph's benchmark suite: a seeded data generator, the analyst queries and the runner.

``python -m bench.generate`` writes synthetic facts documents; ``python -m bench.run`` generates
data, measures loading and querying side by side and writes ``docs/benchmarks.md``. See
``bench/README.md``.
"""
