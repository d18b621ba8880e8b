"""Validation of the state identifiers a record gives: each check returns the clean value or
raises an :class:`~diplograph.loader.gazetteer.errors.IdentifierError` naming the value and the
rule it breaks, at the record and field the caller passes.
"""

from __future__ import annotations

import re

import pycountry

from diplograph.loader.errors import Location
from diplograph.loader.gazetteer.errors import MalformedWikidataIdError, UnknownIsoCodeError
from diplograph.loader.gazetteer.state import State
from diplograph.loader.gazetteer.table import WIKIDATA_ID, gazetteer

__all__ = ["WIKIDATA_ID", "check_iso_code", "check_wikidata_id"]

_ISO_CODE = re.compile(r"^[A-Za-z]{2,3}$")


def check_wikidata_id(value: str, location: Location | None = None) -> str:
    """``value`` if it is a well-formed Wikidata item id (``Q`` then digits, no leading zero).

    Only the form is checked: the id may name any item, not only a state.
    """
    if not WIKIDATA_ID.fullmatch(value):
        raise MalformedWikidataIdError(
            f"malformed Wikidata id {value!r}: expected Q followed by digits", location
        )
    return value


def check_iso_code(value: str, location: Location | None = None) -> State:
    """The state whose ISO 3166-1 alpha-2 or alpha-3 code is ``value`` (either case).

    A code of two or three letters that ISO does not assign is unknown; one that ISO assigns to a
    territory that is not a UN member or observer state (``"PR"``, Puerto Rico) is refused with
    the territory named, since the gazetteer has only states.
    """
    if not _ISO_CODE.fullmatch(value):
        raise UnknownIsoCodeError(
            f"malformed ISO 3166-1 code {value!r}: expected two or three letters", location
        )
    code = value.upper()
    state = gazetteer().by_iso.get(code)
    if state is not None:
        return state
    if len(code) == 2:
        country = pycountry.countries.get(alpha_2=code)
    else:
        country = pycountry.countries.get(alpha_3=code)
    if country is None:
        raise UnknownIsoCodeError(f"unknown ISO 3166-1 code {value!r}", location)
    raise UnknownIsoCodeError(
        f"ISO 3166-1 code {value!r} ({country.name}) is not of a UN member or observer state",
        location,
    )
