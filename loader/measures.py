"""An event's measures and a place's coordinates as typed literals (docs/mapping.md).

A measure is what one document says (GDELT's tone, ACLED's fatalities), so the mapping writes
each on the document's attestation of the fact: two sources' numbers for one event node stay
side by side, each with its document. A place's coordinates are a point of the document's own
(``dip:Point``) with the W3C WGS 84 properties ``geo:lat`` and ``geo:long``, so two documents
that put one place at slightly different coordinates keep two pairs, never a mix of the two.
"""

from __future__ import annotations

from pyoxigraph import Literal

from diplograph.loader.facts.measures import MEASURES, Measures
from diplograph.loader.literals import decimal_literal
from diplograph.loader.namespaces import DIP, GEO

__all__ = ["coordinate_literals", "measure_literals"]


def measure_literals(measures: Measures | None) -> list[tuple[str, Literal]]:
    """(property IRI, literal) for each measure given: counts as ``xsd:integer``, scales and
    tones as canonical ``xsd:decimal``."""
    if measures is None:
        return []
    out: list[tuple[str, Literal]] = []
    for name, local in MEASURES.items():
        value = getattr(measures, name)
        if isinstance(value, int):
            out.append((DIP + local, Literal(value)))
        elif value is not None:
            out.append((DIP + local, _decimal(value)))
    return out


def coordinate_literals(latitude: float, longitude: float) -> list[tuple[str, Literal]]:
    """``geo:lat`` and ``geo:long`` of a point, as canonical ``xsd:decimal``."""
    return [(GEO + "lat", _decimal(latitude)), (GEO + "long", _decimal(longitude))]


def _decimal(value: float) -> Literal:
    # -0.0 is 0: the store keeps decimals canonical, and "-0" is not
    return decimal_literal(value or 0.0)
