"""tests/ is arranged as the package is (docs/architecture.md, "Tests"): each folder of tests
mirrors a package or module of flowdesk, and the tests that drive Qt widgets live under tests/ui."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"

#: Folders with no flowdesk package of their own: what they test instead.
OTHER_HOMES = {
    ".": "the whole package (layers, start-up imports, library internals)",
    "templates": "resources/templates",
}
#: Qt tests outside tests/ui, each for a reason: the app driven against real worker processes
#: needs tests/worker's Redis and Celery fixtures.
QT_ELSEWHERE = {
    "worker/test_app_runs_on_workers.py",
    "worker/test_workers_panel.py",
}


def _test_files() -> list[Path]:
    return sorted(p for p in TESTS.rglob("test_*.py") if "support" not in p.relative_to(TESTS).parts)


def _uses_qt_widgets(path: Path) -> bool:
    """Whether a test module asks for pytest-qt's `qtbot` (the mark of a widget test)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if any(a.arg == "qtbot" for a in node.args.args):
                return True
    return False


def test_every_test_folder_mirrors_a_package_or_module():
    homeless = []
    for folder in sorted({p.parent for p in _test_files()}):
        rel = folder.relative_to(TESTS).as_posix()
        package = ROOT / "flowdesk" / rel
        if rel in OTHER_HOMES or package.is_dir() or package.with_suffix(".py").is_file():
            continue
        homeless.append(rel)
    assert homeless == [], f"test folders with no flowdesk package or module of that name: {homeless}"


def test_widget_tests_live_under_tests_ui():
    elsewhere = [
        p.relative_to(TESTS).as_posix()
        for p in _test_files()
        if p.relative_to(TESTS).parts[0] != "ui" and _uses_qt_widgets(p)
    ]
    assert sorted(set(elsewhere) - QT_ELSEWHERE) == []


def _module_of(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports_of_tests(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in `path` of a module under tests/ (relative ones resolved);
    `root` is the folder that holds tests/."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_of(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from tests.support import nginx`: the names may be modules of that package
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return [(line, module) for line, module in found if module == "tests" or module.startswith("tests.")]


def shared_only(module: str) -> bool:
    """What a test module may import of tests/: tests/support and the conftest.py files."""
    return module.startswith("tests.support.") or ".conftest." in module + "." or module == "tests.support"


def import_problems(tests: Path) -> list[str]:
    problems = []
    for path in sorted(tests.rglob("*.py")):
        for line, module in _imports_of_tests(path, tests.parent):
            if not shared_only(module):
                problems.append(f"{path.relative_to(tests.parent).as_posix()}:{line} imports {module}")
    return problems


def test_test_modules_share_helpers_only_through_tests_support_and_conftest():
    """A helper two test modules need lives in tests/support (or is a conftest.py fixture); a test
    module is never imported by another (its fixtures and names would run twice and drift)."""
    assert import_problems(TESTS) == []


def test_an_import_of_another_test_module_is_reported_where_it_is(tmp_path):
    tests = tmp_path / "tests"
    files = {
        "__init__.py": "",
        "support/__init__.py": "",
        "support/helpers.py": "def helper():\n    return 1\n",
        "engine/__init__.py": "",
        "engine/conftest.py": "import pytest\n",
        "engine/test_a.py": "from tests.support.helpers import helper\nfrom .conftest import pytest\n",
        "engine/test_b.py": "import json\n\nfrom tests.engine.test_a import helper\n",
        "ui/test_c.py": "from ..engine import test_a\n",
        "ui/test_d.py": "def f():\n    from tests.support import helpers\n    from tests.engine.test_b import json\n",
    }
    for name, text in files.items():
        (tests / name).parent.mkdir(parents=True, exist_ok=True)
        (tests / name).write_text(text, encoding="utf-8")
    assert import_problems(tests) == [
        "tests/engine/test_b.py:3 imports tests.engine.test_a.helper",
        "tests/ui/test_c.py:1 imports tests.engine.test_a",
        "tests/ui/test_d.py:3 imports tests.engine.test_b.json",
    ]
