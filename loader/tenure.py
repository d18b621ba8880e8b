"""When a post was held: a holding's day bounds, the as-of rule, and the capacity a participant
acted in (docs/mapping.md, "Posts over time").

Everything here is decided from one document alone. A holding's time (``start``, ``end``,
``earliest``, ``latest``, at any precision) and the article's publication date, which observes
that an asserted holding was held that day, become four day bounds:

- ``from_earliest``: the first day it may have begun (``None``: unbounded);
- ``from_latest``: the day by which it had certainly begun (``None``: not known);
- ``until_earliest``: the day until which it certainly lasted (``None``: not known);
- ``until_latest``: the last day it may have lasted (``None``: open).

On a day ``d`` the holding is held if ``from_latest <= d <= until_earliest``, not held if
``d < from_earliest`` or ``d > until_latest``, and unknown otherwise.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from diplograph.loader.facts.model import Fact, FactsDocument, Participant, Time
from diplograph.loader.facts.vocabulary import FactType, Modality, Role

__all__ = [
    "DocumentHolding",
    "Held",
    "Tenure",
    "derive_capacity",
    "document_holdings",
    "event_days",
    "first_day",
    "last_day",
    "observation",
    "tenure",
]

#: Modalities of a holding that say it was real; only these get day bounds.
REAL = frozenset({Modality.asserted, Modality.historical})


class Held(StrEnum):
    """The three answers of the as-of rule."""

    held = "held"
    not_held = "not held"
    unknown = "unknown"


def first_day(when: str) -> dt.date:
    """The first day a :data:`~diplograph.loader.facts.When` value covers (a date-time: its day
    in UTC, as the mapping writes it)."""
    if "T" in when:
        return _utc_day(when)
    year, month, day = [*when.split("-"), "1", "1"][:3]
    return dt.date(int(year), int(month), int(day))


def last_day(when: str) -> dt.date:
    """The last day a :data:`~diplograph.loader.facts.When` value covers: 2023 → 2023-12-31,
    2023-02 → 2023-02-28."""
    if "T" in when:
        return _utc_day(when)
    parts = when.split("-")
    year = int(parts[0])
    if len(parts) == 1:
        return dt.date(year, 12, 31)
    month = int(parts[1])
    if len(parts) == 2:
        return dt.date(year, month, calendar.monthrange(year, month)[1])
    return dt.date(year, month, int(parts[2]))


def _utc_day(when: str) -> dt.date:
    moment = dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
    return moment.astimezone(dt.UTC).date()


@dataclass(frozen=True)
class Tenure:
    """The day bounds of one holding (see the module's docstring)."""

    from_earliest: dt.date | None = None
    from_latest: dt.date | None = None
    until_earliest: dt.date | None = None
    until_latest: dt.date | None = None

    def on(self, day: dt.date) -> Held:
        """The as-of rule: is the post held on ``day``?"""
        if self.held_throughout(day, day):
            return Held.held
        if (self.from_earliest is not None and day < self.from_earliest) or (
            self.until_latest is not None and day > self.until_latest
        ):
            return Held.not_held
        return Held.unknown

    def held_throughout(self, first: dt.date, last: dt.date) -> bool:
        """Whether the post is certainly held on every day from ``first`` to ``last``."""
        return (
            self.from_latest is not None
            and self.until_earliest is not None
            and self.from_latest <= first
            and last <= self.until_earliest
        )


def observation(time: Time | None, modality: Modality, published: str) -> str | None:
    """The publication date as an observation that the post was held then, or ``None``: only
    an asserted holding is observed, and not when its time says it began after the article or
    had ended before it."""
    if modality is not Modality.asserted:
        return None
    if time is not None:
        begins = [first_day(v) for v in (time.start, time.earliest) if v]
        if begins and max(begins) > last_day(published):
            return None
        if time.end and last_day(time.end) < first_day(published):
            return None
    return published


def tenure(time: Time | None, modality: Modality, published: str) -> Tenure | None:
    """The day bounds of a holding with this time and modality in an article published on
    ``published``; ``None`` for a holding that is not said to be real (negated, hypothetical,
    future)."""
    if modality not in REAL:
        return None
    start, end = (time.start, time.end) if time else (None, None)
    earliest, latest = (time.earliest, time.latest) if time else (None, None)
    seen = observation(time, modality, published)
    begins = [first_day(v) for v in (start, earliest) if v]
    from_earliest = max(begins) if begins else None
    # It had begun by the last day its start can be, by a day it was seen held, and by the
    # last day it can have ended; it lasted at least until it was seen, until the first day
    # its end can be, and until the first day it can have begun.
    from_latest = min((last_day(v) for v in (start, latest, seen, end) if v), default=None)
    lasted = [first_day(v) for v in (end, seen) if v] + begins
    until_earliest = max(lasted) if lasted else None
    until_latest = last_day(end) if end else None
    return Tenure(from_earliest, from_latest, until_earliest, until_latest)


def event_days(time: Time | None) -> tuple[dt.date, dt.date] | None:
    """The first and last day an event may take up: from its start (or earliest start) to its
    end (or latest start, or the end of its start's precision); ``None`` when it is not dated
    at both ends."""
    if time is None:
        return None
    firsts = [first_day(v) for v in (time.start, time.earliest) if v]
    lasts = [last_day(v) for v in (time.start, time.end, time.latest) if v]
    if not firsts or not lasts:
        return None
    return min(firsts), max(lasts)


@dataclass(frozen=True)
class DocumentHolding:
    """A post held according to one document: a PostHolding fact, or the holding a
    participant's given capacity implies (``fact`` is then ``None`` and ``source`` is the
    event it was given in). ``origin`` is the JSON path of the record it was made from."""

    holder: str
    post: str
    fact: Fact | None
    source: Fact
    origin: str
    tenure: Tenure | None
    observed: str | None


def document_holdings(doc: FactsDocument) -> list[DocumentHolding]:
    """Every holding of the document, in document order: its PostHolding facts (with one
    holder and a post), then one holding per (participant, capacity) of an asserted event that
    no PostHolding of the document states."""
    published = doc.document.published
    holdings: list[DocumentHolding] = []
    for i, fact in enumerate(doc.facts):
        holders = [p.entity for p in fact.participants if p.role is Role.holder]
        if fact.type is FactType.PostHolding and len(holders) == 1 and fact.post is not None:
            holdings.append(
                DocumentHolding(
                    holders[0],
                    fact.post,
                    fact,
                    fact,
                    f"facts[{i}]",
                    tenure(fact.time, fact.modality, published),
                    observation(fact.time, fact.modality, published),
                )
            )
    stated = {(h.holder, h.post) for h in holdings}
    for i, fact in enumerate(doc.facts):
        if fact.modality is not Modality.asserted or fact.type is FactType.PostHolding:
            continue
        for j, part in enumerate(fact.participants):
            if part.capacity is None or (part.entity, part.capacity) in stated:
                continue
            stated.add((part.entity, part.capacity))
            holdings.append(
                DocumentHolding(
                    part.entity,
                    part.capacity,
                    None,
                    fact,
                    f"facts[{i}].participants[{j}].capacity",
                    tenure(None, Modality.asserted, published),
                    published,
                )
            )
    return holdings


def derive_capacity(
    holdings: Sequence[DocumentHolding], participant: Participant, time: Time | None
) -> DocumentHolding | None:
    """The holding that gives ``participant`` its capacity in an event at ``time`` when the
    extractor gave none: the participant's holdings held on every day the event may take up,
    when they are all of one post (the first of them). ``None`` when the capacity is given,
    for an undated event, and when no holding or holdings of two posts are valid."""
    days = event_days(time)
    if participant.capacity is not None or days is None:
        return None
    valid = [
        h
        for h in holdings
        if h.holder == participant.entity
        and h.tenure is not None
        and h.tenure.held_throughout(*days)
    ]
    return valid[0] if len({h.post for h in valid}) == 1 else None
