"""SHACL validation of mapped facts, with two engines that give the same results.

A :class:`Validator` parses the shapes (``shapes/diplograph-shapes.ttl``) and the ontology with its
code lists once. :meth:`Validator.validate` then checks a batch of triples: the data graph is the
triples plus the ontology and code lists, so that ``sh:class`` follows the subclass axioms and the
CAMEO and PLOVER checks find the schemes. Nothing is inferred; the loader writes the superclass
types itself. The shapes use SHACL-AF SPARQL targets for the few cross-field rules core SHACL
cannot say.

Two engines run the shapes:

- ``"sparql"`` (the default): the shapes compiled to SPARQL queries that pyoxigraph evaluates in
  memory (loader/shacl/), many times faster;
- ``"pyshacl"``: pySHACL (``inference="none"``, ``advanced=True``), the reference implementation
  that the compiled engine must agree with on every test case (tests/test_validate_differential.py).
  This is the only module that imports pySHACL.

Each result becomes a :class:`Violation` with plain strings (IRIs in full, shapes, paths and
datatypes as prefixed names), and the report conforms when no result has severity
``Violation``: warnings and infos are reported but never reject. docs/shapes.md lists the rules.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from typing import Literal as TypingLiteral

import pyoxigraph
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query
from rdflib.query import Processor, Result
from rdflib.term import Identifier, Node

from diplograph.loader.errors import ConfigError
from diplograph.loader.namespaces import PREFIXES, SH, XSD
from diplograph.loader.shacl import RawResult, SparqlShapes, to_rdflib

__all__ = ["SHAPES_NAMESPACE", "Engine", "ValidationReport", "Validator", "Violation"]

#: The validation engines: the shapes compiled to SPARQL, or pySHACL (the reference).
Engine = TypingLiteral["sparql", "pyshacl"]

#: The namespace of the shapes (prefix ``dsh:``).
SHAPES_NAMESPACE: Final = "https://w3id.org/diplograph/shapes#"

_XSD_STRING: Final = XSD + "string"
_SEVERITIES: Final = {SH + "Violation": "Violation", SH + "Warning": "Warning", SH + "Info": "Info"}
_SEVERITY_ORDER: Final = {"Violation": 0, "Warning": 1, "Info": 2}
# Prefixes used to render IRIs compactly in results: the shapes, SHACL and diplograph's own.
_RENDER_PREFIXES: Final = {"dsh": SHAPES_NAMESPACE, "sh": SH, **PREFIXES}
_LOCAL_NAME = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_-])?$")

_SH = {
    name: URIRef(SH + name)
    for name in (
        "ValidationResult",
        "focusNode",
        "resultPath",
        "value",
        "sourceConstraintComponent",
        "sourceShape",
        "resultMessage",
        "resultSeverity",
        "property",
        "path",
        "inversePath",
        "alternativePath",
        "zeroOrMorePath",
        "oneOrMorePath",
        "zeroOrOnePath",
    )
}


@dataclass(frozen=True)
class Violation:
    """One SHACL result: which node broke which rule, and what to do about it.

    ``severity`` is ``"Violation"`` (the document is rejected), ``"Warning"`` or ``"Info"`` (the
    document is kept). ``focus_node`` is the IRI of the node that broke the rule (``_:id`` for a
    blank node), ``path`` the property path checked (``dip:endDate``, ``dip:post/org:postIn``) or
    None for a rule on the node itself, and ``value`` the offending value when the rule names one
    (an IRI in full, a literal in Turtle form such as ``"1.7"^^xsd:decimal``).
    """

    focus_node: str
    path: str | None
    value: str | None
    #: The SHACL constraint component, e.g. ``sh:MinCountConstraintComponent``.
    constraint: str
    #: The rule: the shape's name, e.g. ``dsh:Appeal-initiator-count`` (docs/shapes.md lists
    #: them). A property shape without an IRI is shown as its node shape and path, e.g.
    #: ``dsh:SomeShape[dip:initiator]``.
    shape: str
    #: What is wrong and what to do, from the shape's ``sh:message``.
    message: str
    severity: str

    def __str__(self) -> str:
        where = self.focus_node + (f" {self.path}" if self.path else "")
        value = f" (value {self.value})" if self.value is not None else ""
        return f"{self.severity}: {where}{value}: {self.message} [{self.shape}]"


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of one validation: conforming unless some result is a ``Violation``."""

    #: True when no result has severity ``Violation`` (warnings and infos do not count).
    conforms: bool
    #: Every result, violations first, then warnings and infos, each group sorted by node.
    results: tuple[Violation, ...]

    @property
    def violations(self) -> tuple[Violation, ...]:
        """Only the results of severity ``Violation``, the ones that reject."""
        return tuple(r for r in self.results if r.severity == "Violation")


class Validator:
    """Validates triples against the diplograph shapes, with the ontology in the data graph.

    Create one and reuse it: the shapes and the ontology are parsed on first use and cached for
    the process. :meth:`validate` may be called from several threads; runs are serialized.
    ``engine`` picks how the shapes run (see the module docstring); both give the same report.
    ``shapes`` replaces the shapes graph (for tests of the engines themselves).
    """

    def __init__(self, engine: Engine = "sparql", *, shapes: Graph | None = None) -> None:
        if engine not in ("sparql", "pyshacl"):
            raise ConfigError(f"unknown validation engine {engine!r}: use sparql or pyshacl")
        self.engine: Engine = engine
        self._shapes = shapes if shapes is not None else _shapes_graph()
        self._ontology = _ontology_triples()
        self._shape_names = _shape_names(self._shapes)
        self._compiled = _compiled_shapes() if engine == "sparql" and shapes is None else None
        if engine == "sparql" and self._compiled is None:
            self._compiled = SparqlShapes(self._shapes, self._ontology)
        self._lock = threading.Lock()

    def validate(
        self,
        data: Iterable[pyoxigraph.Triple],
        focus_nodes: Iterable[str] | None = None,
    ) -> ValidationReport:
        """Validate ``data`` (with the ontology and code lists added) against the shapes.

        ``focus_nodes`` limits the check to these node IRIs: the shapes still see every triple
        (so a node's links to others can be checked), but only these nodes are judged. The
        loader passes the nodes a document describes, so that nodes it only links to (whose
        types come from the store) are not judged on the little the batch holds about them.
        Raises :class:`~loader.errors.InputError` for data the engines cannot hold (RDF-star
        triple terms).
        """
        focus: list[str] | None = None
        if focus_nodes is not None:
            focus = sorted(set(focus_nodes))
            if not focus:
                return ValidationReport(conforms=True, results=())
        if self._compiled is not None:
            triples = list(data)
            with self._lock:
                raw = self._compiled.run(triples)
            found = {self._from_raw(r) for r in raw}
        else:
            graph = _DataGraph()
            graph.addN((s, p, o, graph) for s, p, o in self._ontology)
            graph.addN((*_to_rdflib(t), graph) for t in data)
            with self._lock:
                report = _run_pyshacl(graph, self._shapes)
            found = {
                self._result(report, node)
                for node in report.subjects(RDF.type, _SH["ValidationResult"])
            }
        if focus is not None:
            # pySHACL's own focus_nodes option tests membership in a list once per target node
            # and shape, which is quadratic: 36 s instead of 5 s for a batch of 50 documents.
            # Filtering the results is equivalent (a result is always reported on the focus node
            # of a shape's target) and costs only the validation of the few linked nodes.
            wanted = set(focus)
            found = {r for r in found if r.focus_node in wanted}
        results = sorted(found, key=_sort_key)
        conforms = not any(r.severity == "Violation" for r in results)
        return ValidationReport(conforms=conforms, results=tuple(results))

    def _result(self, report: Graph, node: Node) -> Violation:
        focus = report.value(node, _SH["focusNode"])
        path = report.value(node, _SH["resultPath"])
        value = report.value(node, _SH["value"])
        component = report.value(node, _SH["sourceConstraintComponent"])
        shape = report.value(node, _SH["sourceShape"])
        severity = report.value(node, _SH["resultSeverity"])
        messages = list(report.objects(node, _SH["resultMessage"]))
        return Violation(
            focus_node=_node_text(focus),
            path=_path_text(report, path) if path is not None else None,
            value=_value_text(value) if value is not None else None,
            constraint=_compact(str(component)) if component is not None else "",
            shape=self._shape_names.get(shape, _node_text(shape)) if shape is not None else "",
            message=_pick_message(messages) or _fallback_message(component, path),
            severity=_SEVERITIES.get(str(severity), str(severity)),
        )

    def _from_raw(self, result: RawResult) -> Violation:
        path = result.path
        return Violation(
            focus_node=_node_text(result.focus),
            path=_path_text(self._shapes, path) if path is not None else None,
            value=_value_text(result.value) if result.value is not None else None,
            constraint=_compact(result.component),
            shape=self._shape_names.get(result.shape, _node_text(result.shape)),
            message=_pick_message(list(result.messages))
            or _fallback_message(URIRef(result.component), path),
            severity=_SEVERITIES.get(result.severity, result.severity),
        )


# ------------------------------------------------------------------------------------------------
# Inputs, parsed once per process


@functools.cache
def _shapes_graph() -> Graph:
    from diplograph import shapes

    graph = Graph(bind_namespaces="none")
    try:
        graph.parse(shapes.shapes_path(), format="turtle")
    except (OSError, SyntaxError) as exc:  # rdflib raises BadSyntax, a SyntaxError
        raise ConfigError(f"cannot read the SHACL shapes: {exc}") from exc
    return graph


@functools.cache
def _ontology_triples() -> tuple[tuple[Node, Node, Node], ...]:
    from diplograph.loader.ontology import ontology_graph

    return tuple(ontology_graph())


@functools.cache
def _compiled_shapes() -> SparqlShapes:
    """The diplograph shapes compiled to SPARQL, with the ontology loaded: once per process."""
    return SparqlShapes(_shapes_graph(), _ontology_triples())


def _to_rdflib(triple: pyoxigraph.Triple) -> tuple[Node, Node, Node]:
    return (to_rdflib(triple.subject), URIRef(triple.predicate.value), to_rdflib(triple.object))


# ------------------------------------------------------------------------------------------------
# pySHACL


def _run_pyshacl(data: Graph, shapes_graph: Graph) -> Graph:
    import pyshacl

    _conforms, report, _text = pyshacl.validate(
        data,
        shacl_graph=shapes_graph,
        inference="none",
        advanced=True,  # for the sh:SPARQLTarget rules
        inplace=True,  # the data graph is ours, built for this run: no copy
        allow_warnings=True,
        allow_infos=True,
    )
    if not isinstance(report, Graph):
        raise ConfigError(f"SHACL validation failed to run: {report}")
    return report


class _DataGraph(Graph):
    """An rdflib graph that parses each SPARQL query text once per process.

    pySHACL runs the shapes' SPARQL targets as query strings on every validation; parsing them
    (pyparsing) took about 100 ms of each run, more than validating a small document.
    """

    def __init__(self) -> None:
        super().__init__(bind_namespaces="none")

    def query(
        self,
        query_object: str | Query,
        processor: str | Processor = "sparql",
        result: str | type[Result] = "sparql",
        initNs: Mapping[str, Any] | None = None,  # rdflib's parameter names
        initBindings: Mapping[str, Identifier] | None = None,
        use_store_provided: bool = True,
        **kwargs: Any,
    ) -> Result:
        if isinstance(query_object, str) and not initNs:
            query_object = _prepared(query_object)
        return super().query(
            query_object, processor, result, initNs, initBindings, use_store_provided, **kwargs
        )


@functools.lru_cache(maxsize=64)
def _prepared(text: str) -> Query:
    return prepareQuery(text)


# ------------------------------------------------------------------------------------------------
# Rendering results


def _sort_key(result: Violation) -> tuple[int, str, str, str, str, str]:
    return (
        _SEVERITY_ORDER.get(result.severity, 3),
        result.focus_node,
        result.shape,
        result.path or "",
        result.value or "",
        result.constraint,
    )


def _compact(iri: str) -> str:
    """``dip:PhoneCall`` for a known namespace and a simple local name, else ``<iri>``."""
    best = ""
    for prefix, namespace in _RENDER_PREFIXES.items():
        if iri.startswith(namespace) and len(namespace) > len(_RENDER_PREFIXES.get(best, "")):
            local = iri[len(namespace) :]
            if local == "" or _LOCAL_NAME.match(local):
                best = prefix
    if best:
        return f"{best}:{iri[len(_RENDER_PREFIXES[best]) :]}"
    return f"<{iri}>"


def _node_text(node: Node | None) -> str:
    if isinstance(node, BNode):
        return f"_:{node}"
    return str(node) if node is not None else ""


def _value_text(value: Node) -> str:
    if isinstance(value, Literal):
        lexical = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        if value.language:
            return f'"{lexical}"@{value.language}'
        if value.datatype is not None and str(value.datatype) != _XSD_STRING:
            return f'"{lexical}"^^{_compact(str(value.datatype))}'
        return f'"{lexical}"'
    return _node_text(value)


def _path_text(graph: Graph, path: Node) -> str:
    """A SHACL property path in SPARQL syntax: ``dip:a``, ``dip:a/dip:b``, ``^dip:a``, ``(a|b)``."""
    if isinstance(path, URIRef):
        return _compact(str(path))
    if (path, RDF.first, None) in graph:
        return "/".join(_path_text(graph, step) for step in Collection(graph, path))
    for key, template in (
        ("inversePath", "^{}"),
        ("zeroOrMorePath", "{}*"),
        ("oneOrMorePath", "{}+"),
        ("zeroOrOnePath", "{}?"),
    ):
        inner = graph.value(path, _SH[key])
        if inner is not None:
            text = _path_text(graph, inner)
            if not isinstance(inner, URIRef):
                text = f"({text})"
            return template.format(text)
    alternatives = graph.value(path, _SH["alternativePath"])
    if alternatives is not None:
        return "(" + "|".join(_path_text(graph, a) for a in Collection(graph, alternatives)) + ")"
    return _node_text(path)


def _shape_names(shapes_graph: Graph) -> dict[Node, str]:
    """Display names of shapes: ``dsh:X`` for named ones, ``dsh:X[path]`` for property shapes."""
    names: dict[Node, str] = {}
    for parent, child in shapes_graph.subject_objects(_SH["property"]):
        if isinstance(child, BNode):
            path = shapes_graph.value(child, _SH["path"])
            path_text = _path_text(shapes_graph, path) if path is not None else "?"
            owner = _node_text(parent) if isinstance(parent, BNode) else _compact(str(parent))
            names[child] = f"{owner}[{path_text}]"
    for shape in set(shapes_graph.subjects()):
        if isinstance(shape, URIRef) and shape not in names:
            names[shape] = _compact(str(shape))
    return names


def _pick_message(messages: list[Node]) -> str:
    english = [str(m) for m in messages if isinstance(m, Literal) and m.language in (None, "en")]
    return (english or [str(m) for m in messages] or [""])[0]


def _fallback_message(component: Node | None, path: Node | None) -> str:
    rule = _compact(str(component)) if component is not None else "a SHACL constraint"
    return f"breaks {rule}" + (f" on {path}" if path is not None else "")
