"""The compiler: shape records to SPARQL, one :class:`Rule` per shape that reports results.

:func:`compile_rules` reads every shape of a shapes graph (:mod:`~diplograph.loader.shacl.shapes`),
gives it its focus (:mod:`~diplograph.loader.shacl.targets`; a property shape under
``sh:property`` also has its parent's), and turns each of its parameters into a
:class:`~diplograph.loader.shacl.constraints.Check` or a ``sh:sparql`` constraint. Anything it
does not implement raises :class:`~diplograph.loader.errors.ConfigError` naming the shape and
the construct.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF
from rdflib.term import Node

from diplograph.loader.namespaces import SH
from diplograph.loader.shacl.conditions import (
    Condition,
    datatype_holds,
    in_holds,
    pattern_holds,
    range_holds,
)
from diplograph.loader.shacl.constraints import (
    Check,
    ClassCheck,
    CountCheck,
    DisjointCheck,
    EqualsCheck,
    HasValueCheck,
    LessThanCheck,
    QualifiedCheck,
    ValueCheck,
    component_iri,
    instance_of,
)
from diplograph.loader.shacl.encoding import encode, from_rdflib, sparql_term
from diplograph.loader.shacl.shapes import VALUE_PARAMETERS, ShapesReader, prefixed, sh
from diplograph.loader.shacl.targets import Focus, read_focus

__all__ = ["Rule", "compile_rules"]


@dataclass
class Rule:
    """A shape that reports results, with everything its results carry."""

    shape: Node
    label: str
    path: Node | None
    #: The SPARQL pattern binding ``?value`` to the value nodes of ``?this``.
    values: str
    severity: str
    messages: tuple[Node, ...]
    focus: Focus
    checks: list[Check]
    sparql_constraints: list[tuple[str, dict[str, str]]]
    is_property: bool


def compile_rules(shapes: Graph) -> list[Rule]:
    """The rules of ``shapes``; raises ConfigError for a construct the compiler lacks."""
    return _Compiler(shapes).compile()


class _Compiler:
    """Reads a shapes graph into rules; every construct it does not know is a ConfigError."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.reader = ShapesReader(graph)
        self.rules: dict[Node, Rule] = {}

    def compile(self) -> list[Rule]:
        graph = self.graph
        shapes = self.reader.shape_nodes()
        for shape in shapes:
            self.reader.check_vocabulary(shape)
        focus: dict[Node, Focus] = {}
        for shape in shapes:
            own = read_focus(self.reader, shape)
            if own is not None:
                focus[shape] = focus[shape] | own if shape in focus else own
        # A property shape under sh:property is checked on its parent's focus nodes too.
        for parent in list(focus):
            for child in graph.objects(parent, sh("property")):
                if (parent, sh("path"), None) in graph:
                    raise self.reader.error(parent, "sh:property on a property shape")
                focus[child] = focus[child] | focus[parent] if child in focus else focus[parent]
        for shape in sorted(focus, key=str):
            self.rules[shape] = self._rule(shape, focus[shape])
        return list(self.rules.values())

    def _rule(self, shape: Node, focus: Focus) -> Rule:
        graph = self.graph
        path = graph.value(shape, sh("path"))
        is_property = path is not None
        values = (
            f"?this {self.reader.path(shape, path)} ?value ."
            if path is not None
            else "BIND (?this AS ?value)"
        )
        severity = graph.value(shape, sh("severity")) or sh("Violation")
        messages = tuple(graph.objects(shape, sh("message")))
        rule = Rule(
            shape=shape,
            label=self.reader.label(shape),
            path=path,
            values=values,
            severity=str(severity),
            messages=messages,
            focus=focus,
            checks=[],
            sparql_constraints=[],
            is_property=is_property,
        )
        self._add_checks(rule)
        if (rule.checks or rule.sparql_constraints) and not messages:
            raise self.reader.error(
                shape, "a rule without sh:message (results must carry its message)"
            )
        return rule

    def _add_checks(self, rule: Rule) -> None:
        graph, shape = self.graph, rule.shape
        minimum, maximum = (
            self.reader.one_int(shape, "minCount"),
            self.reader.one_int(shape, "maxCount"),
        )
        if minimum is not None or maximum is not None:
            if not rule.is_property:
                raise self.reader.error(shape, "sh:minCount or sh:maxCount on a node shape")
            if minimum == 0:
                minimum = None
            if minimum is not None or maximum is not None:
                rule.checks.append(CountCheck(minimum, maximum))
        for cls in sorted(graph.objects(shape, sh("class")), key=str):
            self.reader.iri(shape, cls, "sh:class")
            rule.checks.append(ClassCheck(URIRef(str(cls))))
        for parameter, name in (
            ("datatype", "Datatype"),
            ("pattern", "Pattern"),
            ("in", "In"),
            ("minInclusive", "MinInclusive"),
            ("maxInclusive", "MaxInclusive"),
        ):
            for argument in sorted(graph.objects(shape, sh(parameter)), key=str):
                condition = self._value_condition(shape, parameter, argument)
                rule.checks.append(ValueCheck(condition, component_iri(name)))
        for alternatives in graph.objects(shape, sh("or")):
            members = [self._nested(m) for m in Collection(graph, alternatives)]
            rule.checks.append(
                ValueCheck(Condition.combine(members, any_of=True), component_iri("Or"))
            )
        self._add_qualified(rule)
        for parameter, check in (
            ("lessThan", LessThanCheck),
            ("equals", EqualsCheck),
            ("disjoint", DisjointCheck),
        ):
            for other in sorted(graph.objects(shape, sh(parameter)), key=str):
                self.reader.iri(shape, other, f"sh:{parameter}")
                if parameter == "lessThan" and not rule.is_property:
                    raise self.reader.error(shape, "sh:lessThan on a node shape")
                rule.checks.append(check(URIRef(str(other))))
        for value in sorted(graph.objects(shape, sh("hasValue")), key=str):
            if isinstance(value, BNode):
                raise self.reader.error(shape, "sh:hasValue with a blank node")
            term = sparql_term(encode(from_rdflib(value)))
            rule.checks.append(HasValueCheck(term, rule.is_property))
        for constraint in graph.objects(shape, sh("sparql")):
            rule.sparql_constraints.append(self._sparql_constraint(rule, constraint))

    def _add_qualified(self, rule: Rule) -> None:
        graph, shape = self.graph, rule.shape
        qualified = list(graph.objects(shape, sh("qualifiedValueShape")))
        minimum = self.reader.one_int(shape, "qualifiedMinCount")
        if not qualified and minimum is None:
            return
        if len(qualified) != 1 or minimum is None:
            raise self.reader.error(
                shape, "sh:qualifiedValueShape without exactly one shape and sh:qualifiedMinCount"
            )
        if not rule.is_property:
            raise self.reader.error(shape, "sh:qualifiedValueShape on a node shape")
        rule.checks.append(QualifiedCheck(self._nested(qualified[0]), minimum))

    def _nested(self, shape: Node) -> Condition:
        """A shape inside sh:or or sh:qualifiedValueShape: a condition on the value node."""
        graph = self.graph
        parts: list[Condition] = []
        for predicate in set(graph.predicates(shape)):
            if predicate == RDF.type or not str(predicate).startswith(SH):
                continue
            if predicate not in VALUE_PARAMETERS:
                raise self.reader.error(
                    shape, f"{prefixed(predicate)} inside sh:or or a qualified shape"
                )
        for cls in sorted(graph.objects(shape, sh("class")), key=str):
            iri = self.reader.iri(shape, cls, "sh:class")
            parts.append(Condition.in_store(instance_of(iri)))
        for parameter in ("datatype", "pattern", "in", "minInclusive", "maxInclusive"):
            for argument in sorted(graph.objects(shape, sh(parameter)), key=str):
                parts.append(self._value_condition(shape, parameter, argument))
        return Condition.combine(parts, any_of=False)

    def _value_condition(self, shape: Node, parameter: str, argument: Node) -> Condition:
        graph = self.graph
        if parameter == "datatype":
            if len(list(graph.objects(shape, sh("datatype")))) > 1:
                raise self.reader.error(shape, "more than one sh:datatype")
            datatype = URIRef(self.reader.iri(shape, argument, "sh:datatype")[1:-1])
            if datatype == RDF.langString:  # exact in SPARQL, and the most common
                return Condition.in_store('isLITERAL(?value) && LANG(?value) != ""')
            return Condition.in_python(datatype_holds(datatype))
        if parameter == "pattern":
            if (shape, sh("flags"), None) in graph or not isinstance(argument, Literal):
                raise self.reader.error(shape, "sh:pattern with sh:flags or a non-literal pattern")
            return Condition.in_python(pattern_holds(argument))
        if parameter == "in":
            if (argument, RDF.first, None) not in graph and argument != RDF.nil:
                raise self.reader.error(shape, "sh:in whose value is not a list")
            return Condition.in_python(in_holds(list(Collection(graph, argument))))
        if not isinstance(argument, Literal):
            raise self.reader.error(shape, f"sh:{parameter} with a value that is not a literal")
        if parameter == "minInclusive":
            return Condition.in_python(range_holds(argument, lambda c: c >= 0))
        return Condition.in_python(range_holds(argument, lambda c: c <= 0))

    def _sparql_constraint(self, rule: Rule, constraint: Node) -> tuple[str, dict[str, str]]:
        graph, shape = self.graph, rule.shape
        for predicate in set(graph.predicates(constraint)):
            if predicate not in (RDF.type, sh("select"), sh("prefixes")):
                raise self.reader.error(
                    shape,
                    f"{prefixed(predicate)} on its sh:sparql constraint (put the message on "
                    "the shape)",
                )
        select = graph.value(constraint, sh("select"))
        if not isinstance(select, Literal):
            raise self.reader.error(shape, "a sh:sparql constraint without one sh:select")
        text = str(select)
        for variable in ("PATH", "path", "failure", "shapesGraph", "currentShape"):
            if re.search(rf"[?$]{variable}\b", text):
                raise self.reader.error(shape, f"${variable} in a sh:sparql query")
        if any(re.search(r"\{[?$]", str(m)) for m in rule.messages):
            raise self.reader.error(shape, "a message template ({?var}) with sh:sparql")
        return text, self.reader.prefixes(shape, constraint)
