"""One decoded JSON value to a :class:`SourceRecord`: a valid :class:`FactsDocument`, or one
:class:`~diplograph.loader.errors.FactsError` naming the source, line, record and field.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from diplograph.loader.errors import FactsError, Location
from diplograph.loader.facts.model import FactsDocument, FieldRuleError, RefError

__all__ = ["SourceRecord", "parse_document", "printable"]


@dataclass(frozen=True)
class SourceRecord:
    """One document as read from the input, before or after parsing, with where it came from."""

    source: str
    line: int
    raw: Any  # the decoded JSON value (or the raw text when it was not valid JSON)
    document: FactsDocument | None
    error: FactsError | None
    warnings: tuple[str, ...] = ()

    @property
    def record_id(self) -> str | None:
        """The document id, when the record has one (even an invalid record may)."""
        if self.document is not None:
            return self.document.document.id
        if isinstance(self.raw, dict):
            doc = self.raw.get("document")
            if isinstance(doc, dict) and isinstance(doc.get("id"), str):
                return printable(doc["id"])
        return None


def parse_document(
    value: Any, *, source: str = "<input>", line: int = 1, unknown: str = "error"
) -> SourceRecord:
    """Validate one decoded JSON value as a :class:`FactsDocument`.

    ``unknown="warn"`` drops unknown fields with a warning instead of rejecting the record.
    """
    record_id = None
    if isinstance(value, dict) and isinstance(value.get("document"), dict):
        doc_id = value["document"].get("id")
        record_id = printable(doc_id) if isinstance(doc_id, str) else None
    warnings: list[str] = []
    if unknown == "warn":
        value, dropped = _drop_unknown(value)
        warnings = [f"{source}:{line}: ignored unknown field {f!r}" for f in dropped]
    try:
        doc = FactsDocument.model_validate(value)
    except ValidationError as exc:
        error = _first_error(exc, value, Location(source=source, line=line, record=record_id))
        return SourceRecord(source, line, value, None, error, tuple(warnings))
    return SourceRecord(source, line, value, doc, None, tuple(warnings))


def printable(text: str) -> str:
    """``text`` with lone surrogates (``"\\ud800"`` in JSON, or undecodable input bytes) written as
    backslash escapes, so that a record id or field name taken from bad input can be encoded in
    a report or an HTTP answer."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _first_error(exc: ValidationError, value: Any, location: Location) -> FactsError:
    """Turn pydantic's report into one FactsError naming the field (JSON path) and the rule."""
    err = exc.errors(include_url=False)[0]
    ctx_error = (err.get("ctx") or {}).get("error")
    if isinstance(ctx_error, RefError):
        field, rule = ctx_error.field, ctx_error.rule
    elif isinstance(ctx_error, FieldRuleError):
        where = _json_path(err["loc"])
        field, rule = f"{where}.{ctx_error.field}" if where else ctx_error.field, ctx_error.rule
    else:
        field = _json_path(err["loc"])
        rule = _rule_text(err)
    record = location.record
    fact_id = _fact_id_at(value, err["loc"])
    if fact_id:
        record = f"{record}#{fact_id}" if record else fact_id
    more = len(exc.errors()) - 1
    if more > 0:
        rule += f" (and {more} more problem{'s' if more > 1 else ''} in this record)"
    return FactsError(
        rule,
        Location(source=location.source, line=location.line, record=record, field=field or None),
    )


def _json_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(part, str) and (part.startswith("function-after[") or part == "[key]"):
            continue  # pydantic's names for a validator and a mapping's key, not input fields
        else:
            path += ("." if path else "") + printable(str(part))
    return path


def _rule_text(err: Any) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown field (not part of the facts format; see `diplograph schema`)"
    if kind == "missing":
        return "required field is missing"
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if kind == "enum":
        return msg.replace("Input should be", "must be")
    return msg


def _fact_id_at(value: Any, loc: tuple[int | str, ...]) -> str | None:
    """The id of the fact or entity the error is inside, to name the record precisely."""
    if len(loc) >= 2 and loc[0] in {"facts", "entities"} and isinstance(loc[1], int):
        try:
            item = value[loc[0]][loc[1]]
        except (KeyError, IndexError, TypeError):
            return None
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            return printable(item["id"])
    return None


def _drop_unknown(value: Any) -> tuple[Any, list[str]]:
    """Remove fields the format does not know (for ``unknown="warn"``), reporting their paths."""
    dropped: list[str] = []

    def walk(node: Any, model: type[BaseModel] | None, path: str) -> Any:
        if model is None or not isinstance(node, dict):
            return node
        out = {}
        for key, item in node.items():
            field = model.model_fields.get(key)
            if field is None:
                dropped.append(f"{path}{key}")
                continue
            out[key] = _walk_field(item, field.annotation, f"{path}{key}", walk)
        return out

    return walk(value, FactsDocument, ""), dropped


def _walk_field(item: Any, annotation: Any, path: str, walk: Any) -> Any:
    args = typing.get_args(annotation)
    candidates = [annotation, *args]
    for cand in candidates:
        inner = typing.get_args(cand)
        if typing.get_origin(cand) is list and inner and isinstance(item, list):
            model = (
                inner[0] if isinstance(inner[0], type) and issubclass(inner[0], BaseModel) else None
            )
            return [walk(x, model, f"{path}[{i}].") for i, x in enumerate(item)]
        if isinstance(cand, type) and issubclass(cand, BaseModel):
            return walk(item, cand, f"{path}.")
    return item
