"""Where the repository and its example workflows (resources/examples/*.json) are."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "resources" / "examples"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.json"))
