"""pySHACL, the reference engine: the only module that imports it.

The compiled engine (:mod:`diplograph.loader.shacl.run`) must agree with it on every test case
(tests/test_validate_differential.py).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from rdflib import Graph
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query
from rdflib.query import Processor, Result
from rdflib.term import Identifier

from diplograph.loader.errors import ConfigError

__all__ = ["DataGraph", "run_pyshacl"]


def run_pyshacl(data: Graph, shapes_graph: Graph) -> Graph:
    """pySHACL's report graph for ``data`` (validated in place) against ``shapes_graph``."""
    import pyshacl  # here, not at the top: the default engine never needs it

    _conforms, report, _text = pyshacl.validate(
        data,
        shacl_graph=shapes_graph,
        inference="none",
        advanced=True,  # for the sh:SPARQLTarget rules
        inplace=True,  # the data graph is ours, built for this run: no copy
        allow_warnings=True,
        allow_infos=True,
    )
    if not isinstance(report, Graph):
        raise ConfigError(f"SHACL validation failed to run: {report}")
    return report


class DataGraph(Graph):
    """An rdflib graph that parses each SPARQL query text once per process.

    pySHACL runs the shapes' SPARQL targets as query strings on every validation; parsing them
    (pyparsing) took about 100 ms of each run, more than validating a small document.
    """

    def __init__(self) -> None:
        super().__init__(bind_namespaces="none")

    def query(
        self,
        query_object: str | Query,
        processor: str | Processor = "sparql",
        result: str | type[Result] = "sparql",
        initNs: Mapping[str, Any] | None = None,  # rdflib's parameter names
        initBindings: Mapping[str, Identifier] | None = None,
        use_store_provided: bool = True,
        **kwargs: Any,
    ) -> Result:
        if isinstance(query_object, str) and not initNs:
            query_object = _prepared(query_object)
        return super().query(
            query_object, processor, result, initNs, initBindings, use_store_provided, **kwargs
        )


@functools.lru_cache(maxsize=64)
def _prepared(text: str) -> Query:
    return prepareQuery(text)
