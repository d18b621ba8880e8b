"""SHACL compiled to SPARQL: the shapes as queries that an in-memory pyoxigraph store evaluates.

:class:`SparqlShapes` compiles a shapes graph once into one SPARQL SELECT per constraint, each
returning the focus nodes (and values) that break it, and loads the background triples (the
ontology and its code lists) into its own in-memory store once. :meth:`SparqlShapes.run` puts a
batch in the store, runs the queries and takes the batch out again.

pySHACL is the reference (``Validator(engine="pyshacl")``, loader/validate.py) and this engine
must give exactly its results; tests/test_validate_differential.py checks that they agree. Three
choices keep them equal:

- *The store does the graph work, Python the XSD work.* Targets (``sh:targetClass`` following
  ``rdfs:subClassOf*``), property paths, counts, ``sh:class``, ``sh:hasValue``, ``sh:equals`` and
  ``sh:disjoint`` are SPARQL (:mod:`.constraints`). Checks on one literal (``sh:datatype`` with
  its lexical well-formedness, ``sh:pattern``, ``sh:in``, ``sh:minInclusive``,
  ``sh:maxInclusive``, ``sh:lessThan``) run in Python on rdflib terms, with pySHACL's rules
  (:mod:`.conditions`).
- *Terms keep their identity.* The store holds typed literals in rdflib's form and blank nodes
  as private IRIs for the compiled queries, and a second copy with the real terms for the
  shapes' own SPARQL (:mod:`.encoding`).
- *Anything unknown is refused.* A shape that uses a SHACL construct the compiler does not
  implement raises :class:`~diplograph.loader.errors.ConfigError` naming the shape and the
  construct, so an edit to the shapes cannot be silently ignored (:mod:`.shapes`,
  :mod:`.compile`).

The modules, in the order the work flows: :mod:`.shapes` reads the shapes graph,
:mod:`.targets` reads and finds focus nodes, :mod:`.conditions` and :mod:`.constraints` are the
checks, :mod:`.compile` turns shapes into rules, :mod:`.encoding` lays out the store and
:mod:`.run` evaluates the rules on a batch.
"""

from __future__ import annotations

from diplograph.loader.shacl.encoding import to_rdflib
from diplograph.loader.shacl.run import RawResult, SparqlShapes

__all__ = ["RawResult", "SparqlShapes", "to_rdflib"]
