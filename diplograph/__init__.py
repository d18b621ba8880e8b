"""diplograph: extracted news facts into a validated, queryable knowledge graph.

In a notebook or a script (docs/python.md)::

    import diplograph

    g = diplograph.open("data/store")            # or diplograph.open() for a graph in memory
    report = g.load_file("examples/story.json")  # the LoadReport, rejections listed
    df = g.query_frame("SELECT ?n WHERE { ?p a dip:Diplomat ; rdfs:label ?n }")
    g.close()

The distribution installs one namespace. Its packages live at the top of the repository, as the
project's card lays them out, and are mapped here by ``pyproject.toml``:

* :mod:`diplograph.ontology` – the OWL ontology and its code lists (package data);
* :mod:`diplograph.shapes` – the SHACL shapes (package data);
* :mod:`diplograph.loader` – facts → records → RDF → SHACL → store;
* :mod:`diplograph.api` – the HTTP service over a store;
* :mod:`diplograph.graph` – the Python API above: :func:`open` and :class:`Graph`;
* :mod:`diplograph.cli` – the ``diplograph`` command, argument handling over :class:`Graph`
  and the HTTP service.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from diplograph.graph import Graph
    from diplograph.graph import open_graph as open
    from diplograph.loader.config import Settings
    from diplograph.loader.report import LoadReport, Rejection

__all__ = ["Graph", "LoadReport", "Rejection", "Settings", "open"]

__version__ = "0.1.0"

# Where each name of the Python API lives. They are imported on first use, so that importing
# any diplograph module (the ontology's package data, a loader module) does not pay for the
# loader's whole pipeline.
_API = {
    "Graph": ("diplograph.graph", "Graph"),
    "open": ("diplograph.graph", "open_graph"),
    "Settings": ("diplograph.loader.config", "Settings"),
    "LoadReport": ("diplograph.loader.report", "LoadReport"),
    "Rejection": ("diplograph.loader.report", "Rejection"),
}


def __getattr__(name: str) -> Any:
    """The Python API's names, imported when first used (PEP 562)."""
    if name not in _API:
        raise AttributeError(f"module 'diplograph' has no attribute {name!r}")
    import importlib

    module, attribute = _API[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value
