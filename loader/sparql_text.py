"""Reading SPARQL text without parsing it: tokens, the prologue, the query form, dataset clauses.

A tokenizer that follows SPARQL's lexical rules tells apart what can hold a keyword from what
cannot: strings (all four quote styles), IRIs in ``<…>``, comments and variables. Code that
looks for a keyword in the text (the API's guard, the stores, the CLI) uses these tokens, so a
``#`` inside an IRI or a ``FROM`` inside a string literal never fools it.

Where the tokenizer meets something it cannot read (an unterminated string), it stops and says
where; each caller decides what that means for it. Nothing here raises except
:func:`apply_using`, which rewrites an update and raises :class:`InputError` for one it cannot.

Cost: one regular-expression pass (microseconds for typical queries).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from diplograph.loader.errors import InputError

__all__ = [
    "QUERY_FORMS",
    "Token",
    "apply_using",
    "has_dataset_clause",
    "is_absolute_iri",
    "is_blank",
    "line_of",
    "query_form",
    "split_prologue",
    "tokenize",
    "unescape_iri",
]

_NAME_CHARS: Final = r"\w\u00B7\u0300-\u036F\u203F\u2040"

_TOKEN: Final = re.compile(
    rf"""
      (?P<ws>\s+)
    | (?P<comment>\#[^\r\n]*)
    | (?P<iri><(?:[^<>"{{}}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{{4}}|\\U[0-9A-Fa-f]{{8}})*>)
    | (?P<long>'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''|\"\"\"(?:(?:"|"")?(?:[^"\\]|\\.))*\"\"\")
    | (?P<string>'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
    | (?P<var>[?$][{_NAME_CHARS}]+)
    | (?P<word>(?:[{_NAME_CHARS}.:-]|%[0-9A-Fa-f]{{2}}|\\[_~.\-!$&'()*+,;=/?\#@%])+)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_ABSOLUTE: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_UESCAPE: Final = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")

#: The four query forms, in upper case.
QUERY_FORMS: Final = ("SELECT", "CONSTRUCT", "DESCRIBE", "ASK")


@dataclass(frozen=True)
class Token:
    """A significant token: its kind, its text and its offset in the text.

    Kinds: ``iri`` (``<…>``), ``long`` and ``string`` (literals), ``var`` (``?x``, ``$x``),
    ``word`` (keywords, prefixed names, numbers: everything made of name characters, ``.``,
    ``:`` and ``-``) and ``other`` (one punctuation character).
    """

    kind: str
    text: str
    pos: int

    def is_word(self, word: str) -> bool:
        """Whether this is the bare word ``word`` (compared case-insensitively)."""
        return self.kind == "word" and self.text.upper() == word.upper()


def tokenize(text: str) -> tuple[list[Token], int | None]:
    """The significant tokens of ``text`` (no whitespace, no comments), and the offset where
    lexing gave up (an unterminated string), or None when it read the whole text."""
    out: list[Token] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        assert kind is not None
        if kind in ("ws", "comment"):
            continue
        if kind == "other" and match.group() in "'\"":
            return out, match.start()
        out.append(Token(kind, match.group(), match.start()))
    return out, None


def line_of(text: str, pos: int) -> int:
    """The 1-based line of ``text`` that offset ``pos`` is on."""
    return text.count("\n", 0, pos) + 1


def unescape_iri(text: str) -> str:
    """An IRI's text with its ``\\uXXXX`` and ``\\UXXXXXXXX`` escapes decoded."""
    return _UESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


def is_absolute_iri(iri: str) -> bool:
    """Whether ``iri`` starts with a scheme (``http:``, ``urn:``…), i.e. is not relative."""
    return _ABSOLUTE.match(iri) is not None


def is_blank(text: str) -> bool:
    """Whether ``text`` holds nothing but whitespace and comments."""
    tokens, gave_up = tokenize(text)
    return not tokens and gave_up is None


def _prologue_length(tokens: list[Token], *, define: bool) -> int:
    """How many of ``tokens`` are the prologue: ``BASE <iri>`` and ``PREFIX p: <iri>``, and with
    ``define`` also Virtuoso's ``DEFINE name value``."""
    index = 0
    while index < len(tokens):
        token, following = tokens[index], tokens[index + 1 : index + 3]
        if token.is_word("BASE") and following and following[0].kind == "iri":
            index += 2
        elif _is_declaration(token, following, define=define):
            index += 3
        else:
            break
    return index


def _is_declaration(token: Token, following: list[Token], *, define: bool) -> bool:
    """Whether ``token`` and the two ``following`` are ``PREFIX name: <iri>`` or (with
    ``define``) ``DEFINE name value``."""
    if len(following) < 2:
        return False
    if define and token.is_word("DEFINE"):
        return True
    name, iri = following
    return (
        token.is_word("PREFIX")
        and name.kind == "word"
        and name.text.endswith(":")
        and name.text.count(":") == 1
        and iri.kind == "iri"
    )


def split_prologue(text: str) -> tuple[str, str]:
    """``text`` cut after its prologue (``BASE`` and ``PREFIX`` declarations, with the
    whitespace and comments around them): the prologue, then the rest.

    The engine takes a prologue only at the start of a request, so code that wraps a request in
    more text keeps the prologue in front.
    """
    tokens, gave_up = tokenize(text)
    length = _prologue_length(tokens, define=False)
    end = len(text) if gave_up is None else gave_up
    cut = tokens[length].pos if length < len(tokens) else end
    return text[:cut], text[cut:]


def query_form(text: str) -> str | None:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the word after the prologue (Virtuoso's ``DEFINE``
    pragmas count as prologue); None when something else comes first."""
    tokens, _ = tokenize(text)
    index = _prologue_length(tokens, define=True)
    if index < len(tokens) and tokens[index].kind == "word":
        word = tokens[index].text.upper()
        if word in QUERY_FORMS:
            return word
    return None


def has_dataset_clause(text: str) -> bool:
    """Whether the query names its own dataset: ``FROM <g>`` or ``FROM NAMED <g>`` (the graph
    as an IRI or a prefixed name), outside strings and comments."""
    tokens, _ = tokenize(text)
    for index, token in enumerate(tokens):
        if not token.is_word("FROM"):
            continue
        following = tokens[index + 1 : index + 3]
        if following and following[0].is_word("NAMED"):
            following = following[1:]
        if following and (
            following[0].kind == "iri" or (following[0].kind == "word" and ":" in following[0].text)
        ):
            return True
    return False


def apply_using(text: str, using: list[str], using_named: list[str]) -> str:
    """The update with the protocol's ``using-graph-uri`` / ``using-named-graph-uri`` applied.

    The protocol defines them as ``USING <g>`` / ``USING NAMED <g>`` on every operation that has
    a ``WHERE``; they are written into the text at each top-level ``WHERE``. ``DELETE WHERE {P}``
    takes no ``USING``, so it becomes the equivalent ``DELETE {P} USING … WHERE {P}``. An update
    that names its own dataset (``USING``, ``WITH``) together with the parameters is an error, as
    the protocol says.
    """
    tokens, gave_up = tokenize(text)
    if gave_up is not None:
        raise InputError(f"the update has an unterminated string at line {line_of(text, gave_up)}")
    clause = "".join(f"USING <{g}> " for g in using)
    clause += "".join(f"USING NAMED <{g}> " for g in using_named)
    depth = 0
    inserts: list[tuple[int, str]] = []
    for index, token in enumerate(tokens):
        if token.kind == "other" and token.text in "{}":
            depth += 1 if token.text == "{" else -1
            continue
        if token.kind != "word" or depth != 0:
            continue
        upper = token.text.upper()
        if upper in ("USING", "WITH"):
            raise InputError(
                f"the update has its own {upper} clause (line {line_of(text, token.pos)}); it "
                "cannot be combined with using-graph-uri / using-named-graph-uri"
            )
        if upper != "WHERE":
            continue
        before = tokens[index - 1] if index else None
        if before is not None and before.is_word("DELETE"):
            inserts.append((token.pos, _block(text, tokens, index + 1) + " " + clause))
        else:
            inserts.append((token.pos, clause))
    for pos, addition in reversed(inserts):
        text = text[:pos] + addition + text[pos:]
    return text


def _block(text: str, tokens: list[Token], start: int) -> str:
    """The text of the ``{ … }`` group that begins at ``tokens[start]``."""
    if start >= len(tokens) or tokens[start].text != "{":
        raise InputError("DELETE WHERE must be followed by { … }")
    depth = 0
    for token in tokens[start:]:
        if token.kind == "other" and token.text in "{}":
            depth += 1 if token.text == "{" else -1
            if depth == 0:
                return text[tokens[start].pos : token.pos + 1]
    raise InputError("DELETE WHERE { … } is not closed")
