"""The numbers an event dataset gives an event, and the coordinates of a place.

:class:`Measures` is what one source says of an event in numbers: GDELT's Goldstein scale,
mentions, sources, articles and average tone, ACLED's fatalities, POLECAT's event intensity.
Each is optional and checked against its codebook's range; the mapping writes them on the
document's attestation of the fact, so two sources' numbers for one event stay side by side
(docs/mapping.md). :data:`Latitude` and :data:`Longitude` are a place's WGS 84 coordinates in
decimal degrees.
"""

from __future__ import annotations

from typing import Annotated, cast

from annotated_types import Ge, Le
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["LATITUDE", "LONGITUDE", "MEASURES", "Latitude", "Longitude", "Measures", "bounds"]

#: The WGS 84 ranges in decimal degrees (the importers check dataset columns against them too).
LATITUDE = (-90.0, 90.0)
LONGITUDE = (-180.0, 180.0)

Latitude = Annotated[
    float,
    Field(
        ge=LATITUDE[0], le=LATITUDE[1], description="WGS 84 latitude in decimal degrees, -90 to 90."
    ),
]
Longitude = Annotated[
    float,
    Field(
        ge=LONGITUDE[0],
        le=LONGITUDE[1],
        description="WGS 84 longitude in decimal degrees, -180 to 180.",
    ),
]
_Count = Annotated[int, Field(ge=0, strict=True)]


class Measures(BaseModel):
    """What one source says of an event in numbers (each optional)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    goldstein: Annotated[
        float | None,
        Field(
            ge=-10,
            le=10,
            description="The Goldstein scale of the event's code: its likely effect on the "
            "stability of the states involved, from -10 (most conflictual) to 10 (most "
            "cooperative). GDELT's GoldsteinScale.",
        ),
    ] = None
    tone: Annotated[
        float | None,
        Field(
            ge=-100,
            le=100,
            description="The average tone of the documents that mention the event, from -100 "
            "(extremely negative) to 100 (extremely positive); most values lie between -10 "
            "and 10. GDELT's AvgTone.",
        ),
    ] = None
    mentions: _Count | None = Field(
        None, description="How many times the event was mentioned. GDELT's NumMentions."
    )
    sources: _Count | None = Field(
        None,
        description="How many information sources mentioned the event. GDELT's NumSources.",
    )
    articles: _Count | None = Field(
        None, description="How many documents mentioned the event. GDELT's NumArticles."
    )
    fatalities: _Count | None = Field(
        None,
        description="The number of people the source reports killed in the event (a "
        "conservative estimate). ACLED's fatalities.",
    )
    intensity: Annotated[
        float | None,
        Field(
            ge=-10,
            le=10,
            description="The event's intensity on a conflict-cooperation scale from -10 "
            "(most conflictual) to 10 (most cooperative), set by its type and mode. "
            "POLECAT's Event Intensity.",
        ),
    ] = None


#: Each measure's field name -> the dip: property it is written with (on the attestation).
MEASURES: dict[str, str] = {
    "goldstein": "goldsteinScale",
    "tone": "averageTone",
    "mentions": "mentionCount",
    "sources": "sourceCount",
    "articles": "articleCount",
    "fatalities": "fatalities",
    "intensity": "eventIntensity",
}


def bounds(measure: str) -> tuple[float, float]:
    """The range of a scaled measure (``"goldstein"``, ``"tone"``, ``"intensity"``) as the
    model declares it: the one place the codebooks' ranges are written, so an importer's row
    check and the facts format's check cannot drift apart."""
    metadata = Measures.model_fields[measure].metadata
    low = next(m.ge for m in metadata if isinstance(m, Ge))
    high = next(m.le for m in metadata if isinstance(m, Le))
    return float(cast(float, low)), float(cast(float, high))
