"""Ingest over HTTP: ``POST /facts`` loads facts documents, ``POST /validate`` is its dry run.

Both validate and load exactly like ``diplograph load`` / ``diplograph validate``: the body goes
through :func:`diplograph.loader.facts.read_documents` /
:func:`diplograph.loader.facts.parse_document` and
:func:`diplograph.loader.pipeline.load`, and the answer is the CLI's ``--format json`` report
(:meth:`diplograph.loader.pipeline.LoadReport.to_dict`).

Bodies:

* ``application/json`` – one facts document (a JSON list of documents is accepted too);
* ``application/x-ndjson`` (also ``application/jsonl``, ``application/json-lines``,
  ``application/x-jsonlines``) – JSON Lines, one document per line; line numbers in the report
  are the body's.

Statuses: 200 when every document was loaded or unchanged (or, for ``/validate``, would be);
422 when any document was rejected – the body is the same report, with ``error``, ``message``
and ``status`` added, and each rejection names its line, record and, per violation, the focus
node, field, path, constraint and message. The valid documents of a request are loaded even when
others are rejected (as with the CLI); ``?strict=true`` stops at the first invalid document
(the documents before it are loaded) and answers 422 with that document's rejection.
400 for an empty body or one that is not UTF-8, 415 for another media type, 401/403 without the
write token (both routes need it: ``/validate`` reads the store and costs as much as a load).
Both run one at a time with the other writes: a dry run uses the store's claims the server
keeps between writes (loader/reconcile.py), which a write's commit changes.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from diplograph.api.deps import (
    SettingsDep,
    StoreDep,
    WriteAuth,
    get_runner,
    run_between_writes,
    run_load,
)
from diplograph.api.errors import UnsupportedMediaTypeError
from diplograph.loader.config import Settings
from diplograph.loader.errors import FactsError, InputError, Location, RejectedError
from diplograph.loader.facts import SourceRecord, decode_json, parse_document, read_documents
from diplograph.loader.pipeline import load
from diplograph.loader.report import LoadReport, Rejection
from diplograph.loader.store import Store
from diplograph.loader.summary import Summary

__all__ = ["JSON_LINES_TYPES", "JSON_TYPES", "read_body", "router"]

log = logging.getLogger(__name__)

router = APIRouter(tags=["ingest"])

#: Media types of one JSON document (or a list of them).
JSON_TYPES = ("application/json",)
#: Media types of JSON Lines.
JSON_LINES_TYPES = (
    "application/x-ndjson",
    "application/jsonl",
    "application/json-lines",
    "application/x-jsonlines",
    "application/jsonlines",
)
#: The ``source`` the report names for a request body.
SOURCE = "<request>"

_OPENAPI_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "One facts document (application/json) or JSON Lines "
        "(application/x-ndjson). The schema is served at /schema.",
        "content": {
            "application/json": {"schema": {"$ref": "/schema"}},
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    },
    "responses": {
        "200": {"description": "Every document was loaded (or was unchanged): the load report."},
        "400": {"description": "An empty body, or one that is not UTF-8."},
        "401": {"description": "No or a wrong bearer token."},
        "403": {"description": "Writes are disabled (no write token configured)."},
        "413": {"description": "The body is larger than max_body_bytes."},
        "415": {"description": "Neither JSON nor JSON Lines."},
        "422": {"description": "Some documents were rejected: the report with the violations."},
    },
}


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _json_records(text: str, unknown: str) -> Iterator[SourceRecord]:
    """The documents of a JSON body: one object, or a list of objects."""
    try:
        value = decode_json(text)
    except json.JSONDecodeError as exc:
        error = FactsError(f"not valid JSON: {exc.msg}", Location(source=SOURCE, line=exc.lineno))
        yield SourceRecord(SOURCE, exc.lineno, text, None, error)
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield parse_document(item, source=f"{SOURCE}[{index}]", line=1, unknown=unknown)
    else:
        yield parse_document(value, source=SOURCE, line=1, unknown=unknown)


async def read_body(request: Request, unknown: str) -> list[SourceRecord]:
    """The facts records of the request body (already size-capped by the app's middleware)."""
    media = _media_type(request)
    if media not in JSON_TYPES and media not in JSON_LINES_TYPES:
        raise UnsupportedMediaTypeError(
            f"send facts as application/json (one document) or application/x-ndjson (JSON "
            f"Lines), not {media or 'a body without Content-Type'}"
        )
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"the body is not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise InputError("the body is empty: send at least one facts document")
    if media in JSON_TYPES:
        return list(_json_records(text, unknown))
    return list(read_documents(io.StringIO(text), source=SOURCE, unknown=unknown))


def _answer(report: LoadReport) -> JSONResponse:
    body = report.to_dict()
    if report.documents_rejected == 0:
        return JSONResponse(body)
    verb = "would be rejected" if report.dry_run else "were rejected"
    message = (
        f"{report.documents_rejected} of {report.documents_seen} document(s) {verb}; "
        "see 'rejections'"
    )
    if not report.dry_run and report.documents_loaded:
        message += f" ({report.documents_loaded} valid document(s) were loaded)"
    body.update(error="RejectedError", message=message, status=422)
    return JSONResponse(body, status_code=422)


StrictParam = Annotated[
    bool, Query(description="Stop at the first invalid document (the CLI's --strict).")
]
UnknownParam = Annotated[
    str | None,
    Query(
        pattern="^(error|warn)$",
        description="Unknown fields: reject the document (error) or ignore them with a warning "
        "(warn); default: the unknown_fields setting.",
    ),
]


async def _ingest(
    request: Request,
    settings: Settings,
    store: Store,
    *,
    dry_run: bool,
    strict: bool,
    unknown_fields: str | None,
) -> JSONResponse:
    records = await read_body(request, unknown_fields or settings.unknown_fields)
    rejections: list[Rejection] = []
    runner = get_runner(request)

    def committed(_documents: int) -> None:
        # Queries read a snapshot (api/snapshot.py): a new one after each batch lets them see
        # a long load's documents as they are committed, each whole.
        runner.refresh()

    def run(summary: Summary | None = None) -> LoadReport:
        # A load commits through the write guard's summary keeper, so that it keeps the
        # summary exact instead of leaving it to the guard's rebuild.
        return load(
            records,
            store,
            settings,
            dry_run=dry_run,
            strict=strict,
            on_reject=rejections.append,
            summary=summary,
            progress=None if dry_run else committed,
        )

    try:
        if dry_run:
            report = await run_between_writes(request, run)
        else:
            report = await run_load(request, run)
    except RejectedError as exc:  # strict: stopped at the first invalid document
        body = {
            "error": "RejectedError",
            "message": exc.message,
            "status": 422,
            "dry_run": dry_run,
            "rejections": [r.to_dict() for r in rejections],
        }
        return JSONResponse(body, status_code=422)
    log.info("%s: %s", "POST /validate" if dry_run else "POST /facts", report.summary())
    return _answer(report)


@router.post(
    "/facts",
    summary="Validate and load facts documents (JSON or JSON Lines)",
    openapi_extra=_OPENAPI_BODY,
)
async def post_facts(
    request: Request,
    _: WriteAuth,
    settings: SettingsDep,
    store: StoreDep,
    strict: StrictParam = False,
    unknown_fields: UnknownParam = None,
) -> JSONResponse:
    """Load facts exactly like ``diplograph load``; the answer is its JSON report."""
    return await _ingest(
        request, settings, store, dry_run=False, strict=strict, unknown_fields=unknown_fields
    )


@router.post(
    "/validate",
    summary="Dry run of POST /facts: validate, report, write nothing",
    openapi_extra=_OPENAPI_BODY,
)
async def post_validate(
    request: Request,
    _: WriteAuth,
    settings: SettingsDep,
    store: StoreDep,
    strict: StrictParam = False,
    unknown_fields: UnknownParam = None,
) -> JSONResponse:
    """Validate facts exactly like ``diplograph validate``; nothing is written."""
    return await _ingest(
        request, settings, store, dry_run=True, strict=strict, unknown_fields=unknown_fields
    )
