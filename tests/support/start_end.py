"""The smallest workflow file, START → END, as the start-up tests and `flowdesk run`'s own-process
tests write it (benchmarks/bench_startup.py times the same file)."""

from __future__ import annotations

import json
from pathlib import Path

START_END = {
    "flowdesk": 1,
    "workflow": {"name": "start-end"},
    "nodes": [
        {"name": "start", "node_type": "START", "position_x": 0, "position_y": 0},
        {"name": "end", "node_type": "END", "position_x": 300, "position_y": 0},
    ],
    "connections": [{"from": "start", "to": "end"}],
}


def start_end_file(folder: Path) -> Path:
    """START_END written to FOLDER/start-end.json; its path."""
    path = folder / "start-end.json"
    path.write_text(json.dumps(START_END), encoding="utf-8")
    return path
