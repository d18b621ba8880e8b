"""Counting: the store's numbers, as ``diplograph stats`` and ``Graph.stats()`` report them, and
the documents a facts input holds, for the progress bar of a load.

The store's numbers are its triples, documents, and the instances of each ontology class
counted over the documents' graphs (the ontology's own graph is left out: its classes are not
data).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pyoxigraph import Literal, NamedNode, QuerySolutions

from diplograph.loader.config import Settings
from diplograph.loader.namespaces import DIP, ONTOLOGY_IRI
from diplograph.loader.pipeline import document_graphs
from diplograph.loader.store import Store

_CLASS_COUNTS = (
    "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s a ?c } "
    f"FILTER(?g != <{ONTOLOGY_IRI}>) "
    f'FILTER(STRSTARTS(STR(?c), "{DIP}")) }} GROUP BY ?c ORDER BY DESC(?n) ?c'
)


def collect_stats(store: Store, settings: Settings) -> dict[str, Any]:
    """The store's kind, triples, documents and instances by class (``dip:Name`` → count),
    largest class first."""
    classes: dict[str, int] = {}
    result = store.query(_CLASS_COUNTS)
    assert isinstance(result, QuerySolutions)
    for row in result:
        n = row["n"]
        c = row["c"]
        if isinstance(n, Literal) and isinstance(c, NamedNode):
            classes[_class_name(c.value)] = int(n.value)
    return {
        "store": store.kind,
        "triples": store.count(),
        "documents": len(document_graphs(store, settings)),
        "classes": classes,
    }


def _class_name(iri: str) -> str:
    # Only ontology classes are counted; a prefixed name cannot hold '/', so an IRI with one
    # after the namespace stays whole.
    local = iri[len(DIP) :]
    return f"<{iri}>" if "/" in local else f"dip:{local}"


def count_input_documents(paths: Iterable[Path]) -> int | None:
    """How many documents the facts files hold, without parsing them; None when that is not
    known cheaply (standard input, a pretty-printed JSON document or list, a missing file)."""
    total = 0
    for path in paths:
        if str(path) == "-" or not path.is_file():
            return None
        with open(path, "rb") as f:
            head = f.read(1).lstrip()
            if head in (b"{", b"["):
                f.seek(0)
                first_line = f.readline()
                try:
                    json.loads(first_line)
                except ValueError:
                    return None  # a pretty-printed document or list: count unknown
                total += 1 + sum(1 for line in f if line.strip())
            else:
                total += sum(1 for line in f if line.strip()) + (1 if head.strip() else 0)
    return total
