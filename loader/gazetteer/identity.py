"""Which state an entity of a document is: its identifiers first, then its names.

The mapping asks this once per ``State`` entity, so a state given by its Wikidata id, its ISO
code, its name or an alias gets one node whatever the document calls it.
"""

from __future__ import annotations

from collections.abc import Sequence

from diplograph.loader.errors import Location
from diplograph.loader.gazetteer.checks import check_iso_code
from diplograph.loader.gazetteer.errors import ConflictingIdentifiersError
from diplograph.loader.gazetteer.lookup import resolve_state, state_by_wikidata
from diplograph.loader.gazetteer.state import State

__all__ = ["identify_state"]


def identify_state(
    wikidata: str | None,
    iso_code: str | None,
    names: Sequence[str],
    iso_location: Location | None = None,
) -> State | None:
    """The state that an entity's identifiers, else its names, give; ``None`` when none does.

    The order: the Wikidata id, the ISO 3166-1 code, the names in the order given (the name,
    then the aliases). A strong identifier decides alone: an entity with a Wikidata id that is
    not a state of the gazetteer is not looked up by name, since a name is weaker evidence than
    an id the document gave. An unknown or malformed ISO code raises
    :class:`~.errors.UnknownIsoCodeError`, and a Wikidata id and an ISO code that name different
    states raise :class:`~.errors.ConflictingIdentifiersError`, both at ``iso_location``.
    """
    by_id = state_by_wikidata(wikidata) if wikidata else None
    if iso_code is not None:
        by_code = check_iso_code(iso_code, iso_location)
        if wikidata and by_id is not by_code:
            named = f"{by_id.name} ({by_id.wikidata})" if by_id else "not a state of the gazetteer"
            raise ConflictingIdentifiersError(
                f"the Wikidata id {wikidata!r} and the ISO 3166-1 code {iso_code!r} name "
                f"different states: {iso_code!r} is {by_code.name} ({by_code.wikidata}), "
                f"{wikidata!r} is {named}",
                iso_location,
            )
        return by_code
    if wikidata:
        return by_id
    for name in names:
        state = resolve_state(name)
        if state is not None:
            return state
    return None
