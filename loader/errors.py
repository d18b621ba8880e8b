"""diplograph's exceptions. Every error a user can cause is one of these, with a message that
says what to fix. Each class carries the HTTP status the API answers with and the exit code the
CLI ends with, so both front ends map errors in one place.

    DiplographError
    ├── ConfigError               a setting is missing or invalid            (exit 2)
    ├── InputError                the user's input is wrong                  (HTTP 400, exit 2)
    │   ├── FactsError            a facts record breaks a rule: names record, field, rule (422)
    │   ├── QuerySyntaxError      SPARQL that does not parse: line and column
    │   ├── ForbiddenQueryError   SERVICE / LOAD / remote FROM that settings do not allow
    │   ├── PayloadTooLargeError  a request or text over the configured size  (HTTP 413)
    │   └── UnsupportedFormatError  a format or media type we cannot produce (HTTP 406)
    ├── NotFoundError             no such graph, document or resource        (HTTP 404)
    ├── AuthError                 a write without a valid token              (HTTP 401 / 403)
    ├── RejectedError             --strict load stopped at an invalid document (exit 1)
    ├── QueryTimeoutError         a query ran past the configured timeout    (HTTP 503)
    ├── ResultTooLargeError       a result over the configured row cap       (HTTP 413)
    ├── WorkerError               a validation worker process died mid-load  (exit 3)
    └── StoreError                the store cannot be opened, read or written (HTTP 503, exit 3)
        ├── StoreLockedError      another process holds the embedded store
        └── RemoteStoreError      the remote triple store failed or is unreachable (HTTP 502)
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AuthError",
    "ConfigError",
    "DiplographError",
    "FactsError",
    "ForbiddenQueryError",
    "InputError",
    "Location",
    "NotFoundError",
    "PayloadTooLargeError",
    "QuerySyntaxError",
    "QueryTimeoutError",
    "RejectedError",
    "RemoteStoreError",
    "ResultTooLargeError",
    "StoreError",
    "StoreLockedError",
    "UnsupportedFormatError",
    "WorkerError",
]


class DiplographError(Exception):
    """Base class of every error diplograph raises on purpose."""

    status: int = 500
    exit_code: int = 3

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, object]:
        """The JSON error body the API sends (and ``--format json`` prints)."""
        return {"error": type(self).__name__, "message": self.message}


class ConfigError(DiplographError):
    """A setting is missing or has a value we cannot use."""

    status = 500
    exit_code = 2


class InputError(DiplographError):
    """Input from the user is wrong; the message says where and why."""

    status = 400
    exit_code = 2


@dataclass(frozen=True)
class Location:
    """Where in the input a problem is: file, line (1-based), record id and JSON field path."""

    source: str | None = None
    line: int | None = None
    record: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        parts = []
        if self.source:
            parts.append(self.source + (f":{self.line}" if self.line else ""))
        elif self.line:
            parts.append(f"line {self.line}")
        if self.record:
            parts.append(f"record {self.record!r}")
        if self.field:
            parts.append(f"field {self.field!r}")
        return ", ".join(parts)


@dataclass(frozen=True)
class InputWarning:
    """Something a load reports about a record without rejecting it: the rule, and where."""

    rule: str
    location: Location

    def __str__(self) -> str:
        where = str(self.location)
        return f"{where}: {self.rule}" if where else self.rule


class FactsError(InputError):
    """A facts record breaks a rule of the facts format or the mapping."""

    status = 422

    def __init__(self, rule: str, location: Location) -> None:
        where = str(location)
        super().__init__(f"{where}: {rule}" if where else rule)
        self.rule = rule
        self.location = location

    def __reduce__(self) -> tuple[type[FactsError], tuple[str, Location]]:
        # Records cross process boundaries with their errors (an import reads ahead in a
        # child process); the default pickling would call __init__ with the message alone.
        return type(self), (self.rule, self.location)

    def to_dict(self) -> dict[str, object]:
        body = super().to_dict()
        body.update(
            source=self.location.source,
            line=self.location.line,
            record=self.location.record,
            field=self.location.field,
            rule=self.rule,
        )
        return body


class QuerySyntaxError(InputError):
    """A SPARQL query or update that does not parse."""


class ForbiddenQueryError(InputError):
    """A query that would reach outside the store (SERVICE, LOAD, remote FROM), not allowed."""


class PayloadTooLargeError(InputError):
    """A request body, query or update larger than ``max_body_bytes``."""

    status = 413


class UnsupportedFormatError(InputError):
    """A format or media type diplograph cannot produce or read."""

    status = 406


class NotFoundError(DiplographError):
    """No such graph, document or resource."""

    status = 404
    exit_code = 2


class AuthError(DiplographError):
    """A write request without a valid bearer token (401), or writes are disabled (403)."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


class RejectedError(DiplographError):
    """A ``--strict`` load met an invalid document and stopped; nothing of it was written."""

    status = 422
    exit_code = 1


class QueryTimeoutError(DiplographError):
    """A query ran past the configured timeout and was stopped."""

    status = 503


class ResultTooLargeError(DiplographError):
    """A query result has more rows than the configured cap allows."""

    status = 413


class WorkerError(DiplographError):
    """A worker process of a load (validation) ended abruptly; the batch it worked on was not
    written."""

    exit_code = 3


class StoreError(DiplographError):
    """The store cannot be opened, read or written."""

    status = 503
    exit_code = 3


class StoreLockedError(StoreError):
    """Another process holds the embedded store's lock."""


class RemoteStoreError(StoreError):
    """The remote triple store answered with an error or could not be reached."""

    status = 502
