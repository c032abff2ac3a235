"""TransferService: import into a real SQLite file and export back, all or nothing, atomically."""

from __future__ import annotations

import json
import os

import pytest

from flowdesk.domain.errors import FileFormatError, InvalidInputError, NotFoundError
from flowdesk.services import ApiService, WorkflowService
from flowdesk.services.transfer import TransferService, read_input
from tests.support.examples import EXAMPLE_FILES, EXAMPLES
from tests.support.store_rows import row_counts


@pytest.fixture
def transfer(db):
    return TransferService(db)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_examples_import_and_export_identically(transfer, path):
    graph = transfer.import_file(path)
    assert graph.workflow.id is not None and all(n.id is not None for n in graph.nodes)
    assert transfer.export_workflow(graph.workflow.id) == path.read_text(encoding="utf-8")


def test_import_accepts_text_and_bytes(transfer):
    text = (EXAMPLES / "loop.json").read_text(encoding="utf-8")
    a = transfer.import_file(text)
    b = transfer.import_file(text.encode("utf-8"), name="second copy")
    assert a.workflow.name == "Loop over users 循环"
    assert b.workflow.name == "second copy"
    assert [w.name for w in WorkflowService(transfer.db).list_workflows()] == [a.workflow.name, "second copy"]


def test_apis_are_matched_to_identical_library_entries_or_added(transfer, db):
    apis = ApiService(db)
    other = apis.create_api(name="something else", url="http://127.0.0.1/other")
    first = transfer.import_file(EXAMPLES / "conditional.json")
    library = apis.list_apis()
    assert len(library) == 2
    added = next(a for a in library if a.id != other.id)
    assert added.name == "report result" and added.method == "POST"
    assert {n.config.get("api_id") for n in first.nodes if n.node_type == "API_CALL"} == {added.id}

    second = transfer.import_file(EXAMPLES / "conditional.json")
    assert len(apis.list_apis()) == 2, "an identical API is reused, not duplicated"
    assert {n.config.get("api_id") for n in second.nodes if n.node_type == "API_CALL"} == {added.id}
    # The library id is not 1, yet the export numbers the file's APIs from 1 again.
    assert added.id != 1
    assert transfer.export_workflow(second.workflow.id) == (EXAMPLES / "conditional.json").read_text("utf-8")


def test_an_api_differing_in_one_identity_field_is_added(transfer, db):
    doc = json.loads((EXAMPLES / "conditional.json").read_text("utf-8"))
    transfer.import_file(json.dumps(doc))
    doc["apis"][0]["timeout"] = 5
    transfer.import_file(json.dumps(doc))
    doc["apis"][0]["name"] = "only the name differs"
    transfer.import_file(json.dumps(doc))
    assert sorted(a.timeout for a in ApiService(db).list_apis()) == [5, 30]


def test_two_identical_apis_in_one_file_become_one_library_entry(transfer, db):
    doc = json.loads((EXAMPLES / "conditional.json").read_text("utf-8"))
    doc["apis"].append(dict(doc["apis"][0], id=2, name="same again"))
    doc["nodes"][3]["config"]["api_id"] = 2
    graph = transfer.import_file(json.dumps(doc))
    (api,) = ApiService(db).list_apis()
    assert {n.config.get("api_id") for n in graph.nodes if "api_id" in n.config} == {api.id}


def test_a_bad_file_changes_nothing_and_lists_every_problem(transfer, db):
    transfer.import_file(EXAMPLES / "loop.json")
    before = row_counts(db)
    doc = json.loads((EXAMPLES / "conditional.json").read_text("utf-8"))
    doc["nodes"][1]["node_type"] = "CONDITON"
    doc["connections"][0]["to"] = "nowhere"
    with pytest.raises(FileFormatError) as caught:
        transfer.import_file(json.dumps(doc, indent=2))
    assert [p.path for p in caught.value.problems if p.severity == "error"] == [
        "connections[0].to",
        "nodes[1].node_type",
    ]
    assert row_counts(db) == before


def test_a_failure_while_storing_rolls_back_the_apis_too(transfer, db, monkeypatch):
    before = row_counts(db)

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(transfer.workflows, "create_from_graph", fail)
    with pytest.raises(RuntimeError):
        transfer.import_file(EXAMPLES / "conditional.json")
    assert row_counts(db) == before


def test_custom_node_types_registered_in_the_database_are_accepted(transfer, db):
    from flowdesk.services import NodeTypeService

    doc = json.loads((EXAMPLES / "loop.json").read_text("utf-8"))
    doc["nodes"][2]["node_type"] = "CUSTOM_PROCESSOR"
    with pytest.raises(FileFormatError, match="'CUSTOM_PROCESSOR' is not a node type"):
        transfer.import_file(json.dumps(doc))
    NodeTypeService(db).register_node_type("CUSTOM_PROCESSOR", description="test")
    graph = transfer.import_file(json.dumps(doc))
    assert graph.nodes[2].node_type == "CUSTOM_PROCESSOR"


def test_export_of_a_missing_workflow(transfer):
    with pytest.raises(NotFoundError):
        transfer.export_workflow(999)


def test_export_to_file_replaces_the_file_atomically(transfer, tmp_path, monkeypatch):
    graph = transfer.import_file(EXAMPLES / "parallel.json")
    target = tmp_path / "out.json"
    target.write_text("previous content", encoding="utf-8")
    target.chmod(0o640)

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(InvalidInputError, match="Cannot write .*out.json: No space left on device"):
        transfer.export_to_file(graph.workflow.id, target)
    assert target.read_text(encoding="utf-8") == "previous content"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")], "the temporary file is removed"
    monkeypatch.undo()

    written = transfer.export_to_file(graph.workflow.id, target)
    assert written == target
    assert target.read_text(encoding="utf-8") == (EXAMPLES / "parallel.json").read_text(encoding="utf-8")
    assert target.stat().st_mode & 0o777 == 0o640, "an existing file keeps its permissions"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_export_into_a_missing_folder(transfer, tmp_path):
    graph = transfer.import_file(EXAMPLES / "loop.json")
    with pytest.raises(InvalidInputError, match="does not exist"):
        transfer.export_to_file(graph.workflow.id, tmp_path / "no" / "such" / "dir" / "x.json")


def test_export_names_a_node_whose_api_was_removed(transfer, db):
    graph = transfer.import_file(EXAMPLES / "conditional.json")
    node = next(n for n in graph.nodes if n.name == "pass")
    WorkflowService(db).update_node(node.id, config={**node.config, "api_id": 4242})
    with pytest.raises(
        InvalidInputError, match="Node 'pass' uses API 4242, which is no longer in the API library"
    ):
        transfer.export_workflow(graph.workflow.id)


def test_read_input_tells_paths_from_content(tmp_path):
    assert read_input('  {"a": 1}') == ('  {"a": 1}', "<input>")
    assert read_input(b"xyz") == (b"xyz", "<input>")
    f = tmp_path / "w.json"
    f.write_bytes(b"{}")
    assert read_input(str(f)) == (b"{}", "w.json")
    with pytest.raises(InvalidInputError, match="there is no such file"):
        read_input(tmp_path / "missing.json")
    with pytest.raises(InvalidInputError, match="it is a folder, not a file"):
        read_input(tmp_path)
