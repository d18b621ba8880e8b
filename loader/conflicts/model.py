"""What a check finds: a :class:`Conflict` of a node, its values, and each value's sources
(all of them, or those :func:`listing` keeps, the others counted).

Three kinds of finding share one shape, so that the load report, ``diplograph check``, the API
and the resource page show them alike:

* ``conflicting-values`` – documents give a single-valued property of one node values that
  cannot all be true (``property`` is the property; each value is a date, duration or place);
* ``overlapping-holders`` – a post that admits one holder is held by two people at once
  (``node`` is the post, ``property`` is ``dip:post``; each value is a holder, ``detail`` its
  holding and period);
* ``candidate-duplicate`` – nodes of one class with the same name and no shared identifier
  (``node`` is the first of them, ``property`` the class; each value is one of the nodes);
* ``candidate-same-event`` – event nodes of the same types and participants whose times can be
  one moment, reported at other precisions (``node`` is the first, ``property`` ``dip:Event``;
  each value is one of the events, ``detail`` its time).
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass, replace
from typing import Any

__all__ = [
    "CANDIDATE",
    "HOLDERS",
    "KINDS",
    "SAME_EVENT",
    "VALUES",
    "Conflict",
    "Source",
    "Value",
    "listing",
]

VALUES = "conflicting-values"
HOLDERS = "overlapping-holders"
CANDIDATE = "candidate-duplicate"
SAME_EVENT = "candidate-same-event"
#: The kinds of finding, in the order reports list them.
KINDS = (VALUES, HOLDERS, CANDIDATE, SAME_EVENT)


@dataclass(frozen=True, order=True)
class Source:
    """A document that asserts a value, with the confidence it gives the fact (None when the
    document gives none, as for an entity's name)."""

    document: str
    confidence: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {"document": self.document, "confidence": self.confidence}

    def describe(self) -> str:
        """The document, and the confidence when there is one."""
        if self.confidence is None:
            return self.document
        return f"{self.document} (confidence {self.confidence:g})"


@dataclass(frozen=True)
class Value:
    """One of the values in conflict: its lexical form or IRI, a label when it has one, what
    else identifies it (a holding and its period) and the documents asserting it: those listed
    in ``sources``, and ``unlisted`` more (a load report lists its own documents and counts the
    others: :func:`listing`)."""

    value: str
    sources: tuple[Source, ...]
    label: str | None = None
    detail: str | None = None
    unlisted: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "value": self.value,
            "label": self.label,
            "detail": self.detail,
            "sources": [s.to_dict() for s in self.sources],
            "unlisted_sources": self.unlisted,
        }

    def describe_sources(self) -> str:
        """The documents listed, with their confidence, and how many more there are."""
        listed = ", ".join(s.describe() for s in self.sources)
        if not self.unlisted:
            return listed or "no document"
        more = f"{self.unlisted} {'other ' if listed else ''}document(s)"
        return f"{listed} and {more}" if listed else more


@dataclass(frozen=True)
class Conflict:
    """One finding: its kind (:data:`KINDS`), the node, the property and the values."""

    kind: str
    node: str
    property: str
    values: tuple[Value, ...]
    label: str | None = None

    def documents(self) -> set[str]:
        """Every document listed as asserting one of the values."""
        return {s.document for v in self.values for s in v.sources}

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``diplograph check --format json``, ``GET /check``, load reports)."""
        return {
            "kind": self.kind,
            "node": self.node,
            "label": self.label,
            "property": self.property,
            "values": [v.to_dict() for v in self.values],
        }

    def describe(self) -> str:
        """The finding for people: a headline and one line per value with its sources."""
        name = f"{self.label} <{self.node}>" if self.label else f"<{self.node}>"
        headline = {
            VALUES: f"conflicting values of <{self.property}> on {name}",
            HOLDERS: f"post {name} held by {len(self.values)} people at once",
            CANDIDATE: f"candidate duplicates of {name} (class <{self.property}>)",
            SAME_EVENT: f"{len(self.values)} reports that may be one event: {name}",
        }.get(self.kind, f"{self.kind} on {name}")
        lines = [headline]
        for v in self.values:
            shown = f"{v.value} ({v.label})" if v.label else v.value
            if v.detail:
                shown += f" [{v.detail}]"
            lines.append(f"  {shown}: {v.describe_sources()}")
        return "\n".join(lines)


def listing(found: Iterable[Conflict], documents: Container[str]) -> list[Conflict]:
    """The findings with only ``documents`` listed among each value's sources, the others
    counted (:attr:`Value.unlisted`).

    A load report lists the run's own documents: at 100k documents, a post held by two people
    at once had hundreds of documents stating each holding, and a report of 100 documents
    listing them all was 5 MB of JSON (docs/benchmarks.md). ``diplograph check`` and
    ``GET /check`` list every source."""
    return [
        replace(
            c,
            values=tuple(
                replace(
                    v,
                    sources=tuple(s for s in v.sources if s.document in documents),
                    unlisted=v.unlisted
                    + len({s.document for s in v.sources if s.document not in documents}),
                )
                for v in c.values
            ),
        )
        for c in found
    ]
