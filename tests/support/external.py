"""Finding external programs (java, rapper, virtuoso-t, chromium) for the tests that need them.

Locally a missing program skips the test with a reason. In CI (`.ci/run` sets
``DIPLOGRAPH_TEST_REQUIRE_EXTERNAL=1`` and installs them) a missing program fails the test, so a
broken install step can never hide behind skips.
"""

from __future__ import annotations

import os
import shutil

import pytest

# Read once at import: the autouse fixture in conftest clears DIPLOGRAPH_* during tests.
REQUIRED = os.environ.get("DIPLOGRAPH_TEST_REQUIRE_EXTERNAL") == "1"


def require_program(name: str, *alternatives: str) -> str:
    """The path of the first of ``name``/``alternatives`` on PATH; skip (or fail in CI) if none."""
    for candidate in (name, *alternatives):
        path = shutil.which(candidate)
        if path:
            return path
    message = f"{name} is not installed (on Debian: see the apt-get line in .ci/run)"
    if REQUIRED:
        pytest.fail(message)
    pytest.skip(message)
