"""The inspector's auth editor offers the OAuth2 sign-in type with its fields, driven like a user."""

from __future__ import annotations

from PySide6.QtCore import Qt


def test_choosing_the_sign_in_type_shows_its_fields_and_edits_the_auth(qtbot):
    from flowdesk.ui.inspector.request_sections import AuthEditor

    editor = AuthEditor()
    qtbot.addWidget(editor)
    editor.show()
    edits: list = []
    editor.edited.connect(edits.append)
    editor.kind.setFocus()
    index = editor.kind.findData("oauth2_authorization_code")
    assert index >= 0
    while editor.kind.currentIndex() < index:  # the arrow keys choose, as a user would
        qtbot.keyClick(editor.kind, Qt.Key.Key_Down)
    shown = {key for key, edit in editor.fields.items() if editor.form.isRowVisible(edit)}
    assert shown == {"authorization_url", "token_url", "client_id", "scopes", "flow", "userinfo_url"}
    for key, text in (
        ("authorization_url", "https://login.test/authorize"),
        ("token_url", "https://login.test/token"),
        ("client_id", "{{secrets.client_id}}"),
        ("scopes", "read write"),
    ):
        editor.fields[key].setFocus()
        qtbot.keyClicks(editor.fields[key], text)
        qtbot.keyClick(editor.fields[key], Qt.Key.Key_Return)
    assert edits[-1] == {
        "type": "oauth2_authorization_code",
        "authorization_url": "https://login.test/authorize",
        "token_url": "https://login.test/token",
        "client_id": "{{secrets.client_id}}",
        "scopes": ["read", "write"],
    }
