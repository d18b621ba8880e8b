"""Reading SPARQL text without parsing it (loader/sparql_text.py)."""

from __future__ import annotations

import re

import pytest

from diplograph.loader.errors import InputError
from diplograph.loader.sparql_text import (
    apply_using,
    has_dataset_clause,
    is_absolute_iri,
    is_blank,
    line_of,
    query_form,
    split_prologue,
    tokenize,
    unescape_iri,
)

# --- tokens --------------------------------------------------------------------------------------


def test_strings_iris_comments_and_variables_are_single_tokens() -> None:
    text = "SELECT ?service # SERVICE <x>\nWHERE { <http://a#b> ?p 'SERVICE' ; ?q '''x\n'y''' }"
    tokens, gave_up = tokenize(text)
    assert gave_up is None
    assert [(t.kind, t.text) for t in tokens] == [
        ("word", "SELECT"),
        ("var", "?service"),
        ("word", "WHERE"),
        ("other", "{"),
        ("iri", "<http://a#b>"),
        ("var", "?p"),
        ("string", "'SERVICE'"),
        ("other", ";"),
        ("var", "?q"),
        ("long", "'''x\n'y'''"),
        ("other", "}"),
    ]
    assert all(text[t.pos : t.pos + len(t.text)] == t.text for t in tokens)


def test_lexing_stops_at_an_unterminated_string_and_says_where() -> None:
    text = 'ASK { ?s ?p "open\n SERVICE <x> }'
    tokens, gave_up = tokenize(text)
    assert gave_up == text.index('"')
    assert [t.text for t in tokens] == ["ASK", "{", "?s", "?p"]
    assert line_of(text, len(text) - 1) == 2


def test_prefixed_names_and_keywords_are_words() -> None:
    tokens, _ = tokenize("PREFIX dip: <https://w3id.org/diplograph/ns#> ASK { dip:a a :b }")
    assert [t.text for t in tokens if t.kind == "word"] == [
        "PREFIX",
        "dip:",
        "ASK",
        "dip:a",
        "a",
        ":b",
    ]
    assert tokens[0].is_word("prefix")


def test_iri_escapes_are_decoded_and_relative_iris_told_apart() -> None:
    assert unescape_iri(r"http://a.example/\u0041\U00000042") == "http://a.example/AB"
    assert is_absolute_iri("urn:x:1") and is_absolute_iri("http://a.example/")
    assert not is_absolute_iri("relative/path") and not is_absolute_iri("#frag")


# --- what the stores and the CLI need ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "blank"),
    [
        ("", True),
        ("  \n\t", True),
        ("# only a comment\n  # and another", True),
        ("PREFIX", False),
        ("'unterminated", False),
        ("<http://a#b>", False),
    ],
)
def test_blank_means_only_whitespace_and_comments(text: str, blank: bool) -> None:
    assert is_blank(text) is blank


@pytest.mark.parametrize(
    ("text", "head"),
    [
        ("INSERT DATA { <a> <b> <c> }", ""),
        ("  # note\nINSERT DATA {}", "  # note\n"),
        (
            "PREFIX dip: <urn:d#>\nBASE <urn:b/> # c\n  DELETE WHERE {}",
            "PREFIX dip: <urn:d#>\nBASE <urn:b/> # c\n  ",
        ),
        ("prefix : <urn:e#>INSERT DATA {}", "prefix : <urn:e#>"),
        ("PREFIX dip: <urn:d#>\n", "PREFIX dip: <urn:d#>\n"),
        ("PREFIX dip: <urn:d#> # 'x\n", "PREFIX dip: <urn:d#> # 'x\n"),
        ("PREFIX dip: 'no iri' INSERT DATA {}", ""),
    ],
)
def test_the_prologue_is_cut_off_with_its_whitespace_and_comments(text: str, head: str) -> None:
    assert split_prologue(text) == (head, text[len(head) :])


def test_the_prologue_split_matches_the_former_regular_expression_on_ordinary_updates() -> None:
    space = r"(?:\s|#[^\n]*)*"
    former = re.compile(
        rf"{space}(?:(?:BASE{space}<[^>]*>|PREFIX{space}[A-Za-z]?[\w.-]*:{space}<[^>]*>){space})*",
        re.IGNORECASE,
    )
    updates = [
        "INSERT DATA { <urn:a> <urn:b> 'c' }",
        "PREFIX dip: <https://w3id.org/diplograph/ns#>\nINSERT DATA { dip:a dip:b 1 }",
        "# lead\nBASE <http://a.example/>\nPREFIX x: <y#> # tail\n\nDELETE WHERE { ?s ?p ?o }",
        "  \n",
    ]
    for text in updates:
        match = former.match(text)
        assert match is not None
        assert split_prologue(text)[0] == match.group(0)


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("SELECT * WHERE {}", "SELECT"),
        ("  ask {}", "ASK"),
        ("# SELECT\nCONSTRUCT WHERE { ?s ?p ?o }", "CONSTRUCT"),
        ("PREFIX a: <urn:a#> BASE <urn:b/> DESCRIBE <x>", "DESCRIBE"),
        ("DEFINE input:inference 'rules' SELECT * {}", "SELECT"),
        ("DEFINE sql:log-enable 2 ASK {}", "ASK"),
        ("SELECT* {}", "SELECT"),
        ("SELECTED {}", None),
        ("INSERT DATA {}", None),
        ("", None),
    ],
)
def test_the_query_form_is_the_word_after_the_prologue(text: str, form: str | None) -> None:
    assert query_form(text) == form


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SELECT * FROM <urn:g> WHERE {}", True),
        ("select * from named dip:g where {}", True),
        ("SELECT * FROM NAMED <urn:g> {}", True),
        ("SELECT * WHERE { ?s ?p 'FROM <urn:g>' }", False),
        ("SELECT * # FROM <urn:g>\nWHERE {}", False),
        ("SELECT ?from WHERE { ?from ?p ?o }", False),
        ("SELECT * WHERE {}", False),
    ],
)
def test_a_dataset_clause_is_found_outside_strings_and_comments(text: str, expected: bool) -> None:
    assert has_dataset_clause(text) is expected


# --- apply_using ---------------------------------------------------------------------------------


def test_using_parameters_go_in_front_of_each_top_level_where() -> None:
    text = "DELETE { ?s ?p ?o } WHERE { ?s ?p ?o } ; INSERT { <a> <b> <c> } WHERE { }"
    out = apply_using(text, ["urn:g"], ["urn:n"])
    assert out.count("USING <urn:g> USING NAMED <urn:n> WHERE") == 2


def test_delete_where_becomes_delete_using_where() -> None:
    out = apply_using("DELETE WHERE { ?s ?p ?o }", ["urn:g"], [])
    assert out == "DELETE { ?s ?p ?o } USING <urn:g> WHERE { ?s ?p ?o }"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("WITH <urn:w> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "own WITH"),
        ("DELETE { ?s ?p ?o } USING <urn:u> WHERE { ?s ?p ?o }", "own USING"),
        ("DELETE WHERE ?s", "must be followed"),
        ("DELETE WHERE { ?s ?p ?o", "not closed"),
        ("INSERT DATA { <a> <b> 'open }", "unterminated string at line 1"),
    ],
)
def test_updates_that_cannot_take_using_parameters_are_input_errors(
    text: str, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        apply_using(text, ["urn:g"], [])
