"""Reading the store for the linked-data routes: SELECT and CONSTRUCT over the union of all
graphs, and running such work on a worker thread with the query timeout.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread
from pyoxigraph import BlankNode, Literal, NamedNode, QueryBoolean, QuerySolutions, Triple

from diplograph.loader.config import Settings
from diplograph.loader.errors import QueryTimeoutError, StoreError
from diplograph.loader.namespaces import sparql_prologue
from diplograph.loader.store import Store

__all__ = ["Row", "Term", "construct", "in_thread", "select", "value_of"]

T = TypeVar("T")

Term = NamedNode | BlankNode | Literal | Triple
Row = dict[str, Term]

# The standard prefixes, so the queries of the linked-data routes can write ``dip:Person``.
_PROLOGUE = sparql_prologue()


def select(store: Store, sparql: str) -> list[Row]:
    """Run a SELECT (with the prologue) and return its rows as plain dicts of bound terms."""
    result = store.query(_PROLOGUE + sparql, union_default_graph=True)
    if not isinstance(result, QuerySolutions):
        raise StoreError("expected solutions from a SELECT query")
    names = [v.value for v in result.variables]
    rows: list[Row] = []
    for solution in result:
        row: Row = {}
        for name in names:
            value = solution[name]
            if value is not None:
                row[name] = value
        rows.append(row)
    return rows


def construct(store: Store, sparql: str) -> list[Triple]:
    """Run a CONSTRUCT (with the prologue); duplicates (one per graph) are dropped."""
    result = store.query(_PROLOGUE + sparql, union_default_graph=True)
    if isinstance(result, QuerySolutions | QueryBoolean):
        raise StoreError("expected triples from a CONSTRUCT query")
    return list(dict.fromkeys(result))


def value_of(row: Row, name: str) -> str | None:
    """The lexical value of ``row[name]``, or None when unbound (or a quoted triple)."""
    term = row.get(name)
    if term is None or isinstance(term, Triple):
        return None
    return term.value


async def in_thread(settings: Settings, work: Callable[[], T], what: str) -> T:
    """Run blocking store work on a worker thread, with the configured query timeout."""
    try:
        with anyio.fail_after(settings.query_timeout):
            return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
    except TimeoutError:
        raise QueryTimeoutError(
            f"{what} took longer than the {settings.query_timeout:g} s query timeout"
        ) from None
