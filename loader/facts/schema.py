"""The published JSON Schema of the facts format (``diplograph schema``,
``docs/facts.schema.json``), generated from the pydantic models."""

from __future__ import annotations

from typing import Any

from diplograph.loader.facts.model import FactsDocument

__all__ = ["json_schema"]


def json_schema() -> dict[str, Any]:
    """The JSON Schema of one facts document (what ``diplograph schema`` prints)."""
    schema = FactsDocument.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://w3id.org/diplograph/schema/facts-1.0.json"
    schema["title"] = "diplograph facts document"
    return schema
