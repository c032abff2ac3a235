"""`flowdesk node-type add|list|delete` and `flowdesk validate` with stored custom types, run in this
process on a database file of the test's own (tests/cli/conftest.py's `run` fixture)."""

from __future__ import annotations

import json

from flowdesk.services.node_types import NodeTypeService
from flowdesk.store import Database

TICKET = {
    "type_name": "TICKET",
    "description": "Files a ticket",
    "config_schema": {"processor_type": "string", "parameters": "object"},
    "execution_handler": {"api": "Create ticket"},
}


def _file(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_add_list_and_delete_a_type_from_a_json_file(run, tmp_path):
    db = str(tmp_path / "f.db")
    code, out, err = run(["node-type", "add", _file(tmp_path, "t.json", json.dumps(TICKET)), "--db", db])
    assert code == 0, err
    assert out.strip() == "Registered node type 'TICKET' (handler api:Create ticket)."

    code, out, _ = run(["node-type", "list", "--db", db])
    assert code == 0
    assert "TICKET" in out and "api:Create ticket" in out and "processor_type, parameters" in out
    code, out, _ = run(["node-type", "list", "--json", "--db", db])
    assert json.loads(out) == [{**TICKET, "execution_handler": "api:Create ticket"}]

    code, out, _ = run(["node-type", "delete", "TICKET", "--db", db])
    assert code == 0 and out.strip() == "Deleted node type 'TICKET'."
    code, out, _ = run(["node-type", "list", "--db", db])
    assert out.strip() == "No custom node types."


def test_a_yaml_list_registers_each_type_and_a_second_add_updates(run, tmp_path):
    db = str(tmp_path / "f.db")
    text = (
        "- type_name: SHOUT\n  config_schema: {text: string}\n"
        "  execution_handler: tests.support.node_handlers:shout\n"
        "- type_name: COUNT\n  description: counts words\n"
    )
    path = _file(tmp_path, "types.yaml", text)
    code, out, err = run(["node-type", "add", path, "--db", db])
    assert code == 0, err
    assert out.splitlines() == [
        "Registered node type 'SHOUT' (handler tests.support.node_handlers:shout).",
        "Registered node type 'COUNT'.",
    ]
    code, out, _ = run(["node-type", "add", path, "--db", db])
    assert out.splitlines()[0].startswith("Updated node type 'SHOUT'")


def test_bad_files_are_refused_in_one_located_sentence_and_nothing_is_stored(run, tmp_path):
    db = str(tmp_path / "f.db")
    cases = {
        "broken.json": (
            '{"type_name": "A",\n "description": }',
            "broken.json line 2 column 17: not valid JSON",
        ),
        "broken.yaml": ("- type_name: A\n  x: [1,\n", "broken.yaml line 3: not valid YAML"),
        "extra.json": (
            json.dumps({"type_name": "A", "colour": "red"}),
            "extra.json: 'colour' is not a field",
        ),
        "noname.json": (json.dumps({"description": "x"}), "noname.json.type_name: a node type needs a name"),
        "schema.json": (
            json.dumps([{"type_name": "A"}, {"type_name": "B", "config_schema": {"n": "integr"}}]),
            "schema.json [1]: Node type 'B': config_schema.n: 'integr' is not a type",
        ),
        "handler.json": (
            json.dumps({"type_name": "A", "execution_handler": "not a handler!"}),
            "handler.json: Node type 'A': execution_handler 'not a handler!' is not",
        ),
        "builtin.json": (json.dumps({"type_name": "LOOP"}), "builtin.json: 'LOOP' is a built-in node type"),
    }
    for name, (text, expected) in cases.items():
        code, out, err = run(["node-type", "add", _file(tmp_path, name, text), "--db", db])
        assert code != 0, name
        assert expected in err, (name, err)
        assert len(err.strip().splitlines()) == 1, err
    code, out, err = run(["node-type", "add", str(tmp_path / "missing.json"), "--db", db])
    assert code != 0 and "missing.json: no such file." in err
    with Database(db) as database:
        assert NodeTypeService(database).list_node_types() == []  # the A of schema.json was not stored


def test_validate_refuses_a_node_whose_type_s_handler_cannot_be_found_naming_it(run, tmp_path):
    db = str(tmp_path / "f.db")
    with Database(db) as database:
        NodeTypeService(database).register_node_type("SHOUT", "", {"text": "string"}, "acme_gone.text:shout")
    workflow = {
        "flowdesk": 1,
        "workflow": {"name": "w"},
        "nodes": [
            {"name": "start", "node_type": "START"},
            {"name": "loud", "node_type": "SHOUT", "config": {"text": "hi"}},
            {"name": "end", "node_type": "END"},
        ],
        "connections": [{"from": "start", "to": "loud"}, {"from": "loud", "to": "end"}],
    }
    path = _file(tmp_path, "w.json", json.dumps(workflow))
    code, out, err = run(["validate", path, "--db", db])
    assert code != 0
    assert (
        "node type 'SHOUT' cannot run: its handler 'acme_gone.text:shout' cannot be found "
        "(no module named 'acme_gone')" in out + err
    )
    with Database(db) as database:
        NodeTypeService(database).register_node_type(
            "SHOUT", "", {"text": "string"}, "tests.support.node_handlers:shout"
        )
    code, out, err = run(["validate", path, "--db", db])
    assert code == 0, out + err


def test_a_type_whose_handler_is_a_stored_workflow_is_added_validated_and_run(run, tmp_path):  # noqa: F811
    db = str(tmp_path / "f.db")
    types = "- type_name: GREET\n  config_schema: {who: string}\n  execution_handler: {workflow: Greeter}\n"
    code, out, err = run(["node-type", "add", _file(tmp_path, "greet.yaml", types), "--db", db])
    assert code == 0, err
    assert out.strip() == "Registered node type 'GREET' (handler workflow:Greeter)."
    user = {
        "flowdesk": 1,
        "workflow": {"name": "says hello"},
        "nodes": [
            {"name": "start", "node_type": "START"},
            {"name": "hello", "node_type": "GREET", "config": {"who": "{{input.name}}"}},
            {"name": "end", "node_type": "END", "config": {"output": "{{hello}}"}},
        ],
        "connections": [{"from": "start", "to": "hello"}, {"from": "hello", "to": "end"}],
    }
    path = _file(tmp_path, "user.json", json.dumps(user))
    code, out, err = run(["validate", path, "--db", db])
    assert code != 0
    assert (
        "node type 'GREET' cannot run: its handler 'workflow:Greeter' names no stored workflow" in out + err
    )

    greeter = {
        "flowdesk": 1,
        "workflow": {"name": "Greeter"},
        "nodes": [
            {"name": "start", "node_type": "START"},
            {"name": "end", "node_type": "END", "config": {"output": {"greeting": "hello {{input.who}}"}}},
        ],
        "connections": [{"from": "start", "to": "end"}],
    }
    code, _, err = run(["import", _file(tmp_path, "greeter.json", json.dumps(greeter)), "--db", db])
    assert code == 0, err
    code, out, err = run(["validate", path, "--db", db])
    assert code == 0, out + err
    code, out, err = run(["run", path, "--input", '{"name": "Ann"}', "--json", "--db", db])
    assert code == 0, err
    assert json.loads(out)["output_data"] == {"greeting": "hello Ann"}


def test_validate_finds_a_cycle_through_a_carried_workflow_type_without_a_database(run, tmp_path):
    """The file carries the type LOOPBACK (handler: the workflow 'inner') and 'inner', whose node of
    type LOOPBACK calls 'inner' again: a cycle, found from the file alone, located at node_type."""

    def calling(node_type):
        return {
            "nodes": [
                {"name": "start", "node_type": "START"},
                {"name": "call", "node_type": node_type},
                {"name": "end", "node_type": "END"},
            ],
            "connections": [{"from": "start", "to": "call"}, {"from": "call", "to": "end"}],
        }

    document = {
        "flowdesk": 2,
        "workflow": {"name": "top"},
        **calling("LOOPBACK"),
        "workflows": [{"workflow": {"name": "inner"}, **calling("LOOPBACK")}],
        "node_types": [
            {"type_name": "LOOPBACK", "config_schema": {}, "execution_handler": {"workflow": "inner"}}
        ],
    }
    path = _file(tmp_path, "cycle.json", json.dumps(document))
    code, out, err = run(["validate", "--json", path, "--db", str(tmp_path / "none.db")])
    assert code == 1, out + err
    errors = [p for p in json.loads(out)["problems"] if p["severity"] == "error"]
    assert [(p["path"], p["message"]) for p in errors] == [
        ("nodes[1].node_type", "the sub-workflow calls go round in a cycle: top → inner → inner")
    ]
    assert not (tmp_path / "none.db").exists()


def test_validate_checks_the_handlers_of_the_types_a_file_carries(run, tmp_path):
    """Without a database: a carried type's handler is found in the file (its workflows and apis)
    or as Python, else its node is refused at node_type in the run's sentence."""

    def document(handler, **carried):
        return {
            "flowdesk": 2,
            "workflow": {"name": "top"},
            "nodes": [
                {"name": "start", "node_type": "START"},
                {"name": "call", "node_type": "CARRIED"},
                {"name": "end", "node_type": "END"},
            ],
            "connections": [{"from": "start", "to": "call"}, {"from": "call", "to": "end"}],
            "node_types": [{"type_name": "CARRIED", "config_schema": {}, "execution_handler": handler}],
            **carried,
        }

    def errors(doc, name):
        path = _file(tmp_path, name, json.dumps(doc))
        code, out, err = run(["validate", "--json", path, "--db", str(tmp_path / "none.db")])
        found = [(p["path"], p["message"]) for p in json.loads(out)["problems"] if p["severity"] == "error"]
        assert (code == 0) == (not found), out + err
        return found

    inner = {
        "workflow": {"name": "inner"},
        "nodes": [{"name": "start", "node_type": "START"}, {"name": "end", "node_type": "END"}],
        "connections": [{"from": "start", "to": "end"}],
    }
    assert errors(document("workflow:inner", workflows=[inner]), "carried.json") == []
    assert errors(document("json:dumps"), "python.json") == []
    assert errors(document("workflow:elsewhere"), "elsewhere.json") == [
        (
            "nodes[1].node_type",
            "node type 'CARRIED' cannot run: its handler 'workflow:elsewhere' names no stored workflow",
        )
    ]
    assert errors(document("nosuchmodule_fd:handle"), "module.json") == [
        (
            "nodes[1].node_type",
            "node type 'CARRIED' cannot run: its handler 'nosuchmodule_fd:handle' cannot be found "
            "(no module named 'nosuchmodule_fd')",
        )
    ]
    assert not (tmp_path / "none.db").exists()
