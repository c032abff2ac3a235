"""Headline figures of one workflow's runs: totals, counts by status, success rate, durations.

Definitions (docs/monitoring.md): *finished* runs are those in a final status (completed, failed,
cancelled, timed_out, interrupted, resumed); `success_rate` is completed / finished * 100; durations
(completed_at - started_at) are taken over *completed* runs only; p50/p95 are nearest-rank.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from flowdesk.domain.enums import ExecutionStatus

from .percentile import index_walk, nearest_rank
from .sql_dialect import DialectSql, dialect_sql, query
from .sql_time import seconds

FINAL_STATUSES: tuple[str, ...] = tuple(s.value for s in ExecutionStatus if s.is_final)


def _index(sql: DialectSql, since: datetime | None) -> str:
    return sql.by_status_duration if since is None else sql.by_started_status_duration


def _since_clause(sql: DialectSql, since: datetime | None, params: dict[str, Any]) -> str:
    if since is None:
        return ""
    params["since"] = sql.time(since)
    return " AND started_at >= :since"


def duration_percentile(
    conn: Connection, workflow_id: int, p: float, count: int, since: datetime | None
) -> float | None:
    """Nearest-rank p-th percentile of completed runs' durations (`count` of them), via index + OFFSET."""
    if count < 1:
        return None
    sql = dialect_sql(conn)
    params: dict[str, Any] = {"workflow_id": workflow_id}
    where = _since_clause(sql, since, params)
    direction, params["offset"] = index_walk(count, nearest_rank(p, count))
    row = query(
        conn,
        f"SELECT {sql.duration} FROM workflow_executions {_index(sql, since)}"
        f" WHERE workflow_id = :workflow_id AND status = 'completed' AND {sql.duration} IS NOT NULL{where}"
        f" ORDER BY {sql.duration} {direction} LIMIT 1 OFFSET :offset",
        **params,
    ).first()
    return seconds(row[0]) if row else None


def execution_stats(conn: Connection, workflow_id: int, since: datetime | None = None) -> dict[str, Any]:
    """Totals, counts by status, success rate and duration figures of one workflow's runs."""
    sql = dialect_sql(conn)
    params: dict[str, Any] = {"workflow_id": workflow_id}
    where = _since_clause(sql, since, params)
    counts = {s.value: 0 for s in ExecutionStatus}
    for status, n in query(
        conn,
        f"SELECT status, COUNT(*) FROM workflow_executions {_index(sql, since)}"
        f" WHERE workflow_id = :workflow_id{where} GROUP BY status",
        **params,
    ):
        counts[status] = counts.get(status, 0) + n
    total = sum(counts.values())
    finished = sum(counts.get(s, 0) for s in FINAL_STATUSES)
    completed = counts[ExecutionStatus.COMPLETED.value]

    n_timed, avg, low, high = query(
        conn,
        f"SELECT COUNT(*), AVG({sql.duration}), MIN({sql.duration}), MAX({sql.duration})"
        f" FROM workflow_executions {_index(sql, since)}"
        f" WHERE workflow_id = :workflow_id AND status = 'completed' AND {sql.duration} IS NOT NULL{where}",
        **params,
    ).one()
    return {
        "workflow_id": workflow_id,
        "since": since,
        "total_executions": total,
        "finished_executions": finished,
        "active_executions": counts["running"] + counts["paused"],
        "status_counts": counts,
        "successful_executions": completed,
        "failed_executions": finished - completed,
        "success_rate": round(completed * 100.0 / finished, 2) if finished else None,
        "timed_executions": n_timed,
        "avg_execution_time": seconds(avg),
        "min_execution_time": seconds(low),
        "max_execution_time": seconds(high),
        "p50_execution_time": duration_percentile(conn, workflow_id, 50, n_timed, since),
        "p95_execution_time": duration_percentile(conn, workflow_id, 95, n_timed, since),
    }
