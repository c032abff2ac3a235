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

