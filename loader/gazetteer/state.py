"""One state of the gazetteer, as every other module sees it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["State"]


@dataclass(frozen=True)
class State:
    """A UN member or observer state and the identifiers and names it is known by.

    ``wikidata`` is the item that carries the state's ISO 3166-1 code (``"Q148"``);
    ``other_wikidata`` holds the items a document may give for the same state instead (the
    Kingdom of the Netherlands beside the Netherlands, the Holy See beside Vatican City).
    ``aliases`` are the further names a newsroom uses, beside ``name`` and ``official_name``.
    """

    iso2: str
    iso3: str
    wikidata: str
    name: str
    official_name: str
    aliases: tuple[str, ...] = ()
    other_wikidata: tuple[str, ...] = ()

    @property
    def wikidata_ids(self) -> tuple[str, ...]:
        """Every Wikidata id that stands for this state, its own first."""
        return (self.wikidata, *self.other_wikidata)

    @property
    def names(self) -> tuple[str, ...]:
        """Every name this state resolves from: the common name, the official name, the aliases."""
        return (self.name, self.official_name, *self.aliases)
