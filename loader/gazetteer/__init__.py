"""The gazetteer of states: one :class:`State` per UN member or observer state, whatever a
document calls it (issue 12, "Coherence across documents").

A state given by its ISO 3166-1 alpha-2 or alpha-3 code, its Wikidata id, its common or official
English name or an alias a newsroom uses resolves to the same :class:`State`, so the mapping can
give it one node. The data is ``states.tsv`` (Wikidata ids and aliases) joined with pycountry
(ISO codes and names); see :mod:`.table`.

- :mod:`.state`: the :class:`State` record;
- :mod:`.normalize`: the lookup key that makes names case-, accent- and punctuation-blind;
- :mod:`.table`: reading ``states.tsv``, the join with pycountry, the index;
- :mod:`.lookup`: :func:`resolve_state` and the exact lookups;
- :mod:`.identity`: :func:`identify_state`, the state of an entity (identifiers, then names);
- :mod:`.checks` and :mod:`.errors`: rejecting a malformed Wikidata id, an unknown ISO code
  or identifiers that name two states, with record, field and rule.
"""

from __future__ import annotations

from diplograph.loader.gazetteer.checks import check_iso_code, check_wikidata_id
from diplograph.loader.gazetteer.errors import (
    ConflictingIdentifiersError,
    IdentifierError,
    MalformedWikidataIdError,
    UnknownIsoCodeError,
)
from diplograph.loader.gazetteer.identity import identify_state
from diplograph.loader.gazetteer.lookup import (
    all_states,
    resolve_state,
    state_by_iso,
    state_by_wikidata,
)
from diplograph.loader.gazetteer.normalize import lookup_key
from diplograph.loader.gazetteer.state import State

__all__ = [
    "ConflictingIdentifiersError",
    "IdentifierError",
    "MalformedWikidataIdError",
    "State",
    "UnknownIsoCodeError",
    "all_states",
    "check_iso_code",
    "check_wikidata_id",
    "identify_state",
    "lookup_key",
    "resolve_state",
    "state_by_iso",
    "state_by_wikidata",
]
