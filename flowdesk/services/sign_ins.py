"""OAuth2 sign-ins (authorization code / implicit): the tokens a user got in the browser, kept as secrets.

One sign-in is three encrypted secrets named after its key (a digest of token URL, client id and scopes,
engine/authorization_code.py `sign_in_key`): `oauth2.KEY.access_token`, `oauth2.KEY.refresh_token` (when
the server gave one) and `oauth2.KEY.session` (JSON: token type, expiry as a Unix time, the signed-in user,
scopes). Secrets are encrypted with the machine's key (services/secrets.py), so the tokens are never in
the database in clear, and a run masks them like every other secret.
"""

from __future__ import annotations

import json
from typing import Any

from flowdesk.domain.errors import NotFoundError

from .secrets import SecretService
from .transaction import transaction

PREFIX = "oauth2."
_PARTS = ("access_token", "refresh_token", "session")


def secret_names(key: str) -> dict[str, str]:
    """The secret names of one sign-in's parts."""
    return {part: f"{PREFIX}{key}.{part}" for part in _PARTS}


class SignInStore:
    """Load, save and forget the tokens of OAuth2 sign-ins (plain dicts; the engine gives them meaning)."""

    def __init__(self, secrets: SecretService) -> None:
        self.secrets = secrets

    def load(self, key: str) -> dict[str, Any] | None:
        """The stored sign-in (access_token, refresh_token, token_type, expires_at, user, scopes), or None."""
        names = secret_names(key)
        try:
            session = json.loads(self.secrets.get_secret(names["session"]))
            access = self.secrets.get_secret(names["access_token"])
        except NotFoundError:
            return None
        except ValueError:  # a damaged session record: as good as not signed in
            return None
        try:
            refresh: str | None = self.secrets.get_secret(names["refresh_token"])
        except NotFoundError:
            refresh = None
        return {
            **(session if isinstance(session, dict) else {}),
            "access_token": access,
            "refresh_token": refresh,
        }

    def save(self, key: str, signed_in: dict[str, Any]) -> None:
        """Store a sign-in's tokens (a new refresh token replaces the old; none given keeps the old one)."""
        names = secret_names(key)
        session = {k: v for k, v in signed_in.items() if k not in ("access_token", "refresh_token")}
        with transaction(self.secrets.db, None) as s:
            self.secrets.set_secret(names["access_token"], str(signed_in["access_token"]), session=s)
            if signed_in.get("refresh_token"):
                self.secrets.set_secret(names["refresh_token"], str(signed_in["refresh_token"]), session=s)
            self.secrets.set_secret(names["session"], json.dumps(session), session=s)

    def forget(self, key: str) -> bool:
        """Delete a sign-in's secrets (signing out; each deletion is audited); True when there was one."""
        was = False
        for name in secret_names(key).values():
            try:
                self.secrets.delete_secret(name)
            except NotFoundError:
                continue
            was = True
        return was
