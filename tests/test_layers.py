"""docs/architecture.md's layer table is the rule: every import in flowdesk/ keeps it (tests/support/layers.py).

The checker itself is tried on temporary package trees, so a forbidden import is known to fail it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.layers import imports_of, read_rules, violations
from tests.support.package_tree import make_package
from tests.support.sql_owner import sql_outside_store

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"


def test_flowdesk_keeps_every_rule_of_the_layer_table():
    rules = read_rules(DOC.read_text(encoding="utf-8"))
    assert {"domain", "store", "interchange", "services", "engine", "ui", "server"} <= set(rules)
    assert violations(ROOT / "flowdesk", rules) == []


def test_the_table_says_what_the_code_relies_on():
    rules = read_rules(DOC.read_text(encoding="utf-8"))
    assert rules["domain"].may_import == frozenset()
    assert rules["interchange"].may_import == {"domain"}
    assert rules["services"].may_import == {"domain", "store", "interchange"}
    assert "ui" not in rules["server"].may_import and "ui" not in rules["engine"].may_import
    assert rules["gc_control"].shared and rules["display_check"].stdlib_only


# -- the checker on a package of its own -----------------------------------------------------------

TABLE = """\
# pkg

## Layers and who may import whom

| part | what it holds | may import (of ours) |
| --- | --- | --- |
| `pkg/domain/` | values | nothing |
| `pkg/store/` | tables | `domain` |
| `pkg/services/` | use cases | `domain`, `store` |
| `pkg/ui/` | Qt only here | `domain`, `store`, `services` |
| `pkg/cli.py` | the command | `services`, `pkg` |
| `pkg/__init__.py` | the package | `domain` |
| `pkg/helpers.py` | shared | nothing; any part may import it |
| `pkg/probe.py` | a window check | nothing; standard library only; any part may import it |

## Next section

| `pkg/ignored/` | a table elsewhere | `ui` |
"""

CLEAN = {
    "__init__.py": "",
    "domain/__init__.py": "from pkg import helpers\n",
    "domain/values.py": "import json\nfrom . import __name__ as _n\n",
    "store/__init__.py": "from pkg.domain import values\n",
    "services/__init__.py": "from ..store import values as v\n",
    "services/use.py": "def later():\n    from pkg.domain.values import json\n",
    "ui/__init__.py": "import PySide6\nfrom pkg.services import use\n",
    "cli.py": "import pkg\nfrom pkg import helpers\nfrom pkg.services.use import later\n",
    "helpers.py": "",
    "probe.py": "import importlib.util\n",
}


def check(tmp_path: Path, changes: dict[str, str]) -> list[str]:
    package = make_package(tmp_path, {**CLEAN, **changes})
    return violations(package, read_rules(TABLE, package="pkg"))


def test_a_package_that_keeps_the_table_passes(tmp_path):
    assert check(tmp_path, {}) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # a lower layer importing a higher one, in each spelling
        (
            {"domain/values.py": "from pkg.store import x\n"},
            "pkg/domain/values.py:1: domain imports pkg.store",
        ),
        (
            {"store/__init__.py": "import pkg.services.use\n"},
            "store imports pkg.services.use, but store may not",
        ),
        ({"store/__init__.py": "from ..services import use\n"}, "store imports pkg.services"),
        (
            {"domain/values.py": "from pkg import cli\n"},
            "domain imports pkg.cli, but domain may not import cli",
        ),
        # inside a function: a lazy import counts
        (
            {"services/use.py": "def f():\n    from pkg.ui import x\n"},
            "pkg/services/use.py:2: services imports pkg.ui",
        ),
        # named by a string: importlib, lazy export tables
        ({"domain/values.py": 'LAZY = {"X": "pkg.services.use"}\n'}, "domain imports pkg.services.use"),
        # the package's __init__ is a part of its own
        (
            {"store/__init__.py": "from pkg import anything\n"},
            "store imports pkg, but store may not import pkg",
        ),
        # Qt outside ui
        ({"services/use.py": "from PySide6.QtCore import QObject\n"}, "services imports Qt (PySide6.QtCore)"),
        ({"cli.py": "import qasync\n"}, "cli imports Qt (qasync)"),
        # a shared helper that reaches into a layer, or a standard-library-only one that does not keep to it
        (
            {"helpers.py": "from pkg.domain import values\n"},
            "helpers imports pkg.domain.values, but helpers may not import domain",
        ),
        ({"probe.py": "import yaml\n"}, "probe imports yaml; it may use the standard library only"),
        # a part the table does not know
        ({"worker/__init__.py": "\n"}, "worker is not in the layer table"),
        ({"tool.py": "\n"}, "tool is not in the layer table"),
    ],
)
def test_a_forbidden_import_is_reported_where_it_is(tmp_path, changes, expected):
    found = check(tmp_path, changes)
    assert len(found) == 1 and expected in found[0], found


def test_a_row_for_a_part_that_is_gone_is_reported(tmp_path):
    package = make_package(tmp_path, {k: v for k, v in CLEAN.items() if k != "probe.py"})
    assert violations(package, read_rules(TABLE, package="pkg")) == [
        "the layer table names probe, which the package does not have"
    ]


def test_a_row_naming_an_unknown_part_or_clause_is_refused(tmp_path):
    package = make_package(tmp_path, CLEAN)
    typo = TABLE.replace("`domain`, `store` |", "`domain`, `stroe` |")
    assert violations(package, read_rules(typo, package="pkg")) == [
        "the row of services allows stroe, which is not a part",
        "pkg/services/__init__.py:1: services imports pkg.store, but services may not import store",
    ]
    with pytest.raises(ValueError, match="clause the check does not know"):
        read_rules(TABLE.replace("any part may import it |", "any part may use it |", 1), package="pkg")
    with pytest.raises(ValueError, match="no layer table"):
        read_rules("## Layers and who may import whom\n\nprose only\n", package="pkg")


def test_relative_imports_resolve_from_a_module_and_from_a_package(tmp_path):
    package = make_package(
        tmp_path,
        {
            **CLEAN,
            "services/deep/__init__.py": "from ... import store\nfrom .. import use\n",
            "services/deep/leaf.py": "from ..use import later\nfrom ...domain import values\n",
        },
    )
    found = {(i.path.name, i.target) for i in imports_of(package) if "deep" in str(i.path)}
    assert found == {
        ("__init__.py", "pkg.store"),
        ("__init__.py", "pkg.services.use"),
        ("leaf.py", "pkg.services.use"),
        ("leaf.py", "pkg.domain.values"),
    }


# -- one owner for persistence: SQL text and database branches live in store/ only --------------------


def test_only_the_store_knows_sql_and_dialects():
    assert sql_outside_store(ROOT / "flowdesk") == []


def test_the_architecture_page_names_no_folder_besides_the_store_that_holds_sql():
    """The monitor's SQL was the last exception (issue 15); the page must not promise another."""
    section = DOC.read_text(encoding="utf-8").split("## One owner for persistence", 1)[1].split("\n## ", 1)[0]
    assert "flowdesk/services/monitoring/" not in section
    assert "store/monitor/" in section


def test_sql_put_back_into_the_monitors_services_is_reported(tmp_path):
    """A copy of the real services/monitoring/ with one query written back into it fails the check."""
    package = tmp_path / "flowdesk"
    shutil.copytree(ROOT / "flowdesk" / "services" / "monitoring", package / "services" / "monitoring")
    assert sql_outside_store(package) == []
    stats = package / "services" / "monitoring" / "execution_stats.py"
    stats.write_text(
        stats.read_text(encoding="utf-8")
        + '\n\ndef total(conn, workflow_id):\n    return conn.execute("SELECT COUNT(*) FROM workflow_executions")\n',
        encoding="utf-8",
    )
    trends = package / "services" / "monitoring" / "trends.py"
    trends.write_text(
        trends.read_text(encoding="utf-8") + '\n\nPG = lambda conn: conn.dialect.name == "postgresql"\n',
        encoding="utf-8",
    )
    found = sql_outside_store(package)
    assert sorted(f.split(": ", 1)[1] for f in found) == [
        "SQL text (SELECT COUNT(*) ...) outside store/",
        "compares with 'postgresql' (a database branch) outside store/",
        "reads .dialect (a database branch) outside store/",
    ], found
    assert found[0].startswith("flowdesk/services/monitoring/execution_stats.py:")


def sql_check(tmp_path: Path, text: str) -> list[str]:
    package = make_package(
        tmp_path,
        {
            "store/rows.py": 'ROWS = "SELECT id FROM t"\n',
            "engine/__init__.py": "",
            "engine/run.py": text,
        },
    )
    return sql_outside_store(package)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('sql = "INSERT INTO t (a) VALUES (?)"\n', "pkg/engine/run.py:1: SQL text (INSERT INTO ...)"),
        (
            'x = 1\ncur.execute("UPDATE workflow_executions SET status = ?", s)\n',
            "run.py:2: SQL text (UPDATE workflow_executions",
        ),
        (
            'q = (\n    "SELECT status"\n    " FROM t WHERE id = ?"\n)\n',
            "run.py:2: SQL text (SELECT status ...)",
        ),
        ('q = f"DELETE FROM {table} WHERE id = ?"\n', "SQL text (DELETE FROM ...)"),
        ('q = f"SELECT {cols} FROM {table}"\n', "SQL text (SELECT"),
        ("def f(conn):\n    return conn.dialect.name\n", "run.py:2: reads .dialect"),
        ("ok = db.is_sqlite\n", "reads .is_sqlite"),
        ("raw = conn.connection.driver_connection\n", "reads .driver_connection"),
        ('if backend == "postgresql":\n    pass\n', "compares with 'postgresql'"),
        ('fast = "sqlite" != name\n', "compares with 'sqlite'"),
    ],
)
def test_sql_or_a_dialect_branch_outside_the_store_is_reported_where_it_is(tmp_path, text, expected):
    found = sql_check(tmp_path, text)
    assert len(found) == 1 and expected in found[0], found


@pytest.mark.parametrize(
    "text",
    [
        # docstrings and comments say what a function does in SQL's words
        'def f():\n    """One conditional UPDATE workflow_executions SET ..., then SELECT status FROM it."""\n',
        '"""Module: INSERT INTO audit_log happens in the store."""\n',
        "# SELECT id FROM t is the store's\nx = 1\n",
        # prose in lower case, SQL words alone, the names of the backends as values
        'msg = "select a node from the list, then update it"\n',
        'help = "runs one conditional UPDATE per claim; FOR UPDATE locks the row"\n',
        'BACKENDS = ("sqlite", "postgresql")\nurl = "postgresql+psycopg://host/db"\n',
        # a dialect attribute of something that is not a database is still read by name only
        "dialects = {}\n",
    ],
)
def test_what_only_talks_about_sql_is_not_reported(tmp_path, text):
    assert sql_check(tmp_path, text) == []


def test_the_store_may_hold_sql_at_any_depth_and_nothing_else_may(tmp_path):
    package = make_package(
        tmp_path,
        {
            "store/deep/rows.py": 'Q = "DELETE FROM t"\nif conn.dialect.name == "sqlite":\n    pass\n',
            "services/monitoring/q.py": 'Q = "SELECT a FROM t"\n',
            "services/use.py": 'Q = "SELECT a FROM t"\n',
        },
    )
    assert sql_outside_store(package) == [
        "pkg/services/monitoring/q.py:1: SQL text (SELECT a ...) outside store/",
        "pkg/services/use.py:1: SQL text (SELECT a ...) outside store/",
    ]
