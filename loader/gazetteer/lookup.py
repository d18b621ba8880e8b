"""Finding a state by whatever a document gives for it: a code, a Wikidata id or a name."""

from __future__ import annotations

from diplograph.loader.gazetteer.normalize import lookup_key
from diplograph.loader.gazetteer.state import State
from diplograph.loader.gazetteer.table import gazetteer

__all__ = ["all_states", "resolve_state", "state_by_iso", "state_by_wikidata"]


def resolve_state(text: str) -> State | None:
    """The state that ``text`` names, or ``None`` when it names none or is ambiguous.

    ``text`` may be an ISO 3166-1 alpha-2 or alpha-3 code, a Wikidata id, or the common or
    official name or an alias, in any case, with or without accents, punctuation or a leading
    "the": "U.S.", "the Netherlands", "Cote d'Ivoire", "q148" all resolve. Names the news uses for
    two states ("Congo", "Korea") resolve to none.
    """
    return gazetteer().by_key.get(lookup_key(text))


def state_by_wikidata(qid: str) -> State | None:
    """The state of the Wikidata id ``qid`` (exactly as written, ``"Q30"``), or ``None``."""
    return gazetteer().by_wikidata.get(qid)


def state_by_iso(code: str) -> State | None:
    """The state of an ISO 3166-1 alpha-2 or alpha-3 code in either case, or ``None``."""
    return gazetteer().by_iso.get(code.upper())


def all_states() -> tuple[State, ...]:
    """Every state of the gazetteer: the 193 UN members and the 2 observers, in file order."""
    return gazetteer().states
