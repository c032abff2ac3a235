"""No module of the package reads another module's private names (issue 15, item 3).

Reported, with file and line: `from flowdesk.x import _name` (or the relative form) in any module
other than flowdesk/x itself, and `module._name` where `module` is a name bound to one of the
package's own modules (`from flowdesk import cli`, `import flowdesk.engine.executor as ex`, ...) in
another module. Dunder names (`__version__`, `__all__`) are public. A package's `__init__.py` may
re-export its own submodules' private names (they are its own).

Private attributes of *objects* (`executor._database`) cannot be seen without types; those are
kept out by review and by giving the seam a public name.
"""

from __future__ import annotations

import ast
from pathlib import Path


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _module_name(package: Path, path: Path) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(current: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module name an ImportFrom reads from."""
    if not node.level:
        return node.module or ""
    base = current.split(".")
    if not is_package:
        base = base[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _is_module(package: Path, dotted: str) -> bool:
    root = package.name
    if dotted != root and not dotted.startswith(root + "."):
        return False
    rel = Path(*dotted.split(".")[1:]) if "." in dotted else Path()
    return (package / rel).with_suffix(".py").is_file() or (package / rel / "__init__.py").is_file()


def _owns(current: str, is_package: bool, source: str) -> bool:
    """Whether `current` may read `source`'s private names: itself, or a package its submodule."""
    return source == current or (is_package and source.startswith(current + "."))


def private_reach_ins(package: Path) -> list[str]:
    """`path:line: what` for every private name of one package module read in another."""
    found: list[str] = []
    for path in sorted(package.rglob("*.py")):
        current = _module_name(package, path)
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        modules: dict[str, str] = {}  # a local name -> the package module it is bound to
        where = path.relative_to(package.parent)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = _resolve(current, is_package, node)
                if not _is_module(package, source):
                    continue
                for alias in node.names:
                    child = f"{source}.{alias.name}"
                    if _is_module(package, child):
                        modules[alias.asname or alias.name] = child
                    if _is_private(alias.name) and not _owns(current, is_package, source):
                        found.append(f"{where}:{node.lineno}: imports {alias.name} from {source}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname and _is_module(package, alias.name):
                        modules[alias.asname] = alias.name
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in modules
                and _is_private(node.attr)
                and not _owns(current, is_package, modules[node.value.id])
            ):
                found.append(f"{where}:{node.lineno}: reads {modules[node.value.id]}.{node.attr}")
    return found
