"""The gazetteer's table: ``states.tsv`` joined with pycountry, and the index over it.

``states.tsv`` names the states (by ISO alpha-3 code) and holds what pycountry lacks: the
Wikidata ids, a newsroom's common name where pycountry's is a reference form, and aliases.
pycountry, which follows the ISO 3166 maintenance agency, gives the codes and English names, so
a renamed state (Türkiye, Czechia) follows with a pycountry upgrade.

The table is read once, on first use. A row that pycountry does not know, a malformed Wikidata
id, or a name that would resolve to two states stops the load: the data file is part of the
code, and a wrong row is a bug to fix, not input to skip.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import pycountry
from pycountry.db import Country

from diplograph.loader.gazetteer.normalize import lookup_key
from diplograph.loader.gazetteer.state import State

__all__ = ["DATA_FILE", "WIKIDATA_ID", "Gazetteer", "gazetteer", "load_gazetteer", "parse_rows"]

DATA_FILE = "states.tsv"
# A Wikidata item id: Q and a number without leading zeros.
WIKIDATA_ID = re.compile(r"^Q[1-9][0-9]*$")
# pycountry's reference form of a name, "Korea, Republic of", read as "Republic of Korea".
_INVERTED = re.compile(r"^(?P<head>[^,]+), (?P<tail>.+ of(?: the)?)$")


@dataclass(frozen=True)
class Gazetteer:
    """The states in file order, and the index from every lookup key to its one state."""

    states: tuple[State, ...]
    by_key: dict[str, State]
    by_wikidata: dict[str, State]
    by_iso: dict[str, State]


def _optional(country: Country, field: str) -> str | None:
    """A field pycountry gives for some countries only (``common_name``, ``official_name``)."""
    value: str | None = getattr(country, field, None)
    return value or None


def _official_name(country: Country) -> str:
    """pycountry's official name, else its name read in natural order."""
    official = _optional(country, "official_name")
    if official:
        # pycountry writes a few as "the State of Palestine".
        return official[4:] if official.startswith("the ") else official
    name = country.name
    inverted = _INVERTED.match(name)
    if inverted is None:
        return name
    official = f"{inverted['tail']} {inverted['head']}"
    return official[4:] if official.startswith("The ") else official


def _distinct(aliases: list[str], seen: tuple[str, ...]) -> tuple[str, ...]:
    """The aliases whose keys are new: none repeats another or the names already given."""
    keys = {lookup_key(name) for name in seen}
    kept: list[str] = []
    for alias in aliases:
        if lookup_key(alias) not in keys:
            keys.add(lookup_key(alias))
            kept.append(alias)
    return tuple(kept)


def _state(row: list[str], line: int) -> State:
    iso3, qids, name, aliases = [*row, "", "", ""][:4]
    country = pycountry.countries.get(alpha_3=iso3)
    if country is None:
        raise ValueError(f"{DATA_FILE}:{line}: pycountry has no country {iso3!r}")
    ids = tuple(qid for qid in qids.split("|") if qid)
    if not ids or not all(WIKIDATA_ID.fullmatch(qid) for qid in ids):
        raise ValueError(f"{DATA_FILE}:{line}: malformed Wikidata id in {qids!r}")
    reference_name = country.name
    common = name or _optional(country, "common_name") or reference_name
    official = _official_name(country)
    extra = [alias for alias in aliases.split("|") if alias]
    if not name and reference_name not in (common, official):
        # Keep pycountry's own name findable ("Iran, Islamic Republic of"), unless the row
        # replaced it because it misleads ("Congo" alone, which the news uses for both Congos).
        extra.insert(0, reference_name)
    return State(
        iso2=country.alpha_2,
        iso3=iso3,
        wikidata=ids[0],
        name=common,
        official_name=official,
        aliases=_distinct(extra, seen=(common, official)),
        other_wikidata=ids[1:],
    )


def parse_rows(text: str) -> tuple[State, ...]:
    """The states of a ``states.tsv`` text: comment lines and the header row skipped."""
    states: list[State] = []
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.startswith("#") or raw.startswith("iso3\t"):
            continue
        states.append(_state([cell.strip() for cell in raw.split("\t")], line))
    return tuple(states)


def _index(states: tuple[State, ...]) -> dict[str, State]:
    by_key: dict[str, State] = {}
    for state in states:
        for text in (state.iso2, state.iso3, *state.wikidata_ids, *state.names):
            key = lookup_key(text)
            other = by_key.setdefault(key, state)
            if other is not state:
                raise ValueError(f"{text!r} would name both {other.iso3} and {state.iso3}")
    return by_key


def load_gazetteer(text: str) -> Gazetteer:
    """The gazetteer of a ``states.tsv`` text; ``ValueError`` names the row or key at fault."""
    states = parse_rows(text)
    by_wikidata = {qid: state for state in states for qid in state.wikidata_ids}
    by_iso = {code: state for state in states for code in (state.iso2, state.iso3)}
    return Gazetteer(states, _index(states), by_wikidata, by_iso)


@cache
def gazetteer() -> Gazetteer:
    """The gazetteer shipped with diplograph, read on first use."""
    text = (files("diplograph.loader.gazetteer") / DATA_FILE).read_text(encoding="utf-8")
    return load_gazetteer(text)
