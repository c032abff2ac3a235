"""OAuth2 authorization code with PKCE (and the implicit flow) against a real authorization server on
127.0.0.1 (tests/support/oauth_server.py), the browser step done by a client that follows the redirect."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from flowdesk.engine.authorization_code import (
    SignedIn,
    SignInError,
    SignInNeeded,
    UserTokens,
    describe_sign_in,
    sign_in,
    sign_in_key,
)
from flowdesk.engine.http import HttpClient, HttpRequest, Redactor
from flowdesk.services.secrets import SecretService
from flowdesk.services.sign_ins import SignInStore
from flowdesk.store import Database
from tests.support.oauth_server import AuthorizationServer, FollowingBrowser
from tests.support.server_process import run_cli


@pytest.fixture
def keys(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWDESK_KEY_FILE", str(tmp_path / "secrets.key"))
    monkeypatch.setenv("FLOWDESK_KEYRING", "0")
    return tmp_path / "secrets.key"


@pytest.fixture
def store(tmp_path, keys):
    db = Database(tmp_path / "flowdesk.db")
    yield SignInStore(SecretService(db))
    db.close()


@pytest.fixture
def server():
    with AuthorizationServer() as running:
        yield running


async def _sign_in(auth, store, browser=None, **options):
    browser = browser or FollowingBrowser()
    async with HttpClient() as client:
        try:
            return await sign_in(auth, client, store, open_browser=browser, timeout=60, **options)
        finally:
            browser.join()


def test_sign_in_exchanges_the_code_with_the_pkce_verifier_and_stores_the_tokens(server, store):
    browser = FollowingBrowser()
    signed_in = asyncio.run(_sign_in(server.auth(), store, browser))
    assert not browser.errors
    assert signed_in.user == "alice@example.test"  # from the id_token's claims
    opened = browser.opened[0]
    assert "code_challenge_method=S256" in opened and "redirect_uri=http%3A%2F%2F127.0.0.1%3A" in opened
    assert "you can close this tab" in browser.pages[0]
    exchange = server.state.token_requests[0]
    assert exchange["grant_type"] == "authorization_code" and len(exchange["code_verifier"]) == 43
    stored = store.load(sign_in_key(server.auth()))
    assert stored["access_token"] == signed_in.access_token and stored["refresh_token"]
    assert describe_sign_in(SignedIn.from_stored(stored)).startswith(
        "Signed in as alice@example.test, expires in"
    )


class _StrayFirst(FollowingBrowser):
    """Something visits the loopback callback without an answer before the real redirect arrives."""

    strays: list

    def _visit(self, url: str) -> None:
        import httpx

        redirect = dict(httpx.URL(url).params)["redirect_uri"]
        self.strays = [httpx.get(redirect, trust_env=False)]
        super()._visit(url)


def test_a_stray_visit_to_the_loopback_does_not_end_the_sign_in(server, store):
    browser = _StrayFirst()
    signed_in = asyncio.run(_sign_in(server.auth(), store, browser))
    (stray,) = browser.strays
    assert stray.status_code == 400 and "This is not a sign-in answer." in stray.text
    assert signed_in.user == "alice@example.test" and not browser.errors


def test_a_wrong_state_is_refused(server, store):
    server.state.wrong_state = True
    with pytest.raises(SignInError, match="did not carry the state flowdesk sent"):
        asyncio.run(_sign_in(server.auth(), store))
    assert server.state.grants == []  # the code was never exchanged
    assert store.load(sign_in_key(server.auth())) is None


def test_a_verifier_the_server_does_not_accept_is_refused_in_one_sentence(server, store, monkeypatch):
    from flowdesk.engine import authorization_code

    real = authorization_code.pkce_pair
    monkeypatch.setattr(
        authorization_code, "pkce_pair", lambda: (real()[0], real()[1])
    )  # two pairs: mismatch
    with pytest.raises(SignInError) as caught:
        asyncio.run(_sign_in(server.auth(), store))
    message = caught.value.message
    assert message == "The token endpoint refused the sign-in code (invalid_grant: PKCE verification failed)."
    assert store.load(sign_in_key(server.auth())) is None


def test_the_user_comes_from_the_userinfo_url_without_an_id_token(store):
    with AuthorizationServer(give_id_token=False, user="bob") as server:
        with_userinfo = asyncio.run(_sign_in(server.auth(userinfo_url=f"{server.url}/userinfo"), store))
        without = asyncio.run(_sign_in(server.auth(scopes=["other"]), store))
    assert (with_userinfo.user, without.user) == ("bob", "desk-client")


def test_the_implicit_flow_takes_the_token_the_page_posts_back(server, store):
    browser = FollowingBrowser()
    signed_in = asyncio.run(_sign_in(server.auth(flow="implicit"), store, browser))
    assert not browser.errors and "response_type=token" in browser.opened[0]
    assert server.state.access_tokens[signed_in.access_token] is True
    assert server.state.grants == []  # no code, no token endpoint


async def _get(client, server, auth, redactor=None):
    return await client.send(HttpRequest("GET", f"{server.url}/resource", auth=auth), redactor=redactor)


def test_requests_use_the_stored_token_and_renew_it_before_it_expires(server, store, caplog):
    caplog.set_level(logging.DEBUG)
    auth = server.auth()
    first = asyncio.run(_sign_in(auth, store))
    now = [first.expires_at - 3000]

    async def main():
        async with HttpClient() as client:
            client.user_tokens = UserTokens(store, margin=60, clock=lambda: now[0])
            used = await _get(client, server, auth)
            now[0] = first.expires_at - 30  # within the margin: renewed before it is sent
            renewed = await _get(client, server, auth)
            return used, renewed, client.user_tokens.refreshes

    used, renewed, refreshes = asyncio.run(main())
    assert (used.status, renewed.status, refreshes) == (200, 200, 1)
    assert server.state.resource_tokens[0] == first.access_token
    assert server.state.resource_tokens[1] != first.access_token
    assert server.state.grants == ["authorization_code", "refresh_token"]
    stored = store.load(sign_in_key(auth))  # the renewed tokens were kept for the next run
    assert stored["access_token"] == server.state.resource_tokens[1]
    logged = caplog.text
    assert "signed in to 127.0.0.1 as alice@example.test" in logged
    assert not any(token in logged for token in [*server.state.access_tokens, *server.state.refresh_tokens])


def test_a_401_renews_the_token_once_and_sends_again(server, store):
    auth = server.auth()
    asyncio.run(_sign_in(auth, store))
    server.state.expire_access_tokens()  # the server expired it early

    async def main():
        async with HttpClient() as client:
            client.user_tokens = UserTokens(store)
            return await _get(client, server, auth)

    response = asyncio.run(main())
    assert response.status == 200 and response.token_refreshed
    assert server.state.grants == ["authorization_code", "refresh_token"]
    assert len(server.state.resource_tokens) == 2


def test_without_a_sign_in_a_request_fails_with_one_sentence(server, store):
    async def main():
        async with HttpClient() as client:
            client.user_tokens = UserTokens(store)
            return await _get(client, server, server.auth())

    with pytest.raises(SignInNeeded) as caught:
        asyncio.run(main())
    host = "127.0.0.1"
    assert caught.value.message == (
        f"This API call needs an OAuth2 sign-in: sign in to {host} from the API library in the app, "
        "or run `flowdesk api signin NAME` with the API's name."
    )


def test_a_revoked_refresh_token_asks_to_sign_in_again(server, store):
    auth = server.auth()
    asyncio.run(_sign_in(auth, store))
    server.state.refresh_tokens.clear()
    server.state.expire_access_tokens()

    async def main():
        async with HttpClient() as client:
            client.user_tokens = UserTokens(store)
            redactor = Redactor()
            try:
                await _get(client, server, auth, redactor)
            except SignInNeeded as err:
                return err.message

    message = asyncio.run(main())
    assert message.startswith(
        "The token endpoint refused to renew the sign-in (invalid_grant: refresh token revoked); sign in to"
    )


# -- the doors: `flowdesk api signin` and `flowdesk run` in real processes, tokens never written out -----


def _flowdesk(*args: str, db: Path, keys: Path) -> subprocess.CompletedProcess:
    browser = f"{sys.executable} -m tests.support.oauth_server %s"  # the stand-in browser, as $BROWSER
    return run_cli(*args, db=str(db), env={"FLOWDESK_KEY_FILE": str(keys), "BROWSER": browser})


def _workflow_file(tmp_path: Path, server: AuthorizationServer) -> Path:
    api = {
        "id": 1,
        "name": "resource api",
        "method": "GET",
        "url": f"{server.url}/resource",
        "auth": server.auth(),
    }
    nodes = [
        {"name": "start", "node_type": "START", "config": {}},
        {"name": "call", "node_type": "API_CALL", "config": {"api_id": 1}},
        {"name": "end", "node_type": "END", "config": {"output": {"user": "{{call.response.data.user}}"}}},
    ]
    document = {
        "flowdesk": 1,
        "workflow": {"name": "signed in", "config": {}},
        "apis": [api],
        "nodes": nodes,
        "connections": [{"from": "start", "to": "call"}, {"from": "call", "to": "end"}],
    }
    path = tmp_path / "signed-in.json"
    path.write_text(json.dumps(document))
    return path


def test_cli_sign_in_then_headless_runs_use_and_renew_the_token_never_writing_it(tmp_path, keys, server):
    db, workflow = tmp_path / "cli.db", _workflow_file(tmp_path, server)
    before = _flowdesk("run", str(workflow), "--json", db=db, keys=keys)
    assert before.returncode == 1, before.stderr
    failed = json.loads(before.stdout)
    assert (
        "This API call needs an OAuth2 sign-in: sign in to 127.0.0.1 from the API library in the app, or run `flowdesk api signin NAME`"
        in failed["error_message"]
    )
    assert server.state.resource_tokens == []  # nothing was sent without the token

    signin = _flowdesk("api", "signin", "resource api", "--timeout", "60", db=db, keys=keys)
    assert signin.returncode == 0, signin.stderr
    assert "Signed in as alice@example.test, expires in" in signin.stdout

    first = _flowdesk("run", str(workflow), "--json", db=db, keys=keys)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["output_data"] == {"user": "alice@example.test"}
    server.state.expire_access_tokens()  # the next run is answered 401, renews once and succeeds
    second = _flowdesk("run", str(workflow), "--json", db=db, keys=keys)
    assert second.returncode == 0, second.stderr
    assert server.state.grants == ["authorization_code", "refresh_token"]
    export = _flowdesk("api", "export", "-o", str(tmp_path / "library.json"), db=db, keys=keys)
    assert export.returncode == 0, export.stderr

    issued = [*server.state.access_tokens, *server.state.refresh_tokens]
    assert len(issued) == 3  # two access tokens, the live refresh token
    written = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file() and p.name != keys.name)
    texts = [signin.stdout, signin.stderr, first.stdout, first.stderr, second.stdout, second.stderr]
    for token in issued:
        assert token.encode() not in written  # DB file, its WAL, the export
        assert not any(token in text for text in texts)
    exported = json.loads((tmp_path / "library.json").read_text())["components"]["securitySchemes"]
    assert exported["oauth2AuthorizationCode"]["flows"]["authorizationCode"] == {
        "authorizationUrl": f"{server.url}/authorize",
        "tokenUrl": f"{server.url}/token",
        "scopes": {"read": "", "write": ""},
    }

    signout = _flowdesk("api", "signout", "resource api", db=db, keys=keys)
    assert signout.returncode == 0 and "Signed out of 'resource api'." in signout.stdout


def test_a_sign_in_made_elsewhere_meanwhile_is_picked_up_instead_of_renewing(server, store):
    auth = server.auth()
    first = asyncio.run(_sign_in(auth, store))

    async def main():
        async with HttpClient() as client:
            client.user_tokens = UserTokens(store)
            await _get(client, server, auth)  # cached in memory now
            again = await sign_in(auth, client, store, open_browser=FollowingBrowser(), timeout=60)
            server.state.access_tokens[first.access_token] = False  # the old one stops working
            return again, await _get(client, server, auth)

    again, response = asyncio.run(main())
    assert response.status == 200 and server.state.resource_tokens[-1] == again.access_token
    assert "refresh_token" not in server.state.grants  # the stored newer token was read, not renewed


def test_cli_sign_in_refused_is_one_sentence_and_stores_nothing(tmp_path, keys):
    from flowdesk.services.apis import ApiService

    db = tmp_path / "refused.db"
    with AuthorizationServer(wrong_state=True) as server:
        database = Database(db)
        ApiService(database).create_api(name="me", url=f"{server.url}/resource", auth=server.auth())
        database.close()
        refused = _flowdesk("api", "signin", "me", "--timeout", "60", db=db, keys=keys)
    assert refused.returncode == 1  # the operation failed (docs/cli.md)
    assert "Traceback" not in refused.stderr
    assert (
        refused.stderr.strip()
        .splitlines()[-1]
        .endswith(
            "The answer to the sign-in did not carry the state flowdesk sent, so it was refused "
            "(it may not come from this sign-in)."
        )
    )
    missing = _flowdesk("api", "signin", "nobody", db=db, keys=keys)
    assert missing.returncode == 2 and "There is no API definition named 'nobody'." in missing.stderr
    listed = _flowdesk("secret", "list", db=db, keys=keys)
    assert "oauth2." not in listed.stdout


def test_an_auth_whose_secret_is_not_set_says_which():
    from flowdesk.domain.errors import InvalidInputError
    from flowdesk.domain.models import ApiDefinition
    from flowdesk.engine.api_sign_in import rendered_auth

    api = ApiDefinition(
        name="me",
        url="https://api.test/me",
        auth={
            "type": "oauth2_authorization_code",
            "authorization_url": "https://login.test/a",
            "client_id": "{{secrets.cid}}",
        },
    )
    with pytest.raises(InvalidInputError) as caught:
        rendered_auth(api, {}, {})
    assert caught.value.message == (
        "The auth of API 'me' has no client_id: {{secrets.cid}} is not set (set that secret or environment variable)."
    )
    assert rendered_auth(api, {}, {"cid": "desk"})["client_id"] == "desk"
