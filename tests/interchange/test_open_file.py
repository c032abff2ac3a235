"""TransferService.open_file, the one rule against piling up copies: identical content reuses the
stored workflow, a taken name with other content is refused, replaced as a new version, or copied."""

from __future__ import annotations

import json

import pytest

from flowdesk.services import ApiService, WorkflowService
from flowdesk.services.transfer import NameTaken, TransferService, WorkflowNameTakenError
from flowdesk.services.versions import VersionService
from tests.support.examples import EXAMPLE_FILES, EXAMPLES
from tests.support.store_rows import row_counts


@pytest.fixture
def transfer(db):
    return TransferService(db)


def _changed(name: str = "loop.json", **config) -> str:
    doc = json.loads((EXAMPLES / name).read_text("utf-8"))
    node = next(n for n in doc["nodes"] if n["node_type"] == "LOOP")
    node["config"].update(config or {"max_iterations": 50})
    return json.dumps(doc)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_identical_content_opens_the_stored_workflow(transfer, path, db):
    first = transfer.open_file(path)
    assert first.outcome == "stored"
    before = row_counts(db)
    again = transfer.open_file(path)
    assert again.outcome == "reused" and again.graph.workflow.id == first.graph.workflow.id
    assert again.source == path.name
    assert row_counts(db) == before  # nothing written, APIs included


def test_a_taken_name_with_other_content_is_refused_and_nothing_changes(transfer, db):
    stored = transfer.open_file(EXAMPLES / "loop.json").graph
    before = row_counts(db)
    with pytest.raises(WorkflowNameTakenError) as err:
        transfer.open_file(_changed())
    assert (err.value.name, err.value.workflow_id) == ("Loop over users 循环", stored.workflow.id)
    assert row_counts(db) == before


def test_replace_makes_the_file_a_new_version_and_keeps_the_old_one(transfer, db):
    stored = transfer.open_file(EXAMPLES / "loop.json").graph
    node_ids = {n.name: n.id for n in stored.nodes}
    opened = transfer.open_file(_changed(), if_name_taken=NameTaken.REPLACE)
    assert opened.outcome == "replaced" and opened.graph.workflow.id == stored.workflow.id
    assert {n.name: n.id for n in opened.graph.nodes} == node_ids  # run history keeps its nodes
    loop = next(n for n in opened.graph.nodes if n.node_type == "LOOP")
    assert loop.config["max_iterations"] == 50
    assert [w.id for w in WorkflowService(db).list_workflows()] == [stored.workflow.id]
    versions = VersionService(db).list_versions(stored.workflow.id)
    assert [v.label for v in versions] == ["before importing <input>", "imported from <input>"]
    old = VersionService(db).get_version(versions[0].id)
    old_loop = next(n for n in old.snapshot["nodes"] if n["node_type"] == "LOOP")
    assert old_loop["config"]["max_iterations"] == 100
    assert transfer.open_file(_changed()).outcome == "reused"  # now it is the stored content


def test_as_new_imports_a_copy_under_a_free_name_and_a_copy_is_reused(transfer, db):
    transfer.open_file(EXAMPLES / "loop.json")
    first = transfer.open_file(_changed(), if_name_taken=NameTaken.AS_NEW)
    assert first.outcome == "copied" and first.graph.workflow.name == "Loop over users 循环 (copy)"
    second = transfer.open_file(_changed(max_iterations=7), if_name_taken="as_new")
    assert second.graph.workflow.name == "Loop over users 循环 (copy 2)"
    again = transfer.open_file(_changed())  # the same content as the first copy: that one, no question
    assert again.outcome == "reused" and again.graph.workflow.id == first.graph.workflow.id
    names = {w.name for w in WorkflowService(db).list_workflows()}
    assert names == {"Loop over users 循环", "Loop over users 循环 (copy)", "Loop over users 循环 (copy 2)"}


def test_replace_with_apis_maps_them_to_the_library(transfer, db):
    stored = transfer.open_file(EXAMPLES / "conditional.json").graph
    doc = json.loads((EXAMPLES / "conditional.json").read_text("utf-8"))
    doc["apis"][0]["timeout"] = 5
    opened = transfer.open_file(json.dumps(doc), if_name_taken=NameTaken.REPLACE)
    assert opened.graph.workflow.id == stored.workflow.id
    library = {a.id: a for a in ApiService(db).list_apis()}
    used = {n.config["api_id"] for n in opened.graph.nodes if "api_id" in n.config}
    assert len(used) == 1 and library[used.pop()].timeout == 5
    assert transfer.open_file(json.dumps(doc)).outcome == "reused"


def test_the_name_given_is_the_one_matched(transfer):
    a = transfer.open_file(EXAMPLES / "loop.json", name="mine")
    assert a.graph.workflow.name == "mine"
    assert transfer.open_file(EXAMPLES / "loop.json", name="mine").outcome == "reused"
    assert transfer.open_file(EXAMPLES / "loop.json").outcome == "stored"
