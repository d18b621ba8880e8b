"""What a load did: the report of a run and the rejection of each document not loaded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from diplograph.loader.conflicts import Conflict
from diplograph.loader.errors import FactsError
from diplograph.loader.facts import SourceRecord

__all__ = ["LoadReport", "Rejection", "rejection_from_error"]


@dataclass(frozen=True)
class Rejection:
    """A document that was not loaded, and why."""

    source: str
    line: int
    record: str | None
    violations: tuple[dict[str, Any], ...]
    raw: Any = None

    def to_dict(self, *, with_raw: bool = False) -> dict[str, Any]:
        """The JSON form used in reports and in the rejects file (``with_raw`` adds the input)."""
        out: dict[str, Any] = {
            "source": self.source,
            "line": self.line,
            "record": self.record,
            "violations": list(self.violations),
        }
        if with_raw:
            out["record_data"] = self.raw
        return out


@dataclass
class LoadReport:
    """What a load (or a dry run) did."""

    dry_run: bool = False
    documents_loaded: int = 0
    documents_unchanged: int = 0
    documents_rejected: int = 0
    #: Stored documents mapped again because a mention of theirs changed node (an entity
    #: they named joined, or left, an entity another document identified): loader/reconcile.py.
    documents_remapped: int = 0
    triples_loaded: int = 0
    triples_removed: int = 0
    warnings: list[str] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    #: Conflicts and candidate duplicates that involve the nodes the loaded documents describe
    #: (loader/conflicts/), found once the run's last batch is committed.
    conflicts: list[Conflict] = field(default_factory=list)

    @property
    def documents_seen(self) -> int:
        """Documents read from the input, whatever happened to them."""
        return self.documents_loaded + self.documents_unchanged + self.documents_rejected

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON (the CLI's ``--format json`` and the API's response body)."""
        return {
            "dry_run": self.dry_run,
            "documents": {
                "seen": self.documents_seen,
                "loaded": self.documents_loaded,
                "unchanged": self.documents_unchanged,
                "rejected": self.documents_rejected,
                "remapped": self.documents_remapped,
            },
            "triples": {"loaded": self.triples_loaded, "removed": self.triples_removed},
            "warnings": self.warnings,
            "rejections": [r.to_dict() for r in self.rejections],
            "conflicts": [c.to_dict() for c in self.conflicts],
        }

    def summary(self) -> str:
        """One line for people."""
        verb = "would load" if self.dry_run else "loaded"
        return (
            f"{verb} {self.documents_loaded} document(s) ({self.triples_loaded} triples), "
            f"{self.documents_unchanged} unchanged, {self.documents_rejected} rejected"
            + (
                f"; {self.documents_remapped} stored document(s) mapped again"
                if self.documents_remapped
                else ""
            )
        )


def rejection_from_error(record: SourceRecord, error: FactsError) -> Rejection:
    """The rejection of a record the facts format or the mapping refused."""
    violation = {
        "focus_node": None,
        "field": error.location.field,
        "path": None,
        "value": None,
        "constraint": "facts-format",
        "shape": None,
        "message": error.rule,
        "severity": "Violation",
    }
    return Rejection(
        record.source,
        record.line,
        error.location.record or record.record_id,
        (violation,),
        record.raw,
    )
