"""The dock's network settings (issue 11): the definition editor's body type, verify, client
certificate and HTTP/2, the environments dialog's proxy, and Send using them as a run would."""

from __future__ import annotations

from flowdesk.services import ApiService
from flowdesk.services.environments import EnvironmentService
from flowdesk.services.secrets import SecretService


def test_the_editor_saves_and_shows_body_type_and_connection_settings(qtbot, db, panel, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    panel.new_api()
    form = panel.form
    form.name.setText("upload")
    form.url.setText("https://files.internal/upload")
    form.method.setCurrentText("POST")
    form.body.setPlainText('{"note": "{{params.note}}", "file": {"path": "{{params.path}}"}}')
    form.body_type.setCurrentIndex(form.body_type.findData("multipart"))
    qtbot.keyClicks(form.verify, str(ca))
    qtbot.keyClicks(form.client_cert, "/etc/pki/me.pem")
    form.http2.click()  # below the fold of the scrolled form: clicked as a user would with the keyboard
    api = panel.save()
    assert api is not None
    stored = ApiService(db).get_api(api.id)
    assert stored.content_type == "multipart/form-data"
    assert stored.connection == {"verify": str(ca), "client_cert": "/etc/pki/me.pem", "http2": True}
    form.load(None)
    assert form.body_type.currentData() == "auto" and not form.http2.isChecked()
    form.load(stored)
    assert form.body_type.currentData() == "multipart" and form.content_type.text() == ""
    assert (form.verify.text(), form.client_cert.text(), form.http2.isChecked()) == (
        str(ca),
        "/etc/pki/me.pem",
        True,
    )
    form.verify.setText("false")
    assert form.values()["connection"]["verify"] is False
    form.body.setPlainText('"raw text"')
    try:
        form.values()
    except Exception as exc:  # noqa: BLE001 - the one sentence the dock shows
        assert "a multipart body is a JSON object" in str(exc)
    else:
        raise AssertionError("a text body was accepted as multipart")


def test_the_environments_dialog_edits_the_proxy_and_send_goes_through_it(
    qtbot, qloop, db, panel, tinyproxy_auth, http_server
):
    EnvironmentService(db).create_environment("office", {"base_url": http_server.url})
    SecretService(db).set_secret("proxy_password", tinyproxy_auth.auth[1])
    panel.open_environments()
    dialog = panel.last_environments_dialog
    qtbot.addWidget(dialog)
    proxy = f"http://proxyuser:{{{{secrets.proxy_password}}}}@127.0.0.1:{tinyproxy_auth.port}"
    qtbot.keyClicks(dialog.proxy, proxy)
    dialog.save_variables()
    assert EnvironmentService(db).get_environment("office").variables == {
        "base_url": http_server.url,
        "http.proxy": proxy,
    }
    assert [dialog.variables.item(r, 0).text() for r in range(dialog.variables.rowCount())] == ["base_url"]
    api = ApiService(db).create_api(name="via proxy", url="{{env.base_url}}/anything/dock-proxy")
    panel.refresh()
    panel.select_api(api.id)
    with qtbot.waitSignal(panel.response_shown, timeout=15000) as blocker:
        panel.send_current()
    result = blocker.args[0]
    assert result.status == 200, result.error
    assert f"GET {http_server.url}/anything/dock-proxy HTTP/1.1" in tinyproxy_auth.requests()
    assert tinyproxy_auth.auth[1] not in result.text + result.error + result.url
