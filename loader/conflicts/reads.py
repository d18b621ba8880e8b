"""The SPARQL the checks share: the prologue, node lists as ``VALUES``, the pattern that makes
a named graph a document's, and the labels of nodes.

Every check reads through :meth:`Store.query`, so it runs alike on the embedded and the remote
store. A named graph counts as a document's when it describes its own document
(``GRAPH ?g { ?g dcterms:identifier ?id }``, as every loaded document does): the ontology and
summary graphs and a store's internal graphs never match, whatever the base IRI.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal, InvalidOperation

from pyoxigraph import Literal, NamedNode, QuerySolutions

from diplograph.loader.errors import StoreError
from diplograph.loader.namespaces import sparql_prologue
from diplograph.loader.store import Store

__all__ = ["DOCUMENT", "Row", "chunks", "confidence", "iri_list", "labels", "rows", "select"]

#: A row of solutions: variable → the bound term's IRI or lexical form (unbound are absent).
Row = dict[str, str]

#: Inside ``GRAPH ?g { … }``: ``?g`` is a document's graph.
DOCUMENT = "?g dcterms:identifier ?documentId ."

# Node lists go into the query text; a few thousand IRIs a query keeps each text small enough
# for any endpoint's request limits.
_CHUNK = 1000


def select(store: Store, sparql: str) -> list[Row]:
    """Run a SELECT over the union of the named graphs; rows as :data:`Row`."""
    return list(rows(store, sparql))


def rows(store: Store, sparql: str) -> Iterator[Row]:
    """The rows of :func:`select` one at a time, for reads of a whole store, where a list of
    every row was held before; a value that repeats (a state in thousands of events, a post in
    each of its holdings) is one string, not one per row. Rows that bind a blank node are left
    out. Together: the holders check of the
    30k-document store went from 168 MB more to 122 MB more at its end (most of it the store's
    own)."""
    result = store.query(sparql_prologue() + sparql, union_default_graph=True)
    if not isinstance(result, QuerySolutions):
        raise StoreError("expected solutions from a SELECT query")
    names = [v.value for v in result.variables]
    seen: dict[str, str] = {}
    # A solution's terms in the order of its variables, and a test of the term's exact type:
    # over the 460,705 participations of the 100k store, 2.9 s against 3.4 s by name and
    # isinstance (Oxigraph's own iteration: 2.3 s).
    plain = (NamedNode, Literal)
    for solution in result:
        row: Row = {}
        for name, term in zip(names, solution, strict=True):
            if term is None:
                continue
            if type(term) not in plain:
                # A blank node (written around the loader: SPARQL Update, the Graph Store
                # Protocol): a finding names its nodes and values, which a blank node cannot
                # be outside its own graph. Such a row is left out, where it failed the check.
                break
            text = term.value
            row[name] = seen.setdefault(text, text)
        else:
            yield row


def iri_list(iris: Iterable[str]) -> str:
    """IRIs as SPARQL terms separated by spaces; an IRI that is not one raises ValueError."""
    return " ".join(str(NamedNode(iri)) for iri in iris)


def chunks(iris: Iterable[str]) -> Iterator[list[str]]:
    """``iris`` sorted, a query's worth at a time."""
    ordered = sorted(set(iris))
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


def confidence(text: str | None) -> float | None:
    """A ``dip:confidence`` value as a float (None when absent or not a number)."""
    if text is None:
        return None
    try:
        return float(Decimal(text))
    except InvalidOperation:
        return None


def labels(store: Store, iris: Sequence[str]) -> dict[str, str]:
    """A label for each of ``iris`` that has one (``rdfs:label``, else ``dip:summary``)."""
    found: dict[str, str] = {}
    for part in chunks(iris):
        for row in select(
            store,
            f"""SELECT ?n (MIN(?l) AS ?label) WHERE {{
  VALUES ?n {{ {iri_list(part)} }}
  {{ ?n rdfs:label ?l }} UNION {{ ?n dip:summary ?l FILTER NOT EXISTS {{ ?n rdfs:label ?x }} }}
}} GROUP BY ?n""",
        ):
            if "label" in row:
                found[row["n"]] = row["label"]
    return found
