"""``/curation``: a curator's statements that two nodes are, or are not, one entity or event
(loader/curation.py), read by anyone, written with the write token."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from diplograph.api.deps import SettingsDep, StoreDep, WriteAuth, run_load
from diplograph.api.store_reads import in_thread
from diplograph.loader.curation import curations
from diplograph.loader.iris import IriMinter
from diplograph.loader.pipeline import curate, uncurate

__all__ = ["router"]

router = APIRouter(tags=["curation"])


class Statement(BaseModel):
    """A statement about two nodes."""

    verdict: Literal["same", "different"]
    nodes: Annotated[list[str], Field(min_length=2, max_length=2)]


@router.get("/curation", summary="Curators' statements")
async def list_curations(store: StoreDep, settings: SettingsDep) -> list[dict[str, Any]]:
    """Every statement that two nodes are the same or different."""
    graph = IriMinter(settings.base_iri).curation_graph()
    found = await in_thread(settings, lambda: curations(store, graph), "reading the curation")
    return [r.to_dict() for r in found]


@router.post("/curation", status_code=201, summary="State that two nodes are same or different")
async def post_curation(
    statement: Statement, request: Request, store: StoreDep, settings: SettingsDep, _: WriteAuth
) -> dict[str, Any]:
    """Record the statement (replacing an earlier one about the pair); ``check`` then no longer
    lists the pair as a candidate."""
    a, b = statement.nodes
    record = await run_load(
        request, lambda keeper: curate(store, settings, statement.verdict, a, b, keeper)
    )
    return record.to_dict()


@router.delete("/curation", summary="Withdraw the statement about two nodes")
async def delete_curation(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    _: WriteAuth,
    a: Annotated[str, Query(description="One node (an IRI).")],
    b: Annotated[str, Query(description="The other node.")],
) -> dict[str, Any]:
    """Withdraw it; 404 when there is none."""
    record = await run_load(request, lambda keeper: uncurate(store, settings, a, b, keeper))
    return record.to_dict()
