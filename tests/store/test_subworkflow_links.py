"""Migration 0009: an execution's link to the run and step that started it (SUBWORKFLOW), on SQLite
and PostgreSQL: down to 0006 and up again keeps the runs, the columns and the index come back."""

from __future__ import annotations

import warnings

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import SAWarning

from flowdesk.store import Database
from flowdesk.store.database import MIGRATIONS_DIR

INDEX = "ix_workflow_executions_parent_execution_id"


def _url(db_path) -> str:
    return db_path if isinstance(db_path, str) else f"sqlite:///{db_path}"


def _migrate(url: str, how, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    engine = create_engine(url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        how(config, revision)
    engine.dispose()


def _shape(url: str) -> tuple[set[str], set[str]]:
    engine = create_engine(url)
    try:
        found = inspect(engine)
        columns = {c["name"] for c in found.get_columns("workflow_executions")}
        with warnings.catch_warnings():  # 0003's expression indexes, which SQLite's reflection skips
            warnings.filterwarnings("ignore", "Skipped unsupported reflection", SAWarning)
            indexes = {i["name"] for i in found.get_indexes("workflow_executions")}
    finally:
        engine.dispose()
    return columns, indexes


def _rows(url: str, sql: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(sql))
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        engine.dispose()


def test_parent_columns_and_index_go_down_to_0006_and_come_back(db_path):
    from flowdesk.services.workflows import WorkflowService

    db = Database(db_path)
    workflow = WorkflowService(db).create_workflow("w")
    db.close()
    url = _url(db_path)
    _rows(url, f"INSERT INTO workflow_executions (workflow_id, status, progress, created_at, parent_execution_id, parent_step)"
               f" VALUES ({workflow.id}, 'completed', 1.0, CURRENT_TIMESTAMP, NULL, NULL)")  # fmt: skip
    parent = _rows(url, "SELECT max(id) FROM workflow_executions")[0][0]
    _rows(url, f"INSERT INTO workflow_executions (workflow_id, status, progress, created_at, parent_execution_id, parent_step)"
               f" VALUES ({workflow.id}, 'completed', 1.0, CURRENT_TIMESTAMP, {parent}, 'call[2]')")  # fmt: skip
    columns, indexes = _shape(url)
    assert {"parent_execution_id", "parent_step"} <= columns and INDEX in indexes

    _migrate(url, command.downgrade, "0006")
    columns, indexes = _shape(url)
    assert not {"parent_execution_id", "parent_step"} & columns and INDEX not in indexes
    assert len(_rows(url, "SELECT id FROM workflow_executions")) == 2

    Database(db_path).close()  # opening upgrades to head again
    columns, indexes = _shape(url)
    assert {"parent_execution_id", "parent_step"} <= columns and INDEX in indexes
    assert _rows(url, "SELECT parent_execution_id, parent_step FROM workflow_executions ORDER BY id") == [
        (None, None),
        (None, None),
    ]
