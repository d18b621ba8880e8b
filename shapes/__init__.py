"""The diplograph SHACL shapes, shipped as package data.

``diplograph-shapes.ttl`` holds the SHACL shapes (namespace ``https://w3id.org/diplograph/shapes#``,
prefix ``dsh:``) that every loaded facts document must conform to: one named shape per rule,
targeting the classes of the ontology (or the subjects of a property), checked against the
triple patterns of docs/mapping.md. docs/shapes.md describes each rule. This module only says
where the file is; ``diplograph.loader.validate`` parses it and runs pySHACL.
"""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path

__all__ = ["SHAPES_FILE", "shapes_path"]

#: The shapes file, in Turtle.
SHAPES_FILE = "diplograph-shapes.ttl"


def shapes_path() -> Path:
    """The path of ``diplograph-shapes.ttl``."""
    # The package is installed as plain files (never zipped), so the resource is a real path.
    with as_file(files(__name__) / SHAPES_FILE) as path:
        return Path(path)
