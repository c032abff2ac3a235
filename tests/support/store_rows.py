"""The tables a migrated database holds, a run row written without flowdesk, the rows a database
holds, table by table, and its file's raw bytes."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import create_engine, func, select

from flowdesk.store.tables import TABLES

EXPECTED_TABLES = {
    "workflow_definitions",
    "workflow_nodes",
    "workflow_connections",
    "workflow_executions",
    "workflow_execution_logs",
    "api_definitions",
    "workflow_versions",
    "node_types",
    "audit_log",
    "environments",
    "secrets",
    "users",
    "api_tokens",
    "alert_rules",
    "alert_history",
    "response_cache",
}


def _raw_engine(db_path):
    """A plain SQLAlchemy engine on the test's database (a SQLite file or a PostgreSQL URL)."""
    return create_engine(db_path if isinstance(db_path, str) else f"sqlite:///{db_path}")


def insert_execution_row(
    db_path, status: str, pid: int | None, host: str | None, created: datetime | None = None
) -> int:
    """A run row as a process would have left it (written without flowdesk); `created` defaults to now."""
    from sqlalchemy import bindparam, text

    from flowdesk.store.tables import UTCDateTime

    def at(value: datetime):
        return bindparam("at", value, type_=UTCDateTime())

    engine = _raw_engine(db_path)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO workflow_definitions (id, name, description, version, is_active, created_at,"
                " updated_at) VALUES (1, 'w', '', '1.0', :no, :at, :at) ON CONFLICT DO NOTHING"
            ).bindparams(at(datetime(2026, 1, 1, tzinfo=UTC))),
            {"no": False},
        )
        execution_id = conn.execute(
            text(
                "INSERT INTO workflow_executions (workflow_id, status, progress, runner_pid, runner_host, created_at)"
                " VALUES (1, :status, 0.5, :pid, :host, :at) RETURNING id"
            ).bindparams(at(created or datetime.now(UTC))),
            {"status": status, "pid": pid, "host": host},
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO workflow_execution_logs (execution_id, step_name, status, attempts, sequence, created_at)"
                " VALUES (:id, 'step', 'running', 1, 0, :at)"
            ).bindparams(at(datetime(2026, 1, 1, tzinfo=UTC))),
            {"id": execution_id},
        )
    engine.dispose()
    return int(execution_id)


def row_counts(db) -> dict[str, int]:
    """Rows in every table of the schema."""
    with db.session(read_only=True) as session:
        return {
            name: session.scalar(select(func.count()).select_from(table)) for name, table in TABLES.items()
        }


def raw_database_bytes(db_path) -> bytes:
    """The SQLite file and its -wal/-journal side files, as raw bytes."""
    from pathlib import Path

    data = b""
    for suffix in ("", "-wal", "-journal"):
        p = Path(str(db_path) + suffix)
        if p.exists():
            data += p.read_bytes()
    return data
