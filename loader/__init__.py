"""diplograph's loader: extracted news facts into a validated, queryable knowledge graph.

Data flows one way::

    facts (JSON)  ->  records (loader.facts)  ->  RDF (loader.mapping)
                  ->  SHACL (loader.validate)  ->  store (loader.store)  ->  SPARQL / dumps

The public entry point for users is the ``diplograph`` command (``diplograph.cli``).
"""

__version__ = "0.1.0"
