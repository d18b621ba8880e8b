"""The errors of a bad state identifier in the input: a malformed Wikidata id, an unknown ISO code.

They are :class:`~diplograph.loader.errors.FactsError`\\ s, so they carry the record, field and
rule, answer HTTP 422 and end the CLI with exit code 2 like every other broken facts record.
"""

from __future__ import annotations

from diplograph.loader.errors import FactsError, Location

__all__ = [
    "ConflictingIdentifiersError",
    "IdentifierError",
    "MalformedWikidataIdError",
    "UnknownIsoCodeError",
]


class IdentifierError(FactsError):
    """An identifier of a state that cannot be used; the rule names the value and what is wrong."""

    def __init__(self, rule: str, location: Location | None = None) -> None:
        super().__init__(rule, location if location is not None else Location())


class MalformedWikidataIdError(IdentifierError):
    """A Wikidata id that is not ``Q`` followed by digits (``"Q0x"``, ``"30"``)."""


class UnknownIsoCodeError(IdentifierError):
    """An ISO 3166-1 code that is malformed, unassigned, or not of a UN member or observer state."""


class ConflictingIdentifiersError(IdentifierError):
    """Identifiers of one entity that name different states (Wikidata ``Q148``, ISO ``SAU``)."""
