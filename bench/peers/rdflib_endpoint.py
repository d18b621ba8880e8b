"""rdflib-endpoint as a peer: an ``rdflib.Dataset(default_union=True)`` parsed from the dump.

It runs in its own venv (``bench/out/venv-rdflib-endpoint``, created on first use, because it
pins other versions), one uvicorn worker on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench.http_queries import served_queries
from bench.measure import log, vmhwm
from bench.paths import OUT
from bench.servers import Server, free_port, http_ok


def rdflib_endpoint_python() -> Path:
    """The Python of rdflib-endpoint's own venv (bench/out/venv-rdflib-endpoint), made once."""
    venv = OUT / "venv-rdflib-endpoint"
    python = venv / "bin" / "python"
    if not python.exists():
        log("  creating the rdflib-endpoint venv")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "rdflib-endpoint[cli]", "uvicorn"],
            check=True,
        )
    return python


RDFLIB_ENDPOINT_APP = """\
import sys, time
import rdflib, uvicorn
from rdflib_endpoint import SparqlEndpoint
t0 = time.perf_counter()
g = rdflib.Dataset(default_union=True)
g.parse(sys.argv[1], format="nquads")
print(f"LOADED {len(g)} {time.perf_counter() - t0:.3f}", flush=True)
app = SparqlEndpoint(graph=g, cors_enabled=False)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def bench_rdflib_endpoint(
    nquads: Path, queries: dict[str, str], args: argparse.Namespace, skip: Mapping[str, str]
) -> dict[str, Any]:
    """Serve ``nquads`` with rdflib-endpoint (its start-up is the load), then time the queries."""
    try:
        python = rdflib_endpoint_python()
    except (subprocess.SubprocessError, OSError) as exc:
        return {"ok": False, "error": f"cannot install rdflib-endpoint: {exc}"[:300]}
    script = OUT / "rdflib_endpoint_app.py"
    script.write_text(RDFLIB_ENDPOINT_APP)
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}/"
    out: dict[str, Any] = {"ok": True}
    with contextlib.suppress(importlib.metadata.PackageNotFoundError, subprocess.SubprocessError):
        out["version"] = subprocess.run(
            [
                str(python),
                "-c",
                "import importlib.metadata as m; "
                "print(m.version('rdflib-endpoint'), m.version('rdflib'))",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.strip()
    cmd = [str(python), str(script), str(nquads), str(port)]
    try:
        srv = Server(cmd, http_ok(endpoint), cwd=OUT, env=dict(os.environ), wait=args.step_timeout)
        with srv:
            out["load_s"] = srv.start_s
            log(f"  rdflib-endpoint: ready after {out['load_s']:.1f} s")
            out["queries"] = served_queries(endpoint, queries, args, srv, skip)
            out["vmhwm_mb"] = vmhwm(srv.pid)
            out["restarts"] = srv.restarts
    except (RuntimeError, OSError) as exc:
        out.update(ok=False, error=str(exc)[:500])
    return out
