"""The layer rules of docs/architecture.md, read from its table and checked against a package's imports.

A *part* is a top-level entry of the package: a subpackage (`domain`), a module (`cli`, `api`), the
package's own `__init__.py` (named after the package). The table's last column says which parts a
part may import: `nothing` or backticked names, then optional clauses `; any part may import it`
(a shared helper) and `; standard library only` (no third-party imports either).

Every import counts: `import`/`from` statements anywhere in a file (inside functions too, where the
lazy imports are), relative ones resolved, and string constants that name a module of the package
(`importlib.import_module("flowdesk.engine.executor")`, lazy re-export tables; the bare package name
is not counted, being also the program's name).
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

QT_MODULES = frozenset({"PySide6", "shiboken6", "qasync"})
LAYERS_HEADING = "## Layers and who may import whom"


@dataclass(frozen=True)
class Rule:
    may_import: frozenset[str]
    shared: bool = False  # any part may import it
    stdlib_only: bool = False


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    part: str  # the importing part
    target: str  # the module named, as written (resolved when relative)


def read_rules(doc_text: str, package: str = "flowdesk") -> dict[str, Rule]:
    """The table under the layers heading: {part: Rule}."""
    section = doc_text.split(LAYERS_HEADING, 1)[1].split("\n## ", 1)[0]
    rules: dict[str, Rule] = {}
    for line in section.splitlines():
        row = re.match(rf"\|\s*`{package}/([^`]+)`\s*\|(.*)\|(.*)\|\s*$", line)
        if row is None:
            continue
        location, allowed = row.group(1), row.group(3).strip()
        part = package if location == "__init__.py" else location.rstrip("/").removesuffix(".py")
        clauses = [c.strip() for c in allowed.split(";")]
        names = frozenset(re.findall(r"`([^`]+)`", clauses[0]))
        if not names and clauses[0] != "nothing":
            raise ValueError(f"the row of {part} says neither 'nothing' nor which parts: {allowed!r}")
        extra = set(clauses[1:])
        unknown = extra - {"any part may import it", "standard library only"}
        if unknown:
            raise ValueError(f"the row of {part} has a clause the check does not know: {sorted(unknown)}")
        rules[part] = Rule(names, "any part may import it" in extra, "standard library only" in extra)
    if not rules:
        raise ValueError("no layer table found under " + LAYERS_HEADING)
    return rules


def parts_of(package_dir: Path) -> dict[str, Path]:
    """{part name: path} for the package's top-level entries that hold Python."""
    parts = {}
    for entry in sorted(package_dir.iterdir()):
        if entry.is_dir() and (entry / "__init__.py").exists():
            parts[entry.name] = entry
        elif entry.suffix == ".py":
            parts[package_dir.name if entry.stem == "__init__" else entry.stem] = entry
    return parts


def _module_name(path: Path, root: Path) -> str:
    relative = path.relative_to(root.parent).with_suffix("")
    names = list(relative.parts)
    if names[-1] == "__init__":
        names.pop()
    return ".".join(names)


def imports_of(package_dir: Path) -> list[Import]:
    """Every import of every .py file under the package, with the part it is made from."""
    package = package_dir.name
    known_modules = {_module_name(p, package_dir) for p in package_dir.rglob("*.py")}
    found = []
    for path in sorted(package_dir.rglob("*.py")):
        relative = path.relative_to(package_dir)
        part = relative.parts[0] if len(relative.parts) > 1 else path.stem
        if part == "__init__":
            part = package
        part = part.removesuffix(".py")
        module = _module_name(path, package_dir)
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = module.split(".") if is_package else module.split(".")[:-1]
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                # `from flowdesk import cli` imports the module flowdesk.cli, not the package's __init__.
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in known_modules else base
                    for alias in node.names
                ]
            elif (
                isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in known_modules
            ):
                # A dotted module name; the bare package name is also the app's name in paths and prompts.
                targets = [node.value] if "." in node.value else []
            found.extend(Import(path, node.lineno, part, target) for target in dict.fromkeys(targets))
    return found


def target_part(target: str, package: str) -> str | None:
    """The part a module name belongs to (None when it is not of the package)."""
    names = target.split(".")
    if names[0] != package:
        return None
    return names[1] if len(names) > 1 else package


def violations(package_dir: Path, rules: dict[str, Rule], *, qt_part: str = "ui") -> list[str]:
    """One sentence per broken rule (an empty list when the package keeps every rule)."""
    package = package_dir.name
    parts = parts_of(package_dir)
    problems = [f"{name} is not in the layer table" for name in parts if name not in rules]
    problems += [
        f"the layer table names {name}, which the package does not have"
        for name in rules
        if name not in parts
    ]
    for name, rule in rules.items():
        problems += [
            f"the row of {name} allows {other}, which is not a part"
            for other in sorted(rule.may_import - set(rules))
        ]
    shared = {name for name, rule in rules.items() if rule.shared}
    stdlib = sys.stdlib_module_names
    for found in imports_of(package_dir):
        where = f"{found.path.relative_to(package_dir.parent)}:{found.line}"
        top = found.target.split(".")[0]
        if top in QT_MODULES and found.part != qt_part:
            problems.append(f"{where}: {found.part} imports Qt ({found.target}); only {qt_part} may")
        rule = rules.get(found.part)
        if rule is None:
            continue
        if rule.stdlib_only and top != package and top not in stdlib:
            problems.append(
                f"{where}: {found.part} imports {found.target}; it may use the standard library only"
            )
        other = target_part(found.target, package)
        if other is None or other == found.part or other in shared:
            continue
        if other not in rule.may_import:
            problems.append(
                f"{where}: {found.part} imports {found.target}, but {found.part} may not import {other}"
            )
    return problems
