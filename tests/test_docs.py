"""The documentation keeps up with the code: settings, commands and links."""

from __future__ import annotations

import re

from diplograph.cli import main
from diplograph.graph import Graph
from diplograph.loader.config import Settings
from tests.conftest import ROOT


def test_every_setting_is_documented_in_cli_md() -> None:
    text = (ROOT / "docs" / "cli.md").read_text()
    for name in Settings.model_fields:
        assert f"`DIPLOGRAPH_{name.upper()}`" in text, name


def test_every_command_is_documented_in_cli_md() -> None:
    text = (ROOT / "docs" / "cli.md").read_text()
    for command in main.list_commands(None):  # type: ignore[arg-type]
        assert f"`{command}" in text, command


def test_every_public_method_of_the_python_api_is_documented_in_python_md() -> None:
    text = (ROOT / "docs" / "python.md").read_text()
    for name in vars(Graph):
        if not name.startswith("_"):
            assert f"g.{name}(" in text or f"`{name}`" in text, name


def test_relative_links_in_the_docs_point_at_existing_files() -> None:
    for page in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


def test_the_readme_quick_start_is_two_make_commands() -> None:
    text = (ROOT / "README.md").read_text()
    block = text.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make run", "make test"]


def test_every_test_docs_reliability_md_names_exists() -> None:
    """Each guarantee in docs/reliability.md names tests; a renamed test must not leave a stale
    claim. ``::name`` after ``tests/x.py::y`` in the same table cell means the same file."""
    text = (ROOT / "docs" / "reliability.md").read_text()
    named = 0
    for cell in re.findall(r"\|([^|\n]*`[^|\n]*)", text):
        current: str | None = None
        for path, name in re.findall(r"`(tests/[\w/]+\.py)?(?:::(\w+))?", cell):
            if path:
                current = path
                assert (ROOT / path).exists(), path
            if name:
                assert current is not None, cell
                source = (ROOT / current).read_text()
                assert re.search(rf"def {name}\b", source), f"{current}::{name}"
                named += 1
    assert named > 30
