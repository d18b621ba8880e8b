"""``GET /check``: the conflicts between documents and the candidate duplicates, as JSON
(loader/conflicts/; ``diplograph check`` prints the same findings)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pyoxigraph import NamedNode

from diplograph.api.deps import SettingsDep, StoreDep
from diplograph.api.store_reads import in_thread
from diplograph.loader.conflicts import find_conflicts
from diplograph.loader.errors import InputError

__all__ = ["router"]

router = APIRouter(tags=["linked data"])


@router.get("/check", summary="Conflicts between documents and candidate duplicates")
async def check(
    store: StoreDep,
    settings: SettingsDep,
    node: Annotated[str | None, Query(description="Only the findings about this IRI.")] = None,
) -> dict[str, Any]:
    """Single-valued properties whose values documents disagree on, posts held by two people
    at once and candidate duplicates, each value with its documents and their confidence."""
    if node is not None:
        try:
            NamedNode(node)
        except ValueError:
            raise InputError(f"node {node!r} is not an IRI") from None
    nodes = None if node is None else [node]
    found = await in_thread(
        settings, lambda: find_conflicts(store, nodes=nodes), "checking for conflicts"
    )
    return {"count": len(found), "conflicts": [c.to_dict() for c in found]}
