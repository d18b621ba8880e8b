"""Timelines and charts of events over time for the web pages (issue 15).

Routes are added to :data:`router` by the issue 15 work in progress.
"""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(tags=["charts"])
