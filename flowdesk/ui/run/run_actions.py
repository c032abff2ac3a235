"""The Run menu's actions (Run, Step, Continue, Stop), made with the window's other actions so its
menu and toolbar hold them from the start; disabled until the run/debug UI (run_ui.RunDebugUI)
connects and enables them."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction, QKeySequence

NOT_WIRED_TIP = "Running workflows arrives with the run/debug UI"


class RunActions:
    """actionRun (F5), actionStep (F10), actionContinue (F8), actionStop (Shift+F5)."""

    def __init__(self, make: Callable[..., QAction]) -> None:
        k = QKeySequence
        self.run = make("actionRun", "&Run", None, k("F5"), NOT_WIRED_TIP)
        self.step = make("actionStep", "S&tep", None, k("F10"), NOT_WIRED_TIP)
        self.continue_ = make("actionContinue", "&Continue", None, k("F8"), NOT_WIRED_TIP)
        self.stop = make("actionStop", "St&op", None, k("Shift+F5"), NOT_WIRED_TIP)
        for action in self.all():
            action.setEnabled(False)

    def all(self) -> tuple[QAction, QAction, QAction, QAction]:
        """In menu order."""
        return self.run, self.step, self.continue_, self.stop
