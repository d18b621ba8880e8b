"""The ``diplograph`` command: argument handling and output over :class:`diplograph.graph.Graph`
(the Python API, which does the work with the loader) and the HTTP service.

Exit codes (scripts can trust them; documented in docs/cli.md):

==  =====================================================================================
0   success (``load``/``validate``: every document valid; ``check``: nothing found)
1   documents rejected (``load``/``validate``), ``--strict`` stopped, ``check`` found some
2   usage or input error: bad option, unreadable file, malformed query, invalid setting
3   store error: cannot open (e.g. locked by another process), read or write the store
==  =====================================================================================
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import sys
from pathlib import Path
from typing import IO, Any

import click
from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    QueryBoolean,
    QuerySolutions,
    serialize,
)

from diplograph.cli_curate import curate
from diplograph.cli_export import export
from diplograph.cli_import import import_
from diplograph.cli_options import (
    EXIT_REJECTED,
    F,
    allow_bulk_writes,
    bulk_writes_option,
    cluster_option,
    load_workers,
    workers_option,
)
from diplograph.cli_options import CommandGroup as _Command
from diplograph.cli_options import settings as _settings
from diplograph.cli_options import store_options as _store_options
from diplograph.cli_options import text_or_json as _text_or_json
from diplograph.cli_progress import Progress
from diplograph.graph import Graph
from diplograph.loader import __version__
from diplograph.loader.config import Settings
from diplograph.loader.errors import InputError, StoreError
from diplograph.loader.formats import GRAPH_FORMATS as RDF_GRAPH_FORMATS
from diplograph.loader.formats import RESULT_FORMATS
from diplograph.loader.namespaces import PREFIXES, compact, output_prefixes

#: ``--format`` of ``query``: the SPARQL result formats for SELECT and ASK, by their short names.
SELECT_FORMATS = {f.name: f.results for f in RESULT_FORMATS if f.results is not None}
#: ``--format`` of ``query`` for CONSTRUCT and DESCRIBE; ``xml`` is RDF/XML there, as in
#: ``SELECT_FORMATS`` it is SPARQL XML results.
GRAPH_FORMATS = {
    name: fmt.rdf
    for fmt in RDF_GRAPH_FORMATS
    for name in (fmt.name, *fmt.names)
    if fmt.rdf is not None and name in ("turtle", "ntriples", "jsonld", "xml")
}


@click.group(cls=_Command, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="diplograph")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def main(verbose: int) -> None:
    """diplograph: extracted news facts into a validated knowledge graph, served over SPARQL.

    Typical use: `diplograph load facts.jsonl`, then `diplograph serve`.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


# --------------------------------------------------------------------------------------------
# load / validate


def _run_load(
    paths: tuple[Path, ...],
    *,
    dry_run: bool,
    strict: bool,
    rejects: Path | None,
    unknown_fields: str | None,
    output_format: str,
    progress: bool | None,
    allow_rejects: bool,
    settings: Settings,
    bulk_writes: bool = False,
) -> None:
    from diplograph.loader.report import Rejection
    from diplograph.loader.stats import count_input_documents

    if not paths:
        raise InputError("give at least one facts file (JSON Lines or JSON), or - for stdin")
    rejects_out: IO[str] | None = None
    if rejects is not None:
        # backslashreplace: a rejected record may hold lone surrogates (a "\ud800" escape in
        # its JSON); they are written back as the same escape instead of failing the load
        rejects_out = open(  # noqa: SIM115 - closed below
            rejects, "w", encoding="utf-8", errors="backslashreplace"
        )

    def on_reject(rejection: Rejection) -> None:
        if rejects_out is not None:
            rejects_out.write(json.dumps(rejection.to_dict(with_raw=True), ensure_ascii=False))
            rejects_out.write("\n")
        if output_format == "text":
            for v in rejection.violations:
                where = f"{rejection.source}:{rejection.line}"
                field = f", field {v['field']!r}" if v.get("field") else ""
                node = f" <{v['focus_node']}>" if v.get("focus_node") else ""
                click.echo(
                    f"rejected {where}, record {rejection.record!r}{field}:{node} {v['message']}"
                    + (f" [{v['constraint']}]" if v.get("constraint") else ""),
                    err=True,
                )

    show_bar = sys.stderr.isatty() if progress is None else progress
    total = count_input_documents(paths) if show_bar else None
    options: dict[str, Any] = {
        "dry_run": dry_run,
        "strict": strict,
        "unknown_fields": unknown_fields,
        "on_reject": on_reject,
    }
    opened = False
    try:
        with (
            Graph(settings) as graph,
            Progress(show_bar, label="documents", length=total) as shown,
        ):
            opened = True
            allow_bulk_writes(graph.store, bulk_writes and not dry_run)
            report = graph.load_file(*paths, progress=shown.update, steps=shown.step, **options)
    except StoreError as exc:
        if dry_run or not opened:
            raise
        # Each batch is committed whole or not at all, so a rerun resumes where this one
        # stopped: what was committed counts as unchanged.
        raise type(exc)(
            f"{exc.message}; the load stopped there: once that is fixed, run the same command "
            "again to load the rest (documents already loaded count as unchanged)"
        ) from None
    finally:
        if rejects_out is not None:
            rejects_out.close()
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    if output_format == "json":
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(report.summary())
        for conflict in report.conflicts:  # the headline; `diplograph check` lists the values
            click.echo(f"conflict: {conflict.describe().splitlines()[0]}")
        if rejects is not None and report.documents_rejected:
            click.echo(f"rejected documents written to {rejects}")
    if report.documents_rejected and not allow_rejects:
        sys.exit(EXIT_REJECTED)


#: ``--format`` of the commands that print a report for people or for programs.

_load_options = [
    click.argument("paths", nargs=-1, type=click.Path(path_type=Path, dir_okay=False)),
    click.option(
        "--rejects",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Write rejected documents (JSON Lines: record, line, violations) to this file.",
    ),
    click.option("--strict", is_flag=True, help="Stop at the first invalid document."),
    click.option(
        "--unknown-fields",
        type=click.Choice(["error", "warn"]),
        help="Unknown fields in a record: reject the record (default) or warn and ignore them.",
    ),
    _text_or_json,
    click.option(
        "--progress/--no-progress",
        default=None,
        help="Show a progress bar (default: when stderr is a terminal).",
    ),
]


def _with_load_options(func: F) -> F:
    for option in reversed(_load_options):
        func = option(func)
    return func


@main.command()
@_with_load_options
@click.option(
    "--allow-rejects",
    is_flag=True,
    help="Exit 0 even when some documents were rejected (they are still reported).",
)
@click.option("--batch-size", type=int, help="Documents identified and committed together.")
@workers_option
@cluster_option
@bulk_writes_option
@_store_options
def load(
    paths: tuple[Path, ...],
    rejects: Path | None,
    strict: bool,
    unknown_fields: str | None,
    output_format: str,
    progress: bool | None,
    allow_rejects: bool,
    batch_size: int | None,
    workers: int | None,
    cluster: str | None,
    bulk_writes: bool,
    **store_flags: Any,
) -> None:
    """Validate facts files and load the valid documents into the store.

    PATHS are JSON Lines files (one document per line), JSON files (a document or a list),
    or - for standard input. Each document replaces its own named graph; a document loaded
    again unchanged is left as it is. Exits 1 when any document was rejected.
    """
    _run_load(
        paths,
        dry_run=False,
        strict=strict,
        rejects=rejects,
        unknown_fields=unknown_fields,
        output_format=output_format,
        progress=progress,
        allow_rejects=allow_rejects,
        settings=_settings(batch_size=batch_size, **load_workers(workers, cluster), **store_flags),
        bulk_writes=bulk_writes,
    )


@main.command()
@_with_load_options
@_store_options
def validate(
    paths: tuple[Path, ...],
    rejects: Path | None,
    strict: bool,
    unknown_fields: str | None,
    output_format: str,
    progress: bool | None,
    **store_flags: Any,
) -> None:
    """Dry run of `load`: validate facts files and report, writing nothing to the store.

    Validation still reads the store for the types of entities loaded earlier.
    """
    _run_load(
        paths,
        dry_run=True,
        strict=strict,
        rejects=rejects,
        unknown_fields=unknown_fields,
        output_format=output_format,
        progress=progress,
        allow_rejects=False,
        settings=_settings(**store_flags),
    )


@main.command()
@click.argument("document_ids", nargs=-1, required=True)
@_store_options
def retract(document_ids: tuple[str, ...], **store_flags: Any) -> None:
    """Remove the facts of the documents with these ids.

    Entities and events that other documents also report stay.
    """
    with Graph(_settings(**store_flags)) as graph:
        for doc_id in document_ids:
            removed = graph.retract(doc_id)
            click.echo(f"retracted {doc_id}: {removed} triples removed")


# --------------------------------------------------------------------------------------------
# query / dump / stats / schema


def _term_text(term: object) -> str:
    if isinstance(term, NamedNode):
        return _compact(term.value)
    if isinstance(term, BlankNode):
        return f"_:{term.value}"
    if isinstance(term, Literal):
        return term.value
    return "" if term is None else str(term)


# The query table shortens any IRI whose rest after a namespace holds no '/': it is read, not
# parsed, so names that Turtle would not accept (``wd:Q42#x``) are fine.
_TABLE_NAME = re.compile(r"[^/]*")


def _compact(iri: str) -> str:
    return compact(iri, PREFIXES, local_name=_TABLE_NAME) or f"<{iri}>"


def _print_table(solutions: QuerySolutions, out: IO[str]) -> int:
    names = [v.value for v in solutions.variables]
    rows = [[_term_text(row[name]) for name in names] for row in solutions]
    widths = [max([len(n), *(len(r[i]) for r in rows)]) for i, n in enumerate(names)]
    out.write("  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)).rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for row in rows:
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")
    out.write(f"({len(rows)} row{'s' if len(rows) != 1 else ''})\n")
    return len(rows)


@main.command()
@click.argument("sparql", required=False)
@click.option(
    "-f",
    "--file",
    "query_file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Read the query from this file.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", *SELECT_FORMATS, "turtle", "ntriples", "jsonld"]),
    default="table",
    show_default=True,
    help="SELECT/ASK: table, json, csv, tsv, xml. CONSTRUCT/DESCRIBE: turtle (also for "
    "'table'), ntriples, jsonld, xml.",
)
@click.option(
    "--no-prefixes",
    is_flag=True,
    help="Do not predeclare the standard prefixes (dip:, rdfs:, prov: …) in the query.",
)
@_store_options
def query(
    sparql: str | None,
    query_file: Path | None,
    output_format: str,
    no_prefixes: bool,
    **store_flags: Any,
) -> None:
    """Run a SPARQL query (from the argument, --file, or - for stdin) and print the result.

    The default graph is the union of all documents' graphs. Common prefixes (dip:, rdfs:,
    prov:, org:, skos: …) are predeclared unless --no-prefixes is given.
    """
    if query_file is not None:
        text = query_file.read_text(encoding="utf-8")
    elif sparql == "-":
        text = sys.stdin.read()
    elif sparql:
        text = sparql
    else:
        raise InputError("give a query as an argument, with --file, or - for stdin")
    settings = _settings(**store_flags)
    out = sys.stdout
    with Graph(settings) as graph:
        result = graph.execute(text, prefixes=not no_prefixes)
        if isinstance(result, QuerySolutions | QueryBoolean):
            if output_format == "table" and isinstance(result, QuerySolutions):
                _print_table(result, out)
            elif output_format == "table":
                out.write(("true" if bool(result) else "false") + "\n")
            elif output_format in SELECT_FORMATS:
                out.flush()
                result.serialize(sys.stdout.buffer, SELECT_FORMATS[output_format])
            else:
                raise InputError(f"--format {output_format} is for CONSTRUCT/DESCRIBE results")
        else:
            fmt = "turtle" if output_format == "table" else output_format
            if fmt not in GRAPH_FORMATS:
                raise InputError(f"--format {output_format} is for SELECT/ASK results")
            out.flush()
            prefixes = output_prefixes(settings.base_iri)
            serialize(result, sys.stdout.buffer, GRAPH_FORMATS[fmt], prefixes=prefixes)


@main.command()
@click.argument("output", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True))
@click.option(
    "--format",
    "dump_format",
    type=click.Choice(["turtle", "trig", "nquads", "ntriples", "jsonld"]),
    help="Dump format (default: from OUTPUT's extension; .gz compresses).",
)
@click.option(
    "--graph",
    "graph_name",
    metavar="IRI|DOC-ID",
    help="Dump only this named graph: its IRI, or the id of the document it holds.",
)
@_store_options
def dump(output: Path, dump_format: str | None, graph_name: str | None, **store_flags: Any) -> None:
    """Write the whole graph to OUTPUT (- for stdout): Turtle, TriG, N-Quads, N-Triples or JSON-LD.

    TriG and N-Quads keep each document's named graph; the others hold the union. A --graph
    the store does not hold exits 2 and writes nothing.
    """
    from diplograph.loader.dump import dump_to_path, write_dump

    settings = _settings(**store_flags)
    with Graph(settings) as graph:
        # Resolved before any output is opened, so an unknown graph leaves no file behind.
        iri = None if graph_name is None else graph.graph_iri(graph_name)
        if str(output) == "-":
            write_dump(
                graph.store,
                sys.stdout.buffer,
                dump_format or "nquads",
                graph=iri,
                base_iri=settings.base_iri,
            )
            return
        fmt = dump_to_path(graph.store, output, dump_format, graph=iri, base_iri=settings.base_iri)
        click.echo(f"wrote {output} ({fmt.name})", err=True)


@main.command()
@_text_or_json
@_store_options
def stats(output_format: str, **store_flags: Any) -> None:
    """Counts: triples, documents, entities and facts by class."""
    with Graph(_settings(**store_flags)) as graph:
        data = graph.stats()
    if output_format == "json":
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"store: {data['store']}")
    click.echo(f"triples: {data['triples']}")
    click.echo(f"documents: {data['documents']}")
    click.echo("instances by class:")
    for cls, n in data["classes"].items():
        click.echo(f"  {n:>8}  {cls}")


@main.command()
@_text_or_json
@click.option("--node", help="Only the findings about this node (an IRI).")
@click.option("--document", "documents", multiple=True, help="Only those of this document id.")
@_store_options
def check(output_format: str, node: str | None, documents: tuple[str, ...], **flags: Any) -> None:
    """Conflicts between documents and candidate duplicates (docs/mapping.md); exits 1 when
    there are any. Every value stays in the store; each is listed with its documents."""
    with Graph(_settings(**flags)) as graph:
        found = graph.check(node=node, documents=documents or None)
    if output_format == "json":
        click.echo(json.dumps([c.to_dict() for c in found], indent=2, ensure_ascii=False))
    else:
        click.echo("\n".join(c.describe() for c in found) or "no conflicts")
    if found:
        sys.exit(EXIT_REJECTED)


@main.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write to this file instead of stdout.",
)
def schema(output: Path | None) -> None:
    """Print the JSON Schema of the facts format (one document), for extractors to target."""
    from diplograph.loader.facts import json_schema

    text = json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------------------------
# serve / backup / restore


@main.command()
@click.option("--host", help="Address to listen on [default 127.0.0.1].")
@click.option("--port", type=int, help="Port [default 8000].")
@click.option(
    "--load",
    "load_paths",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Load these facts files first when the store holds no documents yet (repeatable).",
)
@click.option("--query-timeout", type=float, help="Seconds a query may run [default 5].")
@click.option("--query-workers", type=int, help="Queries run at once [default: by cores].")
@click.option("--query-client-limit", type=int, help="Queries one client runs at once.")
@click.option("--query-client-queue", type=int, help="Queries one client may have waiting.")
@click.option("--query-queue", type=int, help="Queries that may wait in all [default 64].")
@click.option("--query-heavy-seconds", type=float, help="When a query is heavy [default 0.25].")
@click.option("--query-max-processes", type=int, help="Worker processes at most.")
@click.option("--query-spare-processes", type=int, help="Idle processes kept ready [default 0].")
@click.option(
    "--hold-events/--no-hold-events",
    default=None,
    help="Hold the events the loads' checks read, between loads [default: hold].",
)
@click.option(
    "--prepare-writes/--no-prepare-writes",
    default=None,
    help="Read the store's claims as the server starts, not at its first write [default: on].",
)
@_store_options
def serve(
    host: str | None,
    port: int | None,
    load_paths: tuple[Path, ...],
    query_timeout: float | None,
    **flags: Any,
) -> None:
    """Serve the SPARQL endpoint, linked-data pages, dumps and the query page over HTTP.

    The --query-* options are the settings of the same name (docs/cli.md, docs/api.md).
    """
    from diplograph.api.server import serve as run_server

    settings = _settings(host=host, port=port, query_timeout=query_timeout, **flags)
    with Graph(settings) as graph:
        if load_paths and not graph.documents():
            for path in load_paths:
                report = graph.load_file(path)
                click.echo(f"{path}: {report.summary()}", err=True)
        run_server(settings, graph.store)


@main.command()
@click.argument("target", type=click.Path(path_type=Path, file_okay=False))
@_store_options
def backup(target: Path, **store_flags: Any) -> None:
    """Copy the embedded store, consistently, to the new directory TARGET."""
    from diplograph.loader.store.embedded import EmbeddedStore

    if target.exists():
        raise InputError(f"{target} exists; a backup goes into a new directory")
    with Graph(_settings(**store_flags)) as graph:
        if not isinstance(graph.store, EmbeddedStore):
            raise InputError("backup is for the embedded store; dump a remote store instead")
        graph.store.backup(target)
    click.echo(f"backed up the store to {target}", err=True)


@main.command()
@click.argument("source", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--force", is_flag=True, help="Replace an existing store.")
@_store_options
def restore(source: Path, force: bool, **store_flags: Any) -> None:
    """Restore the embedded store from a backup directory made by `diplograph backup`."""
    from diplograph.loader.store.embedded import EmbeddedStore

    settings = _settings(**store_flags)
    if settings.store != "embedded":
        raise InputError("restore is for the embedded store")
    target = settings.store_path
    # Open the backup first: a directory that is not a store fails here, before we touch target.
    EmbeddedStore(source).close()
    if target.exists() and any(target.iterdir()):
        if not force:
            raise InputError(f"{target} holds a store; use --force to replace it")
        EmbeddedStore(target).close()  # fails cleanly (exit 3) if a server has it open
        shutil.rmtree(target)
    try:
        shutil.copytree(source, target)
    except OSError as exc:
        raise StoreError(f"cannot restore into {target}: {exc}") from None
    click.echo(f"restored the store at {target} from {source}", err=True)


main.add_command(curate)
main.add_command(import_)
main.add_command(export)

if __name__ == "__main__":  # pragma: no cover
    main()
