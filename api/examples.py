"""The competency questions of the ontology (``ontology/queries/*.rq``), the query page's
one-click examples.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib.resources import files

__all__ = ["Example", "competency_questions", "find_example", "parse_example"]


@dataclass(frozen=True)
class Example:
    """One competency question: its id (the file name without ``.rq``), title, question, query."""

    id: str
    title: str
    question: str
    query: str


_HEADER = re.compile(r"^#\s*(title|question)\s*:\s*(.*?)\s*$")


def parse_example(name: str, text: str) -> Example:
    """An :class:`Example` from a ``.rq`` file: ``# title:`` / ``# question:`` lines, then SPARQL.

    The header lines are taken off the query shown in the editor (the page shows them anyway).
    """
    fields: dict[str, str] = {}
    body: list[str] = []
    for line in text.splitlines():
        match = _HEADER.match(line)
        if match and not body:
            fields[match.group(1)] = match.group(2)
        else:
            body.append(line)
    stem = name.removesuffix(".rq")
    return Example(
        id=stem,
        title=fields.get("title") or stem,
        question=fields.get("question", ""),
        query="\n".join(body).strip() + "\n",
    )


@functools.cache
def _examples() -> tuple[Example, ...]:
    folder = files("diplograph.ontology") / "queries"
    if not folder.is_dir():
        return ()
    found = [
        parse_example(item.name, item.read_text(encoding="utf-8"))
        for item in folder.iterdir()
        if item.name.endswith(".rq") and item.is_file()
    ]
    return tuple(sorted(found, key=lambda e: e.id))


def competency_questions() -> list[Example]:
    """The competency questions shipped in ``ontology/queries``, sorted by file name."""
    return list(_examples())


def find_example(key: str) -> Example | None:
    """The example whose id is ``key``, or whose id starts with ``key-`` (``01`` finds ``01-…``)."""
    for example in _examples():
        if example.id == key or example.id.startswith(key + "-"):
            return example
    return None
