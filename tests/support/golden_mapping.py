"""Golden files of the mapping: each folder of ``tests/data/mapping/`` holds a facts document
(``facts.json``) and the quads the loader makes of it (``expected.trig``).

The cases are mapped exactly as the loader maps a document (loader/pipeline.py): read with
:func:`~diplograph.loader.facts.read_path`, IRIs minted under the default base, and the
ontology's superclass closure written too. ``tests/test_mapping_golden.py`` compares the result
with ``expected.trig``; this module also writes ``expected.trig`` anew, which is done by hand and
only on purpose (tests/data/mapping/README.md)::

    python -m tests.support.golden_mapping CASE [CASE ...]
    python -m tests.support.golden_mapping --all
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

from pyoxigraph import (
    BlankNode,
    CanonicalizationAlgorithm,
    Dataset,
    Literal,
    NamedNode,
    Quad,
    RdfFormat,
    parse,
)

from diplograph.loader.facts import read_path
from diplograph.loader.iris import IriMinter
from diplograph.loader.mapping import map_document
from diplograph.loader.namespaces import DEFAULT_BASE_IRI, RDF, output_prefixes
from diplograph.loader.ontology import superclass_closure

__all__ = [
    "CASES",
    "Difference",
    "case_dirs",
    "compare",
    "expected_quads",
    "map_case",
    "render",
    "write_expected",
]

#: The folder of the cases, one sub-folder each.
CASES = Path(__file__).resolve().parent.parent / "data" / "mapping"
FACTS = "facts.json"
EXPECTED = "expected.trig"
HEADER = (
    "# The quads the loader makes of facts.json (docs/mapping.md), read and checked by hand.\n"
    "# Written by `python -m tests.support.golden_mapping {case}`: regenerate only on purpose,\n"
    "# after a deliberate change of the mapping, and read the diff\n"
    "# (tests/data/mapping/README.md).\n"
)


def case_dirs() -> list[Path]:
    """Every case folder, in name order."""
    return sorted(p for p in CASES.iterdir() if (p / FACTS).is_file())


@cache
def _superclasses() -> dict[str, frozenset[str]]:
    return superclass_closure()


def map_case(case: Path) -> tuple[str, list[Quad]]:
    """The document graph of ``case``'s facts.json and its quads, mapped as the loader maps it."""
    [record] = list(read_path(case / FACTS))
    if record.error is not None:
        raise record.error
    assert record.document is not None
    mapped = map_document(
        record.document,
        IriMinter(DEFAULT_BASE_IRI),
        _superclasses(),
        source=record.source,
        line=record.line,
    )
    graph = NamedNode(mapped.graph)
    return mapped.graph, [Quad(t.subject, t.predicate, t.object, graph) for t in mapped.triples]


def expected_quads(case: Path) -> list[Quad]:
    """The quads of ``case``'s expected.trig."""
    return list(parse(path=str(case / EXPECTED), format=RdfFormat.TRIG))


def prefixes(graph: str) -> dict[str, str]:
    """Prefixes that make a document's quads readable: the vocabularies, the kinds of data IRI,
    ``this:`` for the nodes under the document's IRI and ``att:`` for its attestations."""
    return {
        **output_prefixes(DEFAULT_BASE_IRI),
        "this": f"{graph}/",
        "att": f"{graph}/attestation/",
    }


#: Local names written as prefixed names; anything else (a '/', say) is written as a full IRI
#: rather than with Turtle's escapes.
_PLAIN_LOCAL = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?$")
_TYPE = RDF + "type"


def render(graph: str, quads: Iterable[Quad], case: str) -> str:
    """``quads`` (all in ``graph``) as TriG for people: the prefixes it uses, one block per
    subject, ``a`` first, then the predicates and objects in order."""
    names = prefixes(graph)
    by_subject: dict[str, dict[str, list[str]]] = {}
    order: dict[str, tuple[int, str]] = {}
    for quad in quads:
        assert quad.graph_name == NamedNode(graph), quad
        name = _term(quad.subject, names)
        order[name] = _reading_order(graph, str(quad.subject))
        objects = by_subject.setdefault(name, {})
        predicate = "a" if quad.predicate.value == _TYPE else _term(quad.predicate, names)
        objects.setdefault(predicate, []).append(_term(quad.object, names))
    blocks = []
    for subject in sorted(by_subject, key=order.__getitem__):
        described = by_subject[subject]
        predicates = sorted(described, key=lambda p: (p != "a", p))
        lines = [f"{p} {' , '.join(sorted(described[p]))}" for p in predicates]
        blocks.append(f"    {subject} " + " ;\n        ".join(lines) + " .\n")
    text = "".join(blocks)
    used = [p for p, ns in names.items() if re.search(rf"(?<![\w:]){p}:", text)]
    header = "".join(f"@prefix {p}: <{names[p]}> .\n" for p in used)
    body = f"{header}\n{_term(NamedNode(graph), names)} {{\n{text}}}\n"
    return HEADER.format(case=case) + body


def _reading_order(graph: str, term: str) -> tuple[int, str]:
    """Where a subject (``term`` in N-Triples) stands: the document first, then its facts (each
    followed by its participations), their attestations and spans, the extraction run and
    extractor, and last the entities."""
    iri = term.removeprefix("<").removesuffix(">")
    facts = tuple(f"{DEFAULT_BASE_IRI}id/{kind}/" for kind in ("event", "situation", "holding"))
    if iri == graph:
        rank = 0
    elif iri.startswith(facts):
        rank = 1
    elif iri.startswith(f"{graph}/attestation/"):
        rank = 2
    elif iri.startswith((f"{graph}/", f"{DEFAULT_BASE_IRI}id/extractor/")):
        rank = 3
    else:
        rank = 4
    return rank, iri


def write_expected(case: Path) -> int:
    """Write ``case``'s expected.trig from the current mapping; return the number of quads."""
    graph, quads = map_case(case)
    (case / EXPECTED).write_text(render(graph, quads, case.name), encoding="utf-8")
    return len(quads)


class Difference:
    """What a mapping has that the expected quads lack, and the other way round."""

    def __init__(self, graph: str, missing: list[Quad], extra: list[Quad]) -> None:
        self.graph = graph
        self.missing = missing
        self.extra = extra

    def __bool__(self) -> bool:
        return bool(self.missing or self.extra)

    def report(self) -> str:
        """The difference for people: one line per quad, IRIs shortened by the prefixes."""
        names = prefixes(self.graph)
        lines = []
        for title, quads in (
            ("expected but not made by the mapping", self.missing),
            ("made by the mapping but not expected", self.extra),
        ):
            if quads:
                lines.append(f"{len(quads)} quad(s) {title}:")
                lines.extend("  " + _line(q, names) for q in sorted(quads, key=str))
        return "\n".join(lines)


def compare(graph: str, actual: Sequence[Quad], expected: Sequence[Quad]) -> Difference:
    """Compare two datasets as RDF (isomorphic: equal up to blank node labels).

    The mapping writes no blank nodes, so the comparison is plain set difference; should one
    appear, both sides are canonicalized first so that its label alone is no difference.
    """
    have, want = set(actual), set(expected)
    if _has_blank_nodes(have | want):
        have, want = _canonical(have), _canonical(want)
    return Difference(graph, sorted(want - have, key=str), sorted(have - want, key=str))


def _has_blank_nodes(quads: Iterable[Quad]) -> bool:
    return any(isinstance(q.subject, BlankNode) or isinstance(q.object, BlankNode) for q in quads)


def _canonical(quads: set[Quad]) -> set[Quad]:
    dataset = Dataset(quads)
    dataset.canonicalize(CanonicalizationAlgorithm.UNSTABLE)
    return set(dataset)


def _line(quad: Quad, names: dict[str, str]) -> str:
    terms = [_term(t, names) for t in (quad.subject, quad.predicate, quad.object)]
    return " ".join(terms) + f" .  # in {_term(quad.graph_name, names)}"


def _term(term: object, names: dict[str, str]) -> str:
    """A term in Turtle: a prefixed name where one reads plainly, datatypes as ``xsd:``."""
    if isinstance(term, NamedNode):
        # The longest namespace wins, so <doc/x/attestation/y> is att:y, not a doc: name.
        for prefix, namespace in sorted(names.items(), key=lambda kv: -len(kv[1])):
            local = term.value.removeprefix(namespace)
            if local != term.value and _PLAIN_LOCAL.match(local):
                return f"{prefix}:{local}"
        return str(term)
    if isinstance(term, Literal) and term.language is None:
        datatype = _term(term.datatype, names)
        lexical = str(Literal(term.value))  # the quoted, escaped string
        return lexical if datatype == "xsd:string" else f"{lexical}^^{datatype}"
    return str(term)


def main(argv: Sequence[str] | None = None) -> int:
    """Write expected.trig of the named cases (or of every case) from the current mapping."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.golden_mapping",
        description="Write tests/data/mapping/CASE/expected.trig from the current mapping. "
        "Do this only on purpose, and read the resulting diff against docs/mapping.md.",
    )
    parser.add_argument("cases", nargs="*", help="case folder names")
    parser.add_argument("--all", action="store_true", help="every case")
    args = parser.parse_args(argv)
    if args.all == bool(args.cases):
        parser.error("name the cases to write, or give --all")
    folders = case_dirs() if args.all else [CASES / name for name in args.cases]
    for folder in folders:
        if not (folder / FACTS).is_file():
            parser.error(f"no {FACTS} in {folder}")
        count = write_expected(folder)
        print(f"{folder.name}: {count} quads written to {EXPECTED}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
