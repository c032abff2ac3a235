"""The engine's input bound (default 50 MB, FLOWDESK_MAX_INPUT_MB or max_input_bytes): an input over it
is refused with one sentence before anything runs or is stored, through the Python API, the CLI and
the app."""

from __future__ import annotations

import asyncio
import json

import pytest

from flowdesk.domain.errors import InvalidInputError
from flowdesk.engine.input_limit import DEFAULT_MAX_INPUT_MB, max_input_bytes
from flowdesk.services.executions import ExecutionService
from flowdesk.services.workflows import WorkflowService
from flowdesk.store import Database
from tests.support.graph_builder import executor, graph

SMALL = graph([("s", "START"), ("e", "END")], [("s", "e")], name="small")


def test_the_default_bound_is_50_mb_and_the_variable_changes_it(monkeypatch):
    monkeypatch.delenv("FLOWDESK_MAX_INPUT_MB", raising=False)
    assert max_input_bytes() == DEFAULT_MAX_INPUT_MB * 1024 * 1024 == 52_428_800
    monkeypatch.setenv("FLOWDESK_MAX_INPUT_MB", "0.5")
    assert max_input_bytes() == 524_288
    assert max_input_bytes(1000) == 1000
    monkeypatch.setenv("FLOWDESK_MAX_INPUT_MB", "lots")
    with pytest.raises(InvalidInputError, match="FLOWDESK_MAX_INPUT_MB must be a number"):
        max_input_bytes()


def test_the_python_api_refuses_an_input_over_the_bound_and_stores_nothing(tmp_path):
    db = Database(tmp_path / "runs.db")
    stored = WorkflowService(db).create_from_graph(SMALL)

    async def main():
        ex = executor(db=db, max_input_bytes=10_000)
        try:
            with pytest.raises(InvalidInputError) as refused:
                await ex.execute_workflow(stored.workflow.id, {"blob": "é" * 6_000})
            with pytest.raises(InvalidInputError):
                await ex.execute_graph(SMALL, ["x" * 100] * 200)
            fine = await ex.execute_workflow(stored.workflow.id, {"blob": "x" * 9_000})
            return str(refused.value), fine
        finally:
            await ex.aclose()

    message, fine = asyncio.run(main())
    try:
        assert message.startswith("the input is 0.0 MB; a run takes at most 0.0 MB of input")
        assert "FLOWDESK_MAX_INPUT_MB" in message
        assert fine.status == "completed"
        assert [e.id for e in ExecutionService(db).list_executions()] == [fine.id]
    finally:
        db.close()


def test_the_cli_refuses_a_big_input_file_before_reading_it(tmp_path, monkeypatch, capsys):
    from flowdesk.cli import main

    monkeypatch.setenv("FLOWDESK_MAX_INPUT_MB", "0.01")  # 10,485 bytes
    data = tmp_path / "input.json"
    data.write_text(json.dumps({"blob": "x" * 20_000}), encoding="utf-8")
    wf = tmp_path / "small.json"
    wf.write_text(
        json.dumps(
            {
                "flowdesk": 1,
                "workflow": {"name": "small", "config": {}},
                "nodes": [
                    {"name": "s", "node_type": "START", "config": {}},
                    {"name": "e", "node_type": "END", "config": {}},
                ],
                "connections": [{"from": "s", "to": "e", "connection_type": "SEQUENCE"}],
            }
        ),
        encoding="utf-8",
    )
    db = tmp_path / "cli.db"
    code = main(["run", str(wf), "--input-file", str(data), "--db", str(db)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"the input file {data} is 0.0 MB; a run takes at most 0.0 MB of input" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    code = main(["run", str(wf), "--input", json.dumps({"blob": "y" * 20_000}), "--db", str(db)])
    assert code == 2 and "the --input value is" in capsys.readouterr().err
    with Database(db) as opened:
        assert ExecutionService(opened).list_executions() == []
