"""One error shape for every route, and the handlers that produce it.

Every error the API answers with is a JSON object::

    {"error": "QuerySyntaxError", "message": "malformed SPARQL query: error at 1:25: ...",
     "status": 400}

``error`` is the class name from :mod:`diplograph.loader.errors` (or one of the few HTTP-level
classes below), ``message`` says what to fix, ``status`` repeats the HTTP status. Some classes add
fields (a facts violation names its record and field). The same shape is used on ``/sparql``, so a
SPARQL client that shows the body of a failed request shows the parser's message.

Errors raised by FastAPI and Starlette themselves (an unknown route, a wrong method, a missing
parameter) are mapped onto the same shape, so a client never has to parse two kinds of body.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import Scope

# PayloadTooLargeError is a domain error (the guard raises it for over-long texts too); it is
# re-exported here for the body-size middleware.
from diplograph.loader.errors import AuthError, DiplographError, InputError, PayloadTooLargeError

__all__ = [
    "MethodNotAllowedError",
    "PayloadTooLargeError",
    "UnsupportedMediaTypeError",
    "allowed_methods",
    "error_response",
    "install_error_handlers",
]

log = logging.getLogger(__name__)

#: Statuses Starlette raises itself, by the error name the body carries.
_HTTP_NAMES = {
    400: "InputError",
    401: "AuthError",
    403: "AuthError",
    404: "NotFoundError",
    405: "MethodNotAllowedError",
    406: "UnsupportedFormatError",
    413: "PayloadTooLargeError",
    415: "UnsupportedMediaTypeError",
}


class UnsupportedMediaTypeError(InputError):
    """A request body in a media type the route does not read."""

    status = 415


class MethodNotAllowedError(InputError):
    """A method the route does not support (for example an update sent with GET)."""

    status = 405


def error_body(exc: DiplographError) -> dict[str, object]:
    """The JSON object for ``exc``: ``{error, message, status, …}``."""
    body = exc.to_dict()
    body["status"] = exc.status
    return body


#: Methods a route may take, in the order ``Allow`` lists them.
_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH")


def allowed_methods(app: Starlette, scope: Scope) -> list[str]:
    """The methods some route of ``app`` takes at ``scope``'s path (``HEAD`` with ``GET``: the
    app answers ``HEAD`` on every ``GET`` resource)."""
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**scope, "method": method})[0] == Match.FULL
            for route in app.router.routes
        )
    ]
    if "GET" in allowed and "HEAD" not in allowed:
        allowed.insert(allowed.index("GET") + 1, "HEAD")
    return allowed


def error_response(exc: DiplographError, allow: list[str] | None = None) -> JSONResponse:
    """The response for ``exc``: its status, the JSON body, and the headers the status needs
    (``allow``: the methods a 405's ``Allow`` lists)."""
    headers: dict[str, str] = {}
    if isinstance(exc, AuthError) and exc.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="diplograph"'
    if exc.status in (404, 406):  # the answer depends on Accept: negotiated routes raise these
        headers["Vary"] = "Accept"
    if exc.status == 405 and allow:
        headers["Allow"] = ", ".join(allow)
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:  # the query queue's refusals (api/admission.py)
        headers["Retry-After"] = str(retry_after)
    return JSONResponse(error_body(exc), status_code=exc.status, headers=headers)


async def _diplograph_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DiplographError)
    if exc.status >= 500:
        log.warning("%s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
    allow = allowed_methods(request.app, request.scope) if exc.status == 405 else None
    return error_response(exc, allow)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    name = _HTTP_NAMES.get(exc.status_code, "HTTPError")
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    headers = dict(exc.headers or {})
    if exc.status_code == 404 and message == "Not Found":
        message = f"no route {request.url.path}; see docs/api.md for the routes"
    if exc.status_code == 405:
        allow = allowed_methods(request.app, request.scope)
        headers["Allow"] = ", ".join(allow)
        message = f"{request.method} is not allowed on {request.url.path}; use " + ", ".join(allow)
    if exc.status_code == 406:
        headers["Vary"] = "Accept"
    body = {"error": name, "message": message, "status": exc.status_code}
    return JSONResponse(body, status_code=exc.status_code, headers=headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg', 'invalid')}"
        for err in exc.errors()
    )
    return error_response(InputError(f"invalid request: {problems}"))


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("%s %s failed", request.method, request.url.path, exc_info=exc)
    body = {
        "error": "InternalError",
        "message": "the server failed to answer this request; the server log has the details",
        "status": 500,
    }
    return JSONResponse(body, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the shape described in this module."""
    app.add_exception_handler(DiplographError, _diplograph_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected_error)
