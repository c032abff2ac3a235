"""store/run_rows.py: the step row's columns and encoding come from store/tables.py.

The hand-written encoder (`step_values`, the engine's hot path) and the one by column type that a
newly added column gets must agree, so a column added to the table is one edit.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from flowdesk.services.api_library import _COMPARED
from flowdesk.store import run_rows
from flowdesk.store.tables import ApiRow, ExecutionLogRow, ExecutionRow


def _step(seq: int) -> dict:
    when = datetime(2026, 1, 2, 3, 4, 5, 123456 * (seq - 1), tzinfo=UTC)
    row = {
        "execution_id": 7,
        "node_id": None if seq == 1 else 3,
        "step_name": f"循环体[{seq}]",
        "node_name": "循环体",
        "node_type": "DELAY",
        "status": "success",
        "input_data": {"seconds": "{{input.x}}", "中文": [1, 2.5, None, True]},
        "output_data": None if seq == 2 else {"seconds": 0},
        "error_message": None,
        "error_type": None,
        "execution_time": 0.25,
        "warnings": [] if seq == 1 else ["input.x is not defined"],
        "metrics": {} if seq == 1 else {"http_status": 500},
        "iteration_path": [] if seq == 1 else [seq, 0],
        "started_at": when,
        "completed_at": when,
    }
    if seq == 2:
        row["attempts"] = 2
        row["sequence"] = 4
        row["created_at"] = datetime(2026, 1, 2, 3, 4, 6, tzinfo=UTC)
    else:
        row["created_at"] = when
    return row


def test_the_step_columns_are_the_tables_and_the_statement_names_them_all():
    table_columns = [c.name for c in ExecutionLogRow.__table__.columns if c.name != "id"]
    assert sorted(run_rows.STEP_COLUMNS) == sorted(table_columns)
    assert run_rows.INSERT_STEPS.count("?") == len(run_rows.STEP_COLUMNS)
    assert all(name in run_rows.INSERT_STEPS for name in table_columns)
    assert len(run_rows.step_values(_step(1))) == len(run_rows.STEP_COLUMNS)
    assert run_rows.STEP_JSON_COLUMNS == {
        "input_data",
        "output_data",
        "warnings",
        "metrics",
        "iteration_path",
    }


@pytest.mark.parametrize("seq", [1, 2])
def test_a_column_encoded_by_its_type_matches_the_fast_encoder(seq):
    """What a column added to the table would get (`_extra_encoder`) is what the fast path writes
    for every column there is now (defaults of missing keys included)."""
    row = _step(seq)
    by_type = tuple(run_rows._extra_encoder(name)(row) for name in run_rows.STEP_COLUMNS)
    assert by_type == run_rows.step_values(row)


def test_step_values_go_into_a_real_table_by_the_statement(tmp_path):
    """The statement and the values fit a table made from the ORM's own schema."""
    from sqlalchemy import create_engine

    path = tmp_path / "steps.db"
    ExecutionLogRow.metadata.create_all(
        create_engine(f"sqlite:///{path}"), tables=[ExecutionLogRow.__table__]
    )
    conn = sqlite3.connect(path)
    conn.executemany(run_rows.INSERT_STEPS, [run_rows.step_values(_step(1)), run_rows.step_values(_step(2))])
    conn.commit()
    got = conn.execute(
        "SELECT step_name, attempts, sequence, warnings, metrics FROM workflow_execution_logs ORDER BY id"
    )
    assert got.fetchall() == [
        ("循环体[1]", 0, 0, "[]", "{}"),
        ("循环体[2]", 2, 4, '["input.x is not defined"]', '{"http_status":500}'),
    ]
    conn.close()


def test_execution_columns_the_engine_may_set_are_the_tables():
    assert run_rows.EXECUTION_COLUMNS == {c.name for c in ExecutionRow.__table__.columns} - {"id"}
    with pytest.raises(ValueError, match="workflow_executions has no column 'colour'"):
        run_rows._encode("colour", 1)


def test_the_api_library_compares_every_column_a_caller_sets():
    assert set(_COMPARED) == {c.name for c in ApiRow.__table__.columns} - {"id", "created_at", "updated_at"}
