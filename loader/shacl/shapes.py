"""Reading a shapes graph: which nodes are shapes, what they may say, and how to name them.

:class:`ShapesReader` holds what every part of the compiler asks of the shapes graph: the shape
nodes (refusing any ``sh:`` term on a node that is no shape), the vocabulary a shape may use,
its parameters read as IRIs, integers, prefixes and SPARQL property paths, and the
:class:`~diplograph.loader.errors.ConfigError` naming the shape and the construct it does not
support, so that an edit to the shapes cannot be silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS
from rdflib.term import Node

from diplograph.loader.errors import ConfigError
from diplograph.loader.namespaces import SH, SHAPE_PREFIXES, compact

__all__ = ["VALUE_PARAMETERS", "ShapesReader", "prefixed", "sh"]


def sh(name: str) -> URIRef:
    """The SHACL term ``sh:name``."""
    return URIRef(SH + name)


# What a shape may say. Annotations outside the SHACL namespace (rdfs:label, rdfs:comment …)
# are allowed anywhere; any other sh: term is a construct the compiler does not know.
_TARGETS: Final = {sh("targetClass"), sh("targetSubjectsOf"), sh("target")}
VALUE_PARAMETERS: Final = {
    sh(n) for n in ("class", "datatype", "pattern", "in", "minInclusive", "maxInclusive")
}
_RULE_PARAMETERS: Final = VALUE_PARAMETERS | {
    sh(n)
    for n in (
        *("minCount", "maxCount", "or", "qualifiedValueShape", "qualifiedMinCount"),
        *("lessThan", "hasValue", "equals", "disjoint", "sparql", "property"),
    )
}
_ANNOTATIONS: Final = {sh(n) for n in ("severity", "message", "name", "description")}
_SHAPE_TYPES: Final = {sh("NodeShape"), sh("PropertyShape")}
_PATH_KINDS: Final[dict[Node, str]] = {sh("inversePath"): "^({})", sh("alternativePath"): "({})"}


class ShapesReader:
    """A shapes graph, read for the compiler; every construct it does not know is an error."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    # --- what is a shape, and what may it say

    def shape_nodes(self) -> list[Node]:
        """Every shape of the graph, sorted; raises ConfigError for a ``sh:`` term on a node
        that is neither a shape nor a part of one (a target, a path, a prefix declaration)."""
        graph = self.graph
        shapes: set[Node] = set()
        for shape_type in _SHAPE_TYPES:
            shapes.update(graph.subjects(RDF.type, shape_type))
        for predicate in (*_TARGETS, sh("path"), *_RULE_PARAMETERS, sh("targetNode")):
            shapes.update(graph.subjects(predicate, None))
        shapes.update(graph.subjects(sh("targetObjectsOf"), None))
        shapes.update(graph.objects(None, sh("property")))
        shapes.update(graph.objects(None, sh("qualifiedValueShape")))
        for alternatives in graph.objects(None, sh("or")):
            shapes.update(Collection(graph, alternatives))
        auxiliary = self._auxiliary_nodes()
        known = shapes | auxiliary | set(self._path_nodes())
        for subject in set(graph.subjects()):
            if subject in known:
                continue
            for unknown in set(graph.predicates(subject)):
                if str(unknown).startswith(SH):
                    raise self.error(subject, prefixed(unknown))
        return sorted(shapes - auxiliary, key=str)

    def _auxiliary_nodes(self) -> set[Node]:
        graph = self.graph
        nodes: set[Node] = set(graph.subjects(sh("declare"), None))
        nodes.update(graph.objects(None, sh("declare")))
        nodes.update(graph.objects(None, sh("target")))
        nodes.update(graph.objects(None, sh("sparql")))
        return nodes

    def _path_nodes(self) -> Iterator[Node]:
        graph = self.graph
        pending = list(graph.objects(None, sh("path")))
        while pending:
            node = pending.pop()
            if not isinstance(node, BNode):
                continue
            yield node
            for _p, inner in graph.predicate_objects(node):
                if isinstance(inner, BNode):
                    pending.append(inner)

    def check_vocabulary(self, shape: Node) -> None:
        """Raise ConfigError when ``shape`` says anything in SHACL the compiler does not know."""
        graph = self.graph
        allowed = _TARGETS | _RULE_PARAMETERS | _ANNOTATIONS | {sh("path")}
        for predicate in set(graph.predicates(shape)):
            if predicate == RDF.type:
                for kind in graph.objects(shape, RDF.type):
                    if kind in (RDFS.Class, OWL.Class):
                        raise self.error(shape, f"a shape that is also a class ({prefixed(kind)})")
                    if str(kind).startswith(SH) and kind not in _SHAPE_TYPES:
                        raise self.error(shape, f"rdf:type {prefixed(kind)}")
            elif str(predicate).startswith(SH) and predicate not in allowed:
                raise self.error(shape, prefixed(predicate))

    def error(self, shape: Node, construct: str) -> ConfigError:
        """The error for a ``construct`` of ``shape`` that the compiled validation lacks."""
        return ConfigError(
            f"SHACL shape {self.label(shape)}: {construct} is not supported by the compiled "
            "SPARQL validation (loader/shacl/); implement it there, or validate with "
            "validation_engine=pyshacl"
        )

    def label(self, shape: Node) -> str:
        """How an error names ``shape``: its prefixed IRI, or where a blank node sits."""
        if isinstance(shape, URIRef):
            return prefixed(shape)
        for parent in self.graph.subjects(sh("property"), shape):
            return f"{self.label(parent)}[{self._path_label(shape)}]"
        for parent in self.graph.subjects(sh("qualifiedValueShape"), shape):
            return f"{self.label(parent)} (its sh:qualifiedValueShape)"
        for lst in self.graph.subjects(RDF.first, shape):
            for parent in self.graph.subjects(sh("or"), _list_head(self.graph, lst)):
                return f"{self.label(parent)} (a member of its sh:or)"
        return f"_:{shape}"

    def _path_label(self, shape: Node) -> str:
        path = self.graph.value(shape, sh("path"))
        return prefixed(path) if isinstance(path, URIRef) else "…"

    # --- parameters

    def prefixes(self, shape: Node, node: Node) -> dict[str, str]:
        """The prefixes ``node`` (a SPARQL target or constraint of ``shape``) declares."""
        graph = self.graph
        prefixes: dict[str, str] = {}
        for holder in graph.objects(node, sh("prefixes")):
            for declaration in graph.objects(holder, sh("declare")):
                prefix = graph.value(declaration, sh("prefix"))
                namespace = graph.value(declaration, sh("namespace"))
                if prefix is None or namespace is None:
                    raise self.error(shape, "a sh:declare without sh:prefix and sh:namespace")
                prefixes[str(prefix)] = str(namespace)
        return prefixes

    def iri(self, shape: Node, node: Node, parameter: str) -> str:
        """``node``, the value of ``parameter``, as ``<iri>``; an error unless it is an IRI."""
        if not isinstance(node, URIRef):
            raise self.error(shape, f"{parameter} with a value that is not an IRI")
        return f"<{node}>"

    def path(self, shape: Node, path: Node) -> str:
        """The SHACL property path ``path`` in SPARQL syntax (IRIs, sequences, inverse and
        alternative paths)."""
        graph = self.graph
        if isinstance(path, URIRef):
            return f"<{path}>"
        if isinstance(path, Literal):
            raise self.error(shape, "a literal sh:path")
        if (path, RDF.first, None) in graph:
            steps = [self.path(shape, step) for step in Collection(graph, path)]
            if len(steps) < 2:
                raise self.error(shape, "a sequence path with fewer than two steps")
            return "(" + "/".join(steps) + ")"
        predicates = set(graph.predicates(path))
        if len(predicates) != 1 or next(iter(predicates)) not in _PATH_KINDS:
            names = ", ".join(sorted(prefixed(p) for p in predicates))
            raise self.error(shape, f"the path {names}")
        kind = next(iter(predicates))
        inner = graph.value(path, kind)
        assert inner is not None
        if kind == sh("alternativePath"):
            members = [self.path(shape, m) for m in Collection(graph, inner)]
            return _PATH_KINDS[kind].format("|".join(members))
        return _PATH_KINDS[kind].format(self.path(shape, inner))

    def one_int(self, shape: Node, parameter: str) -> int | None:
        """The integer value of ``parameter`` on ``shape``, None without one; an error for
        several values or a value that is no integer."""
        values = list(self.graph.objects(shape, sh(parameter)))
        if not values:
            return None
        if len(values) > 1 or not isinstance(values[0], Literal):
            raise self.error(shape, f"sh:{parameter} with more than one value or a non-literal")
        number = values[0].value
        if not isinstance(number, int) or isinstance(number, bool):
            raise self.error(shape, f"sh:{parameter} that is not an integer")
        return number


def _list_head(graph: Graph, node: Node) -> Node:
    while True:
        previous = next(iter(graph.subjects(RDF.rest, node)), None)
        if previous is None:
            return node
        node = previous


# Error messages about a shapes file name its terms loosely (any word characters and dots).
_MESSAGE_NAME: Final = re.compile(r"[\w.-]*")


def prefixed(node: Node) -> str:
    """``node`` as a prefixed name when its namespace is known (for error messages)."""
    text = str(node)
    short = compact(text, SHAPE_PREFIXES, local_name=_MESSAGE_NAME)
    if short is not None:
        return short
    return f"<{text}>" if isinstance(node, URIRef) else text
