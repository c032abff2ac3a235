"""`flowdesk alert add|list|delete|history` on a real database file."""

from __future__ import annotations

import json

import pytest

from flowdesk import cli
from flowdesk.domain import NodeType
from flowdesk.services.alerts import AlertService
from flowdesk.services.apis import ApiService
from flowdesk.services.executions import ExecutionService
from flowdesk.services.workflows import WorkflowService
from flowdesk.store import Database


@pytest.fixture
def stored(tmp_path):
    """A database file with a workflow 'orders' and an API definition 'pager'."""
    path = tmp_path / "alerts.db"
    db = Database(path)
    wf = WorkflowService(db).create_workflow("orders")
    WorkflowService(db).add_node(wf.id, "start", NodeType.START)
    ApiService(db).create_api(name="pager", method="POST", url="http://127.0.0.1:9/page")
    db.close()
    return path


@pytest.fixture
def alert(capsys, stored):
    def call(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = cli.main(["alert", *argv, "--db", str(stored)])
        out, err = capsys.readouterr()
        assert "Traceback" not in err, err
        return code, out, err

    return call


def test_add_list_history_and_delete(alert, stored):
    code, out, _ = alert("add", "orders", "success-rate", "90", "--runs", "10", "--webhook", "pager")
    assert code == 0 and out.strip() == "Added alert rule 1: success rate below 90 % over the last 10 runs."
    code, out, _ = alert("add", "orders", "node-error-rate", "25", "--period", "3600", "--node", "start")
    assert code == 0
    code, out, _ = alert("list")
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "WORKFLOW", "RULE", "WEBHOOK", "STATE"]
    assert "success rate below 90 % over the last 10 runs" in lines[1] and lines[1].split()[-1] == "1"
    assert "error rate of node 'start' above 25 % over the last 3600 s" in lines[2]
    code, out, _ = alert("list", "orders", "--json")
    listed = json.loads(out)
    assert [(r["kind"], r["runs"], r["period"], r["webhook_api_id"]) for r in listed] == [
        ("success_rate", 10, None, 1),
        ("node_error_rate", None, 3600.0, None),
    ]

    assert alert("history") == (0, "No alerts have fired.\n", "")
    db = Database(stored)
    try:
        executions = ExecutionService(db)
        run = executions.create_execution(1, status="running")
        executions.update_execution(run.id, status="failed")
        AlertService(db).evaluate_after_run(1, run.id)
    finally:
        db.close()
    code, out, _ = alert("history", "orders", "--json")
    (fired,) = json.loads(out)
    assert (
        fired["rule_id"] == 1
        and fired["rule_name"]
        and fired["execution_id"] == run.id
        and fired["value"] == 0.0
    )
    code, out, _ = alert("history")
    assert "orders: success rate below 90 %" in out and f"#{run.id}" in out

    assert (
        alert("delete", "1")[1].strip()
        == "Deleted alert rule 1: success rate below 90 % over the last 10 runs."
    )
    code, out, _ = alert("list", "--json")
    assert [r["id"] for r in json.loads(out)] == [2]
    code, out, _ = alert("history", "--json")
    assert json.loads(out)[0]["rule_id"] is None  # the history outlives the rule


@pytest.mark.parametrize(
    ("argv", "sentence"),
    [
        (("add", "orders", "latency", "5"), "The alert rule's kind must be one of"),
        (("add", "orders", "success-rate", "150"), "The alert rule's threshold is a percentage"),
        (("add", "orders", "failures-in-row", "3", "--runs", "5"), "runs and period do not apply"),
        (("add", "orders", "node-error-rate", "5"), "The alert rule's node must name"),
        (
            ("add", "orders", "success-rate", "90", "--webhook", "nope"),
            "no API definition has the id or name 'nope'",
        ),
        (("add", "nowhere", "success-rate", "90"), "No workflow has the id or name 'nowhere'"),
        (("delete", "99"), "No alert rule has the id 99."),
    ],
)
def test_bad_input_is_one_sentence_and_nothing_is_stored(alert, argv, sentence):
    code, out, err = alert(*argv)
    assert code == cli.EXIT_USAGE and out == ""
    assert sentence in err and len(err.strip().splitlines()) == 1
    assert alert("list", "--json")[1].strip() == "[]"
