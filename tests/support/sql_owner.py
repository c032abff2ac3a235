"""Who may know SQL (docs/architecture.md, "One owner for persistence"): only `store/`.

A module elsewhere in the package is reported when a string in its code (not a docstring; comments
are not strings) holds a SQL statement, `INSERT INTO`, `UPDATE <table> SET`, `DELETE FROM` or
`SELECT ... FROM` (upper case, as flowdesk writes SQL; prose in lower case is not SQL), or when it
branches on the database: reads `.dialect`, `.is_sqlite` or the driver's own connection
(`.driver_connection`, `.dbapi_connection`, `exec_driver_sql`), or compares a value with the text
"sqlite" or "postgresql". f-strings count by their literal parts.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

SQL_STATEMENT = re.compile(
    r"\bINSERT\s+INTO\b|\bUPDATE\s+\w+\s+SET\b|\bDELETE\s+FROM\b|\bSELECT\b[\s\S]*?\bFROM\b"
)
DIALECT_ATTRIBUTES = frozenset(
    {"dialect", "is_sqlite", "driver_connection", "dbapi_connection", "exec_driver_sql"}
)
DIALECT_NAMES = frozenset({"sqlite", "postgresql"})


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string nodes that are docstrings (of the module, a class or a function)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _text_of(node: ast.AST) -> str | None:
    """The literal text of a string constant or f-string (its placeholders as a space)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else " " for v in node.values)
    return None


def problems_in(path: Path, shown_as: str) -> list[str]:
    """What in one module knows SQL or the database's dialect, as `shown_as:line: ...` sentences."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    docstrings = _docstrings(tree)
    inside_fstring = {
        id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values
    }
    found: list[str] = []
    for node in ast.walk(tree):
        if id(node) in docstrings or id(node) in inside_fstring:
            continue
        text = _text_of(node)
        if text is not None:
            statement = SQL_STATEMENT.search(text)
            if statement is not None:
                words = " ".join(statement.group(0).split()[:2])
                found.append(f"{shown_as}:{node.lineno}: SQL text ({words} ...) outside store/")
            continue
        if isinstance(node, ast.Attribute) and node.attr in DIALECT_ATTRIBUTES:
            found.append(f"{shown_as}:{node.lineno}: reads .{node.attr} (a database branch) outside store/")
        elif isinstance(node, ast.Compare):
            for side in (node.left, *node.comparators):
                if isinstance(side, ast.Constant) and side.value in DIALECT_NAMES:
                    found.append(
                        f"{shown_as}:{node.lineno}: compares with {side.value!r} (a database branch) outside store/"
                    )
    return sorted(set(found), key=lambda s: (s.split(":")[0], int(s.split(":")[1])))


def sql_outside_store(package: Path) -> list[str]:
    """Every problem of every module of `package` outside its `store/` (no folder is exempt)."""
    found: list[str] = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package).as_posix()
        if relative.startswith("store/"):
            continue
        found.extend(problems_in(path, f"{package.name}/{relative}"))
    return found
