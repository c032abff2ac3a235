"""The SQL the monitor's queries say differently on SQLite and PostgreSQL, in one place.

Every query of `store/monitor/` is written once, with named parameters (`:workflow_id`), and takes
from `dialect_sql(conn)` the few fragments that differ: how a run's duration is computed (each
must match the expression migration 0003 indexed, or the index is not used), SQLite's index hints,
how a timestamp is bucketed by hour or day (in UTC), how a JSON object's numeric members are listed,
and what a timestamp parameter looks like (SQLite compares the stored text, PostgreSQL a
`timestamp with time zone`). The figures come out the same on both: PostgreSQL reads each timestamp
to the millisecond exactly as SQLite's julianday() does (whole minutes, then seconds * 1000.0 + 0.5
truncated, in double precision), so durations agree to the last digit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection, CursorResult

from .times import to_db_time, utc


@dataclass(frozen=True)
class DialectSql:
    """The fragments of one database. `metric_values(alias)` is a FROM item listing the numeric
    members of `alias.metrics` as `j.key` / `j.value`, rows filtered by `metric_filter(alias)`."""

    #: A run's duration in seconds (columns of workflow_executions, unqualified).
    duration: str
    #: Index hints after `FROM workflow_executions` ("" where the planner needs none).
    by_status_duration: str
    by_started_status_duration: str
    #: bucket name -> SQL of the bucket's start from `started_at` (read back by `from_db_time`).
    buckets: dict[str, str]
    #: The position of `needle` in `haystack` (1-based, 0 when absent): SQL taking the two SQL texts.
    position: Callable[[str, str], str]
    #: SQL: `code` consists of exactly three digits, the first 1-5.
    status_code_test: Callable[[str], str]
    #: The join that makes the planner drive from failed steps (SQLite: CROSS JOIN ... ON).
    failed_steps_join: str
    #: SQL of `value` taken from the row with the greatest `when` of a group (beside MAX(when)).
    latest: Callable[[str, str], str]
    metric_values: Callable[[str], str]
    metric_filter: Callable[[str], str]
    #: `column` as an ORDER BY term the planner may not serve from an index (SQLite's unary +).
    unindexed: Callable[[str], str]
    #: NULLs first in ascending order, as SQLite sorts them.
    nulls_first: str
    #: The boolean false literal of the totals tables' `stale` column.
    false: str
    #: A timestamp parameter compared with stored timestamps.
    time: Callable[[datetime], Any]


SQLITE = DialectSql(
    duration="((julianday(completed_at) - julianday(started_at)) * 86400.0)",
    # Named in INDEXED BY so that SQLite's planner cannot pick the narrower (workflow_id, started_at)
    # index and read a table row per run instead.
    by_status_duration="INDEXED BY ix_workflow_executions_workflow_id_status_duration",
    by_started_status_duration="INDEXED BY ix_workflow_executions_workflow_id_started_at_status_duration",
    # Stored times are 'YYYY-MM-DD HH:MM:SS.ffffff' text, so a prefix is the bucket (cheaper than strftime).
    buckets={
        "hour": "substr(started_at, 1, 13) || ':00:00'",
        "day": "substr(started_at, 1, 10) || ' 00:00:00'",
    },
    position=lambda haystack, needle: f"instr({haystack}, {needle})",
    status_code_test=lambda code: f"{code} GLOB '[1-5][0-9][0-9]'",
    failed_steps_join="CROSS JOIN",
    # SQLite fills a bare column from the row holding the query's single MAX() aggregate.
    latest=lambda value, when: value,
    metric_values=lambda alias: f"json_each({alias}.metrics) AS j",
    metric_filter=lambda alias: (
        f"{alias}.metrics IS NOT NULL AND json_valid({alias}.metrics) AND json_type({alias}.metrics) = 'object'"
        " AND j.type IN ('integer', 'real')"
    ),
    unindexed=lambda column: f"+{column}",
    nulls_first="",
    false="0",
    time=to_db_time,
)

_PG_EPOCH_MS = (
    "(date_part('epoch', date_trunc('minute', {column} AT TIME ZONE 'UTC') - TIMESTAMP '2000-01-01') * 1000"
    " + floor(date_part('second', {column} AT TIME ZONE 'UTC') * 1000.0 + 0.5))"
)

POSTGRESQL = DialectSql(
    # Each timestamp read to the millisecond as julianday() reads it; identical to the expression
    # migration 0003 indexes (PG_DURATION there).
    duration=(
        f"(({_PG_EPOCH_MS.format(column='completed_at')} - {_PG_EPOCH_MS.format(column='started_at')}) / 1000.0)"
    ),
    by_status_duration="",
    by_started_status_duration="",
    buckets={
        "hour": "date_trunc('hour', started_at AT TIME ZONE 'UTC')",
        "day": "date_trunc('day', started_at AT TIME ZONE 'UTC')",
    },
    position=lambda haystack, needle: f"strpos({haystack}, {needle})",
    status_code_test=lambda code: f"{code} ~ '^[1-5][0-9][0-9]$'",
    failed_steps_join="JOIN",
    latest=lambda value, when: f"(array_agg({value} ORDER BY {when} DESC, l.id DESC))[1]",
    # monitor_metric_value (migration 0003) gives a JSON number as double precision, else NULL.
    metric_values=lambda alias: (
        "LATERAL (SELECT e.key, monitor_metric_value(e.value) AS value FROM json_each("
        f"CASE WHEN json_typeof({alias}.metrics) = 'object' THEN {alias}.metrics END) AS e) AS j"
    ),
    metric_filter=lambda alias: "j.value IS NOT NULL",
    unindexed=lambda column: column,
    nulls_first=" NULLS FIRST",
    false="false",
    time=utc,
)


def dialect_sql(conn: Connection) -> DialectSql:
    """The fragments for the database `conn` talks to."""
    return POSTGRESQL if conn.dialect.name == "postgresql" else SQLITE


def since_clause(sql: DialectSql, since: datetime | None, params: dict[str, Any], column: str) -> str:
    """`" AND <column> >= :since"` with `since` put in `params` as the database compares it, or ""
    when there is no `since`."""
    if since is None:
        return ""
    params["since"] = sql.time(since)
    return f" AND {column} >= :since"


def query(conn: Connection, sql: str, **params: Any) -> CursorResult[*tuple[Any, ...]]:
    """Run `sql` with named parameters; list and tuple values fill an `IN :name` list."""
    statement = text(sql)
    lists = [name for name, value in params.items() if isinstance(value, list | tuple)]
    if lists:
        statement = statement.bindparams(*(bindparam(name, expanding=True) for name in lists))
    return conn.execute(statement, params)


def index_walk(n: int, rank: int) -> tuple[str, int]:
    """(ORDER BY direction, OFFSET) reaching 1-based `rank` of `n` sorted values with the shortest index walk.

    The 95th percentile is found 5% from the top walking down, instead of 95% from the bottom.
    """
    if rank - 1 <= n - rank:
        return "ASC", rank - 1
    return "DESC", n - rank
