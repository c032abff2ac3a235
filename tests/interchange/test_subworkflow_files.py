"""Format 2: a workflow file carries the sub-workflows it calls (`workflows`), so an export is
self-contained; import reuses identical stored ones; format 1 files open as before."""

from __future__ import annotations

import json

import pytest

from flowdesk.domain.errors import FileFormatError
from flowdesk.domain.models import ApiDefinition
from flowdesk.interchange.workflow_file import read_workflow_file
from flowdesk.services import ApiService, WorkflowService
from flowdesk.services.transfer import TransferService
from flowdesk.store import Database
from tests.support.graph_builder import graph


def leaf(api_id=None, name="leaf"):
    config = {"method": "GET", "url": "http://127.0.0.1:9/x", "auth": {"type": "bearer", "token": "s3cret"}}
    if api_id is not None:
        config = {"api_id": api_id}
    return graph([("start", "START"), ("get", "API_CALL", config), ("end", "END")],
                 [("start", "get"), ("get", "end")], name=name)  # fmt: skip


def caller(name, target):
    return graph([("start", "START"), ("call", "SUBWORKFLOW", {"workflow": target}), ("end", "END")],
                 [("start", "call"), ("call", "end")], name=name)  # fmt: skip


@pytest.fixture
def stored(db):
    """top -> middle (by id) -> leaf (an API of the library, and one with a literal token)."""
    api = ApiService(db).create_api(ApiDefinition(name="ping", method="GET", url="http://127.0.0.1:9/ping"))
    workflows = WorkflowService(db)
    leaf_graph = workflows.create_from_graph(leaf(api.id))
    middle = workflows.create_from_graph(caller("middle", leaf_graph.workflow.id))
    top = workflows.create_from_graph(caller("top", "middle"))
    return top, middle, leaf_graph


def test_an_export_carries_the_sub_workflows_and_imports_into_an_empty_database(db, stored, tmp_path):
    top, _middle, _leaf = stored
    text = TransferService(db).export_workflow(top.workflow.id)
    document = json.loads(text)
    assert document["flowdesk"] == 2
    assert [w["workflow"]["name"] for w in document["workflows"]] == ["leaf", "middle"]
    middle_call = document["workflows"][1]["nodes"][1]["config"]
    assert middle_call == {"workflow": "leaf"}  # the database id became the carried workflow's name
    assert document["workflows"][0]["nodes"][1]["config"] == {"api_id": 1}
    assert [a["name"] for a in document["apis"]] == ["ping"]

    other = Database(tmp_path / "other.db")
    try:
        imported = TransferService(other).import_file(text)
        names = sorted(w.name for w in WorkflowService(other).list_workflows())
        assert names == ["leaf", "middle", "top"]
        assert (
            TransferService(other).export_workflow(imported.workflow.id) == text
        )  # self-contained round trip
    finally:
        other.close()


def test_import_reuses_identical_stored_sub_workflows_and_copies_different_ones(db, stored):
    top, _middle, leaf_graph = stored
    text = TransferService(db).export_workflow(top.workflow.id)
    transfer = TransferService(db)
    transfer.import_file(text, name="top again")
    names = sorted(w.name for w in WorkflowService(db).list_workflows())
    assert names == ["leaf", "middle", "top", "top again"]  # leaf and middle were reused

    node = next(n for n in WorkflowService(db).list_nodes(leaf_graph.workflow.id) if n.name == "get")
    WorkflowService(db).update_node(node.id, description="changed here")
    again = transfer.import_file(text, name="third")
    names = sorted(w.name for w in WorkflowService(db).list_workflows())
    assert "leaf (copy)" in names
    middles = [w for w in WorkflowService(db).list_workflows() if w.name.startswith("middle")]
    assert sorted(w.name for w in middles) == ["middle", "middle (copy)"]  # it calls the copied leaf
    copied = WorkflowService(db).load_graph(next(w.id for w in middles if w.name == "middle (copy)"))
    assert copied.nodes[1].config == {"workflow": "leaf (copy)"}
    third = WorkflowService(db).load_graph(again.workflow.id)
    assert third.nodes[1].config == {"workflow": "middle (copy)"}


def test_a_carried_workflows_secret_is_masked_on_export(db):
    workflows = WorkflowService(db)
    workflows.create_from_graph(leaf())
    top = workflows.create_from_graph(caller("top", "leaf"))
    text = TransferService(db).export_workflow(top.workflow.id)
    assert "s3cret" not in text
    assert json.loads(text)["workflows"][0]["nodes"][1]["config"]["auth"]["token"] == "***"


def test_a_file_without_sub_workflows_stays_format_1_and_format_1_files_open_as_before(db):
    workflows = WorkflowService(db)
    alone = workflows.create_from_graph(leaf())
    text = TransferService(db).export_workflow(alone.workflow.id)
    assert json.loads(text)["flowdesk"] == 1
    old = json.loads(text)
    old["workflows"] = []
    read = read_workflow_file(json.dumps(old))
    assert [p.message for p in read.problems] == ["unknown key, ignored (did you mean workflow?)"]  # format 1
    assert read.workflows == []


def test_a_carried_workflows_problems_are_located_inside_it():
    document = json.loads(json.dumps({
        "flowdesk": 2,
        "workflow": {"name": "top"},
        "nodes": [{"name": "start", "node_type": "START"}, {"name": "end", "node_type": "END"}],
        "connections": [{"from": "start", "to": "end"}],
        "workflows": [
            {"workflow": {"name": "child"}, "nodes": [{"name": "start", "node_type": "STRAT"}], "connections": []},
            {"workflow": {"name": "child"}, "nodes": [{"name": "s", "node_type": "START"}], "connections": []},
        ],
    }))  # fmt: skip
    with pytest.raises(FileFormatError) as caught:
        read_workflow_file(json.dumps(document, indent=2), source="f.json")
    errors = {(p.path, p.message) for p in caught.value.problems if p.severity == "error"}
    assert ("workflows[0].nodes[0].node_type", "'STRAT' is not a node type (did you mean START?)") in errors
    assert ("workflows[1].workflow.name", "'child' is the name of workflows[0] too") in errors


def calling(target):
    """The nodes and connections of START -> call (SUBWORKFLOW target) -> END, as a file has them."""
    names = ("start", "call", "end")
    return {
        "nodes": [{"name": "start", "node_type": "START"},
                  {"name": "call", "node_type": "SUBWORKFLOW", "config": {"workflow": target}},
                  {"name": "end", "node_type": "END"}],
        "connections": [{"from": a, "to": b} for a, b in zip(names, names[1:], strict=False)],
    }  # fmt: skip


def test_flowdesk_validate_finds_a_cycle_among_the_carried_workflows_without_a_database(tmp_path):
    import subprocess
    import sys

    document = {
        "flowdesk": 2,
        "workflow": {"name": "top"},
        **calling("a"),
        "workflows": [{"workflow": {"name": name}, **calling(target)} for name, target in (("a", "b"), ("b", "a"))],
    }  # fmt: skip
    path = tmp_path / "cycle.json"
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "flowdesk", "validate", "--json", str(path), "--db", str(tmp_path / "none.db")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    problems = json.loads(done.stdout)["problems"]
    assert [(p["path"], p["message"]) for p in problems if p["severity"] == "error"] == [
        ("nodes[1].config.workflow", "the sub-workflow calls go round in a cycle: top → a → b → a")
    ]
    assert not (tmp_path / "none.db").exists()  # validating creates no database
