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
  loader/shacl/reference.py runs it.

Each result becomes a :class:`Violation` with plain strings (IRIs in full, shapes, paths and
datatypes as prefixed names), and the report conforms when no result has severity
``Violation``: warnings and infos are reported but never reject. docs/shapes.md lists the rules.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final
from typing import Literal as TypingLiteral

import pyoxigraph
from rdflib import Graph, URIRef
from rdflib.namespace import RDF
from rdflib.term import Node

from diplograph.loader.errors import ConfigError
from diplograph.loader.namespaces import SH
from diplograph.loader.shacl import RawResult, SparqlShapes, to_rdflib
from diplograph.loader.shacl.reference import DataGraph, run_pyshacl
from diplograph.loader.shacl.render import (
    compact,
    fallback_message,
    node_text,
    path_text,
    pick_message,
    shape_names,
    value_text,
)

__all__ = ["Engine", "ValidationReport", "Validator", "Violation"]

#: The validation engines: the shapes compiled to SPARQL, or pySHACL (the reference).
Engine = TypingLiteral["sparql", "pyshacl"]

_SEVERITIES: Final = {SH + "Violation": "Violation", SH + "Warning": "Warning", SH + "Info": "Info"}
_SEVERITY_ORDER: Final = {"Violation": 0, "Warning": 1, "Info": 2}

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
        self._shape_names = shape_names(self._shapes)
        self._compiled = _compiled_shapes() if engine == "sparql" and shapes is None else None
        if engine == "sparql" and self._compiled is None:
            self._compiled = SparqlShapes(self._shapes, self._ontology)
        self._lock = threading.Lock()

    def validate(
        self,
        data: Iterable[pyoxigraph.Triple] | bytes,
        focus_nodes: Iterable[str] | None = None,
    ) -> ValidationReport:
        """Validate ``data`` (triples, or N-Triples as pyoxigraph writes them; with the
        ontology and code lists added) against the shapes.

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
            triples = data if isinstance(data, bytes) else list(data)
            with self._lock:
                raw = self._compiled.run(triples)
            found = {self._from_raw(r) for r in raw}
        else:
            graph = DataGraph()
            graph.addN((s, p, o, graph) for s, p, o in self._ontology)
            if isinstance(data, bytes):
                data = pyoxigraph.parse(data, format=pyoxigraph.RdfFormat.N_TRIPLES)
            graph.addN((*_to_rdflib(t), graph) for t in data)
            with self._lock:
                report = run_pyshacl(graph, self._shapes)
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
            focus_node=node_text(focus),
            path=path_text(report, path) if path is not None else None,
            value=value_text(value) if value is not None else None,
            constraint=compact(str(component)) if component is not None else "",
            shape=self._shape_names.get(shape, node_text(shape)) if shape is not None else "",
            message=pick_message(messages) or fallback_message(component, path),
            severity=_SEVERITIES.get(str(severity), str(severity)),
        )

    def _from_raw(self, result: RawResult) -> Violation:
        path = result.path
        return Violation(
            focus_node=node_text(result.focus),
            path=path_text(self._shapes, path) if path is not None else None,
            value=value_text(result.value) if result.value is not None else None,
            constraint=compact(result.component),
            shape=self._shape_names.get(result.shape, node_text(result.shape)),
            message=pick_message(list(result.messages))
            or fallback_message(URIRef(result.component), path),
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


# Ordering results


def _sort_key(result: Violation) -> tuple[int, str, str, str, str, str]:
    return (
        _SEVERITY_ORDER.get(result.severity, 3),
        result.focus_node,
        result.shape,
        result.path or "",
        result.value or "",
        result.constraint,
    )
