"""ACLED (the CSV export, with a header line) as facts documents: one document per event.

ACLED codes its events by hand from many sources, and names its actors by type: state forces,
rebel groups, political and identity militias, rioters, protesters, civilians, external forces
(``inter1``, ``inter2``, as numbers 1-8 in older exports and as words in newer ones). Militias
become ``dip:Militia``, rebels ``dip:NonStateArmedGroup``, the forces of a state a body of that
state's government (``Military Forces of Israel (2022-)`` is the same node as GDELT's ``ISRMIL``).
Event and sub-event types map to a CAMEO code and through it to an event class; battles are
armed conflicts between two parties. docs/importers.md lists what goes where.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from diplograph.loader.facts import SourceRecord
from diplograph.loader.gazetteer import resolve_state
from diplograph.loader.importers.actors import government, named
from diplograph.loader.importers.codes import code_lists
from diplograph.loader.importers.documents import (
    Actor,
    DocumentBuilder,
    Event,
    ImportNotes,
    Plan,
    local_id,
    plan,
)
from diplograph.loader.importers.numbers import coordinates, count
from diplograph.loader.importers.rows import (
    Row,
    one_document_per_row,
    parse_date,
)

__all__ = ["EVENT_TYPES", "REQUIRED", "acled_records"]

TOOL = "ACLED export"
VERSION = "1"
REQUIRED = ("event_id_cnty", "event_date", "event_type", "sub_event_type", "actor1", "country")

#: (event type, sub-event type) -> (CAMEO code or None, class that overrides the code's)
EVENT_TYPES: dict[tuple[str, str], tuple[str | None, str | None]] = {
    ("Battles", "Armed clash"): ("190", "ArmedConflict"),
    ("Battles", "Government regains territory"): ("192", "ArmedConflict"),
    ("Battles", "Non-state actor overtakes territory"): ("192", "ArmedConflict"),
    ("Explosions/Remote violence", "Chemical weapon"): ("2041", None),
    ("Explosions/Remote violence", "Air/drone strike"): ("195", None),
    ("Explosions/Remote violence", "Suicide bomb"): ("1831", None),
    ("Explosions/Remote violence", "Shelling/artillery/missile attack"): ("194", None),
    ("Explosions/Remote violence", "Remote explosive/landmine/IED"): ("1833", None),
    ("Explosions/Remote violence", "Grenade"): ("183", None),
    ("Violence against civilians", "Sexual violence"): ("1821", None),
    ("Violence against civilians", "Attack"): ("180", None),
    ("Violence against civilians", "Abduction/forced disappearance"): ("181", None),
    ("Protests", "Peaceful protest"): ("141", None),
    ("Protests", "Protest with intervention"): ("141", None),
    ("Protests", "Excessive force against protesters"): ("175", None),
    ("Riots", "Violent demonstration"): ("145", None),
    ("Riots", "Mob violence"): ("145", None),
    ("Strategic developments", "Agreement"): ("057", None),
    ("Strategic developments", "Arrests"): ("173", None),
    ("Strategic developments", "Change to group/activity"): (None, None),
    ("Strategic developments", "Disrupted weapons use"): (None, None),
    ("Strategic developments", "Headquarters or base established"): (None, None),
    ("Strategic developments", "Looting/property destruction"): ("171", None),
    ("Strategic developments", "Non-violent transfer of territory"): (None, None),
    ("Strategic developments", "Other"): (None, None),
}

#: ACLED's actor types (inter codes, as numbers or words) -> entity type
_INTER = {
    "1": "State forces",
    "2": "Rebel group",
    "3": "Political militia",
    "4": "Identity militia",
    "5": "Rioters",
    "6": "Protesters",
    "7": "Civilians",
    "8": "External/Other forces",
}
_INTER_CLASS = {
    "state forces": "GovernmentBody",
    "rebel group": "NonStateArmedGroup",
    "rebel groups": "NonStateArmedGroup",
    "political militia": "Militia",
    "political militias": "Militia",
    "identity militia": "Militia",
    "identity militias": "Militia",
    "rioters": "Organization",
    "protesters": "Organization",
    "civilians": "Organization",
    "external/other forces": "Organization",
    "external/other force": "Organization",
}
_STATE_FORCES = re.compile(
    r"^(?:(?P<kind>Military|Police)\s+Forces\s+of|Government\s+of)\s+(?P<state>.+?)\s*"
    r"\((?:\d{4})-(?:\d{4})?\)(?P<rest>.*)$"
)
_BODY_NAMES = {"Military": ("MIL", "armed forces"), "Police": ("COP", "police")}


def acled_records(
    paths: Iterable[Path | str],
    *,
    notes: ImportNotes | None = None,
    on_line: Callable[[int], None] | None = None,
) -> Iterator[SourceRecord]:
    """The facts records of ACLED CSV exports: one document per event, one rejected record
    per row that breaks a rule."""
    notes = notes if notes is not None else ImportNotes()
    yield from one_document_per_row(paths, ",", REQUIRED, _document, notes, on_line)


def _document(row: Row, notes: ImportNotes) -> dict[str, Any] | None:
    event_id = row.get("event_id_cnty")
    if not event_id:
        raise row.error("event_id_cnty", "required event id is missing")
    date = parse_date(row, "event_date", record=event_id)
    kind = (row.get("event_type"), row.get("sub_event_type"))
    if kind not in EVENT_TYPES:
        column = "event_type" if kind[0] not in {k for k, _ in EVENT_TYPES} else "sub_event_type"
        raise row.error(column, f"unknown ACLED event type {' / '.join(kind)!r}", event_id)
    code, override = EVENT_TYPES[kind]
    cls = override or (code_lists().cameo_events[code].cls if code else None) or "Event"
    fatalities = count(row, "fatalities", event_id, what="a number of people")
    point = coordinates(row, "latitude", "longitude", event_id)
    first = _actor(row, "actor1", "inter1", event_id)
    second = _actor(row, "actor2", "inter2", event_id)
    where = f"{row.source}:{row.line}"
    planned = plan(cls, first, second)
    if isinstance(planned, str):
        notes.left_out(f"ACLED {kind[0]} / {kind[1]}", planned, where)
        return None
    extra = _associated(row, "assoc_actor_1", planned, first) + _associated(
        row, "assoc_actor_2", planned, second
    )
    # fatalities are the fact's measure and the coordinates the place's point
    summary = f"ACLED event {event_id}: {kind[0]} / {kind[1]}"
    for column, label in (("source", "sources"), ("notes", "notes")):
        if row.get(column):
            summary += f"; {label}: {row.get(column)}"
    fact: dict[str, Any] = {"time": {"start": date}, "summary": summary[:2000]}
    if code:
        fact["cameo"] = code
    if fatalities is not None:
        fact["measures"] = {"fatalities": fatalities}
    event = Event(event_id, row.line, fact, planned, _place(row, point), tuple(extra))
    builder = DocumentBuilder(
        {
            "id": local_id(f"acled-{event_id}"),
            "title": f"{kind[1]} in {row.get('location') or row.get('country')}"[:500],
            "publisher": "ACLED",
            "published": date,
        },
        {"tool": TOOL, "version": VERSION, "time": _timestamp(row, date, event_id)},
    )
    builder.add(event, notes, where)
    return builder.to_dict()


def _actor(row: Row, column: str, inter_column: str, record: str) -> Actor | None:
    name = row.get(column)
    if not name:
        return None
    inter = row.get(inter_column)
    kind = _INTER.get(inter, inter).casefold()
    if inter and kind not in _INTER_CLASS:
        raise row.error(inter_column, f"unknown ACLED actor type {inter!r}", record)
    forces = _STATE_FORCES.match(name)
    known = resolve_state(forces.group("state")) if forces else None
    if forces and known is not None and not forces.group("rest").strip():
        body = forces.group("kind")
        if body is None:
            return government(known)
        role, label = _BODY_NAMES[body]
        gov = government(known)
        entity: dict[str, Any] = {
            "id": local_id(f"body-{known.iso3}{role}"),
            "type": "GovernmentBody",
            "name": f"{known.name} {label}",
            "part_of": gov.id,
            # the CAMEO code GDELT gives the same body: one node for both datasets
            "identifiers": {"cameo": f"{known.iso3}{role}", "acled": name[:200]},
        }
        return Actor(entity["id"], (entity, *gov.entities))
    cls = _INTER_CLASS.get(kind, "Organization") if inter else "Organization"
    if cls == "GovernmentBody":  # state forces whose state the gazetteer does not know
        cls = "Organization"
    home = resolve_state(row.get("country")) if cls != "Organization" else None
    return named(cls, name, key=f"acled-{name}", identifiers={"acled": name}, based_in=home)


def _associated(row: Row, column: str, planned: Plan, principal: Actor | None) -> list[Any]:
    if principal is None:
        return []
    role = next((r for r, a in planned.participants if a.id == principal.id), None)
    if role is None:
        return []
    out = []
    for name in filter(None, (n.strip() for n in row.get(column).split(";"))):
        actor = named("Organization", name, key=f"acled-{name}", identifiers={"acled": name})
        if actor.id != principal.id:
            out.append((role, actor))
    return out


def _place(row: Row, point: tuple[float, float] | None) -> dict[str, Any] | None:
    name = row.get("location")
    if not name:
        return None
    kind = "City" if row.get("geo_precision") in {"", "1"} else "Region"
    entity: dict[str, Any] = {"id": local_id(f"place-{name}"), "type": kind, "name": name[:500]}
    known = resolve_state(row.get("country"))
    if known is not None:
        entity["id"] = local_id(f"place-{known.iso3}-{name}")
    if point is not None:
        entity["latitude"], entity["longitude"] = point
    return entity


def _timestamp(row: Row, date: str, record: str) -> str:
    text = row.get("timestamp")
    if not text:
        return f"{date}T00:00:00Z"
    if not text.isdigit():
        raise row.error("timestamp", f"{text!r} is not a Unix time (seconds)", record)
    try:
        moment = dt.datetime.fromtimestamp(int(text), tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise row.error("timestamp", f"{text!r} is not a Unix time (seconds)", record) from None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
