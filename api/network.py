"""The who-engages-whom network: the ``/network`` page and ``/export/network`` (issue 15).

Routes are added to :data:`router` by the issue 15 work in progress.
"""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(tags=["network"])
