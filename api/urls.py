"""This server's URLs as its clients see them.

A reverse proxy may put the server under another host or path, so ``settings.public_url``, when
set, wins over what the request says. Relative IRIs in a query or an uploaded graph resolve
against these URLs, and descriptions of the service (service description, VoID) name them.
"""

from __future__ import annotations

from fastapi import Request

from diplograph.loader.config import Settings

__all__ = ["endpoint_url", "server_url"]


def endpoint_url(request: Request, settings: Settings) -> str:
    """The URL of the route the request reached, without query or fragment
    (``settings.public_url`` in front of its path when set)."""
    if settings.public_url:
        return settings.public_url.rstrip("/") + request.url.path
    return str(request.url.replace(query="", fragment=""))


def server_url(request: Request, settings: Settings) -> str:
    """The server's root URL, without a trailing slash (``settings.public_url`` when set)."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    return str(request.base_url).rstrip("/")
