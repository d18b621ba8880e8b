"""POLECAT (its published tab-separated record format, with a header line) as facts documents:
one document per event.

POLECAT codes events with PLOVER: an event type, modes (how) and contexts (what about), all
checked against the PLOVER code list (``plover.ttl``); an unknown code rejects the row, naming
the column and the code. Actors carry Wikidata ids (``Wikipedia Actor ID``), so an actor that a
story's facts give the same id lands on the same node; a state's id goes through the gazetteer.
The auxiliary modes (historical, future, hypothetical, negation) become the fact's modality.
docs/importers.md lists what goes where.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from itertools import zip_longest
from pathlib import Path
from typing import Any

from diplograph.loader.facts import SourceRecord
from diplograph.loader.facts.measures import bounds
from diplograph.loader.gazetteer import State, resolve_state, state_by_iso, state_by_wikidata
from diplograph.loader.importers.actors import government, named, state
from diplograph.loader.importers.codes import code_lists
from diplograph.loader.importers.documents import (
    Actor,
    DocumentBuilder,
    Event,
    ImportNotes,
    local_id,
    plan,
)
from diplograph.loader.importers.numbers import coordinates, scale
from diplograph.loader.importers.rows import (
    Row,
    RowError,
    one_document_per_row,
    parse_date,
)

__all__ = ["REQUIRED", "SECTORS", "polecat_records"]

TOOL = "POLECAT"
REQUIRED = ("Event ID", "Event Date", "Event Type", "Actor Name")
_WIKIDATA = re.compile(r"Q[1-9][0-9]*")
_AUXILIARY = {
    "historical": "historical",
    "future": "future",
    "hypothetical": "hypothetical",
    "negation": "negated",
}
#: POLECAT sector words -> CAMEO role code (its class is the code's cameo:actorClass)
SECTORS = {
    "government": "GOV",
    "executive": "GOV",
    "military": "MIL",
    "police": "COP",
    "judiciary": "JUD",
    "legislature": "LEG",
    "legislative": "LEG",
    "intelligence": "SPY",
    "rebel": "REB",
    "rebels": "REB",
    "insurgent": "INS",
    "insurgents": "INS",
    "separatist": "SEP",
    "separatists": "SEP",
    "opposition": "OPP",
    "party": "PTY",
    "business": "BUS",
    "media": "MED",
    "ngo": "NGO",
    "igo": "IGO",
}
_BODIES = {
    "MIL": "armed forces",
    "COP": "police",
    "JUD": "judiciary",
    "LEG": "legislature",
    "SPY": "intelligence services",
}


def polecat_records(
    paths: Iterable[Path | str],
    *,
    notes: ImportNotes | None = None,
    on_line: Callable[[int], None] | None = None,
) -> Iterator[SourceRecord]:
    """The facts records of POLECAT files: one document per event, one rejected record per row
    that breaks a rule."""
    notes = notes if notes is not None else ImportNotes()
    yield from one_document_per_row(paths, "\t", REQUIRED, _document, notes, on_line)


def _get(row: Row, column: str) -> str:
    value = row.get(column)
    return "" if value in {"None", "none", "NULL", "nan", "NaN"} else value


def _split(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;,|]", text) if part.strip()]


def _document(row: Row, notes: ImportNotes) -> dict[str, Any] | None:
    event_id = _get(row, "Event ID")
    if not event_id:
        raise row.error("Event ID", "required event id is missing")
    date = _date(row, "Event Date", event_id)
    codes = code_lists()
    kind = _get(row, "Event Type").upper()
    event_type = codes.plover_types.get(kind)
    if event_type is None:
        raise row.error(
            "Event Type",
            f"unknown PLOVER event type {kind!r} (not in the PLOVER code list)",
            event_id,
        )
    where = f"{row.source}:{row.line}"
    modality, cls, modes = "asserted", event_type.cls or "Event", []
    for name in _split(_get(row, "Event Mode").lower()):
        mode = codes.plover_modes.get(name)
        if mode is None:
            raise row.error("Event Mode", f"unknown PLOVER mode {name!r}", event_id)
        if name in _AUXILIARY:
            modality = _AUXILIARY[name]
        elif kind not in mode.mode_of:
            notes.note(f"PLOVER mode {name!r} is not a mode of {kind} (the mode is ignored)", where)
            continue
        elif mode.cls:
            cls = mode.cls
        modes.append(name)
    contexts = _split(_get(row, "Contexts").lower())
    for name in contexts:
        if name not in codes.plover_contexts:
            raise row.error("Contexts", f"unknown PLOVER context {name!r}", event_id)
    actors = _actors(row, "Actor", "Wikipedia Actor ID")
    recipients = _actors(row, "Recipient", "Wikipedia Recipient ID")
    first = actors[0] if actors else None
    second = recipients[0] if recipients else None
    planned = plan(cls, first, second)
    if isinstance(planned, str):
        notes.left_out(f"PLOVER {kind}", planned, where)
        return None
    roles = {actor.id: role for role, actor in planned.participants}
    extra = [
        (roles[lead.id], actor)
        for lead, more in ((first, actors[1:]), (second, recipients[1:]))
        if lead is not None and lead.id in roles
        for actor in more
        if actor.id not in roles
    ]
    if planned.fact_type == "Appeal" and any(role == "initiator" for role, _ in extra):
        # the shapes want one initiator per appeal: the first actor named
        extra = [(role, actor) for role, actor in extra if role != "initiator"]
        notes.note("an appeal keeps one initiator, the first actor named", where)
    column = "Event Intensity" if _get(row, "Event Intensity") else "Intensity"
    intensity = scale(row, column, *bounds("intensity"), event_id, get=_get)
    point = coordinates(row, "Latitude", "Longitude", event_id, get=_get)
    # the intensity is the fact's measure and the coordinates the place's point
    summary = f"POLECAT event {event_id}: {kind}"
    if modes:
        summary += f" ({', '.join(modes)})"
    if contexts:
        summary += f"; contexts {', '.join(contexts)}"
    if _get(row, "Quad Code"):
        summary += f"; quad code {_get(row, 'Quad Code')}"
    fact: dict[str, Any] = {
        "time": {"start": date},
        "plover": kind,
        "modality": modality,
        "summary": summary,
    }
    if intensity is not None:
        fact["measures"] = {"intensity": intensity}
    published = _date(row, "Publication Date", event_id) if _get(row, "Publication Date") else date
    document: dict[str, Any] = {"id": local_id(f"polecat-{event_id}"), "published": published}
    if _get(row, "Source"):
        document["publisher"] = _get(row, "Source")[:500]
    language = _get(row, "Language").lower()
    if re.fullmatch(r"[a-z]{2,3}", language):
        document["language"] = language
    version = _get(row, "Version") or "1"
    builder = DocumentBuilder(
        document, {"tool": TOOL, "version": version[:100], "time": f"{published}T00:00:00Z"}
    )
    place = _place(row, point)
    builder.add(Event(event_id, row.line, fact, planned, place, tuple(extra)), notes, where)
    return builder.to_dict()


def _date(row: Row, column: str, record: str) -> str:
    text = _get(row, column)
    probe = Row(row.source, row.line, {column: text[:10]}, row.columns)
    try:
        return parse_date(probe, column, ("%Y-%m-%d",))
    except RowError as exc:
        raise row.error(column, exc.rule, record) from None


def _actors(row: Row, prefix: str, wiki_column: str) -> list[Actor]:
    names = [n.strip() for n in _get(row, f"{prefix} Name").split(";")]
    columns = (
        _get(row, f"{prefix} Country").split(";"),
        _get(row, f"Primary {prefix} Sector").split(";"),
        _get(row, f"{prefix} Title").split(";"),
        _get(row, wiki_column).split(";"),
    )
    out: list[Actor] = []
    for name, country, sector, title, wiki in zip_longest(names, *columns, fillvalue=""):
        if not name or name in {"None", "nan"}:
            continue
        actor = _actor(name, country.strip(), sector.strip(), title.strip(), wiki.strip())
        if all(actor.id != a.id for a in out):
            out.append(actor)
    return out


def _actor(name: str, country: str, sector: str, title: str, wiki: str) -> Actor:
    wikidata = wiki if _WIKIDATA.fullmatch(wiki) else None
    known = state_by_wikidata(wikidata) if wikidata else None
    if known is None and not title and not wikidata:
        known = resolve_state(name)
    if known is not None:
        return state(known)
    home: State | None = None
    if country:
        home = state_by_iso(country) if len(country) in (2, 3) else resolve_state(country)
    identifiers = {} if wikidata or not wiki else {"wikipedia": wiki}
    if title:
        return named(
            "Person",
            name,
            key=f"person-{wikidata or name}",
            wikidata=wikidata,
            identifiers=identifiers,
        )
    codes = code_lists().cameo_roles
    role = sector.upper() if sector.upper() in codes else SECTORS.get(sector.casefold())
    if role == "GOV" and home is not None and not wikidata:
        return government(home)
    if role in _BODIES and home is not None:
        gov = government(home)
        entity: dict[str, Any] = {
            "id": local_id(f"body-{home.iso3}{role}-{wikidata or name}"),
            "type": "GovernmentBody",
            "name": name[:500],
            "part_of": gov.id,
        }
        if wikidata:
            entity["wikidata"] = wikidata
        return Actor(entity["id"], (entity, *gov.entities))
    cls = (codes[role].cls if role else None) or "Organization"
    if cls in {"Government", "GovernmentBody"}:
        cls = "Organization"  # a government body whose state is not known
    return named(
        cls,
        name,
        key=f"org-{wikidata or name}",
        wikidata=wikidata,
        identifiers=identifiers,
        based_in=home,
    )


def _place(row: Row, point: tuple[float, float] | None) -> dict[str, Any] | None:
    name = _get(row, "Placename") or _get(row, "City")
    if not name:
        return None
    feature = _get(row, "Feature Type").upper()
    kind = (
        "City"
        if feature.startswith("PPL")
        else "State"
        if feature.startswith("PCL")
        else "Region"
        if feature.startswith("ADM")
        else "Place"
    )
    entity: dict[str, Any] = {"id": local_id(f"place-{name}"), "type": kind, "name": name[:500]}
    geonames = _get(row, "GeoNames ID")
    if geonames.isdigit() and kind != "State":
        entity["identifiers"] = {"geonames": geonames}
    if point is not None:
        entity["latitude"], entity["longitude"] = point
    return entity
