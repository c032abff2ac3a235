"""Running and debugging workflows in the editor (issue 5).

Data flows one way: engine events -> `QtEventAdapter` (the one Qt adapter) -> `RunState` (one per
execution) -> the canvas overlays, the log dock, the data inspector and the status bar mirror it.
`install_run_ui(window)` wires all of it into a MainWindow.
"""

from __future__ import annotations

from .run_ui import RunDebugUI, install_run_ui

__all__ = ["RunDebugUI", "install_run_ui"]
