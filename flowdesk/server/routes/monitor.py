"""The monitor: every WorkflowMonitor figure, and retention (admin)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request

from flowdesk.services.monitor import MonitorService

from ..auth import Admin, Reader, runtime_of
from ..schemas import ISO_TIME, PathId, query_time
from .common import off_loop, workflow_in_scope

router = APIRouter(tags=["monitor"])

MetricType = Literal["stats", "trend", "performance", "errors", "custom", "cache"]


def _monitor(request: Request) -> MonitorService:
    return runtime_of(request).monitor  # type: ignore[no-any-return]


@router.get("/workflows/{workflow_id}/metrics", summary="A workflow's figures")
async def workflow_metrics(
    workflow_id: PathId,
    request: Request,
    user: Reader,
    type: MetricType = Query("stats", description="stats, trend, performance, errors, custom or cache."),
    since_text: str | None = Query(
        None,
        alias="since",
        pattern=ISO_TIME,
        description="Only runs started at or after this time (ISO 8601).",
    ),
    bucket: Literal["hour", "day"] = Query("day", description="For type=trend."),
    top_level_only: bool = Query(
        False, description="For type=stats: figures of the runs no SUBWORKFLOW step started."
    ),
) -> Any:
    """`type=custom` answers the seed's shape, `{"custom_metrics": {name: average}}`, with the full
    roll-up (count, sum, avg, min, max per metric) beside it under `details`. `type=cache` answers the
    response cache's hit rate over every recorded step: `{"hit_rate", "lookups", "hits", "nodes":
    {name: {"lookups", "hits", "rate"}}}` (`hit_rate` null when no step looked in the cache)."""
    await workflow_in_scope(request, user, workflow_id)
    since = query_time(since_text, "since")
    monitor = _monitor(request)
    if type == "stats":
        return await off_loop(monitor.execution_stats, workflow_id, since, top_level_only=top_level_only)
    if type == "trend":
        return {"buckets": await off_loop(monitor.execution_trend, workflow_id, bucket=bucket, since=since)}
    if type == "performance":
        return await off_loop(monitor.performance_analysis, workflow_id)
    if type == "errors":
        return {"errors": await off_loop(monitor.error_analysis, workflow_id, since)}
    if type == "cache":
        return await off_loop(monitor.cache_figures, workflow_id)
    details = await off_loop(monitor.custom_metrics, workflow_id, since)
    return {
        "custom_metrics": {name: figures.get("avg") for name, figures in details.items()},
        "details": details,
    }


@router.get("/workflows/{workflow_id}/errors/{error_type}/executions", summary="Runs that had an error type")
async def error_executions(
    workflow_id: PathId,
    error_type: str,
    request: Request,
    user: Reader,
    node: str | None = Query(None),
    limit: int = Query(200, ge=1, le=1000),
) -> Any:
    await workflow_in_scope(request, user, workflow_id)
    return await off_loop(_monitor(request).error_executions, workflow_id, error_type, node, limit)


@router.get("/monitor/active", summary="Runs going on now")
async def active(request: Request, user: Reader) -> Any:
    return await off_loop(_monitor(request).active_executions)


@router.get("/monitor/real-time", summary="Active runs, runs per minute, system load")
async def real_time(request: Request, user: Reader) -> Any:
    return await off_loop(_monitor(request).real_time_metrics)


@router.post("/monitor/cleanup", summary="Delete old finished runs (retention)")
async def cleanup(
    request: Request,
    user: Admin,
    older_than_days: float | None = Query(None, gt=0),
    keep_last: int | None = Query(None, ge=0),
) -> Any:
    return await off_loop(_monitor(request).cleanup, older_than_days=older_than_days, keep_last=keep_last)
