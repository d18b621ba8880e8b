"""SHACL results as plain strings: compact IRIs, literals in Turtle form, property paths in
SPARQL syntax, display names of shapes and the message a result carries.

Both validation engines report through these, so that their
:class:`~diplograph.loader.validate.Violation` values are equal string for string.
"""

from __future__ import annotations

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF
from rdflib.term import Node

from diplograph.loader.namespaces import SHAPE_PREFIXES
from diplograph.loader.namespaces import compact as compact_iri
from diplograph.loader.shacl.encoding import XSD_STRING
from diplograph.loader.shacl.shapes import sh

__all__ = [
    "compact",
    "fallback_message",
    "node_text",
    "path_text",
    "pick_message",
    "shape_names",
    "value_text",
]


def compact(iri: str) -> str:
    """``dip:PhoneCall`` for a known namespace and a simple local name, else ``<iri>``.

    The namespaces are :data:`~diplograph.loader.namespaces.SHAPE_PREFIXES`: the shapes, SHACL
    and diplograph's own.
    """
    return compact_iri(iri, SHAPE_PREFIXES) or f"<{iri}>"


def node_text(node: Node | None) -> str:
    """An IRI in full, a blank node as ``_:id``."""
    if isinstance(node, BNode):
        return f"_:{node}"
    return str(node) if node is not None else ""


def value_text(value: Node) -> str:
    """A value as a result shows it: a literal in Turtle form (``"1.7"^^xsd:decimal``)."""
    if isinstance(value, Literal):
        lexical = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        if value.language:
            return f'"{lexical}"@{value.language}'
        if value.datatype is not None and str(value.datatype) != XSD_STRING:
            return f'"{lexical}"^^{compact(str(value.datatype))}'
        return f'"{lexical}"'
    return node_text(value)


def path_text(graph: Graph, path: Node) -> str:
    """A SHACL property path in SPARQL syntax: ``dip:a``, ``dip:a/dip:b``, ``^dip:a``, ``(a|b)``."""
    if isinstance(path, URIRef):
        return compact(str(path))
    if (path, RDF.first, None) in graph:
        return "/".join(path_text(graph, step) for step in Collection(graph, path))
    for key, template in (
        ("inversePath", "^{}"),
        ("zeroOrMorePath", "{}*"),
        ("oneOrMorePath", "{}+"),
        ("zeroOrOnePath", "{}?"),
    ):
        inner = graph.value(path, sh(key))
        if inner is not None:
            text = path_text(graph, inner)
            if not isinstance(inner, URIRef):
                text = f"({text})"
            return template.format(text)
    alternatives = graph.value(path, sh("alternativePath"))
    if alternatives is not None:
        return "(" + "|".join(path_text(graph, a) for a in Collection(graph, alternatives)) + ")"
    return node_text(path)


def shape_names(shapes_graph: Graph) -> dict[Node, str]:
    """Display names of shapes: ``dsh:X`` for named ones, ``dsh:X[path]`` for property shapes."""
    names: dict[Node, str] = {}
    for parent, child in shapes_graph.subject_objects(sh("property")):
        if isinstance(child, BNode):
            path = shapes_graph.value(child, sh("path"))
            shown = path_text(shapes_graph, path) if path is not None else "?"
            owner = node_text(parent) if isinstance(parent, BNode) else compact(str(parent))
            names[child] = f"{owner}[{shown}]"
    for shape in set(shapes_graph.subjects()):
        if isinstance(shape, URIRef) and shape not in names:
            names[shape] = compact(str(shape))
    return names


def pick_message(messages: list[Node]) -> str:
    """The English (or untagged) message of a result, else its first one."""
    english = [str(m) for m in messages if isinstance(m, Literal) and m.language in (None, "en")]
    return (english or [str(m) for m in messages] or [""])[0]


def fallback_message(component: Node | None, path: Node | None) -> str:
    """A message for a result whose shape has none: the constraint broken."""
    rule = compact(str(component)) if component is not None else "a SHACL constraint"
    return f"breaks {rule}" + (f" on {path}" if path is not None else "")
