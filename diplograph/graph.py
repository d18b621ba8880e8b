"""The Python API: a knowledge graph to load facts into and query, from a notebook or a script.

::

    import diplograph

    with diplograph.open("data/store") as g:        # or open() for an in-memory graph
        report = g.load_file("examples/story.json")   # the LoadReport: loaded, rejected, why
        df = g.query_frame("SELECT ?n WHERE { ?p a dip:Diplomat ; rdfs:label ?n }")

A :class:`Graph` is the loader's settings, store and pipeline behind a few methods; nothing here
validates, maps or stores on its own. The ``diplograph`` command is argument handling over the
same class, so a notebook and the command load and answer alike (docs/python.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import TracebackType
from typing import Any

from pyoxigraph import BlankNode, Literal, NamedNode, QueryBoolean, QuerySolutions

from diplograph.loader.batch_validation import ValidationPool
from diplograph.loader.cluster import connect
from diplograph.loader.config import Settings, load_settings
from diplograph.loader.conflicts import Conflict, find_conflicts
from diplograph.loader.curation import Curation, curations
from diplograph.loader.errors import InputError, NotFoundError
from diplograph.loader.facts import SourceRecord, parse_document, read_path
from diplograph.loader.iris import IriMinter
from diplograph.loader.namespaces import XSD, sparql_prologue
from diplograph.loader.pipeline import Loader, curate, document_graphs, uncurate
from diplograph.loader.reconcile import keep_claims
from diplograph.loader.report import LoadReport, Rejection
from diplograph.loader.sparql_text import has_dataset_clause
from diplograph.loader.steps import Steps
from diplograph.loader.store import QueryResult, Store, open_store

__all__ = ["Graph", "open_graph"]

_INTEGERS = {
    XSD + name
    for name in (
        "integer",
        "int",
        "long",
        "short",
        "byte",
        "nonNegativeInteger",
        "positiveInteger",
        "nonPositiveInteger",
        "negativeInteger",
        "unsignedLong",
        "unsignedInt",
        "unsignedShort",
        "unsignedByte",
    )
}
_PYTHON_VALUE: dict[str, Callable[[str], Any]] = {
    **dict.fromkeys(_INTEGERS, int),
    XSD + "decimal": Decimal,
    XSD + "double": float,
    XSD + "float": float,
    XSD + "boolean": lambda text: text.strip() in ("true", "1"),
    XSD + "date": dt.date.fromisoformat,
    XSD + "dateTime": dt.datetime.fromisoformat,
}


def open_graph(
    path: str | Path | None = None, *, settings: Settings | None = None, **overrides: Any
) -> Graph:
    """Open a knowledge graph (``diplograph.open``).

    ``open("data/store")`` opens (or creates) the embedded store in that directory; ``open()``
    an empty graph in memory; ``open(settings=Settings(store="remote", remote_query_url=...))``
    or ``open(store="remote", remote_query_url=...)`` a remote SPARQL store. Keyword
    ``overrides`` are settings (docs/cli.md lists them); ``DIPLOGRAPH_*`` environment variables
    fill in the rest, as for the command. An embedded store is locked while it is open: close
    the graph (or use ``with``) before another process opens it.
    """
    if settings is not None:
        if path is not None or overrides:
            raise TypeError("give either settings or a path and setting overrides, not both")
        return Graph(settings)
    if path is not None:
        return Graph(load_settings(**{**overrides, "store": "embedded", "store_path": Path(path)}))
    return Graph(load_settings(**{"store": "memory", **overrides}))


class Graph:
    """An open store with the loader's pipeline: load facts, query, retract, count.

    Errors are the loader's (:mod:`diplograph.loader.errors`): each names what to fix.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store: Store = open_store(settings)
        # Made on first load: parsing the ontology and the shapes takes a moment.
        self._loader: Loader | None = None
        self._pool: ValidationPool | None = None

    # -- loading ---------------------------------------------------------------------------

    def load(
        self,
        documents: Mapping[str, Any] | Iterable[Mapping[str, Any]],
        *,
        dry_run: bool = False,
        strict: bool = False,
        unknown_fields: str | None = None,
    ) -> LoadReport:
        """Validate facts documents (dicts in the facts format, docs/facts.md) and load the
        valid ones; return the report, whose ``rejections`` say what was wrong with the rest.

        ``dry_run`` validates and writes nothing; ``strict`` stops at the first invalid
        document; ``unknown_fields="warn"`` drops unknown fields with a warning.
        """
        docs = [documents] if isinstance(documents, Mapping) else documents
        unknown = unknown_fields or self.settings.unknown_fields
        records = (
            parse_document(doc, source=f"<python>[{index}]", line=1, unknown=unknown)
            for index, doc in enumerate(docs)
        )
        return self.load_records(records, dry_run=dry_run, strict=strict)

    def load_file(
        self,
        *paths: str | Path,
        dry_run: bool = False,
        strict: bool = False,
        unknown_fields: str | None = None,
        on_reject: Callable[[Rejection], None] | None = None,
        progress: Callable[[int], None] | None = None,
        steps: Steps | None = None,
    ) -> LoadReport:
        """Load facts files (JSON Lines, JSON, or ``-`` for standard input), as
        ``diplograph load`` does; see :meth:`load` for the options and the report.

        ``on_reject`` is called with each rejected document, ``progress`` with the number of
        documents of each batch done, ``steps`` told of the work outside the batches
        (:mod:`diplograph.loader.steps`).
        """
        if not paths:
            raise InputError("give at least one facts file (JSON Lines or JSON), or - for stdin")
        unknown = unknown_fields or self.settings.unknown_fields
        return self.load_records(
            _read_files(paths, unknown),
            dry_run=dry_run,
            strict=strict,
            on_reject=on_reject,
            progress=progress,
            steps=steps,
        )

    def load_records(
        self,
        records: Iterable[SourceRecord],
        *,
        dry_run: bool = False,
        strict: bool = False,
        on_reject: Callable[[Rejection], None] | None = None,
        progress: Callable[[int], None] | None = None,
        steps: Steps | None = None,
    ) -> LoadReport:
        """Load records already read (:mod:`diplograph.loader.facts`) with the one loader of
        this graph."""
        if self._loader is None:
            self._loader = Loader(self.store, self.settings, pool=self._validation_pool())
        return self._loader.load(
            records,
            dry_run=dry_run,
            strict=strict,
            on_reject=on_reject,
            progress=progress,
            steps=steps,
        )

    def import_file(
        self,
        source: str,
        *paths: str | Path,
        dry_run: bool = False,
        strict: bool = False,
        on_reject: Callable[[Rejection], None] | None = None,
        progress: Callable[[int], None] | None = None,
        steps: Steps | None = None,
        read_ahead: bool = False,
    ) -> LoadReport:
        """Import files of an event dataset (``source``: ``"gdelt"``, ``"acled"`` or
        ``"polecat"``, docs/importers.md) through the same load as :meth:`load_file`: same
        shapes, rejects, provenance and retraction. A row that breaks a rule is rejected alone;
        the report's warnings end with what the import left out, one line per reason.
        ``progress`` is called with the number of documents of each batch done, ``steps`` told
        of the work outside the batches, as for :meth:`load_file`.
        ``read_ahead`` converts the rows in a second process while the documents load (as
        ``diplograph import`` does for large files); a script that sets it needs the
        ``if __name__ == "__main__":`` guard of Python multiprocessing."""
        from diplograph.loader.importers import ImportNotes, import_records
        from diplograph.loader.importers.readahead import read_ahead as converted_ahead

        if not paths:
            raise InputError(f"give at least one {source} file")
        notes = ImportNotes()
        convert = converted_ahead if read_ahead else import_records
        records = convert(source, paths, notes=notes)
        report = self.load_records(
            records,
            dry_run=dry_run,
            strict=strict,
            on_reject=on_reject,
            progress=progress,
            steps=steps,
        )
        report.warnings.extend(notes.lines())
        return report

    def retract(self, document_id: str) -> int:
        """Remove the facts of the document with this id; return the triples removed."""
        from diplograph.loader.pipeline import retract

        return retract(self.store, self.settings, document_id)

    def curate(self, verdict: str, a: str, b: str) -> Curation:
        """State that two nodes are ``"same"`` or ``"different"`` (docs/mapping.md,
        "Curation"): kept in the store whatever is loaded or retracted later."""
        return curate(self.store, self.settings, verdict, a, b)

    def uncurate(self, a: str, b: str) -> Curation:
        """Withdraw the statement about two nodes and return it."""
        return uncurate(self.store, self.settings, a, b)

    def curations(self) -> list[Curation]:
        """Every curator's statement, sorted."""
        return curations(self.store, IriMinter(self.settings.base_iri).curation_graph())

    # -- reading ---------------------------------------------------------------------------

    def execute(self, sparql: str, *, prefixes: bool = True) -> QueryResult:
        """Run a SPARQL query and return pyoxigraph's result, as ``diplograph query`` does.

        The default graph is the union of the documents' graphs; the standard prefixes (dip:,
        rdfs:, prov: …) are predeclared unless ``prefixes`` is false.
        """
        text = sparql_prologue() + sparql if prefixes else sparql
        return self.store.query(
            text,
            union_default_graph=self.settings.union_default_graph,
            dataset_in_query=has_dataset_clause(text),
        )

    def query(self, sparql: str, *, prefixes: bool = True) -> list[dict[str, Any]]:
        """Run a SPARQL query; return its rows as dicts of Python values.

        SELECT gives one dict per solution, keyed by variable (None where unbound); ASK one
        row ``{"ask": bool}``; CONSTRUCT and DESCRIBE one row per triple (subject, predicate,
        object). IRIs and blank nodes (``_:b0``) are strings; literals of the XSD numeric,
        boolean, date and dateTime types become ``int``, ``Decimal``, ``float``, ``bool``,
        ``date`` and ``datetime``; other literals their text.
        """
        return list(_rows(self.execute(sparql, prefixes=prefixes)))

    def query_frame(self, sparql: str, *, prefixes: bool = True) -> Any:
        """:meth:`query` as a pandas DataFrame, one column per variable (needs pandas)."""
        try:
            import pandas
        except ImportError:
            raise ImportError(
                "query_frame needs pandas: pip install 'diplograph[dataframe]'"
            ) from None
        result = self.execute(sparql, prefixes=prefixes)
        columns = _columns(result)
        return pandas.DataFrame(list(_rows(result)), columns=columns)

    def documents(self) -> list[str]:
        """The IRIs of the documents' named graphs."""
        return document_graphs(self.store, self.settings)

    def stats(self) -> dict[str, Any]:
        """What ``diplograph stats`` prints: store kind, triples, documents, instances by class."""
        from diplograph.loader.stats import collect_stats

        return collect_stats(self.store, self.settings)

    def check(
        self, *, node: str | None = None, documents: Iterable[str] | None = None
    ) -> list[Conflict]:
        """Conflicts between documents and candidate duplicates, as ``diplograph check`` lists
        them (docs/mapping.md, "Conflicts and candidates"): every one, those about ``node``, or
        those ``documents`` (ids or graph IRIs) assert a value of. Nothing is changed."""
        if node is not None and not _is_iri(node):
            raise InputError(f"{node!r} is not an IRI: give the node's full IRI")
        graphs = None if documents is None else [self.graph_iri(d) for d in documents]
        return find_conflicts(self.store, nodes=None if node is None else [node], documents=graphs)

    def graph_iri(self, graph: str) -> str:
        """The named graph ``graph`` names: its own IRI when the store holds that graph, else
        the graph of the document with that id (as ``retract`` reads an id).

        Raises NotFoundError naming the graph when the store holds neither.
        """
        document = IriMinter(self.settings.base_iri).document(graph)
        candidates = [graph, document] if _is_iri(graph) else [document]
        empty = self.store.empty_graphs(candidates)
        for candidate in candidates:
            if candidate not in empty:
                return candidate
        if _is_iri(graph):
            raise NotFoundError(f"no graph <{graph}> in the store, nor a document with that id")
        raise NotFoundError(f"no document {graph!r} in the store (graph <{document}>)")

    # -- lifetime --------------------------------------------------------------------------

    def _validation_pool(self) -> ValidationPool | None:
        """The processes that validate with this one (``load_workers`` of the settings, or
        the Dask cluster of ``cluster``), or None for one process."""
        engine = self.settings.validation_engine
        if self.settings.cluster:
            executor, release = connect(self.settings.cluster)
            self._pool = ValidationPool(engine, 0, executor=executor, on_close=release)
        elif self.settings.load_workers > 1:
            self._pool = ValidationPool(engine, self.settings.load_workers)
        return self._pool

    def close(self) -> None:
        """Close the store (an embedded store's lock is released) and stop the validation
        processes, if any."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        try:
            # the next process that opens the store reads these instead of every document
            keep_claims(self.store)
        finally:
            self.store.close()

    def __enter__(self) -> Graph:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _read_files(paths: Iterable[str | Path], unknown: str) -> Iterator[SourceRecord]:
    for path in paths:
        # Checked as each file's turn comes, so the files before a missing one still load.
        if str(path) != "-" and not Path(path).exists():
            raise InputError(f"{path}: no such file")
        yield from read_path(path, unknown=unknown)


def _is_iri(text: str) -> bool:
    try:
        NamedNode(text)
    except ValueError:
        return False
    return True


def _columns(result: QueryResult) -> list[str]:
    if isinstance(result, QuerySolutions):
        return [v.value for v in result.variables]
    if isinstance(result, QueryBoolean):
        return ["ask"]
    return ["subject", "predicate", "object"]


def _rows(result: QueryResult) -> Iterator[dict[str, Any]]:
    if isinstance(result, QuerySolutions):
        names = [v.value for v in result.variables]
        for solution in result:
            yield {name: _python(solution[name]) for name in names}
    elif isinstance(result, QueryBoolean):
        yield {"ask": bool(result)}
    else:
        for triple in result:
            yield {
                "subject": _python(triple.subject),
                "predicate": _python(triple.predicate),
                "object": _python(triple.object),
            }


def _python(term: object) -> Any:
    """A term as a Python value (see :meth:`Graph.query`)."""
    if term is None:
        return None
    if isinstance(term, NamedNode):
        return term.value
    if isinstance(term, BlankNode):
        return f"_:{term.value}"
    if isinstance(term, Literal):
        convert = _PYTHON_VALUE.get(term.datatype.value)
        if convert is None:
            return term.value
        try:
            return convert(term.value)
        except (ValueError, InvalidOperation):
            return term.value  # an ill-typed literal keeps its text
    return str(term)
