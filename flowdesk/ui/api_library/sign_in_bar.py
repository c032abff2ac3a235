"""The API library's sign-in row for definitions whose auth is an OAuth2 sign-in (authorization code
with PKCE, or implicit): "Signed in as …, expires in …" with Sign in / Sign out buttons.

Sign in opens the system browser (QDesktopServices; `open_browser` is the seam tests replace with a
client that follows the redirect) and waits on the loopback redirect on the app's qasync loop; the
work itself is engine/api_sign_in.py's, the same the CLI's `flowdesk api signin` does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from flowdesk.domain.errors import FlowdeskError
from flowdesk.domain.models import ApiDefinition
from flowdesk.engine.api_sign_in import ApiSignIn, uses_sign_in
from flowdesk.ui.widgets import named

log = logging.getLogger(__name__)
REFRESH_MS = 30_000  # "expires in" counts down while the row is shown


def open_in_system_browser(url: str) -> None:
    """The app's way to open the authorization URL."""
    QDesktopServices.openUrl(QUrl(url))


class SignInBar(QWidget):
    """The sign-in state of the shown definition and its buttons; hidden for other auth types."""

    changed = Signal(str)  # the state text, after every sign-in, sign-out or failure

    def __init__(self, sign_ins: ApiSignIn, client: Callable[[], Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("apiSignInBar")
        self.sign_ins = sign_ins
        self.client = client  # the dock's HttpClient (made on first use)
        self.open_browser: Callable[[str], Any] = open_in_system_browser
        self.api: ApiDefinition | None = None
        self.task: asyncio.Task | None = None
        self.state = named(QLabel(), "apiSignInState")
        self.state.setWordWrap(True)
        self.sign_in_button = named(QPushButton("Sign in"), "apiSignIn")
        self.sign_in_button.setToolTip("Open the browser to sign in; the tokens are kept encrypted")
        self.sign_in_button.clicked.connect(self.sign_in)
        self.sign_out_button = named(QPushButton("Sign out"), "apiSignOut")
        self.sign_out_button.clicked.connect(self.sign_out)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.state, 1)
        layout.addWidget(self.sign_in_button)
        layout.addWidget(self.sign_out_button)
        self._timer = QTimer(self, interval=REFRESH_MS)
        self._timer.timeout.connect(self.update_state)
        self.hide()

    def show_for(self, api: ApiDefinition | None) -> None:
        """Show the row for `api` when its auth is a sign-in, else hide it."""
        self.api = api if api is not None and uses_sign_in(api) else None
        self.setVisible(self.api is not None)
        if self.api is None:
            self._timer.stop()
            return
        self._timer.start()
        self.update_state()

    def update_state(self) -> str:
        """Read the stored sign-in again and show it."""
        if self.api is None:
            return ""
        from flowdesk.engine.authorization_code import describe_sign_in  # the HTTP stack, when first needed

        try:
            signed_in = self.sign_ins.state(self.api)
        except FlowdeskError as err:
            text = f"Cannot sign in yet: {err.message}"
            signed_in = None
        else:
            text = describe_sign_in(signed_in)
        self.state.setText(text)
        self.sign_out_button.setEnabled(signed_in is not None)
        self.sign_in_button.setEnabled(self.task is None or self.task.done())
        return text

    def sign_in(self) -> asyncio.Task | None:
        """Start signing in (on the running loop); the row says what happened when it ends."""
        if self.api is None or (self.task is not None and not self.task.done()):
            return None
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._finish("Signing in needs the app's event loop (qasync).")
            return None
        self.sign_in_button.setEnabled(False)
        self.state.setText("Waiting for the browser…")
        self.task = loop.create_task(self._sign_in(self.api))
        return self.task

    async def _sign_in(self, api: ApiDefinition) -> None:
        try:
            await self.sign_ins.sign_in(api, self.client(), open_browser=self.open_browser)
        except FlowdeskError as err:
            self._finish(err.message)
            return
        except Exception:  # noqa: BLE001 - shown in one line, logged with the traceback
            log.exception("sign-in failed")
            self._finish("The sign-in failed; the log has the details.")
            return
        self._finish(None)

    def _finish(self, error: str | None) -> None:
        self.sign_in_button.setEnabled(True)
        text = self.update_state() if error is None else f"Not signed in: {error}"
        if error is not None:
            self.state.setText(text)
        self.changed.emit(text)

    def sign_out(self) -> None:
        """Forget the tokens of the shown definition's sign-in."""
        if self.api is None:
            return
        try:
            self.sign_ins.sign_out(self.api)
            client = self.client()
            client.user_tokens.forget(self.sign_ins.auth_of(self.api))
        except FlowdeskError as err:
            self._finish(err.message)
            return
        self._finish(None)
