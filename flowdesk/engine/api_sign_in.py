"""Signing in to and out of an API definition's OAuth2 (authorization code / implicit) auth: what the
API library dock's Sign in / Sign out buttons and `flowdesk api signin|signout NAME` do, in one place.

The definition's auth is rendered with an environment's variables and the stored secrets (as a run
renders it), so the sign-in found here is the one a run of that definition uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flowdesk.domain.errors import InvalidInputError
from flowdesk.domain.expressions import Scope, render
from flowdesk.domain.models import ApiDefinition

if TYPE_CHECKING:  # pragma: no cover
    from flowdesk.services.secrets import SecretService
    from flowdesk.services.sign_ins import SignInStore
    from flowdesk.store import Database

    from .authorization_code import BrowserOpener, SignedIn
    from .http.client import HttpClient

# The HTTP stack (authorization_code.py, auth.py) is imported when a sign-in is read or made, not with
# this module: the API library dock imports it, and the window must open without httpx and aiohttp.
KIND = "oauth2_authorization_code"


def uses_sign_in(api: ApiDefinition) -> bool:
    """Whether the definition's auth is a user's OAuth2 sign-in."""
    kind = str((api.auth or {}).get("type") or "").strip().lower().replace("-", "_")
    return kind == KIND


def rendered_auth(
    api: ApiDefinition, environment: Mapping[str, Any], secrets: Mapping[str, Any]
) -> dict[str, Any]:
    """The definition's auth with `{{env.*}}` and `{{secrets.*}}` filled in."""
    if not uses_sign_in(api):
        raise InvalidInputError(f"API '{api.name}' does not use OAuth2 sign-in (its auth is not {KIND}).")
    scope = Scope({"env": dict(environment), "secrets": dict(secrets), "params": {}})
    given = dict(api.auth or {})
    value = render(given, scope)
    assert isinstance(value, dict)
    for key in ("authorization_url", "token_url", "client_id"):
        template = given.get(key)
        if isinstance(template, str) and "{{" in template and value.get(key) in (None, ""):
            raise InvalidInputError(
                f"The auth of API '{api.name}' has no {key}: {template} is not set "
                "(set that secret or environment variable)."
            )
    return value


class ApiSignIn:
    """Sign-ins of one database's API definitions (its secrets keep the tokens)."""

    def __init__(self, db: Database, *, secrets: SecretService | None = None) -> None:
        from flowdesk.services.secrets import SecretService
        from flowdesk.services.sign_ins import SignInStore

        self.db = db
        self.secrets = secrets or SecretService(db)
        self.store: SignInStore = SignInStore(self.secrets)

    def find(self, name: str) -> ApiDefinition:
        """The definition named `name` (or with that id)."""
        from flowdesk.services.apis import ApiService

        apis = ApiService(self.db).list_apis()
        found = [a for a in apis if a.name == name] or [a for a in apis if str(a.id) == name]
        if not found:
            raise InvalidInputError(f"There is no API definition named '{name}'.")
        return found[0]

    def auth_of(self, api: ApiDefinition, environment: str | None = None) -> dict[str, Any]:
        from flowdesk.services.environments import run_values

        variables, secrets = run_values(self.db, environment, secrets=self.secrets)
        return rendered_auth(api, variables, secrets)

    def state(self, api: ApiDefinition, environment: str | None = None) -> SignedIn | None:
        """The stored sign-in this definition uses, or None."""
        from .authorization_code import SignedIn, sign_in_key

        stored = self.store.load(sign_in_key(self.auth_of(api, environment)))
        return SignedIn.from_stored(stored) if stored is not None else None

    async def sign_in(
        self,
        api: ApiDefinition,
        client: HttpClient,
        *,
        open_browser: BrowserOpener,
        environment: str | None = None,
        timeout: float | None = None,
    ) -> SignedIn:
        """Open the browser on the authorization URL, wait for the redirect, keep the tokens."""
        import asyncio

        from .authorization_code import sign_in
        from .http.redaction import Redactor

        auth = await asyncio.to_thread(self.auth_of, api, environment)
        redactor = Redactor([auth.get("client_secret")])
        options = {} if timeout is None else {"timeout": timeout}
        signed_in = await sign_in(
            auth, client, self.store, open_browser=open_browser, redactor=redactor, **options
        )
        client.user_tokens.forget(auth)
        return signed_in

    def sign_out(self, api: ApiDefinition, environment: str | None = None) -> bool:
        """Forget the tokens this definition uses; True when it was signed in."""
        from .authorization_code import sign_in_key

        return self.store.forget(sign_in_key(self.auth_of(api, environment)))
