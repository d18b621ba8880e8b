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

from diplograph.graph import Graph
from diplograph.graph import open_graph as open
from diplograph.loader.config import Settings
from diplograph.loader.pipeline import LoadReport, Rejection

__all__ = ["Graph", "LoadReport", "Rejection", "Settings", "open"]

__version__ = "0.1.0"
