"""Inspecting every query and update *before* it runs: no request ever leaves the server.

pyoxigraph executes ``SERVICE`` (in ``Store.query``) and ``LOAD`` (in ``Store.update``) by making
real HTTP requests, with no switch to turn that off. So the text is inspected first, and any
``SERVICE`` or ``LOAD`` whose target is not allowed by ``settings.allow_service`` is refused with
400 before the engine sees it.

How the keywords are found. The tokenizer of :mod:`diplograph.loader.sparql_text` skips what
cannot hold a keyword: strings (all four quote styles), IRIs in ``<…>``, comments and variables.
What is left is checked for the words, **as substrings**: Oxigraph's parser does not need a word
boundary after or before a keyword (tested: ``SERVICESILENT<…>``, ``trueSERVICE<…>`` and
``LOAD:`` with an empty prefix all reach out), so ``SERVICE``/``LOAD`` anywhere in a bare word,
or in the prefix part of a prefixed name, counts. The local part of a prefixed name
(``schema:Service``, ``dcat:downloadURL``) does not: Oxigraph reads it whole, as the grammar
says. Where the tokenizer meets something it cannot read (an unterminated string), everything
after that point is searched as plain text. The rule errs on the side of refusing: a query
refused by mistake gets a clear message, a query let through by mistake would make the server
fetch a URL.

An allowed target is a full IRI in angle brackets that starts with one of the
``allow_service`` prefixes at a path boundary (``http://a.example/sparql`` allows
``http://a.example/sparql`` and ``http://a.example/sparql/x``, not ``http://a.example/sparqlx``
nor ``http://a.example.evil/``). Variables and prefixed names are never allowed as targets: the
guard does not evaluate bindings or resolve prefixes.

``FROM``, ``FROM NAMED``, ``USING``, ``WITH`` and the protocol's ``default-graph-uri`` /
``named-graph-uri`` are allowed: in Oxigraph they only select graphs held in the store and never
fetch anything (tested with a listener that must receive no connection, and with ``file:`` IRIs).

Cost: the tokenizer is one regular expression pass (microseconds for typical queries). rdflib's
SPARQL parser (``parseQuery``) would give an AST but costs about 12 ms per competency query, holds
the GIL, and is a different parser from the one that runs the query; the tests use it as an
independent oracle instead. The inspection of a short text that passed is kept (the last 512
texts up to 4,096 characters, by text and the two settings it reads: at most about 2 M
characters), so a query sent again is not tokenized again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from diplograph.loader.config import Settings
from diplograph.loader.errors import ForbiddenQueryError, InputError, PayloadTooLargeError
from diplograph.loader.sparql_text import (
    QUERY_FORMS,
    Token,
    is_absolute_iri,
    line_of,
    tokenize,
    unescape_iri,
)

__all__ = [
    "CACHED_TEXT_CHARS",
    "MAX_NESTING",
    "Inspection",
    "Reach",
    "allowed",
    "inspect_query",
    "inspect_update",
]

#: Texts up to this many characters have their inspection kept (the last :data:`CACHED_TEXTS`
#: of them): a client that sends the same query again (a lookup, a page's query) is not
#: tokenized again. Longer texts are rare and cost far more to run than to inspect.
CACHED_TEXT_CHARS = 4096
CACHED_TEXTS = 512

#: Brackets ``( { [`` and ``!`` operators nested deeper than this are refused (see
#: :func:`_check_nesting`).
MAX_NESTING = 200

_KEYWORDS = ("SERVICE", "LOAD")


@dataclass(frozen=True)
class Reach:
    """A ``SERVICE`` or ``LOAD`` in the text: the keyword, its target as written, its IRI."""

    keyword: Literal["SERVICE", "LOAD"]
    written: str
    iri: str | None
    line: int


@dataclass(frozen=True)
class Inspection:
    """What the guard learned about a query or update that it lets through."""

    form: str | None  #: SELECT, CONSTRUCT, DESCRIBE or ASK (None for updates or unknown)
    dataset_clause: bool  #: the query has FROM or FROM NAMED
    reaches: tuple[Reach, ...]  #: SERVICE/LOAD calls the allow-list permits
    relative_iris: bool = False  #: it has relative IRIs and no BASE of its own


def allowed(iri: str, prefixes: Sequence[str]) -> bool:
    """Whether ``iri`` starts with one of ``prefixes`` at a path boundary."""
    for prefix in prefixes:
        if not prefix or not iri.startswith(prefix):
            continue
        if prefix.endswith(("/", "#", "?", "=", "&")) or len(iri) == len(prefix):
            return True
        if iri[len(prefix)] in "/?#":
            return True
    return False


def _target(tokens: list[Token], index: int, rest: str, keyword: str, text: str) -> Reach:
    """The target of the keyword found in ``tokens[index]``, ``rest`` being what follows it."""
    line = line_of(text, tokens[index].pos)
    kw: Literal["SERVICE", "LOAD"] = "SERVICE" if keyword == "SERVICE" else "LOAD"
    if rest.upper().startswith("SILENT"):
        rest = rest[len("SILENT") :]
    if rest:
        return Reach(kw, rest, None, line)
    following = tokens[index + 1 : index + 3]
    if following and following[0].kind == "word" and following[0].text.upper() == "SILENT":
        following = following[1:]
    if not following:
        return Reach(kw, "", None, line)
    target = following[0]
    if target.kind == "iri":
        iri = unescape_iri(target.text[1:-1])
        return Reach(kw, target.text, iri if is_absolute_iri(iri) else None, line)
    return Reach(kw, target.text, None, line)


def _refuse(reach: Reach) -> ForbiddenQueryError:
    what = f"{reach.keyword} {reach.written}".strip()
    if reach.iri is None and reach.written.startswith(("?", "$")):
        why = "its target is a variable, and only full IRIs in <…> can be allowed"
    elif reach.iri is None and reach.written and not reach.written.startswith("<"):
        why = "its target is a prefixed name, and only full IRIs in <…> can be allowed"
    elif reach.iri is None and reach.written:
        why = "its target is not an absolute IRI"
    else:
        why = "this server makes no requests to other servers"
    return ForbiddenQueryError(
        f"{what} (line {reach.line}) is refused: {why}. SERVICE and LOAD are off unless the "
        "operator allows IRI prefixes with DIPLOGRAPH_ALLOW_SERVICE. The words also count when "
        "glued to other words or used as a prefix name, because the query engine reads them so."
    )


def _check_nesting(tokens: list[Token], text: str) -> None:
    """Refuse text nested deeper than :data:`MAX_NESTING`.

    Oxigraph's parser recurses once per bracket and per unary ``!``: about 3,000 nested
    braces overflow the stack and kill the whole server process (SIGSEGV), so such text never
    reaches the engine. Real queries nest a few dozen levels at most.
    """
    depth = deepest = unary = 0
    where = 0
    for token in tokens:
        if token.kind != "other":
            unary = 0
            continue
        if token.text in "({[":
            depth += 1
            if depth > deepest:
                deepest, where = depth, token.pos
        elif token.text in ")}]":
            depth -= 1
        if token.text == "!":
            unary += 1
            if unary > MAX_NESTING:
                deepest, where = unary, token.pos
        else:
            unary = 0
        if deepest > MAX_NESTING:
            raise InputError(
                f"the text nests brackets or '!' more than {MAX_NESTING} levels deep (line "
                f"{line_of(text, where)}), the limit of this server; write the query flatter"
            )


def _inspect(text: str, settings: Settings) -> Inspection:
    """:func:`_inspect_text` with the settings it reads; short texts from the cache (a refused
    text raises again each time: only inspections that passed are kept)."""
    if len(text) <= CACHED_TEXT_CHARS:
        return _inspect_cached(text, settings.max_body_bytes, tuple(settings.allow_service))
    return _inspect_text(text, settings.max_body_bytes, tuple(settings.allow_service))


def _inspect_text(text: str, max_bytes: int, allow_service: tuple[str, ...]) -> Inspection:
    if len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise PayloadTooLargeError(
            f"the text is larger than {max_bytes} bytes, the limit of this server"
        )
    tokens, gave_up = tokenize(text)
    form: str | None = None
    dataset_clause = False
    has_base = False
    relative = False
    reaches: list[Reach] = []
    _check_nesting(tokens, text)
    for index, token in enumerate(tokens):
        if token.kind == "iri" and not is_absolute_iri(unescape_iri(token.text[1:-1])):
            relative = True
        if token.kind != "word":
            continue
        head = token.text.split(":", 1)[0]
        upper = head.upper()
        for keyword in _KEYWORDS:
            at = upper.find(keyword)
            if at >= 0:
                rest = token.text[at + len(keyword) :]
                reaches.append(_target(tokens, index, rest, keyword, text))
        if ":" in token.text:
            continue
        if form is None and upper in QUERY_FORMS:
            form = upper
        if upper.startswith("FROM"):
            dataset_clause = True
        if upper == "BASE":
            has_base = True
    if gave_up is not None:
        tail = text[gave_up:].upper()
        for keyword in _KEYWORDS:
            if keyword in tail:
                raise ForbiddenQueryError(
                    f"the text has an unterminated string at line {line_of(text, gave_up)}, and "
                    f"the word {keyword} after it; refused, since the guard cannot tell whether "
                    "the query engine would read it as a keyword. Close the string."
                )
    for reach in reaches:
        if reach.iri is None or not allowed(reach.iri, allow_service):
            raise _refuse(reach)
    return Inspection(
        form=form,
        dataset_clause=dataset_clause,
        reaches=tuple(reaches),
        relative_iris=relative and not has_base,
    )


_inspect_cached = lru_cache(maxsize=CACHED_TEXTS)(_inspect_text)


def inspect_query(text: str, settings: Settings) -> Inspection:
    """Check a query before it runs; raises :class:`ForbiddenQueryError` (400) when refused."""
    return _inspect(text, settings)


def inspect_update(text: str, settings: Settings) -> Inspection:
    """Check an update before it runs; raises :class:`ForbiddenQueryError` (400) when refused."""
    inspection = _inspect(text, settings)
    return Inspection(
        form=None,
        dataset_clause=False,
        reaches=inspection.reaches,
        relative_iris=inspection.relative_iris,
    )
