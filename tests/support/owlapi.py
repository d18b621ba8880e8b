"""Running a check against the OWL API (the library Protégé uses) from Java source.

Debian's libowlapi-java provides the jars; ``java File.java`` compiles and runs one source file,
so a check needs no build step.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.support.external import REQUIRED, require_program

OWLAPI_JAR = Path("/usr/share/java/owlapi-distribution.jar")
OWLAPI_DEPENDENCIES = [
    "guava",
    "caffeine",
    "commons-rdf-api",
    "jsonld-java",
    "slf4j-api",
    "commons-io",
    "atinject-jsr330-api",
    "guice",
    "hppcrt",
    "jaxb-api",
    "xz",
    "commons-codec",
    "jackson-core",
    "jackson-databind",
    "jackson-annotations",
    "httpclient",
    "httpclient-cache",
    "httpcore",
    "commons-compress",
    "commons-lang3",
    "commons-rdf-jsonld-java",
]


def owlapi_java() -> tuple[str, str]:
    """The java executable and the OWL API class path, for running a check from source.

    Skips the test when Debian's libowlapi-java or a JDK is missing (fails it in CI, where
    ``DIPLOGRAPH_TEST_REQUIRE_EXTERNAL=1`` says they are installed).
    """
    java = require_program("java")
    if not OWLAPI_JAR.is_file() or not Path(java).resolve().with_name("javac").exists():
        message = "the OWL API check needs libowlapi-java and a JDK (default-jdk-headless)"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    jars = [OWLAPI_JAR] + [OWLAPI_JAR.with_name(f"{name}.jar") for name in OWLAPI_DEPENDENCIES]
    jars += sorted(
        j for j in OWLAPI_JAR.parent.glob("rdf4j-*.jar") if not re.search(r"-\d", j.name)
    )
    return java, ":".join(str(j) for j in jars if j.is_file())


def run_owlapi_check(
    source: Path, program: str, *args: str | Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    """Write ``program`` (Java) to ``source`` and run it on the OWL API class path with
    ``args``; skips (fails in CI) when the OWL API or a JDK is missing."""
    java, classpath = owlapi_java()
    source.write_text(program, encoding="utf-8")
    return subprocess.run(
        [java, "-cp", classpath, str(source), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
