"""Users, roles, tokens and scopes against a real `flowdesk serve`: 401 for a missing or wrong token,
403 naming the missing permission, tag scopes, the audit actor, and the refusal to serve openly
without users."""

from __future__ import annotations

import sqlite3

import httpx
import pytest

from tests.support.server_process import ServerProcess, run_cli


@pytest.fixture(scope="module")
def secured(make_database, tmp_path_factory):
    """A server whose database has four users (one per role) and a tag-limited runner; their tokens."""
    from flowdesk.services.users import UserService
    from flowdesk.store import Database

    db = make_database("sqlite")
    tokens = {}
    # The CLI's `user add --tag` and `token create` are what this calls (they are tested below).
    with Database(db) as database:
        users = UserService(database)
        for name, role, tags in [
            ("vera", "viewer", None),
            ("ed", "editor", None),
            ("rita", "runner", None),
            ("ada", "admin", None),
            ("tom", "runner", ["team-a"]),
        ]:
            users.add_user(name, role, tags)
            tokens[name] = users.create_token(name)[0]
    process = ServerProcess(db, log_dir=tmp_path_factory.mktemp("secured")).start()
    try:
        yield process, tokens, db
    finally:
        process.stop()


def test_tokens_are_needed_and_checked(secured):
    server, tokens, _ = secured
    with server.client() as anonymous:
        answer = anonymous.get("/workflows")
        assert answer.status_code == 401 and "Authorization: Bearer" in answer.json()["detail"]
    with server.client("fdt_not-a-real-token") as wrong:
        assert wrong.get("/workflows").status_code == 401
    with server.client(tokens["vera"]) as viewer:
        assert viewer.get("/workflows").status_code == 200
        assert viewer.get("/me").json()["role"] == "viewer"


def test_roles_grant_what_they_say(secured):
    server, tokens, _ = secured
    with server.client(tokens["ed"]) as editor, server.client(tokens["vera"]) as viewer:
        refused = viewer.post("/workflows", json={"name": "viewer's"})
        assert refused.status_code == 403
        assert "'edit' permission" in refused.json()["detail"] and "vera" in refused.json()["detail"]
        made = editor.post("/workflows", json={"name": "by ed"})
        assert made.status_code == 201
        wid = made.json()["id"]
        start = editor.post(f"/workflows/{wid}/nodes", json={"name": "s", "node_type": "START"}).json()
        end = editor.post(f"/workflows/{wid}/nodes", json={"name": "e", "node_type": "END"}).json()
        editor.post(
            f"/workflows/{wid}/connections", json={"from_node_id": start["id"], "to_node_id": end["id"]}
        )
        run = editor.post(f"/workflows/{wid}/execute", json={})
        assert run.status_code == 403 and "'run' permission" in run.json()["detail"]
        assert editor.get("/secrets").status_code == 403
        assert viewer.put("/secrets/X", json={"value": "v"}).status_code == 403
    with server.client(tokens["rita"]) as runner:
        assert runner.post(f"/workflows/{wid}/execute", json={}).json()["status"] == "completed"
        assert runner.post("/admin/node-types", json={"type_name": "RITA_TYPE"}).status_code == 403
    with server.client(tokens["ada"]) as admin:
        assert admin.put("/secrets/X", json={"value": "v"}).status_code == 204
        assert admin.post("/admin/node-types", json={"type_name": "ADA_TYPE"}).status_code == 201
        assert {u["name"] for u in admin.get("/users").json()} >= {"vera", "ed", "rita", "ada", "tom"}


def test_a_user_limited_to_tags_sees_only_those_workflows(secured):
    server, tokens, _ = secured
    with server.client(tokens["ada"]) as admin, server.client(tokens["tom"]) as tom:
        mine = admin.post("/workflows", json={"name": "team a's", "tags": ["team-a"]}).json()
        other = admin.post("/workflows", json={"name": "team b's", "tags": ["team-b"]}).json()
        listed = {w["id"] for w in tom.get("/workflows").json()["items"]}
        assert mine["id"] in listed and other["id"] not in listed
        assert tom.get(f"/workflows/{other['id']}").status_code == 403
        assert tom.get(f"/workflows/{mine['id']}").status_code == 200
        created = tom.post("/workflows", json={"name": "tom's own"}).json()
        assert "team-a" in created["tags"]  # what tom creates stays inside tom's scope


def test_every_write_records_its_actor(secured):
    server, tokens, db = secured
    with server.client(tokens["ed"]) as editor:
        wid = editor.post("/workflows", json={"name": "audited"}).json()["id"]
    with server.client(tokens["vera"]) as viewer:
        entries = viewer.get("/audit", params={"workflow_id": wid}).json()
        assert entries[0]["actor"] == "ed" and entries[0]["action"] == "create"
        assert viewer.get("/audit", params={"actor": "ed"}).json()
    listed = run_cli("audit", "--actor", "ed", "--json", db=db)
    assert listed.returncode == 0 and '"actor": "ed"' in listed.stdout


def test_revoked_tokens_stop_working_and_tokens_are_stored_hashed(secured):
    server, tokens, db = secured
    added = run_cli("user", "add", "cli-user", "--role", "viewer", "--tag", "x", db=db)
    assert added.returncode == 0 and "limited to workflows tagged x" in added.stdout
    made = run_cli("token", "create", "cli-user", "--label", "short-lived", db=db)
    assert made.returncode == 0 and "shown only now" in made.stderr
    token = made.stdout.strip()
    with server.client(token) as client:
        assert client.get("/me").json()["role"] == "viewer"
        assert client.get("/executions/1").status_code in (403, 404)  # the token is good (and remembered)
        # The server looks a valid token up again at most every two seconds: a new role shows then.
        assert run_cli("user", "role", "cli-user", "editor", db=db).returncode == 0
        while client.get("/me").json()["role"] == "viewer":
            pass  # the test's timeout bounds this
        assert client.get("/me").json()["role"] == "editor"
    listed = run_cli("token", "list", db=db)
    assert token not in listed.stdout
    with sqlite3.connect(db) as conn:
        stored = [row[0] for row in conn.execute("SELECT digest FROM api_tokens")]
    assert stored and all(token not in value for value in stored)
    token_id = max(int(line.split()[0]) for line in listed.stdout.splitlines()[1:])
    assert run_cli("token", "revoke", str(token_id), db=db).returncode == 0
    with server.client(token) as client:
        while client.get("/executions/1").status_code != 401:
            pass  # within two seconds, as docs/server.md says; the test's timeout bounds this
        refused = client.get("/me")
        assert refused.status_code == 401 and "revoked" in refused.json()["detail"]


def test_serving_beyond_loopback_without_users_is_refused(make_database, tmp_path_factory):
    process = ServerProcess(make_database("sqlite"), host="0.0.0.0", log_dir=tmp_path_factory.mktemp("open"))
    process.start(wait=False)
    code = process.process.wait(timeout=120)
    process.stop()
    assert code == 2
    assert "without users" in process.output() and "user add" in process.output()


def test_a_user_added_while_the_server_runs_turns_auth_on(make_database, tmp_path_factory):
    db = make_database("sqlite")
    process = ServerProcess(db, log_dir=tmp_path_factory.mktemp("late")).start()
    try:
        assert "Auth is off" in process.output()
        assert httpx.get(process.url + "/workflows", timeout=60).status_code == 200
        assert run_cli("user", "add", "late", "--role", "viewer", db=db).returncode == 0
        while httpx.get(process.url + "/workflows", timeout=60).status_code == 200:
            pass  # the server looks again at most every two seconds; the test's timeout bounds this
        assert httpx.get(process.url + "/workflows", timeout=60).status_code == 401
    finally:
        process.stop()
