"""Regenerate docs/screenshot-editor.png: the editor with the conditional example, offscreen, in
the default layout, an API call selected in the inspector.

Run: `python docs/make_screenshots.py` (uses a throw-away database, settings and autosave folder).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> Path:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from flowdesk.ui.app import application, build_window

    tmp = Path(tempfile.mkdtemp(prefix="flowdesk-shot-"))
    settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
    application()
    window = build_window(
        ["--db", str(tmp / "shot.db"), str(ROOT / "resources" / "examples" / "conditional.json")],
        settings=settings,
        autosave_dir=tmp / "autosave",
    )
    window.resize(1440, 900)
    window.show()
    for path in ("parallel.json", "loop.json"):
        example = ROOT / "resources" / "examples" / path
        if example.exists():
            window.backend.transfer.import_file(example)
    window.browser.refresh()
    for _ in range(3):
        QApplication.processEvents()
    tab = window.current_tab()
    tab.fit_to_view()
    call = next(n for n in tab.doc.nodes() if n.node_type == "API_CALL")  # the fullest form
    tab.doc.set_selection([call.uid])
    tab.validation.run()
    for _ in range(5):
        QApplication.processEvents()
    out = ROOT / "docs" / "screenshot-editor.png"
    window.grab().save(str(out))
    return out


if __name__ == "__main__":
    print(main())
