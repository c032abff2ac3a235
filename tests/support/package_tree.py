"""A throwaway package on disk, for the tests of the checkers that read the package's source
(tests/support/layers.py, sql_owner.py, private_names.py)."""

from __future__ import annotations

from pathlib import Path


def make_package(tmp_path: Path, files: dict[str, str]) -> Path:
    """`tmp_path/pkg` holding `files` (a path inside the package -> its text)."""
    package = tmp_path / "pkg"
    for name, text in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return package
