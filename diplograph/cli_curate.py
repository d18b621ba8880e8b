"""``diplograph curate``: a curator's statements that two nodes are, or are not, one.

The statements are data in the store (loader/curation.py); ``check`` stops listing a pair once it
has one.
"""

from __future__ import annotations

import json
from typing import Any

import click

from diplograph.cli_options import settings, store_options, text_or_json
from diplograph.graph import Graph

__all__ = ["curate"]

_NODES = (click.argument("a"), click.argument("b"))


@click.group()
def curate() -> None:
    """Say that two nodes are the same or different, list or withdraw such statements.

    A statement is kept in the store whatever is loaded or retracted later, and `check` no
    longer lists the pair as a candidate.
    """


def _verdict_command(verdict: str, summary: str) -> None:
    @curate.command(name=verdict, help=f"{summary} (A and B are full IRIs).")
    @_NODES[0]
    @_NODES[1]
    @store_options
    def command(a: str, b: str, **flags: Any) -> None:
        with Graph(settings(**flags)) as graph:
            record = graph.curate(verdict, a, b)
        click.echo(f"curated: <{record.first}> and <{record.second}> are {verdict}")


_verdict_command("same", "State that nodes A and B are one entity or event")
_verdict_command("different", "State that nodes A and B are not one entity or event")


@curate.command(name="remove")
@_NODES[0]
@_NODES[1]
@store_options
def remove(a: str, b: str, **flags: Any) -> None:
    """Withdraw the statement about nodes A and B (exit 2 when there is none)."""
    with Graph(settings(**flags)) as graph:
        record = graph.uncurate(a, b)
    click.echo(f"withdrawn: <{record.first}> and <{record.second}> were {record.verdict}")


@curate.command(name="list")
@text_or_json
@store_options
def list_(output_format: str, **flags: Any) -> None:
    """List every statement."""
    with Graph(settings(**flags)) as graph:
        records = graph.curations()
    if output_format == "json":
        click.echo(json.dumps([r.to_dict() for r in records], indent=2))
        return
    for r in records:
        click.echo(f"{r.verdict}\t<{r.first}>\t<{r.second}>")
