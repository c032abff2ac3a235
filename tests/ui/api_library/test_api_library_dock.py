"""The API library dock driven with pytest-qt: list, search, tags, edit, import preview, Send,
copy as cURL, drag onto the canvas, environments and secrets (masked)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from flowdesk.services.api_library import ApiLibraryService
from flowdesk.services.apis import ApiService
from flowdesk.services.environments import EnvironmentService
from flowdesk.services.secrets import SecretService
from tests.support.store_rows import raw_database_bytes
from tests.support.waiting import EVENTUALLY_MS

FIXTURES = Path(__file__).resolve().parents[2] / "interchange" / "fixtures" / "api"
SECRET = "tok-Dock-91c2e7"


def _names(panel) -> list[str]:
    return [panel.list.item(i).data(Qt.ItemDataRole.UserRole + 1) for i in range(panel.list.count())]


def test_list_search_tags_and_editing(qtbot, db, panel):
    ApiLibraryService(db).import_spec((FIXTURES / "petstore-3.0.yaml").read_bytes())
    panel.refresh()
    assert panel.list.count() == 8
    qtbot.keyClicks(panel.search, "pets")
    shown = _names(panel)
    assert 0 < len(shown) < 8 or all("pet" in n.lower() for n in shown)
    panel.search.clear()
    tags = [panel.tag_filter.itemText(i) for i in range(panel.tag_filter.count())]
    assert "admin" in tags
    panel.tag_filter.setCurrentText("admin")
    assert all(
        "admin" in ApiService(db).get_api(panel.list.item(i).data(Qt.ItemDataRole.UserRole)).tags
        for i in range(panel.list.count())
    )
    panel.tag_filter.setCurrentIndex(0)
    panel.list.setCurrentRow(0)
    api_id = panel.current_api_id()
    assert panel.form.name.text() == ApiService(db).get_api(api_id).name
    panel.form.name.setText("Renamed API")
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert ApiService(db).get_api(api_id).name == "Renamed API"
    panel.form.headers.setPlainText("{not json")
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert "Headers: not valid JSON at line 1" in panel.message.text()
    assert ApiService(db).get_api(api_id).name == "Renamed API"


def test_new_definition_from_the_form(qtbot, db, panel):
    from PySide6.QtWidgets import QToolButton

    qtbot.mouseClick(panel.findChild(QToolButton, "apiNew"), Qt.MouseButton.LeftButton)
    panel.new_api()
    panel.form.name.setText("Echo")
    panel.form.url.setText("{{env.base_url}}/anything")
    panel.form.method.setCurrentText("POST")
    panel.form.body.setPlainText('{"a": 1}')
    api = panel.save()
    assert api is not None and ApiService(db).get_api(api.id).body == {"a": 1}
    assert _names(panel) == ["Echo"]


def test_import_preview_checkboxes_write_only_the_checked(qtbot, db, panel):
    plan = panel.library.plan_spec((FIXTURES / "bookshop-3.1.json").read_bytes(), source_name="bookshop")
    dialog = panel.make_import_dialog(plan)
    qtbot.addWidget(dialog)
    assert dialog.tree.topLevelItemCount() == len(plan.items)
    assert ApiService(db).list_apis() == []  # the preview wrote nothing
    dialog._check_all(False)
    dialog.tree.topLevelItem(1).setCheckState(0, Qt.CheckState.Checked)
    dialog.environment.setText("books")
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == dialog.DialogCode.Accepted
    assert [a.name for a in ApiService(db).list_apis()] == [plan.items[1].name]
    assert EnvironmentService(db).get_environment("books").variables
    panel.after_import(dialog.report)
    assert _names(panel) == [plan.items[1].name]
    # The same spec again: the imported one is "unchanged" and left unchecked.
    again = panel.make_import_dialog(panel.library.plan_spec((FIXTURES / "bookshop-3.1.json").read_bytes()))
    qtbot.addWidget(again)
    states = [again.tree.topLevelItem(i).checkState(0) for i in range(again.tree.topLevelItemCount())]
    assert states[1] == Qt.CheckState.Unchecked and states[0] == Qt.CheckState.Checked
    assert "unchanged" in again.tree.topLevelItem(1).text(3)


def test_curl_import_preview(qtbot, db, panel):
    plan = panel.library.plan_curl((FIXTURES / "curl" / "chrome-post-json.txt").read_text())
    dialog = panel.make_import_dialog(plan)
    qtbot.addWidget(dialog)
    dialog.apply()
    assert len(ApiService(db).list_apis()) == 1


def test_send_shows_status_time_headers_and_a_json_tree_without_the_secret(
    qtbot, qloop, db, panel, http_server
):
    EnvironmentService(db).create_environment("local", {"base_url": http_server.url})
    SecretService(db).set_secret("tok", SECRET)
    api = ApiService(db).create_api(
        name="whoami",
        url="{{env.base_url}}/bearer/{{secrets.tok}}",
        auth={"type": "bearer", "token": "{{secrets.tok}}"},
    )
    panel.refresh()
    panel.select_api(api.id)
    with qtbot.waitSignal(panel.response_shown, timeout=EVENTUALLY_MS) as blocker:
        qtbot.mouseClick(panel.send_button, Qt.MouseButton.LeftButton)
    result = blocker.args[0]
    assert result.status == 200 and result.error == ""
    view = panel.response
    assert "200" in view.status_label.text() and " ms" in view.status_label.text()
    assert view.body_tree.topLevelItem(0).text(0) == "authenticated"
    assert view.body_tree.topLevelItem(0).text(1) == "true"
    assert view.headers.topLevelItemCount() > 0
    shown = view.status_label.text() + view.raw.toPlainText() + json.dumps(result.headers)
    assert SECRET not in shown and "***" in view.status_label.text()


def test_send_reports_a_failure_in_one_line(qtbot, qloop, db, panel):
    EnvironmentService(db).create_environment("none", {"base_url": "http://127.0.0.1:9"})
    api = ApiService(db).create_api(name="down", url="{{env.base_url}}/x")
    panel.refresh()
    panel.select_api(api.id)
    with qtbot.waitSignal(panel.response_shown, timeout=EVENTUALLY_MS):
        panel.send_current()
    assert "Failed:" in panel.response.status_label.text()
    assert panel.send_button.isEnabled()


def test_copy_as_curl_fills_env_but_not_secrets(qtbot, db, panel):
    EnvironmentService(db).create_environment("dev", {"base_url": "https://dev.example.test"})
    SecretService(db).set_secret("tok", SECRET)
    api = ApiService(db).create_api(
        name="me", url="{{env.base_url}}/me", auth={"type": "bearer", "token": "{{secrets.tok}}"}
    )
    panel.refresh()
    panel.select_api(api.id)
    text = panel.copy_curl()
    assert QApplication.clipboard().text() == text
    assert "https://dev.example.test/me" in text and SECRET not in text and "{{secrets.tok}}" in text


def test_environments_dialog_masks_secrets(qtbot, db, panel):
    SecretService(db).set_secret("existing", SECRET)
    EnvironmentService(db).create_environment("dev", {"base_url": "http://dev"})
    panel.open_environments()
    dialog = panel.last_environments_dialog
    qtbot.addWidget(dialog)
    table = dialog.secret_table
    assert table.item(0, 0).text() == "existing" and table.item(0, 1).text() == "••••••••"
    assert dialog.secret_value.echoMode() == dialog.secret_value.EchoMode.Password
    dialog.secret_name.setText("new_one")
    dialog.secret_value.setText("another-Secret-77")
    qtbot.mouseClick(dialog.findChild(type(dialog.activate_button), "secretSet"), Qt.MouseButton.LeftButton)
    assert SecretService(db).get_secret("new_one") == "another-Secret-77"
    assert dialog.secret_value.text() == ""
    texts = [table.item(r, c).text() for r in range(table.rowCount()) for c in range(2)]
    assert "another-Secret-77" not in texts and SECRET not in texts
    # Variables: edit and save, make another environment active.
    dialog.variables.item(0, 1).setText("http://dev2")
    dialog.save_variables()
    assert EnvironmentService(db).get_environment("dev").variables == {"base_url": "http://dev2"}


@pytest.fixture
def window(qtbot, tmp_path):
    from flowdesk.ui.api_library import install_api_library
    from flowdesk.ui.backend import EditorBackend
    from flowdesk.ui.main_window import MainWindow

    backend = EditorBackend(tmp_path / "editor.db")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(backend, settings=settings, autosave_dir=tmp_path / "autosave", autosave_interval_s=3600)
    install_api_library(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    for tab in w.editor_tabs():
        tab.doc.undo_stack.setClean()
    w.close()
    w.deleteLater()
    backend.close()


def test_dragging_an_api_onto_the_canvas_makes_an_api_call_node(qtbot, window):
    from flowdesk.domain.models import Node, Workflow, WorkflowGraph

    assert window.findChild(type(window.dock_api_library), "dockApiLibrary") is window.dock_api_library
    api = window.backend.apis.create_api(name="List pets", url="https://x.test/pets")
    panel = window.api_library
    panel.refresh()
    graph = WorkflowGraph(workflow=Workflow(name="w"), nodes=[Node(name="start", node_type="START")])
    tab = window.open_workflow(window.backend.workflows.create_from_graph(graph).workflow.id)
    QApplication.processEvents()
    item = panel.list.item(0)
    mime = panel.list.mimeData([item])
    viewport = tab.view.viewport()
    at = QPoint(200, 150)
    actions = Qt.DropAction.CopyAction
    enter = QDragEnterEvent(at, actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(at), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, drop)
    assert drop.isAccepted()
    added = [n for n in tab.doc.nodes() if n.node_type == "API_CALL"]
    assert len(added) == 1 and added[0].config["api_id"] == api.id and added[0].name == "List pets"
    tab.doc.undo_stack.undo()
    assert not [n for n in tab.doc.nodes() if n.node_type == "API_CALL"]


def test_screenshot_of_the_dock(qtbot, db, panel, tmp_path):
    ApiLibraryService(db).import_spec((FIXTURES / "petstore-3.0.yaml").read_bytes())
    panel.refresh()
    panel.list.setCurrentRow(2)
    out = tmp_path / "dock.png"
    assert panel.grab().save(str(out))
    assert out.stat().st_size > 1000


def test_send_fills_params_from_the_examples(qtbot, qloop, db, panel, http_server):
    from flowdesk.domain.models import ApiParameter

    EnvironmentService(db).create_environment("local", {"base_url": http_server.url})
    api = ApiService(db).create_api(
        name="user",
        url="{{env.base_url}}/users/{{params.id}}",
        parameters=[ApiParameter(name="id", location="path", required=True, type="integer", example=5)],
    )
    panel.refresh()
    panel.select_api(api.id)
    assert json.loads(panel.send_params.text()) == {"id": 5}
    panel.send_params.setText('{"id": 7}')
    with qtbot.waitSignal(panel.response_shown, timeout=EVENTUALLY_MS) as blocker:
        panel.send_current()
    assert blocker.args[0].status == 200 and blocker.args[0].url.endswith("/users/7")
    panel.send_params.setText("{oops")
    assert panel.send_current() is None
    assert "Parameters for Send: not valid JSON" in panel.message.text()


# -- OAuth2 sign-in (authorization code with PKCE) ------------------------------------------------------


def test_sign_in_and_out_from_the_dock_and_send_with_the_token(qtbot, qloop, db, panel, db_path):
    from tests.support.oauth_server import AuthorizationServer, FollowingBrowser

    with AuthorizationServer() as server:
        EnvironmentService(db).create_environment("local", {"auth_base": server.url})
        SecretService(db).set_secret("login_client_id", server.state.client_id)
        auth = server.auth(
            authorization_url="{{env.auth_base}}/authorize", client_id="{{secrets.login_client_id}}"
        )
        api = ApiService(db).create_api(name="me", url=f"{server.url}/resource", auth=auth)
        plain = ApiService(db).create_api(name="plain", url=f"{server.url}/resource")
        panel.refresh()
        panel.select_api(plain.id)
        assert not panel.sign_in_bar.isVisible()  # only for sign-in auth
        panel.select_api(api.id)
        bar = panel.sign_in_bar
        assert bar.isVisible() and bar.state.text() == "Not signed in"
        assert not bar.sign_out_button.isEnabled()

        browser = FollowingBrowser()
        bar.open_browser = browser  # the seam: no real browser in CI
        with qtbot.waitSignal(bar.changed, timeout=EVENTUALLY_MS) as blocker:
            qtbot.mouseClick(bar.sign_in_button, Qt.MouseButton.LeftButton)
        browser.join()
        assert blocker.args[0].startswith("Signed in as alice@example.test, expires in 59 min")
        assert bar.state.text() == blocker.args[0] and bar.sign_out_button.isEnabled()

        with qtbot.waitSignal(panel.response_shown, timeout=EVENTUALLY_MS) as sent:
            qtbot.mouseClick(panel.send_button, Qt.MouseButton.LeftButton)
        assert sent.args[0].status == 200
        token = server.state.resource_tokens[-1]
        assert token in server.state.access_tokens
        assert token.encode() not in raw_database_bytes(db_path)  # kept encrypted
        shown = panel.response.raw.toPlainText() + json.dumps(sent.args[0].headers) + bar.state.text()
        assert token not in shown

        with qtbot.waitSignal(bar.changed, timeout=EVENTUALLY_MS):
            qtbot.mouseClick(bar.sign_out_button, Qt.MouseButton.LeftButton)
        assert bar.state.text() == "Not signed in" and not bar.sign_out_button.isEnabled()
        with qtbot.waitSignal(panel.response_shown, timeout=EVENTUALLY_MS) as after:
            qtbot.mouseClick(panel.send_button, Qt.MouseButton.LeftButton)
        assert after.args[0].error.startswith("This API call needs an OAuth2 sign-in: sign in to 127.0.0.1")


def test_a_refused_sign_in_is_shown_in_one_sentence(qtbot, qloop, db, panel):
    from tests.support.oauth_server import AuthorizationServer, FollowingBrowser

    with AuthorizationServer(wrong_state=True) as server:
        api = ApiService(db).create_api(name="me", url=f"{server.url}/resource", auth=server.auth())
        panel.refresh()
        panel.select_api(api.id)
        bar = panel.sign_in_bar
        bar.open_browser = browser = FollowingBrowser()
        with qtbot.waitSignal(bar.changed, timeout=EVENTUALLY_MS) as blocker:
            qtbot.mouseClick(bar.sign_in_button, Qt.MouseButton.LeftButton)
        browser.join()
    assert blocker.args[0] == (
        "Not signed in: The answer to the sign-in did not carry the state flowdesk sent, so it was refused "
        "(it may not come from this sign-in)."
    )
    assert bar.sign_in_button.isEnabled()


def test_the_sign_in_row_says_which_secret_is_missing(qtbot, db, panel):
    auth = {
        "type": "oauth2_authorization_code",
        "authorization_url": "https://login.test/authorize",
        "token_url": "https://login.test/token",
        "client_id": "{{secrets.login_client_id}}",
    }
    api = ApiService(db).create_api(name="me", url="https://api.test/me", auth=auth)
    panel.refresh()
    panel.select_api(api.id)
    assert panel.sign_in_bar.state.text() == (
        "Cannot sign in yet: The auth of API 'me' has no client_id: {{secrets.login_client_id}} is not set "
        "(set that secret or environment variable)."
    )
    assert not panel.sign_in_bar.sign_out_button.isEnabled()
