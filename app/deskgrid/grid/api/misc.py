"""Public routes: the app catalog, health and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from deskgrid import __version__
from deskgrid.grid.api.deps import service
from deskgrid.grid.errors import NotFound
from deskgrid.grid.models import AppInfo, Health, Metrics
from deskgrid.grid.service import GridService

router = APIRouter(tags=["grid"])


@router.get("/apps", response_model=list[AppInfo], summary="The apps this grid can run")
async def list_apps(grid: GridService = Depends(service)) -> list[AppInfo]:
    return [AppInfo(**spec.describe()) for _, spec in sorted(grid.catalog.items())]


@router.get("/apps/{name}", response_model=AppInfo, summary="One app of the catalog")
async def get_app(name: str, grid: GridService = Depends(service)) -> AppInfo:
    spec = grid.catalog.get(name)
    if spec is None:
        raise NotFound(f"This grid has no app named {name!r}.")
    return AppInfo(**spec.describe())


@router.get("/health", response_model=Health, summary="Is the grid up, and its database")
async def health(grid: GridService = Depends(service)) -> Health:
    grid.scheduler.events.last_seq()  # touches the database
    return Health(
        status="ok",
        version=__version__,
        schema_version=grid.schema_version,
        database=grid.db.dialect,
        time=grid.clock.now(),
    )


@router.get("/metrics", response_model=Metrics, summary="Jobs by state, workers, throughput")
async def metrics(grid: GridService = Depends(service)) -> Metrics:
    return grid.scheduler.store.metrics(grid.clock.now(), grid.config.workers_online_s)
