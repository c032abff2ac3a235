"""Installed distributions made in a test's folder: a package with template files and its
.dist-info (METADATA, entry_points.txt in the group `flowdesk.templates`), as pip would leave them."""

from __future__ import annotations

import json
from pathlib import Path

from flowdesk.interchange.templates import BUILTIN_DIR


def make_dist(root: Path, name: str, value: str, files: dict[str, str], module_code: str) -> Path:
    """A tiny installed distribution: package `name` with `files`, and its entry point `value`."""
    package = root / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(module_code, encoding="utf-8")
    for relative, text in files.items():
        path = package / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    info = root / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[flowdesk.templates]\n{name} = {value}\n", encoding="utf-8")
    return root


def template_text(title: str) -> str:
    document = json.loads((BUILTIN_DIR / "login-and-call.json").read_text(encoding="utf-8"))
    document["workflow"]["name"] = title
    return json.dumps(document, indent=2)
