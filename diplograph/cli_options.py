"""What every ``diplograph`` subcommand shares: the store options, the settings they make, the
``--format text|json`` option, and the group that turns our errors into exit codes."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from diplograph.loader.config import Settings, load_settings
from diplograph.loader.errors import DiplographError
from diplograph.loader.store import Store

__all__ = [
    "EXIT_OK",
    "EXIT_REJECTED",
    "CommandGroup",
    "allow_bulk_writes",
    "bulk_writes_option",
    "cluster_option",
    "fail",
    "load_workers",
    "settings",
    "store_options",
    "text_or_json",
    "workers_option",
]

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_REJECTED = 0, 1


def store_options(func: F) -> F:
    """Options every command that touches the store shares (flags override DIPLOGRAPH_* vars)."""
    options = [
        click.option(
            "--store",
            "store",
            type=click.Choice(["embedded", "memory", "remote"]),
            help="Which store: embedded (Oxigraph on disk, default), memory, remote.",
        ),
        click.option(
            "--store-path",
            type=click.Path(path_type=Path, file_okay=False),
            help="Directory of the embedded store [env DIPLOGRAPH_STORE_PATH; default data/store].",
        ),
        click.option("--remote-query-url", help="Remote SPARQL query endpoint URL."),
        click.option("--remote-update-url", help="Remote SPARQL update endpoint URL."),
        click.option(
            "--base-iri", help="Base of minted IRIs [default https://w3id.org/diplograph/]."
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def settings(**flags: Any) -> Settings:
    """The settings: these flags over the DIPLOGRAPH_* variables."""
    return load_settings(**flags)


def fail(exc: DiplographError) -> None:
    """Print the error for people and exit with its documented code."""
    click.echo(f"error: {exc.message}", err=True)
    sys.exit(exc.exit_code)


class CommandGroup(click.Group):
    """Turns our errors into a message and the documented exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DiplographError as exc:
            fail(exc)
        except BrokenPipeError:
            sys.exit(EXIT_OK)  # `diplograph dump - | head` is not an error


#: ``--format text|json`` of the commands that report.
text_or_json = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)


#: ``--bulk-writes/--no-bulk-writes`` of the commands that load documents (``load``, ``import``).
bulk_writes_option = click.option(
    "--bulk-writes/--no-bulk-writes",
    default=True,
    show_default=True,
    help="Embedded store: write batches of new documents with the bulk loader, journaled, "
    "so that a batch a crash cut short is undone at the next open (faster, less memory); "
    "--no-bulk-writes writes each batch in one transaction, as the server does.",
)


#: ``--workers N`` of the commands that load documents (``load``, ``import``).
workers_option = click.option(
    "--workers",
    type=click.IntRange(1, 256),
    help="Processes that validate the documents, this one included (default: "
    "DIPLOGRAPH_LOAD_WORKERS, else the machine's cores). The result is the same for any number.",
)


#: ``--cluster ADDRESS`` of the commands that load documents (``load``, ``import``).
cluster_option = click.option(
    "--cluster",
    metavar="ADDRESS",
    help="Validate on a Dask cluster: a scheduler's tcp://host:port, or local:N for N worker "
    "processes on this machine (needs diplograph[cluster]; replaces --workers).",
)


def load_workers(given: int | None, cluster: str | None = None) -> dict[str, Any]:
    """The ``load_workers`` setting for ``--workers``: the flag, else the environment's
    DIPLOGRAPH_LOAD_WORKERS, else the machine's cores (a command's default, where the Python
    API's is 1: a script needs the ``__main__`` guard of multiprocessing for more)."""
    if cluster:
        return {"cluster": cluster}
    if given is not None:
        return {"load_workers": given}
    if os.environ.get("DIPLOGRAPH_LOAD_WORKERS"):
        return {}
    return {"load_workers": max(1, min(os.cpu_count() or 1, 256))}


def allow_bulk_writes(store: Store, allowed: bool) -> None:
    """The one place that turns the embedded store's bulk writes on (loader/store/embedded.py):
    for ``load`` and ``import``, whose process holds the store alone and reads nothing while
    it writes. The server and the Python API keep transactions."""
    from diplograph.loader.store.embedded import EmbeddedStore

    if isinstance(store, EmbeddedStore):
        store.bulk_writes = allowed
