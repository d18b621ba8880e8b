"""The code lists the importers read: CAMEO event, role and region codes (``cameo.ttl``), PLOVER
types, modes and contexts (``plover.ttl``), each with the diplograph class it is imported as.

The Turtle files are the one source: a code added there is known here, and a code missing there
is an unknown code for every importer. They are parsed once per process.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import pyoxigraph

import diplograph.ontology as ontology_files
from diplograph.loader.namespaces import CAMEO, DIP, PLOVER, SKOS

__all__ = ["Code", "CodeLists", "code_lists"]

_IN_SCHEME = SKOS + "inScheme"
_NOTATION = SKOS + "notation"
_LABEL = SKOS + "prefLabel"
_BROADER = SKOS + "broader"


@dataclass(frozen=True)
class Code:
    """One code of a code list: its notation, label and the diplograph class it maps to."""

    notation: str
    label: str
    #: the local name of the dip: class (``"Visit"``), or None when the code names none
    cls: str | None = None
    broader: str | None = None
    #: for a PLOVER mode, the event types it qualifies
    mode_of: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CodeLists:
    """Every code the importers know, by scheme and notation."""

    cameo_events: dict[str, Code] = field(default_factory=dict)
    cameo_roles: dict[str, Code] = field(default_factory=dict)
    cameo_regions: dict[str, Code] = field(default_factory=dict)
    plover_types: dict[str, Code] = field(default_factory=dict)
    plover_modes: dict[str, Code] = field(default_factory=dict)
    plover_contexts: dict[str, Code] = field(default_factory=dict)


def _read(name: str) -> dict[str, dict[str, list[str]]]:
    """subject -> predicate -> values, for the named Turtle file of the ontology package."""
    path = next(p for p in ontology_files.code_list_paths() if p.name == name)
    out: dict[str, dict[str, list[str]]] = {}
    with open(path, "rb") as stream:
        for triple in pyoxigraph.parse(stream, format=pyoxigraph.RdfFormat.TURTLE):
            if isinstance(triple.subject, pyoxigraph.NamedNode):
                preds = out.setdefault(triple.subject.value, {})
                preds.setdefault(triple.predicate.value, []).append(triple.object.value)
    return out


def _scheme(
    graph: dict[str, dict[str, list[str]]], scheme: str, class_property: str
) -> dict[str, Code]:
    codes: dict[str, Code] = {}
    for preds in graph.values():
        if scheme not in preds.get(_IN_SCHEME, []):
            continue
        notation = preds[_NOTATION][0]
        cls = preds.get(class_property, [None])[0]
        broader = preds.get(_BROADER, [None])[0]
        codes[notation] = Code(
            notation=notation,
            label=preds[_LABEL][0],
            cls=cls.removeprefix(DIP) if cls else None,
            broader=graph[broader][_NOTATION][0] if broader else None,
            mode_of=frozenset(t.removeprefix(PLOVER) for t in preds.get(PLOVER + "modeOf", [])),
        )
    return codes


@functools.cache
def code_lists() -> CodeLists:
    """The code lists, parsed once."""
    cameo = _read("cameo.ttl")
    plover = _read("plover.ttl")
    return CodeLists(
        cameo_events=_scheme(cameo, CAMEO, CAMEO + "eventClass"),
        cameo_roles=_scheme(cameo, CAMEO + "actor-roles", CAMEO + "actorClass"),
        cameo_regions=_scheme(cameo, CAMEO + "regions", CAMEO + "actorClass"),
        plover_types=_scheme(plover, PLOVER, PLOVER + "eventClass"),
        plover_modes=_scheme(plover, PLOVER + "modes", PLOVER + "eventClass"),
        plover_contexts=_scheme(plover, PLOVER + "contexts", PLOVER + "eventClass"),
    )
