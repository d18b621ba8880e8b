"""The identifiers an entity may carry: its Wikidata id and strong identifiers of other schemes.

The format checks their form only. Whether an ISO 3166-1 code is assigned to a state, and whether
a Wikidata id and an ISO code name the same state, is the gazetteer's knowledge; the mapping
asks it (``diplograph.loader.gazetteer.identify_state``) and rejects the record with the rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema

from diplograph.loader.facts.vocabulary import EntityType

__all__ = [
    "ISO3166",
    "IdentifierScheme",
    "IdentifierValue",
    "WikidataId",
    "check_entity_identifiers",
]

#: The scheme of ISO 3166-1 codes among an entity's identifiers.
ISO3166 = "iso3166"

# Checked whole in Python (fullmatch): with re.match a trailing newline would pass the "$".
_WIKIDATA = re.compile(r"Q[1-9][0-9]*")
_WIKIDATA_PATTERN = "^Q[1-9][0-9]*$"


def _check_wikidata(value: str) -> str:
    # The same rule text as the gazetteer's check_wikidata_id, which the format cannot import.
    if not _WIKIDATA.fullmatch(value):
        raise ValueError(f"malformed Wikidata id {value!r}: expected Q followed by digits")
    return value


#: A Wikidata item id (``Q148``); a malformed one is rejected naming the value and the rule.
WikidataId = Annotated[
    str,
    AfterValidator(_check_wikidata),
    WithJsonSchema({"pattern": _WIKIDATA_PATTERN, "type": "string"}),
]
_SCHEME = re.compile(r"[a-z][a-z0-9_]{1,31}")
_VALUE = re.compile(r"\S(?:[^\n\r]{0,198}\S)?")


def _check_scheme(value: str) -> str:
    if not _SCHEME.fullmatch(value):
        raise ValueError(
            f"identifier scheme {value!r}: expected 2 to 32 lower-case letters, digits or '_', "
            "starting with a letter (iso3166, cameo, acled)"
        )
    return value


def _check_value(value: str) -> str:
    if not _VALUE.fullmatch(value):
        raise ValueError(
            f"identifier {value!r}: expected 1 to 200 characters on one line, without white "
            "space at either end"
        )
    return value


#: The name of an identifier scheme: ``iso3166``, or an event dataset's (``cameo``, ``acled``).
IdentifierScheme = Annotated[
    str,
    AfterValidator(_check_scheme),
    WithJsonSchema({"pattern": f"^{_SCHEME.pattern}$", "type": "string"}),
]
#: One identifier: short text on one line without surrounding white space (``CHN``, ``ISR``).
IdentifierValue = Annotated[
    str,
    AfterValidator(_check_value),
    WithJsonSchema(
        {"maxLength": 200, "minLength": 1, "pattern": f"^{_VALUE.pattern}$", "type": "string"}
    ),
]


def check_entity_identifiers(
    entity_type: EntityType,
    identifiers: Mapping[str, str],
    error: Callable[[str, str], Exception],
) -> None:
    """Raise ``error(field, rule)`` when an entity's identifiers do not fit its type: an ISO
    3166-1 code is only for a State, and the Wikidata id has its own field."""
    if "wikidata" in identifiers:
        raise error(
            "identifiers.wikidata",
            "give the Wikidata id in the entity's field 'wikidata', not among its identifiers",
        )
    if ISO3166 in identifiers and entity_type is not EntityType.State:
        raise error(
            f"identifiers.{ISO3166}",
            f"an ISO 3166-1 code identifies a State, not a {entity_type.value}: give it on the "
            "State entity (and link it, e.g. with 'governs')",
        )
