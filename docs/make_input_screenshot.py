"""Regenerate docs/screenshot-run-input.png (offscreen): the run dialog of the loop example, a form
of the inputs it declares (`workflow.config.inputs`), with one value typed and the other taking its
default, as F5 shows it.

    python docs/make_input_screenshot.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

import flowdesk.ui  # noqa: E402,F401  (the None refcount guard before any painting)
from flowdesk.domain.workflow_inputs import declared_inputs  # noqa: E402
from flowdesk.ui.run.input_dialog import RunInputDialog, RunInputStore  # noqa: E402


def main() -> None:
    app = QApplication.instance() or QApplication([])
    document = json.loads((ROOT / "resources" / "examples" / "loop.json").read_text(encoding="utf-8"))
    workflow = document["workflow"]
    with tempfile.TemporaryDirectory() as folder:
        settings = QSettings(str(Path(folder) / "settings.ini"), QSettings.Format.IniFormat)
        dialog = RunInputDialog(
            RunInputStore(settings),
            1,
            workflow["name"],
            inputs=declared_inputs(workflow["config"]),
            declared=True,
            environments=["default"],
            active_environment="default",
        )
        dialog.resize(600, 380)
        dialog.show()
        dialog.form.editors["user_ids"].setText("[4, 5]")
        dialog.form.edited.emit()
        app.processEvents()
        out = ROOT / "docs" / "screenshot-run-input.png"
        dialog.grab().save(str(out))
        print(f"wrote {out}")
        dialog.close()


if __name__ == "__main__":
    main()
