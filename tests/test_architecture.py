"""The structure holds: layers import only downwards, and no module grows past its budget.

docs/architecture.md describes the layers; the contracts themselves are in pyproject.toml
(``[tool.importlinter]``), checked here with import-linter so that an upward import fails the
suite, not only a reader's eye.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT

#: The folders whose modules have a size budget (issue: "no module over 600 lines in loader/,
#: api/, diplograph/; the median under 250").
BUDGETED = ("loader", "api", "diplograph")
MAX_LINES = 600
MAX_MEDIAN = 250


def _modules() -> dict[str, int]:
    sizes: dict[str, int] = {}
    for folder in BUDGETED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT)
            if rel.parts[0] == "diplograph" and len(rel.parts) > 2:
                continue  # diplograph/loader etc. are links to the top-level folders
            sizes[str(rel)] = len(path.read_text().splitlines())
    return sizes


def test_every_layer_imports_only_the_layers_below_it() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_module_is_over_600_lines() -> None:
    over = {name: lines for name, lines in _modules().items() if lines > MAX_LINES}
    assert not over, f"split these by job: {over}"


def test_the_median_module_is_under_250_lines() -> None:
    sizes = _modules()
    assert statistics.median(sizes.values()) < MAX_MEDIAN, sorted(
        sizes.items(), key=lambda i: -i[1]
    )


def test_every_package_folder_is_installed() -> None:
    """A sub-package missing from pyproject.toml would be left out of the wheel."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    roots = {folder: name for name, folder in config["package-dir"].items()}
    found = set()
    for folder, package in roots.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            if folder == "diplograph" and rel.parts:
                continue  # the links to the top-level folders, mapped on their own
            found.add(".".join((package, *rel.parts)))
    data_only = {
        name for name in listed - found if not (_folder(config, name) / "__init__.py").exists()
    }
    assert found == listed - data_only
    assert all(_folder(config, name).is_dir() for name in data_only)


def _folder(config: dict[str, dict[str, str]], package: str) -> Path:
    """The folder of ``package`` in the repository, by the package-dir mapping."""
    mapped = max((p for p in config["package-dir"] if package.startswith(p)), key=len)
    rest = package[len(mapped) :].strip(".").split(".")
    return ROOT.joinpath(config["package-dir"][mapped], *filter(None, rest))


@pytest.mark.parametrize("folder", ["loader", "api", "ontology", "shapes"])
def test_the_repository_links_each_top_level_folder_into_the_namespace(folder: str) -> None:
    link = ROOT / "diplograph" / folder
    assert link.is_symlink() and link.resolve() == (ROOT / folder).resolve()
