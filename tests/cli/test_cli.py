"""The `flowdesk` command, run as a person runs it: a subprocess with its own database file."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from flowdesk import cli
from tests.support.cli_running import flowdesk_process
from tests.support.examples import EXAMPLES, ROOT


def test_import_list_and_export_round_trip(run, tmp_path, state_home):
    db = str(tmp_path / "cli.db")
    imported = flowdesk_process("import", str(EXAMPLES / "conditional.json"), "--db", db, env=state_home)
    assert imported.returncode == 0, imported.stderr
    assert (
        imported.stdout == "conditional.json imported as workflow 1 '示例工作流' (5 nodes, 5 connections).\n"
    )
    assert run(["import", str(EXAMPLES / "loop.json"), "--db", db, "--name", "循环 copy"])[0] == 0

    table = flowdesk_process("list", "--db", db, env=state_home)
    assert table.returncode == 0
    assert table.stdout.splitlines() == [
        "ID  NAME        VERSION  STATUS  TAGS",
        "1   示例工作流  1.0      draft   demo, 条件",
        "2   循环 copy   1.0      draft   demo, loop",
    ]
    listed = json.loads(run(["list", "--json", "--db", db])[1])
    assert listed == [
        {"id": 1, "name": "示例工作流", "version": "1.0", "status": "draft", "tags": ["demo", "条件"]},
        {"id": 2, "name": "循环 copy", "version": "1.0", "status": "draft", "tags": ["demo", "loop"]},
    ]
    assert [w["id"] for w in json.loads(run(["list", "--json", "--tag", "loop", "--db", db])[1])] == [2]

    out = tmp_path / "exported.json"
    exported = flowdesk_process("export", "示例工作流", "-o", str(out), "--db", db, env=state_home)
    assert exported.returncode == 0, exported.stderr
    assert out.read_text(encoding="utf-8") == (EXAMPLES / "conditional.json").read_text(encoding="utf-8")
    code, by_id, _ = run(["export", "2", "--db", db])
    assert code == 0 and json.loads(by_id)["workflow"]["name"] == "循环 copy"


def test_flowdesk_db_environment_variable(run, tmp_path, state_home, monkeypatch):
    env = {**state_home, "FLOWDESK_DB": str(tmp_path / "env.db")}
    assert flowdesk_process("import", str(EXAMPLES / "parallel.json"), env=env).returncode == 0
    assert (tmp_path / "env.db").exists()
    monkeypatch.setenv("FLOWDESK_DB", str(tmp_path / "env.db"))
    assert "Parallel fan-out" in run(["list"])[1]


def test_validate_exit_codes(run, tmp_path, state_home):
    good = flowdesk_process("validate", str(EXAMPLES / "loop.json"), env=state_home)
    assert (good.returncode, good.stdout) == (0, "loop.json: no problems (4 nodes, 4 connections).\n")

    doc = json.loads((EXAMPLES / "loop.json").read_text("utf-8"))
    doc["nodes"].append({"name": "lost", "node_type": "DELAY"})
    warned_file = tmp_path / "warned.json"
    warned_file.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    code, out, _ = run(["validate", str(warned_file)])
    assert code == 0
    assert "warning: node 'lost' (nodes[4]): 'lost' cannot be reached from START, so it never runs" in out
    assert out.endswith("warned.json: 1 warning (5 nodes, 4 connections).\n")

    doc["nodes"][2]["node_type"] = "API_CAL"
    doc["connections"][0]["to"] = "each_usr"
    bad_file = tmp_path / "bad.json"
    bad_file.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    bad = flowdesk_process("validate", str(bad_file), env=state_home)
    assert bad.returncode == 1
    lines = bad.stdout.splitlines()
    assert any(
        line.startswith("bad.json, line ")
        and line.endswith("(nodes[2]), node_type: 'API_CAL' is not a node type (did you mean API_CALL?)")
        for line in lines
    ), lines
    assert any(
        line.endswith("connections[0].to: no node named 'each_usr' (did you mean 'each_user'?)")
        for line in lines
    )
    assert lines[-1].startswith("bad.json: 2 errors, ")

    code, out, _ = run(["validate", "--json", str(bad_file)])
    assert code == 1
    as_json = json.loads(out)
    assert as_json["valid"] is False and as_json["errors"] == 2
    assert {p["path"] for p in as_json["problems"] if p["severity"] == "error"} == {
        "nodes[2].node_type",
        "connections[0].to",
    }


def test_validate_malformed_json_gives_line_and_column(run, tmp_path):
    broken = tmp_path / "workflow.json"
    broken.write_text('{\n  "flowdesk": 1,\n  "workflow": {"name": "x"}\n  "nodes": []\n}', encoding="utf-8")
    code, out, _ = run(["validate", str(broken)])
    assert code == 1
    assert out.splitlines()[0] == "workflow.json, line 4, column 3: expected ',' or '}'"


def test_import_of_a_bad_file_prints_every_problem_and_stores_nothing(run, tmp_path, state_home):
    db = str(tmp_path / "cli.db")
    doc = json.loads((EXAMPLES / "conditional.json").read_text("utf-8"))
    doc["nodes"][1]["node_type"] = "CONDITON"
    doc["nodes"][2]["config"]["api_id"] = 7
    bad_file = tmp_path / "bad.json"
    bad_file.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
    result = flowdesk_process("import", str(bad_file), "--db", db, env=state_home)
    assert result.returncode == 1
    assert result.stdout == ""
    err = result.stderr.splitlines()
    assert any(
        line.endswith("(nodes[2]), config.api_id: 7 does not match any apis[].id in this file")
        for line in err
    )
    assert any("'CONDITON' is not a node type (did you mean CONDITION?)" in line for line in err)
    assert err[-1] == "flowdesk: bad.json has 2 errors; nothing was changed."
    assert json.loads(run(["list", "--json", "--db", db])[1]) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ("imprt", "x.json"),
            "flowdesk: 'imprt' is not a flowdesk command (did you mean import?). Run 'flowdesk --help' for usage.",
            id="misspelt-command",
        ),
        pytest.param(
            ("export",),
            "flowdesk export: The following arguments are required: WORKFLOW. Run 'flowdesk export --help' for usage.",
            id="missing-argument",
        ),
        pytest.param(
            ("--bogus",),
            "flowdesk: Unrecognized arguments: --bogus. Run 'flowdesk --help' for usage.",
            id="bad-option",
        ),
        pytest.param(
            ("list", "--status", "maybe"),
            "flowdesk list: --status cannot be 'maybe' (choose from draft, active). Run 'flowdesk list --help' for usage.",
            id="bad-choice",
        ),
    ],
)
def test_bad_usage_exits_2_with_one_sentence(run, tmp_path, args, message):
    code, out, err = run([*args, "--db", str(tmp_path / "x.db")] if args[0] == "list" else list(args))
    assert (code, out) == (2, "")
    assert err.strip() == message


def test_bad_usage_through_a_real_process():
    result = flowdesk_process("imprt", "x.json")
    assert result.returncode == 2
    assert result.stderr == (
        "flowdesk: 'imprt' is not a flowdesk command (did you mean import?). Run 'flowdesk --help' for usage.\n"
    )


@pytest.mark.parametrize("target", ["missing.json", "."], ids=["missing", "folder"])
@pytest.mark.parametrize("command", ["validate", "import"])
def test_unreadable_input_exits_2(run, tmp_path, command, target):
    path = tmp_path / target
    code, out, err = run([command, str(path), "--db", str(tmp_path / "x.db")])
    assert (code, out) == (2, "")
    reason = "there is no such file" if target != "." else "it is a folder, not a file"
    assert err == f"flowdesk: Cannot read {path}: {reason}.\n"


def test_unreadable_input_through_a_real_process(tmp_path, state_home):
    result = flowdesk_process("validate", str(tmp_path / "missing.json"), env=state_home)
    assert result.returncode == 2
    assert result.stderr == f"flowdesk: Cannot read {tmp_path / 'missing.json'}: there is no such file.\n"


def test_export_of_an_unknown_workflow_exits_2(run, tmp_path):
    code, _, err = run(["export", "nobody", "--db", str(tmp_path / "x.db"), "-o", str(tmp_path / "o.json")])
    assert code == 2
    assert err == "flowdesk: No workflow has the id or name 'nobody'.\n"
    assert not (tmp_path / "o.json").exists()


def test_a_broken_database_is_one_sentence_and_a_logged_traceback(tmp_path, state_home):
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not a database file, just text " * 20)
    result = flowdesk_process("list", "--db", str(corrupt), env=state_home)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith(
        "flowdesk: the database cannot be used: file is not a database; the details are in "
    )
    log_file = Path(result.stderr.rsplit(" in ", 1)[1].strip().rstrip("."))
    assert log_file.is_relative_to(tmp_path / "state")
    assert "Traceback" in log_file.read_text(encoding="utf-8")


def test_main_py_and_version(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--version"], capture_output=True, text=True, timeout=60
    )
    assert (result.returncode, result.stdout.strip()) == (0, "flowdesk 0.1.0")


# -- in-process: which arguments open the desktop app ---------------------------------------------


@pytest.fixture
def fake_app(monkeypatch):
    calls: list[list[str]] = []

    def app_main(argv):
        calls.append(argv)
        return 0

    monkeypatch.setitem(sys.modules, "flowdesk.ui.app", types.SimpleNamespace(main=app_main))
    return calls


@pytest.mark.parametrize(
    "argv",
    [[], ["workflow.json"], ["--db", "x.db"], ["--db=x.db", "w.json"]],
    ids=["no-arguments", "a-file", "db-only", "db-and-file"],
)
def test_arguments_that_open_the_desktop_app(fake_app, argv):
    assert cli.main(argv) == 0
    assert fake_app == [argv]


def test_subcommands_do_not_open_the_app(fake_app, capsys):
    assert cli.main(["validate", str(EXAMPLES / "loop.json")]) == 0
    assert fake_app == []
    assert "no problems" in capsys.readouterr().out


def test_every_subcommand_takes_db():
    parser = cli.build_parser()
    (subparsers,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(subparsers.choices) >= {"import", "export", "validate", "list"}
    for name, sub in subparsers.choices.items():
        if name in ("demo-server", "new"):  # the demo API; a file from a template: no database to name
            continue
        assert any("--db" in action.option_strings for action in sub._actions), name
    args = parser.parse_args(["export", "7", "-o", "x.json", "--db", "some.db"])
    assert (args.workflow, args.output, args.db) == ("7", "x.json", "some.db")


def test_table_aligns_wide_characters():
    table = cli.format_table(("ID", "NAME"), [("1", "示例"), ("22", "ab")])
    assert table.splitlines() == ["ID  NAME", "1   示例", "22  ab"]


def test_validate_never_creates_a_database(run, tmp_path):
    db = tmp_path / "not-yet.db"
    code, out, _ = run(["validate", str(EXAMPLES / "conditional.json"), "--db", str(db)])
    assert code == 0 and "no problems" in out
    assert not db.exists()


def test_validate_knows_custom_node_types_of_an_existing_database(run, tmp_path):
    from flowdesk.services import NodeTypeService
    from flowdesk.store import Database

    doc = json.loads((EXAMPLES / "loop.json").read_text("utf-8"))
    doc["nodes"][2]["node_type"] = "CUSTOM_PROCESSOR"
    custom = tmp_path / "custom.json"
    custom.write_text(json.dumps(doc), encoding="utf-8")
    db = tmp_path / "types.db"
    assert run(["validate", str(custom), "--db", str(db)])[0] == 1
    with Database(db) as database:  # its handler must be found too (tests/cli/test_cli_node_types.py)
        NodeTypeService(database).register_node_type(
            "CUSTOM_PROCESSOR", execution_handler="tests.support.node_handlers:shout"
        )
    code, out, _ = run(["validate", str(custom), "--db", str(db)])
    assert (code, out.splitlines()[-1]) == (0, "custom.json: no problems (4 nodes, 4 connections).")


def test_validate_enforces_a_registered_custom_types_config_schema(run, tmp_path):
    """The seed's registration body with its short-form config_schema: `validate` reports each
    missing or wrong-typed field, located, and the handler it cannot find (the seed's
    `custom_handlers` is no module here), and passes the file once the config fits and the handler
    names a function that exists."""
    from flowdesk.services import NodeTypeService
    from flowdesk.store import Database

    doc = json.loads((EXAMPLES / "loop.json").read_text("utf-8"))
    doc["nodes"][2]["node_type"] = "DATA_PROCESSOR"
    doc["nodes"][2]["config"] = {"processor_type": ["csv"]}
    custom = tmp_path / "custom.json"
    custom.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    db = tmp_path / "types.db"
    with Database(db) as database:
        NodeTypeService(database).register_node_type(
            "DATA_PROCESSOR",
            "数据处理节点",
            {"processor_type": "string", "parameters": "object"},
            "custom_handlers.data_processor",
        )
    code, out, _ = run(["validate", str(custom), "--db", str(db), "--json"])
    found = [(p["path"], p["message"]) for p in json.loads(out)["problems"] if p["severity"] == "error"]
    assert code == 1 and found == [
        ("nodes[2].config.parameters", "a DATA_PROCESSOR needs a parameters (an object)"),
        ("nodes[2].config.processor_type", "expected text, found a list"),
        (
            "nodes[2].node_type",
            "node type 'DATA_PROCESSOR' cannot run: its handler 'custom_handlers.data_processor' is neither "
            "installed (entry-point group flowdesk.node_handlers), registered, nor a function that can be "
            "imported",
        ),
    ], out
    with Database(db) as database:
        NodeTypeService(database).register_node_type(
            "DATA_PROCESSOR",
            "数据处理节点",
            {"processor_type": "string", "parameters": "object"},
            "tests.support.node_handlers.shout",
        )
    doc["nodes"][2]["config"] = {"processor_type": "csv", "parameters": {"sep": ";"}}
    custom.write_text(json.dumps(doc), encoding="utf-8")
    code, out, _ = run(["validate", str(custom), "--db", str(db)])
    assert (code, out.splitlines()[-1]) == (0, "custom.json: no problems (4 nodes, 4 connections).")


def test_registering_an_unusable_config_schema_is_refused_in_one_sentence(tmp_path):
    from flowdesk.domain.errors import InvalidInputError
    from flowdesk.services import NodeTypeService
    from flowdesk.store import Database

    with Database(tmp_path / "t.db") as database:
        service = NodeTypeService(database)
        with pytest.raises(InvalidInputError) as refused:
            service.register_node_type("DATA_PROCESSOR", config_schema={"processor_type": "txt"})
        assert str(refused.value) == (
            "Node type 'DATA_PROCESSOR': config_schema.processor_type: 'txt' is not a type "
            "(use one of string, number, integer, boolean, object, array, null, or a JSON Schema object)."
        )
        assert service.list_node_types() == []
