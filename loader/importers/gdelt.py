"""GDELT 2.0 events (the tab-separated export, 61 columns, no header) as facts documents.

One document per source article (``SOURCEURL``): the events of its rows, with their actors and
places, so provenance stays per article. Rows of one article are gathered within a window of
rows (``window``, 10,000 by default), which keeps memory flat in the file's size; an article
whose rows lie farther apart makes one document per window. A document's id is
``gdelt-{GLOBALEVENTID of its first row}``: the same file imported again gives the same ids.

Each row is checked before it joins its document: the column count, SQLDATE, DATEADDED, the
event code (in the CAMEO code list), the numbers. A row that breaks a rule is rejected alone,
naming file, line, column and rule. docs/importers.md says which field goes where.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from diplograph.loader.facts import SourceRecord, parse_document
from diplograph.loader.facts.measures import bounds
from diplograph.loader.importers.actors import CameoActor, cameo_actor, title_case
from diplograph.loader.importers.codes import code_lists
from diplograph.loader.importers.documents import (
    Actor,
    DocumentBuilder,
    Event,
    ImportNotes,
    local_id,
    plan,
)
from diplograph.loader.importers.numbers import coordinates, count, scale
from diplograph.loader.importers.rows import Row, RowError, read_tabular, rejected

__all__ = ["COLUMNS", "TOOL", "gdelt_records"]

#: The tool the documents' extraction names.
TOOL = "GDELT 2.0 event export"
VERSION = "2.0"

_ACTOR = (
    "Code",
    "Name",
    "CountryCode",
    "KnownGroupCode",
    "EthnicCode",
    "Religion1Code",
    "Religion2Code",
    "Type1Code",
    "Type2Code",
    "Type3Code",
)
_GEO = ("Type", "FullName", "CountryCode", "ADM1Code", "ADM2Code", "Lat", "Long", "FeatureID")
#: The 61 columns of the GDELT 2.0 event export, in file order.
COLUMNS: tuple[str, ...] = (
    "GLOBALEVENTID",
    "SQLDATE",
    "MonthYear",
    "Year",
    "FractionDate",
    *(f"Actor1{c}" for c in _ACTOR),
    *(f"Actor2{c}" for c in _ACTOR),
    "IsRootEvent",
    "EventCode",
    "EventBaseCode",
    "EventRootCode",
    "QuadClass",
    "GoldsteinScale",
    "NumMentions",
    "NumSources",
    "NumArticles",
    "AvgTone",
    *(f"Actor1Geo_{c}" for c in _GEO),
    *(f"Actor2Geo_{c}" for c in _GEO),
    *(f"ActionGeo_{c}" for c in _GEO),
    "DATEADDED",
    "SOURCEURL",
)
assert len(COLUMNS) == 61

_SPACE = re.compile(r"\s")
#: The actors of recent rows: the same few codes recur through a file, and documents only read
#: the entities they are given, so one Actor serves them all.
_cameo_actor = functools.lru_cache(maxsize=4096)(cameo_actor)

#: GDELT's geographic resolution -> the place class (1 country, 2 US state, 3 US city,
#: 4 world city, 5 world state or province)
_GEO_TYPES = {"1": "State", "2": "Region", "3": "City", "4": "City", "5": "Region"}


def gdelt_records(
    paths: Iterable[Path | str],
    *,
    notes: ImportNotes | None = None,
    window: int = 10_000,
    on_line: Callable[[int], None] | None = None,
) -> Iterator[SourceRecord]:
    """The facts records of GDELT 2.0 event files: one per article (per window of rows), and
    one rejected record per row that breaks a rule."""
    notes = notes if notes is not None else ImportNotes()
    for path in paths:
        articles: dict[str, DocumentBuilder] = {}
        rows = 0
        source = str(path)  # as the reader names it ("<stdin>", "archive.zip:member")
        for item in read_tabular(path, COLUMNS, on_line=on_line):
            notes.rows += 1
            source = item.source
            if isinstance(item, RowError):
                yield rejected(item, None)
                continue
            try:
                url, meta, event = _event(item, notes)
            except RowError as exc:
                yield rejected(exc, item.values)
                continue
            rows += 1
            builder = articles.get(url)
            if builder is None:
                builder = articles[url] = DocumentBuilder(*meta)
            if event is not None:
                builder.add(event, notes, f"{item.source}:{item.line}")
            if rows >= window:
                yield from _flush(articles, source, notes)
                rows = 0
        yield from _flush(articles, source, notes)


def _flush(
    articles: dict[str, DocumentBuilder], source: str, notes: ImportNotes
) -> Iterator[SourceRecord]:
    builders: list[DocumentBuilder | None] = list(articles.values())
    articles.clear()
    for index, builder in enumerate(builders):
        # each builder is let go once its document is made: the window's documents are not all
        # held (and walked by the garbage collector) while the load works through them
        builders[index] = None
        assert builder is not None
        if builder.facts:
            notes.documents += 1
            notes.events += len(builder.facts)
            yield parse_document(builder.to_dict(), source=source, line=builder.first_line or 1)


def _event(row: Row, notes: ImportNotes) -> tuple[str, tuple[Any, Any], Event | None]:
    """The article URL, the document's metadata and the row's event (None when it is left
    out, with a note); a RowError when the row breaks a rule."""
    event_id = row.get("GLOBALEVENTID")
    if not event_id.isdigit():
        raise row.error("GLOBALEVENTID", f"{event_id!r} is not an event id (digits)", event_id)
    date = _date(row, "SQLDATE", event_id)
    added = _timestamp(row, "DATEADDED", event_id)
    url = row.get("SOURCEURL")
    if not url.startswith(("http://", "https://")) or _SPACE.search(url):
        raise row.error("SOURCEURL", f"{url!r} is not an http(s) URL", event_id)
    code = row.get("EventCode")
    known = code_lists().cameo_events.get(code)
    if known is None:
        raise row.error(
            "EventCode", f"unknown CAMEO event code {code!r} (not in the CAMEO code list)", event_id
        )
    measures = _measures(row, event_id)
    point = coordinates(row, "ActionGeo_Lat", "ActionGeo_Long", event_id)
    document = {
        "id": f"gdelt-{event_id}",
        "url": url[:2000],
        "publisher": _publisher(url),
        "published": added[:10],
    }
    extraction = {"tool": TOOL, "version": VERSION, "time": added}
    meta = (document, extraction)
    where = f"{row.source}:{row.line}"
    first = _actor(row, "Actor1", notes, where)
    second = _actor(row, "Actor2", notes, where)
    planned = plan(known.cls or "Event", first, second, hosts=code == "043")
    if isinstance(planned, str):
        notes.left_out(f"CAMEO {code}", planned, where)
        return url, meta, None
    # the numbers are the fact's measures and the place's point: the summary names the code
    summary = f"GDELT event {event_id}: CAMEO {code} ({known.label})"
    place = _place(row, "ActionGeo_", point)
    fact: dict[str, Any] = {"time": {"start": date}, "cameo": code, "summary": summary}
    if measures:
        fact["measures"] = measures
    return url, meta, Event(event_id, row.line, fact, planned, place)


def _actor(row: Row, prefix: str, notes: ImportNotes, where: str) -> Actor | None:
    actor = CameoActor(
        code=row.get(f"{prefix}Code"),
        name=row.get(f"{prefix}Name"),
        country=row.get(f"{prefix}CountryCode"),
        known_group=row.get(f"{prefix}KnownGroupCode"),
        types=tuple(t for t in (row.get(f"{prefix}Type{i}Code") for i in (1, 2, 3)) if t),
    )
    found = _cameo_actor(actor)
    if isinstance(found, str):
        notes.note(f"{prefix}: {found} (the event is kept without it)", where)
        return None
    return found


def _measures(row: Row, record: str) -> dict[str, Any]:
    """The event's numbers, each in its codebook's range (docs/importers.md)."""
    found = {
        "goldstein": scale(row, "GoldsteinScale", *bounds("goldstein"), record),
        "mentions": count(row, "NumMentions", record),
        "sources": count(row, "NumSources", record),
        "articles": count(row, "NumArticles", record),
        "tone": scale(row, "AvgTone", *bounds("tone"), record),
    }
    return {name: value for name, value in found.items() if value is not None}


def _place(row: Row, prefix: str, point: tuple[float, float] | None) -> dict[str, Any] | None:
    name = row.get(f"{prefix}FullName")
    if not name:
        return None
    return _place_entity(row.get(f"{prefix}Type"), name, row.get(f"{prefix}FeatureID"), point)


@functools.lru_cache(maxsize=4096)
def _place_entity(
    geo_type: str, name: str, feature: str, point: tuple[float, float] | None
) -> dict[str, Any]:
    """The place entity of a GDELT geography; the same dict for the same place (documents only
    read the entities they are given)."""
    kind = _GEO_TYPES.get(geo_type, "Place")
    entity: dict[str, Any] = {
        "id": local_id(f"place-{feature or name}"),
        "type": kind,
        "name": title_case(name)[:500],
    }
    if feature and kind != "State":
        # GDELT's feature ids are GNS or GNIS ids, not GeoNames': a scheme of their own
        entity["identifiers"] = {"gdelt": feature}
    if point is not None:
        entity["latitude"], entity["longitude"] = point
    return entity


def _date(row: Row, column: str, record: str) -> str:
    text = row.get(column)
    if len(text) != 8 or not text.isdigit():
        raise row.error(column, f"{text!r} is not a date of the form YYYYMMDD", record)
    value = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise row.error(column, f"{text!r} is not a real calendar date", record) from None
    return value


def _timestamp(row: Row, column: str, record: str) -> str:
    text = row.get(column)
    if len(text) != 14 or not text.isdigit():
        raise row.error(column, f"{text!r} is not a time of the form YYYYMMDDhhmmss", record)
    date = _date(Row(row.source, row.line, {column: text[:8]}, row.columns), column, record)
    hh, mm, ss = text[8:10], text[10:12], text[12:14]
    if int(hh) > 23 or int(mm) > 59 or int(ss) > 59:
        raise row.error(column, f"{text!r} is not a real time of day", record)
    return f"{date}T{hh}:{mm}:{ss}Z"


def _publisher(url: str) -> str:
    host = url.split("://", 1)[1].split("/", 1)[0].split("@")[-1].split(":")[0].lower()
    return host.removeprefix("www.") or "unknown"
