"""The diplograph ontology and its code lists, shipped as package data.

``diplograph.ttl`` is the OWL 2 DL ontology (the source of truth, in Turtle). It imports three
SKOS code lists, each a small ontology of its own: ``codes.ttl`` (roles, polarities, modalities,
relation qualities), ``cameo.ttl`` (CAMEO event codes) and ``plover.ttl`` (PLOVER event types).
``catalog-v001.xml`` maps the imported IRIs to these files, so Protégé opens the ontology
offline. This module only says where the files are; ``diplograph.loader.ontology`` parses and
reasons.
"""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path

__all__ = [
    "CATALOG_FILE",
    "CODE_LIST_FILES",
    "ONTOLOGY_FILE",
    "ONTOLOGY_FILES",
    "catalog_path",
    "code_list_paths",
    "ontology_path",
    "ontology_paths",
]

#: The main ontology file.
ONTOLOGY_FILE = "diplograph.ttl"
#: The code lists it imports, in import order.
CODE_LIST_FILES = ("codes.ttl", "cameo.ttl", "plover.ttl")
#: Every Turtle file of the ontology: the ontology first, then the code lists.
ONTOLOGY_FILES = (ONTOLOGY_FILE, *CODE_LIST_FILES)
#: The Protégé catalog that resolves the imports to the files above.
CATALOG_FILE = "catalog-v001.xml"


def _path(name: str) -> Path:
    # The package is installed as plain files (never zipped), so the resource is a real path.
    with as_file(files(__name__) / name) as path:
        return Path(path)


def ontology_path() -> Path:
    """The path of ``diplograph.ttl``."""
    return _path(ONTOLOGY_FILE)


def code_list_paths() -> list[Path]:
    """The paths of the code-list files (``codes.ttl``, ``cameo.ttl``, ``plover.ttl``)."""
    return [_path(name) for name in CODE_LIST_FILES]


def ontology_paths() -> list[Path]:
    """The paths of every Turtle file: the ontology, then the code lists."""
    return [ontology_path(), *code_list_paths()]


def catalog_path() -> Path:
    """The path of ``catalog-v001.xml``."""
    return _path(CATALOG_FILE)
