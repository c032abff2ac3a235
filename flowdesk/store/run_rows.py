"""The SQL of runs: execution rows, their step rows and the audit rows about them, on both databases.

The engine (engine/records.py for the rules of starting, claiming and resuming a run, engine/writer.py
for the batches of step rows) calls these functions on its writer thread's connection, inside a write
transaction `write_transaction` opened. On SQLite every statement goes through the driver's own cursor
(no SQLAlchemy work per statement: a START -> END run costs well under two milliseconds of database
time); on PostgreSQL through SQLAlchemy Core and store/bulk.py (COPY for big step batches).

The column lists come from store/tables.py: a column added to `ExecutionLogRow` is written by
`step_values` and `INSERT_STEPS` (and by the step sink process, which takes `INSERT_STEPS` from the
writer) without another edit; a column added to `ExecutionRow` can be given to `insert_execution` and
`update_execution` at once.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Table, case, select, update
from sqlalchemy.engine import Connection

from .audit_trail import insert_audit
from .bulk import append_rows, insert_rows, update_rows
from .run_recovery import interrupt_run
from .tables import ExecutionLogRow, ExecutionRow, UTCDateTime, WorkflowRow
from .value_text import json_text, time_text

EXECUTIONS: Table = ExecutionRow.__table__  # type: ignore[assignment]
LOGS: Table = ExecutionLogRow.__table__  # type: ignore[assignment]


def _kinds(table: Table) -> tuple[frozenset[str], frozenset[str]]:
    """(JSON columns, timestamp columns) of a table."""
    return (
        frozenset(c.name for c in table.columns if isinstance(c.type, JSON)),
        frozenset(c.name for c in table.columns if isinstance(c.type, UTCDateTime)),
    )


# -- transactions ----------------------------------------------------------------------------------


def write_transaction(conn: Connection, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`fn(conn, *args, **kwargs)` in one write transaction on `conn` (committed, or rolled back when it
    raises). SQLite: BEGIN IMMEDIATE ... COMMIT on the driver's connection, which every statement of
    this module uses directly; PostgreSQL: SQLAlchemy's transaction (the advisory lock is taken at begin)."""
    if conn.dialect.name != "sqlite":
        with conn.begin():
            return fn(conn, *args, **kwargs)
    raw = conn.connection.driver_connection
    raw.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
    try:
        result = fn(conn, *args, **kwargs)
    except BaseException:
        if raw.in_transaction:  # type: ignore[union-attr]  # SQLite ends it itself on a full disk
            raw.execute("ROLLBACK")  # type: ignore[union-attr]
        raise
    raw.execute("COMMIT")  # type: ignore[union-attr]
    return result


def encodes_step_rows(db: Any) -> bool:
    """Whether step rows for `db` are queued as `step_values` tuples (SQLite) rather than as dicts."""
    return bool(getattr(db, "is_sqlite", False))


def _cursor(conn: Connection) -> Any:
    """The DB-API cursor of a SQLite connection (statements run in its open transaction), else None."""
    if conn.dialect.name != "sqlite":
        return None
    return conn.connection.driver_connection.cursor()  # type: ignore[union-attr]


def _run_sql(conn: Connection, sql: str, params: dict[str, Any]) -> Any:
    """One statement with :named parameters in the connection's open transaction (on SQLite through
    its DB-API cursor); returns the cursor/result."""
    cursor = _cursor(conn)
    if cursor is not None:
        return cursor.execute(sql, params)
    from sqlalchemy import text

    return conn.execute(text(sql), params)


def _lock(conn: Connection) -> str:
    # SQLite's BEGIN IMMEDIATE holds the whole file already; PostgreSQL locks the row read.
    return "" if conn.dialect.name == "sqlite" else " FOR UPDATE"


# -- workflows, as runs see them --------------------------------------------------------------------


def workflow_updated_at(conn: Connection, workflow_id: int) -> Any:
    """The workflow's `updated_at` as this connection reads it (a one-value row), None when it does not exist."""
    cursor = _cursor(conn)
    if cursor is not None:
        return cursor.execute(
            "SELECT updated_at FROM workflow_definitions WHERE id = ?", (workflow_id,)
        ).fetchone()
    return conn.execute(select(WorkflowRow.updated_at).where(WorkflowRow.id == workflow_id)).first()


def _exists(conn: Connection, table: Table, row_id: int) -> bool:
    cursor = _cursor(conn)
    if cursor is not None:
        found = cursor.execute(f"SELECT 1 FROM {table.name} WHERE id = ?", (row_id,)).fetchone()
    else:
        found = conn.execute(select(table.c.id).where(table.c.id == row_id)).first()
    return found is not None


def workflow_exists(conn: Connection, workflow_id: int) -> bool:
    return _exists(conn, WorkflowRow.__table__, workflow_id)  # type: ignore[arg-type]


def has_alert_rules(conn: Connection, workflow_id: int) -> bool:
    """Whether the workflow has an alert rule, in the writer's open transaction (store/alerts.py
    has the same question for sessions)."""
    found = _run_sql(conn, "SELECT 1 FROM alert_rules WHERE workflow_id = :w LIMIT 1", {"w": workflow_id})
    return found.fetchone() is not None


def workflow_config_locked(conn: Connection, workflow_id: int) -> dict[str, Any] | None:
    """The workflow's `config`, its row locked until the commit (PostgreSQL: FOR UPDATE)."""
    row = _run_sql(
        conn, f"SELECT config FROM workflow_definitions WHERE id = :w{_lock(conn)}", {"w": workflow_id}
    ).fetchone()
    config = row[0] if row is not None else None
    if isinstance(config, str):
        config = json.loads(config)
    return config


# -- execution rows ---------------------------------------------------------------------------------

EXECUTION_COLUMNS = frozenset(c.name for c in EXECUTIONS.columns if c.name != "id")
_EXECUTION_JSON, _EXECUTION_TIMES = _kinds(EXECUTIONS)


def _encode(column: str, value: Any) -> Any:
    """A value of an execution column as the store's column type writes it on SQLite."""
    if column not in EXECUTION_COLUMNS:
        raise ValueError(f"workflow_executions has no column {column!r}")
    if column in _EXECUTION_JSON:
        return json_text(value)
    if column in _EXECUTION_TIMES:
        return time_text(value)
    return value


def stamp(conn: Connection, moment: datetime) -> Any:
    """A timestamp parameter as the store writes it on this connection's database."""
    return time_text(moment) if conn.dialect.name == "sqlite" else moment


def execution_exists(conn: Connection, execution_id: int) -> bool:
    return _exists(conn, EXECUTIONS, execution_id)


def insert_execution(conn: Connection, values: dict[str, Any]) -> int:
    """Insert one execution row (`values`: column -> value); its id."""
    cursor = _cursor(conn)
    if cursor is not None:
        names = list(values)
        cursor.execute(
            f"INSERT INTO workflow_executions ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) RETURNING id",
            [_encode(k, values[k]) for k in names],
        )
        return int(cursor.fetchone()[0])
    (execution_id,) = insert_rows(conn, EXECUTIONS, [values])
    return execution_id


def update_execution(conn: Connection, execution_id: int, fields: dict[str, Any]) -> None:
    """Change columns of one execution row, in the connection's transaction."""
    cursor = _cursor(conn)
    if cursor is not None:
        names = list(fields)
        cursor.execute(
            f"UPDATE workflow_executions SET {', '.join(f'{n} = ?' for n in names)} WHERE id = ?",
            [*(_encode(n, fields[n]) for n in names), execution_id],
        )
        return
    update_rows(conn, EXECUTIONS, [{"id": execution_id, **fields}])


def claim_for_resume(
    conn: Connection, execution_id: int, new_id: int, resumable: Sequence[str]
) -> tuple[bool, Any]:
    """Record `new_id` as the execution resuming `execution_id` (`interrupted` becomes `resumed`) when that
    one is in a `resumable` status and not resumed yet: one conditional UPDATE. Returns (claimed, its
    (status, resumed_as_id) after, or None when it does not exist)."""
    cursor = _cursor(conn)
    if cursor is not None:
        marks = ", ".join("?" * len(resumable))
        cursor.execute(
            "UPDATE workflow_executions SET resumed_as_id = ?,"
            " status = CASE WHEN status = 'interrupted' THEN 'resumed' ELSE status END"
            f" WHERE id = ? AND resumed_as_id IS NULL AND status IN ({marks})",
            (new_id, execution_id, *resumable),
        )
        claimed = cursor.rowcount == 1
        found = cursor.execute(
            "SELECT status, resumed_as_id FROM workflow_executions WHERE id = ?", (execution_id,)
        ).fetchone()
        return claimed, found
    done = conn.execute(
        update(ExecutionRow)
        .where(
            ExecutionRow.id == execution_id,
            ExecutionRow.resumed_as_id.is_(None),
            ExecutionRow.status.in_(resumable),
        )
        .values(
            resumed_as_id=new_id,
            status=case((ExecutionRow.status == "interrupted", "resumed"), else_=ExecutionRow.status),
        )
    )
    found = conn.execute(
        select(ExecutionRow.status, ExecutionRow.resumed_as_id).where(ExecutionRow.id == execution_id)
    ).first()
    return done.rowcount == 1, found


def execution_workflow_locked(conn: Connection, execution_id: int) -> int | None:
    """The workflow of an execution, its row locked until the commit; None when it does not exist."""
    row = _run_sql(
        conn, f"SELECT workflow_id FROM workflow_executions WHERE id = :id{_lock(conn)}", {"id": execution_id}
    ).fetchone()
    return None if row is None else int(row[0])


def pending_workflow(conn: Connection, execution_id: int) -> int | None:
    """The workflow of an execution that is `pending`, else None."""
    row = _run_sql(
        conn,
        "SELECT workflow_id FROM workflow_executions WHERE id = :id AND status = 'pending'",
        {"id": execution_id},
    ).fetchone()
    return None if row is None else int(row[0])


def active_executions(conn: Connection, workflow_id: int) -> int:
    """How many executions of the workflow are running or paused."""
    return int(
        _run_sql(
            conn,
            "SELECT count(*) FROM workflow_executions WHERE workflow_id = :w AND status IN ('running', 'paused')",
            {"w": workflow_id},
        ).fetchone()[0]
    )


def executions_held_by(
    conn: Connection, host: str, pid: int
) -> list[tuple[int, dict[str, Any] | None, int | None]]:
    """(id, config, resumed_from_id) of the executions recorded `running` or `paused` under this
    runner (host and pid)."""
    rows = _run_sql(
        conn,
        "SELECT id, config, resumed_from_id FROM workflow_executions WHERE status IN ('running', 'paused')"
        " AND runner_host = :host AND runner_pid = :pid",
        {"host": host, "pid": pid},
    ).fetchall()
    return [
        (
            int(i),
            json.loads(config) if isinstance(config, str) else config,
            None if resumed is None else int(resumed),
        )
        for i, config, resumed in rows
    ]


def mark_running(conn: Connection, execution_id: int, pid: int, host: str, now: datetime) -> bool:
    """`pending` -> `running` under this runner (one conditional UPDATE); False when it was not pending."""
    return bool(
        _run_sql(
            conn,
            "UPDATE workflow_executions SET status = 'running', runner_pid = :pid, runner_host = :host,"
            " started_at = :now WHERE id = :id AND status = 'pending'",
            {"pid": pid, "host": host, "now": stamp(conn, now), "id": execution_id},
        ).rowcount
    )


def interrupt(
    conn: Connection, execution_id: int, reason: str, now: datetime, *, host: str, pid: int
) -> bool:
    """store/run_recovery.py's interruption of a run still held by (host, pid), on this connection."""

    def execute(sql: str, params: dict[str, Any]) -> int:
        return int(_run_sql(conn, sql, params).rowcount)

    return interrupt_run(execute, execution_id, reason, stamp(conn, now), host=host, pid=pid)


def audit_execution(
    conn: Connection, execution_id: int, action: str, summary: str, actor: str | None = None
) -> None:
    """One audit row about an execution, in the connection's transaction."""
    insert_audit(conn, "execution", execution_id, action, summary, actor)


# -- step rows ----------------------------------------------------------------------------------------

# The columns `_known_values` encodes by hand, in its order (the hot path: one tuple per step, a few
# microseconds). Columns the table has beyond these are appended by their type (`_extra_encoders`).
_KNOWN_STEP_COLUMNS = (
    "execution_id",
    "node_id",
    "step_name",
    "node_name",
    "node_type",
    "status",
    "input_data",
    "output_data",
    "error_message",
    "error_type",
    "attempts",
    "execution_time",
    "warnings",
    "metrics",
    "iteration_path",
    "sequence",
    "started_at",
    "completed_at",
    "created_at",
)
_missing = set(_KNOWN_STEP_COLUMNS) - set(LOGS.columns.keys())
if _missing:  # pragma: no cover - fails at import, naming what to change, the moment a column goes
    raise RuntimeError(f"store/run_rows.py encodes step columns the table lacks: {sorted(_missing)}")

STEP_COLUMNS: tuple[str, ...] = (
    *_KNOWN_STEP_COLUMNS,
    *(c.name for c in LOGS.columns if c.name != "id" and c.name not in _KNOWN_STEP_COLUMNS),
)
"""The columns of a step row as `step_values` gives them (every column but the id, which SQLite gives)."""
STEP_JSON_COLUMNS, _STEP_TIMES = _kinds(LOGS)
INSERT_STEPS = f"INSERT INTO workflow_execution_logs ({', '.join(STEP_COLUMNS)}) VALUES ({', '.join('?' * len(STEP_COLUMNS))})"
"""SQLite's statement for `step_values` rows (the writer's executemany and the step sink process)."""

_EMPTY_LIST = "[]"
_EMPTY_OBJECT = "{}"
_LEADING = operator.itemgetter(*_KNOWN_STEP_COLUMNS[:6])


def _known_values(row: dict[str, Any]) -> tuple[Any, ...]:
    get = row.get
    warnings = get("warnings")
    metrics = get("metrics")
    path = get("iteration_path")
    completed_at = get("completed_at")
    completed = time_text(completed_at)
    created = get("created_at")
    return (
        *_LEADING(row),
        json_text(get("input_data")),
        json_text(get("output_data")),
        get("error_message"),
        get("error_type"),
        get("attempts", 0),
        get("execution_time"),
        _EMPTY_LIST if warnings == [] else json_text(warnings),
        _EMPTY_OBJECT if metrics == {} else json_text(metrics),
        _EMPTY_LIST if path == [] else json_text(path),
        get("sequence", 0),
        time_text(get("started_at")),
        completed,
        completed if created is completed_at else time_text(created),
    )


def _extra_encoder(name: str) -> Callable[[dict[str, Any]], Any]:
    column = LOGS.c[name]
    default = (
        getattr(column.default, "arg", None)
        if column.default is not None and column.default.is_scalar
        else None
    )
    if name in STEP_JSON_COLUMNS:
        return lambda row: json_text(row.get(name, default))
    if name in _STEP_TIMES:
        return lambda row: time_text(row.get(name))
    return lambda row: row.get(name, default)


_EXTRA_ENCODERS = tuple(_extra_encoder(name) for name in STEP_COLUMNS[len(_KNOWN_STEP_COLUMNS) :])


def _all_values(row: dict[str, Any]) -> tuple[Any, ...]:
    return (*_known_values(row), *(encode(row) for encode in _EXTRA_ENCODERS))


step_values: Callable[[dict[str, Any]], tuple[Any, ...]] = _all_values if _EXTRA_ENCODERS else _known_values
"""A step row (a dict of workflow_execution_logs columns) as the SQL values of STEP_COLUMNS, encoded as
the store's column types write them on SQLite (tests/engine/test_writer.py reads both back and
compares). The id is SQLite's rowid, given at insert."""


def write_batch(
    conn: Connection, steps: Sequence[Any], updates: Iterable[tuple[int, dict[str, Any], str | None]]
) -> None:
    """One transaction: insert `steps` (`step_values` tuples on SQLite, dicts on PostgreSQL), then for
    each (execution id, columns, audit summary or None) update the execution and add its audit row."""

    def write(conn: Connection) -> None:
        cursor = _cursor(conn)
        if steps:
            if cursor is not None:
                cursor.executemany(INSERT_STEPS, steps)
            else:
                append_rows(conn, LOGS, steps)
        for execution_id, columns, audit in updates:
            if columns:
                update_execution(conn, execution_id, columns)
            if audit:
                audit_execution(conn, execution_id, "update", audit)

    write_transaction(conn, write)
