"""The pages' own CSS, JavaScript and icons at ``/static/{name}``, and the libraries vendored
with their licences at ``/static/vendor/{name}`` (no CDN, no web fonts)."""

from __future__ import annotations

import functools
import hashlib
import re
from importlib.resources import files

from fastapi import APIRouter, Request
from fastapi.responses import Response

from diplograph.loader.errors import NotFoundError

__all__ = ["VENDOR", "router", "static_url", "vendor_url"]

router = APIRouter(tags=["page"])

_STATIC_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",  # the vendored libraries' licences
}
# Only plain file names: no path separators, no leading dot (so nothing outside api/static).
_STATIC_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
#: Where vendored libraries and their licences live, under ``api/static``.
VENDOR = "vendor"


@functools.cache
def _static_file(folder: str, name: str) -> tuple[bytes, str] | None:
    if not _STATIC_NAME.match(name):
        return None
    resource = files("diplograph.api") / "static"
    if folder:
        resource = resource / folder
    resource = resource / name
    if not resource.is_file():
        return None
    data = resource.read_bytes()
    return data, hashlib.sha256(data).hexdigest()[:16]


def static_url(name: str) -> str:
    """The URL of a static file, with a content hash so browsers may cache it for long."""
    found = _static_file("", name)
    return f"/static/{name}" + (f"?v={found[1]}" if found else "")


def vendor_url(name: str) -> str:
    """The URL of a vendored library file (``api/static/vendor``), with a content hash."""
    found = _static_file(VENDOR, name)
    return f"/static/{VENDOR}/{name}" + (f"?v={found[1]}" if found else "")


def _serve(folder: str, name: str, request: Request) -> Response:
    found = _static_file(folder, name)
    media_type = next((t for s, t in _STATIC_TYPES.items() if name.endswith(s)), None)
    if found is None or media_type is None:
        where = f"{folder}/{name}" if folder else name
        raise NotFoundError(f"no static file {where!r}")
    data, digest = found
    etag = f'"{digest}"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=86400"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=media_type, headers=headers)


@router.get("/static/{name}", include_in_schema=False)
async def static(name: str, request: Request) -> Response:
    """A file of ``api/static``, with an ETag; 304 when the client has it already."""
    return _serve("", name, request)


@router.get("/static/vendor/{name}", include_in_schema=False)
async def vendor(name: str, request: Request) -> Response:
    """A vendored library file (``api/static/vendor``) or its licence (``*.LICENSE.txt``)."""
    return _serve(VENDOR, name, request)
