"""Targets: how a shape finds its focus nodes, read from the shapes and found in each batch.

A shape's :class:`Focus` is read once from its ``sh:targetClass``, ``sh:targetSubjectsOf`` and
``sh:target`` (SPARQL targets). At run time :class:`FocusFinder` turns it into a group pattern
binding ``?this``, listing only the classes and properties the batch (with the background)
actually uses, so that most shapes of rare kinds are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
from rdflib import Literal
from rdflib.namespace import RDF, RDFS
from rdflib.term import Node

from diplograph.loader.shacl.constraints import TYPE_OF
from diplograph.loader.shacl.encoding import ENCODED_VIEW, RAW_VIEW, SKOLEM, encode, sparql_term
from diplograph.loader.shacl.shapes import ShapesReader, prefixed, sh

__all__ = ["Batch", "Focus", "FocusFinder", "SparqlTarget", "read_focus"]


@dataclass(frozen=True)
class SparqlTarget:
    """A ``sh:SPARQLTarget``: its SELECT (binding ``?this``) and the prefixes it declares."""

    select: str
    prefixes: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Focus:
    """How a shape finds its focus nodes: the instances of classes (subclasses included), the
    subjects of properties, and SPARQL targets (run first, on the raw store)."""

    classes: tuple[str, ...]
    subjects_of: tuple[str, ...]
    targets: tuple[SparqlTarget, ...]

    def __or__(self, other: Focus) -> Focus:
        """The focus nodes of both (a property shape also has its parents' focus nodes)."""
        return Focus(
            tuple(dict.fromkeys(self.classes + other.classes)),
            tuple(dict.fromkeys(self.subjects_of + other.subjects_of)),
            tuple(dict.fromkeys(self.targets + other.targets)),
        )


@dataclass
class Batch:
    """What one run knows about its data: which predicates and types occur (with the
    background's), whether it adds subclass axioms, and what the SPARQL targets found."""

    #: The store holding the background and this batch.
    store: ox.Store
    predicates: set[str]
    types: set[str]
    changes_classes: bool
    target_nodes: dict[SparqlTarget, list[Any]] = field(default_factory=dict)


def read_focus(reader: ShapesReader, shape: Node) -> Focus | None:
    """The focus of ``shape``'s own targets, None when it has none."""
    graph = reader.graph
    classes = [
        reader.iri(shape, cls, "sh:targetClass")[1:-1]
        for cls in sorted(graph.objects(shape, sh("targetClass")), key=str)
    ]
    subjects_of = [
        reader.iri(shape, prop, "sh:targetSubjectsOf")[1:-1]
        for prop in sorted(graph.objects(shape, sh("targetSubjectsOf")), key=str)
    ]
    targets = [
        _sparql_target(reader, shape, target)
        for target in sorted(graph.objects(shape, sh("target")), key=str)
    ]
    if not classes and not subjects_of and not targets:
        return None
    return Focus(tuple(classes), tuple(subjects_of), tuple(targets))


def _sparql_target(reader: ShapesReader, shape: Node, target: Node) -> SparqlTarget:
    graph = reader.graph
    kinds = set(graph.objects(target, RDF.type))
    if kinds != {sh("SPARQLTarget")}:
        names = ", ".join(sorted(prefixed(k) for k in kinds)) or "no rdf:type"
        raise reader.error(shape, f"sh:target of type {names} (only sh:SPARQLTarget)")
    for predicate in set(graph.predicates(target)):
        if predicate not in (RDF.type, sh("select"), sh("prefixes")):
            raise reader.error(shape, f"{prefixed(predicate)} on its sh:target")
    select = graph.value(target, sh("select"))
    if not isinstance(select, Literal):
        raise reader.error(shape, "a sh:SPARQLTarget without one sh:select")
    return SparqlTarget(str(select), tuple(reader.prefixes(shape, target).items()))


class FocusFinder:
    """Finds focus nodes at run time; keeps the background's subclass listings across runs."""

    def __init__(self) -> None:
        self._background_subclasses: dict[str, tuple[str, ...]] = {}

    def pattern(self, focus: Focus, batch: Batch) -> str | None:
        """The group pattern binding ``?this`` to the focus nodes, or None when the batch and
        the background cannot have any (no instance of the classes, no use of the properties,
        nothing found by the SPARQL targets): most shapes of rare kinds are skipped so."""
        groups: list[str] = []
        for cls in focus.classes:
            subclasses = self._subclasses(cls, batch)
            if any(c.startswith(SKOLEM) for c in subclasses):  # a blank-node class: no listing
                groups.append(f"?this {TYPE_OF} <{cls}> .")
                continue
            present = [c for c in subclasses if c in batch.types]
            if len(present) == 1:
                groups.append(f"?this <{RDF.type}> <{present[0]}> .")
            elif present:
                listed = " ".join(f"<{c}>" for c in present)
                groups.append(f"VALUES ?class {{ {listed} }} ?this <{RDF.type}> ?class .")
        for prop in focus.subjects_of:
            if prop in batch.predicates:
                groups.append(f"?this <{prop}> [] .")
        nodes: list[Any] = []
        for target in focus.targets:
            nodes.extend(self._target_nodes(target, batch))
        if nodes:
            listed = " ".join(sparql_term(encode(n)) for n in dict.fromkeys(nodes))
            groups.append(f"VALUES ?this {{ {listed} }}")
        if not groups:
            return None
        union = " UNION ".join(f"{{ {g} }}" for g in groups)
        return f"{{ SELECT DISTINCT ?this WHERE {{ {union} }} }}"

    def _subclasses(self, cls: str, batch: Batch) -> tuple[str, ...]:
        """``cls`` and its subclasses (rdfs:subClassOf*), from the background unless the batch
        says something about subclasses itself."""
        if not batch.changes_classes and cls in self._background_subclasses:
            return self._background_subclasses[cls]
        solutions = batch.store.query(
            f"SELECT DISTINCT ?class WHERE {{ ?class <{RDFS.subClassOf}>* <{cls}> }}",
            default_graph=ENCODED_VIEW,
        )
        assert isinstance(solutions, ox.QuerySolutions)
        found = tuple(sorted(s["class"].value for s in solutions if s["class"] is not None))
        if not batch.changes_classes:
            self._background_subclasses[cls] = found
        return found

    def _target_nodes(self, target: SparqlTarget, batch: Batch) -> list[Any]:
        if target not in batch.target_nodes:
            solutions = batch.store.query(
                target.select, prefixes=dict(target.prefixes), default_graph=RAW_VIEW
            )
            assert isinstance(solutions, ox.QuerySolutions)
            batch.target_nodes[target] = [s["this"] for s in solutions if s["this"] is not None]
        return batch.target_nodes[target]
