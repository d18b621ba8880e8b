"""The facts format: what an extraction pipeline emits for one source document.

This package is the only code that knows the format. It defines it once, as pydantic models,
from which the published JSON Schema is generated (``diplograph schema``,
``docs/facts.schema.json``), and it reads facts from JSON Lines (one document per line), a JSON
file (one document or a list) or standard input, turning each document into a typed, validated
:class:`FactsDocument` or a :class:`~diplograph.loader.errors.FactsError` that names the source,
line, record and field.

- :mod:`.scalars`: dates, durations, local ids and the other constrained scalars;
- :mod:`.vocabulary`: the enumerations (entity and fact types, roles, polarities …);
- :mod:`.measures`: an event's numbers (Goldstein scale, tone, counts, fatalities,
  intensity) and a place's coordinates;
- :mod:`.model`: the records, from :class:`FactsDocument` down;
- :mod:`.parse`: one decoded JSON value to a :class:`SourceRecord`, with the error report;
- :mod:`.read`: JSON and JSON Lines reading, with source and line;
- :mod:`.schema`: the JSON Schema;
- :mod:`.tenure`: when a post was held (day bounds, the as-of rule) and the capacity a
  participant acted in.

Local ids (``entities[].id``, ``facts[].id``) are only meaningful inside one document; the mapping
turns them into global IRIs (see ``diplograph.loader.iris``).
"""

from __future__ import annotations

from diplograph.loader.facts.measures import Measures
from diplograph.loader.facts.model import (
    FORMAT_VERSION,
    DocumentMeta,
    Entity,
    Evidence,
    Extraction,
    Fact,
    FactsDocument,
    Participant,
    StanceClaim,
    Time,
)
from diplograph.loader.facts.parse import SourceRecord, parse_document, printable
from diplograph.loader.facts.read import decode_json, read_documents, read_path
from diplograph.loader.facts.scalars import (
    Confidence,
    Duration,
    LocalId,
    Name,
    ShortText,
    When,
)
from diplograph.loader.facts.schema import json_schema
from diplograph.loader.facts.vocabulary import (
    EntityType,
    FactType,
    Modality,
    Polarity,
    RelationQuality,
    Role,
)

__all__ = [
    "FORMAT_VERSION",
    "Confidence",
    "DocumentMeta",
    "Duration",
    "Entity",
    "EntityType",
    "Evidence",
    "Extraction",
    "Fact",
    "FactType",
    "FactsDocument",
    "LocalId",
    "Measures",
    "Modality",
    "Name",
    "Participant",
    "Polarity",
    "RelationQuality",
    "Role",
    "ShortText",
    "SourceRecord",
    "StanceClaim",
    "Time",
    "When",
    "decode_json",
    "json_schema",
    "parse_document",
    "printable",
    "read_documents",
    "read_path",
]
