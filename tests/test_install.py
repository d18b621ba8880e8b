"""A non-editable install ships everything the command needs (ontology, shapes, queries).

The wheel is built from this checkout and installed into a fresh directory; the installed
`diplograph` command, run from elsewhere, must load the example facts and answer a query.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    [built] = out.glob("diplograph-*.whl")
    return built


def test_the_wheel_contains_the_ontology_shapes_and_queries(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "diplograph/ontology/diplograph.ttl",
        "diplograph/ontology/catalog-v001.xml",
        "diplograph/shapes/diplograph-shapes.ttl",
        "diplograph/ontology/queries/01-who-talked-to-whom.rq",
        "diplograph/py.typed",
        "diplograph/loader/py.typed",
        "diplograph/api/py.typed",
        "diplograph/cli.py",
        "diplograph/loader/gazetteer/states.tsv",
    ):
        assert required in names, required


def test_the_wheel_installs_one_top_level_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    packages = {name.split("/")[0] for name in names if not name.split("/")[0].endswith("-info")}
    assert packages == {"diplograph"}


def test_the_installed_command_loads_and_queries(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    env = {**os.environ, "PYTHONPATH": str(target), "DIPLOGRAPH_STORE_PATH": str(tmp_path / "s")}
    command = [str(target / "bin" / "diplograph")]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, *args], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
        )

    where = subprocess.run(
        [
            sys.executable,
            "-c",
            "from diplograph import loader, ontology; print(loader.__file__, ontology.__file__)",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(target) in where.stdout and str(ROOT) not in where.stdout
    loaded = run("load", str(EXAMPLES / "story.json"), "--no-progress")
    assert loaded.returncode == 0, loaded.stderr
    answer = run("query", "SELECT (COUNT(*) AS ?n) WHERE { ?e a dip:PhoneCall }", "--format", "csv")
    assert answer.stdout.splitlines() == ["n", "1"]
