"""diplograph: extracted news facts into a validated, queryable knowledge graph.

The distribution installs one namespace. Its packages live at the top of the repository, as the
project's card lays them out, and are mapped here by ``pyproject.toml``:

* :mod:`diplograph.ontology` – the OWL ontology and its code lists (package data);
* :mod:`diplograph.shapes` – the SHACL shapes (package data);
* :mod:`diplograph.loader` – facts → records → RDF → SHACL → store;
* :mod:`diplograph.api` – the HTTP service over a store;
* :mod:`diplograph.cli` – the ``diplograph`` command, the one module that uses both.
"""

__version__ = "0.1.0"
