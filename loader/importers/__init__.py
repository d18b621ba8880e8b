"""Importers: event datasets analysts already have, as facts documents for the normal load.

Each importer reads a dataset's published export format and yields
:class:`~diplograph.loader.facts.SourceRecord` objects, the same records ``diplograph load``
reads from facts files, so imported data goes through the same mapping, SHACL shapes, rejects
file, provenance and retraction (:meth:`diplograph.graph.Graph.import_file`,
``diplograph import``). A row that breaks a rule is one rejected record naming file, line,
column and rule; the rest of the file loads. Rows are read one at a time and documents made in
bounded groups, so memory stays flat in the file's size.

- :mod:`.gdelt`: GDELT 2.0 events (tab-separated, 61 columns), one document per article;
- :mod:`.acled`: ACLED (CSV with a header), one document per event;
- :mod:`.polecat`: POLECAT (tab-separated with a header), one document per event;
- :mod:`.rows`: rows with file and line, the row errors, dates;
- :mod:`.codes`: the CAMEO and PLOVER code lists, read from the ontology's Turtle files;
- :mod:`.actors`: actors as states, governments, government bodies, groups and people;
- :mod:`.documents`: events, their roles under the shapes, documents, the import's notes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from diplograph.loader.errors import InputError
from diplograph.loader.facts import SourceRecord
from diplograph.loader.importers.acled import acled_records
from diplograph.loader.importers.documents import ImportNotes
from diplograph.loader.importers.gdelt import gdelt_records
from diplograph.loader.importers.polecat import polecat_records

__all__ = ["SOURCES", "ImportNotes", "import_records"]

#: The datasets there is an importer for.
SOURCES = ("gdelt", "acled", "polecat")


def import_records(
    source: str,
    paths: Iterable[Path | str],
    *,
    notes: ImportNotes | None = None,
    on_line: Callable[[int], None] | None = None,
) -> Iterator[SourceRecord]:
    """The facts records of ``paths``, files of the dataset ``source`` (one of
    :data:`SOURCES`); ``notes`` collects what the import left out, ``on_line`` is called with
    each line read (for a progress bar)."""
    if source == "gdelt":
        return gdelt_records(paths, notes=notes, on_line=on_line)
    if source == "acled":
        return acled_records(paths, notes=notes, on_line=on_line)
    if source == "polecat":
        return polecat_records(paths, notes=notes, on_line=on_line)
    raise InputError(f"unknown dataset {source!r}: give one of {', '.join(SOURCES)}")
