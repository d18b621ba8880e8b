"""``diplograph export network``: the who-engages-whom network for network tools (Gephi,
networkx): GraphML, GEXF 1.3, CSV or JSON, as ``/export/network`` serves it (docs/network.md).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, Any

import click

from diplograph.cli_options import settings, store_options
from diplograph.graph import Graph
from diplograph.loader.network import (
    ACTOR_CLASSES,
    Network,
    NetworkFilter,
    event_type_iri,
    read_network,
)
from diplograph.loader.network_formats import NETWORK_FORMATS, network_format, write_csv

__all__ = ["export"]


@click.group()
def export() -> None:
    """Write views of the graph in other tools' formats."""


@export.command()
@click.option(
    "--format",
    "network_format_name",
    type=click.Choice(list(NETWORK_FORMATS)),
    default="graphml",
    show_default=True,
    help="graphml (networkx, Gephi), gexf (GEXF 1.3, Gephi), csv (one table) or json.",
)
@click.option("--from", "start", metavar="DATE", help="Events starting on or after DATE.")
@click.option("--to", "end", metavar="DATE", help="Events starting on or before DATE.")
@click.option("--type", "kind", metavar="TYPE", help="Only events of TYPE (Visit, dip:Visit, IRI).")
@click.option(
    "--class",
    "classes",
    multiple=True,
    type=click.Choice(list(ACTOR_CLASSES)),
    help="Only actors of this class, and the pairs among them (repeatable).",
)
@click.option(
    "--table",
    type=click.Choice(["edges", "nodes"]),
    default="edges",
    show_default=True,
    help="For csv: which table to write.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
    default="-",
    show_default=True,
    help="The file to write (- for stdout).",
)
@store_options
def network(
    network_format_name: str,
    start: str | None,
    end: str | None,
    kind: str | None,
    classes: tuple[str, ...],
    table: str,
    output: Path,
    **flags: Any,
) -> None:
    """The network of actors who take part in events together.

    Nodes are actors (label, class, wikidata); edges are pairs with the number of events they
    share (count, also the weight), their first and last start dates and the events' types.
    DATE is YYYY, YYYY-MM or YYYY-MM-DD; an event counts when its start date, at its own
    precision, lies between --from and --to. A bad date or type exits 2.
    """
    fmt = network_format(network_format_name)
    where = NetworkFilter(
        start=start,
        end=end,
        event_type=event_type_iri(kind) if kind else None,
        classes=tuple(dict.fromkeys(classes)),
    )
    config = settings(**flags)
    with Graph(config) as graph:
        found = read_network(graph.store, config.base_iri, where, details=True)
    if str(output) == "-":
        _write(found, fmt.name, table, sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return
    with output.open("wb") as out:
        _write(found, fmt.name, table, out)
    click.echo(
        f"wrote {output} ({fmt.name}): {len(found.nodes)} actors, {len(found.edges)} pairs",
        err=True,
    )


def _write(found: Network, name: str, table: str, out: IO[bytes]) -> None:
    if name == "csv":
        write_csv(found, out, table=table)
    else:
        network_format(name).write(found, out)
