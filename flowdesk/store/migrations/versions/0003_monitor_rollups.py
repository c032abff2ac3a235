"""Monitoring: indexes the monitor's aggregates walk, and running totals of custom metrics.

- workflow_executions (workflow_id, status, duration): counts by status, average and the p50/p95
  `ORDER BY duration LIMIT 1 OFFSET k` of one workflow's completed runs read the index only. The
  expression must stay identical to flowdesk/services/monitoring/sql_time.py's DURATION_SQL.
- workflow_executions (workflow_id, started_at, status, duration): the same over a time window
  (`since`, the charts' days and hours), covering, so no table row is read.
- workflow_executions (started_at): runs started in the last minutes, across workflows.
- workflow_execution_logs (node_id, execution_time): per-node percentiles, min and max (index walks).
- workflow_execution_logs, partial on failed and cancelled steps, covering every column the error
  analysis reads (about 1 % of steps): the error table and its drill-down read no table row.
- monitor_node_totals: step runs and total step time per node, kept current by triggers, so the
  performance analysis does not sum hundreds of thousands of steps on every refresh.
- monitor_metric_totals: count/sum/min/max of every numeric custom metric per node, kept current
  by triggers on workflow_execution_logs (reading the metrics JSON of a million steps takes seconds).
  A delete that removes a node's min or max marks the row stale; the monitor recomputes it.

PostgreSQL gets the same tables and figures by other means: the duration index is on an immutable
expression that reads each timestamp as SQLite's julianday() does (whole minutes exactly, then
seconds * 1000.0 + 0.5 truncated, in double precision: so even a time ending in ...500 us rounds the
same way, and durations agree to the last digit); the failed-steps index is a plain partial index (PostgreSQL needs no
covering trick, and long error messages would overflow a btree entry); the triggers call PL/pgSQL
functions, per statement for inserts and deletes (one aggregate per batch of steps, read from the
statement's transition table) and per row for updates of the columns that matter.
`monitor_metric_value(json)` reads a JSON number as double precision (NULL for anything else,
and for numbers no double can hold, which SQLite would read as infinity).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

DURATION = "((julianday(completed_at) - julianday(started_at)) * 86400.0)"
# Must stay identical to sql_dialect.POSTGRESQL.duration (tests/store/test_postgresql.py checks). Double
# precision, not numeric: as SQLite computes it, and several times cheaper (PostgreSQL computes the
# expression per row for AVG/MIN/MAX: an expression index cannot serve an index-only scan).
PG_EPOCH_MS = (
    "(date_part('epoch', date_trunc('minute', {column} AT TIME ZONE 'UTC') - TIMESTAMP '2000-01-01') * 1000"
    " + floor(date_part('second', {column} AT TIME ZONE 'UTC') * 1000.0 + 0.5))"
)
PG_DURATION = (
    f"(({PG_EPOCH_MS.format(column='completed_at')} - {PG_EPOCH_MS.format(column='started_at')}) / 1000.0)"
)


def _object(expr: str) -> str:
    """`expr` if it is a JSON object, else NULL (json_each(NULL) yields nothing; bad JSON never raises)."""
    return f"CASE WHEN json_valid({expr}) THEN CASE WHEN json_type({expr}) = 'object' THEN {expr} END END"


def _add(row: str) -> str:
    return f"""
    INSERT INTO monitor_metric_totals (node_id, name, count, total, min_value, max_value, stale)
    SELECT {row}.node_id, j.key, 1, j.value, j.value, j.value, 0 FROM json_each({_object(row + ".metrics")}) AS j
    WHERE {row}.node_id IS NOT NULL AND j.type IN ('integer', 'real')
    ON CONFLICT (node_id, name) DO UPDATE SET
        count = count + 1,
        total = total + excluded.total,
        min_value = CASE WHEN count <= 0 OR excluded.min_value < min_value THEN excluded.min_value ELSE min_value END,
        max_value = CASE WHEN count <= 0 OR excluded.max_value > max_value THEN excluded.max_value ELSE max_value END;
    """


def _subtract(row: str) -> str:
    # UPDATE ... FROM parses the metrics JSON once per step, not once per metric and column.
    return f"""
    UPDATE monitor_metric_totals SET
        count = count - 1,
        total = total - j.value,
        stale = CASE WHEN stale OR j.value <= min_value OR j.value >= max_value THEN 1 ELSE 0 END
    FROM (SELECT key, value FROM json_each({_object(row + ".metrics")}) WHERE type IN ('integer', 'real')) AS j
    WHERE monitor_metric_totals.node_id = {row}.node_id AND monitor_metric_totals.name = j.key;
    """


_NODE_ADD = """
    INSERT INTO monitor_node_totals (node_id, runs, total_time)
    SELECT NEW.node_id, 1, NEW.execution_time WHERE NEW.node_id IS NOT NULL AND NEW.execution_time IS NOT NULL
    ON CONFLICT (node_id) DO UPDATE SET runs = runs + 1, total_time = total_time + excluded.total_time;
"""
_NODE_SUBTRACT = """
    UPDATE monitor_node_totals SET runs = runs - 1, total_time = total_time - OLD.execution_time
    WHERE node_id = OLD.node_id AND OLD.execution_time IS NOT NULL;
"""


def _create_rollup_tables() -> None:
    op.create_table(
        "monitor_metric_totals",
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("total", sa.Float(), nullable=False, server_default="0"),
        sa.Column("min_value", sa.Float(), nullable=True),
        sa.Column("max_value", sa.Float(), nullable=True),
        sa.Column("stale", sa.Boolean(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(
            ["node_id"],
            ["workflow_nodes.id"],
            ondelete="CASCADE",
            name="fk_monitor_metric_totals_node_id_workflow_nodes",
        ),
        sa.PrimaryKeyConstraint("node_id", "name", name="pk_monitor_metric_totals"),
    )
    op.create_table(
        "monitor_node_totals",
        sa.Column("node_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("total_time", sa.Float(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(
            ["node_id"],
            ["workflow_nodes.id"],
            ondelete="CASCADE",
            name="fk_monitor_node_totals_node_id_workflow_nodes",
        ),
        sa.PrimaryKeyConstraint("node_id", name="pk_monitor_node_totals"),
    )


def _create_plain_indexes() -> None:
    op.create_index("ix_workflow_executions_started_at", "workflow_executions", ["started_at"])
    op.create_index(
        "ix_workflow_execution_logs_node_id_execution_time",
        "workflow_execution_logs",
        ["node_id", "execution_time"],
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
        return
    op.execute(
        "CREATE INDEX ix_workflow_executions_workflow_id_status_duration"
        f" ON workflow_executions (workflow_id, status, {DURATION})"
    )
    op.execute(
        "CREATE INDEX ix_workflow_executions_workflow_id_started_at_status_duration"
        f" ON workflow_executions (workflow_id, started_at, status, {DURATION})"
    )
    _create_plain_indexes()
    op.execute(
        "CREATE INDEX ix_workflow_execution_logs_failed_steps ON workflow_execution_logs"
        " (status, execution_id, node_name, error_type, completed_at, started_at, created_at, error_message)"
        " WHERE status IN ('failed', 'cancelled')"
    )
    _create_rollup_tables()
    op.execute(
        "INSERT INTO monitor_node_totals (node_id, runs, total_time)"
        " SELECT node_id, COUNT(*), SUM(execution_time) FROM workflow_execution_logs"
        " WHERE node_id IS NOT NULL AND execution_time IS NOT NULL GROUP BY node_id"
    )
    op.execute(
        "CREATE TRIGGER trg_monitor_node_totals_insert AFTER INSERT ON workflow_execution_logs"
        f" WHEN NEW.node_id IS NOT NULL AND NEW.execution_time IS NOT NULL BEGIN {_NODE_ADD} END"
    )
    op.execute(
        "CREATE TRIGGER trg_monitor_node_totals_delete AFTER DELETE ON workflow_execution_logs"
        f" WHEN OLD.node_id IS NOT NULL AND OLD.execution_time IS NOT NULL BEGIN {_NODE_SUBTRACT} END"
    )
    op.execute(
        "CREATE TRIGGER trg_monitor_node_totals_update AFTER UPDATE OF execution_time, node_id"
        " ON workflow_execution_logs"
        " WHEN OLD.execution_time IS NOT NEW.execution_time OR OLD.node_id IS NOT NEW.node_id"
        f" BEGIN {_NODE_SUBTRACT} {_NODE_ADD} END"
    )
    op.execute(
        "INSERT INTO monitor_metric_totals (node_id, name, count, total, min_value, max_value, stale)"
        " SELECT l.node_id, j.key, COUNT(*), SUM(j.value), MIN(j.value), MAX(j.value), 0"
        f" FROM workflow_execution_logs AS l, json_each({_object('l.metrics')}) AS j"
        " WHERE l.node_id IS NOT NULL AND j.type IN ('integer', 'real') GROUP BY l.node_id, j.key"
    )
    op.execute(
        "CREATE TRIGGER trg_monitor_metric_totals_insert AFTER INSERT ON workflow_execution_logs"
        f" WHEN NEW.node_id IS NOT NULL AND NEW.metrics IS NOT NULL AND NEW.metrics <> '{{}}' BEGIN {_add('NEW')} END"
    )
    op.execute(
        "CREATE TRIGGER trg_monitor_metric_totals_delete AFTER DELETE ON workflow_execution_logs"
        f" WHEN OLD.node_id IS NOT NULL AND OLD.metrics IS NOT NULL AND OLD.metrics <> '{{}}' BEGIN {_subtract('OLD')} END"
    )
    op.execute(
        "CREATE TRIGGER trg_monitor_metric_totals_update AFTER UPDATE OF metrics, node_id ON workflow_execution_logs"
        " WHEN OLD.metrics IS NOT NEW.metrics OR OLD.node_id IS NOT NEW.node_id"
        f" BEGIN {_subtract('OLD')} {_add('NEW')} END"
    )


# -- PostgreSQL ------------------------------------------------------------------------------------

_PG_METRIC_VALUE = """
CREATE FUNCTION monitor_metric_value(value json) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN json_typeof(value) IS DISTINCT FROM 'number' THEN NULL
        WHEN value::text ~ '[eE][-+]?[0-9]{5}' THEN NULL
        ELSE CASE
            WHEN abs(value::text::numeric) <= 1e308
                AND (abs(value::text::numeric) >= 1e-307 OR value::text::numeric = 0)
            THEN value::text::double precision
        END
    END
$$
"""


def _pg_numbers(rows: str) -> str:
    """FROM items: `rows` (with node_id and metrics) and, per row, its numeric metrics as j(key, value)."""
    return (
        f"{rows}, LATERAL (SELECT e.key, monitor_metric_value(e.value) AS value FROM json_each("
        "CASE WHEN json_typeof(r.metrics) = 'object' THEN r.metrics END) AS e) AS j"
    )


def _pg_metric_add(rows: str) -> str:
    return f"""
    INSERT INTO monitor_metric_totals AS t (node_id, name, count, total, min_value, max_value, stale)
    SELECT r.node_id, j.key, COUNT(*), SUM(j.value), MIN(j.value), MAX(j.value), false
    FROM {_pg_numbers(rows)}
    WHERE r.node_id IS NOT NULL AND j.value IS NOT NULL
    GROUP BY r.node_id, j.key
    ON CONFLICT (node_id, name) DO UPDATE SET
        count = t.count + excluded.count,
        total = t.total + excluded.total,
        min_value = CASE WHEN t.count <= 0 OR excluded.min_value < t.min_value THEN excluded.min_value ELSE t.min_value END,
        max_value = CASE WHEN t.count <= 0 OR excluded.max_value > t.max_value THEN excluded.max_value ELSE t.max_value END;
    """


def _pg_metric_subtract(rows: str) -> str:
    return f"""
    UPDATE monitor_metric_totals AS t SET
        count = t.count - j.count,
        total = t.total - j.total,
        stale = CASE WHEN t.stale OR j.low <= t.min_value OR j.high >= t.max_value THEN true ELSE false END
    FROM (SELECT r.node_id, j.key, COUNT(*) AS count, SUM(j.value) AS total, MIN(j.value) AS low,
                 MAX(j.value) AS high
          FROM {_pg_numbers(rows)}
          WHERE r.node_id IS NOT NULL AND j.value IS NOT NULL
          GROUP BY r.node_id, j.key) AS j
    WHERE t.node_id = j.node_id AND t.name = j.key;
    """


def _pg_node_add(rows: str) -> str:
    return f"""
    INSERT INTO monitor_node_totals AS t (node_id, runs, total_time)
    SELECT r.node_id, COUNT(*), SUM(r.execution_time) FROM {rows}
    WHERE r.node_id IS NOT NULL AND r.execution_time IS NOT NULL GROUP BY r.node_id
    ON CONFLICT (node_id) DO UPDATE SET runs = t.runs + excluded.runs, total_time = t.total_time + excluded.total_time;
    """


def _pg_node_subtract(rows: str) -> str:
    return f"""
    UPDATE monitor_node_totals AS t SET runs = t.runs - o.runs, total_time = t.total_time - o.total_time
    FROM (SELECT r.node_id, COUNT(*) AS runs, SUM(r.execution_time) AS total_time FROM {rows}
          WHERE r.node_id IS NOT NULL AND r.execution_time IS NOT NULL GROUP BY r.node_id) AS o
    WHERE t.node_id = o.node_id;
    """


def _pg_row(record: str) -> str:
    """The trigger's OLD or NEW row as a one-row relation `r`, shaped like the transition tables."""
    return (
        f"(SELECT {record}.node_id, {record}.execution_time, {record}.metrics)"
        " AS r(node_id, execution_time, metrics)"
    )


#: (function, body) of every trigger function: inserts and deletes per statement, updates per row.
_PG_FUNCTIONS = {
    "monitor_totals_on_insert": _pg_node_add("new_rows AS r") + _pg_metric_add("new_rows AS r"),
    "monitor_totals_on_delete": _pg_node_subtract("old_rows AS r") + _pg_metric_subtract("old_rows AS r"),
    "monitor_node_totals_on_update": _pg_node_subtract(_pg_row("OLD")) + _pg_node_add(_pg_row("NEW")),
    "monitor_metric_totals_on_update": _pg_metric_subtract(_pg_row("OLD")) + _pg_metric_add(_pg_row("NEW")),
}
#: trigger -> its definition (the names of the SQLite triggers that do the same, where there is one).
_PG_TRIGGERS = {
    "trg_monitor_totals_insert": "AFTER INSERT ON workflow_execution_logs REFERENCING NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION monitor_totals_on_insert()",
    "trg_monitor_totals_delete": "AFTER DELETE ON workflow_execution_logs REFERENCING OLD TABLE AS old_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION monitor_totals_on_delete()",
    "trg_monitor_node_totals_update": "AFTER UPDATE OF execution_time, node_id ON workflow_execution_logs"
    " FOR EACH ROW WHEN (OLD.execution_time IS DISTINCT FROM NEW.execution_time"
    " OR OLD.node_id IS DISTINCT FROM NEW.node_id) EXECUTE FUNCTION monitor_node_totals_on_update()",
    "trg_monitor_metric_totals_update": "AFTER UPDATE OF metrics, node_id ON workflow_execution_logs"
    " FOR EACH ROW WHEN (OLD.metrics::text IS DISTINCT FROM NEW.metrics::text"
    " OR OLD.node_id IS DISTINCT FROM NEW.node_id) EXECUTE FUNCTION monitor_metric_totals_on_update()",
}


def _upgrade_postgresql() -> None:
    op.execute(
        "CREATE INDEX ix_workflow_executions_workflow_id_status_duration"
        f" ON workflow_executions (workflow_id, status, ({PG_DURATION}))"
    )
    op.execute(
        "CREATE INDEX ix_workflow_executions_workflow_id_started_at_status_duration"
        f" ON workflow_executions (workflow_id, started_at, status, ({PG_DURATION}))"
    )
    _create_plain_indexes()
    op.execute(
        "CREATE INDEX ix_workflow_execution_logs_failed_steps ON workflow_execution_logs (execution_id)"
        " WHERE status IN ('failed', 'cancelled')"
    )
    _create_rollup_tables()
    op.execute(_PG_METRIC_VALUE)
    # Fill the totals from the steps already stored, then keep them current.
    op.execute(_pg_node_add("workflow_execution_logs AS r"))
    op.execute(_pg_metric_add("workflow_execution_logs AS r"))
    for name, body in _PG_FUNCTIONS.items():
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$"
        )
    for name, definition in _PG_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {definition}")


def _downgrade_postgresql() -> None:
    for name in _PG_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON workflow_execution_logs")
    for name in _PG_FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_table("monitor_node_totals")
    op.drop_table("monitor_metric_totals")
    op.execute("DROP FUNCTION IF EXISTS monitor_metric_value(json)")
    _drop_indexes()


def _drop_indexes() -> None:
    op.execute("DROP INDEX ix_workflow_execution_logs_failed_steps")
    op.drop_index("ix_workflow_execution_logs_node_id_execution_time", table_name="workflow_execution_logs")
    op.drop_index("ix_workflow_executions_started_at", table_name="workflow_executions")
    op.execute("DROP INDEX ix_workflow_executions_workflow_id_started_at_status_duration")
    op.execute("DROP INDEX ix_workflow_executions_workflow_id_status_duration")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _downgrade_postgresql()
        return
    op.execute("DROP TRIGGER IF EXISTS trg_monitor_node_totals_update")
    op.execute("DROP TRIGGER IF EXISTS trg_monitor_node_totals_delete")
    op.execute("DROP TRIGGER IF EXISTS trg_monitor_node_totals_insert")
    op.drop_table("monitor_node_totals")
    op.execute("DROP TRIGGER IF EXISTS trg_monitor_metric_totals_update")
    op.execute("DROP TRIGGER IF EXISTS trg_monitor_metric_totals_delete")
    op.execute("DROP TRIGGER IF EXISTS trg_monitor_metric_totals_insert")
    op.drop_table("monitor_metric_totals")
    _drop_indexes()
