"""Users of the REST server, their roles, and their API tokens.

A role is a set of permissions, each role including the one below it:
viewer (read everything but secrets) < editor (change workflows, API definitions, environments)
< runner (also run, cancel, resume and step executions) < admin (also node types, users, secrets,
retention). A user may be limited to workflows carrying given tags.

Tokens are random 256-bit strings shown once at creation; only their SHA-256 digest is stored, so a
token cannot be read back from the database. Looking a token up is one indexed equality on the digest.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import delete, func, select, update

from flowdesk.domain.errors import ConflictError, InvalidInputError, NotFoundError
from flowdesk.store import Database
from flowdesk.store.audit_trail import record_audit
from flowdesk.store.tables import ApiTokenRow, UserRow, utcnow


class Role(StrEnum):
    """What a user may do; each role includes the permissions of the ones before it."""

    VIEWER = "viewer"
    EDITOR = "editor"
    RUNNER = "runner"
    ADMIN = "admin"


class Permission(StrEnum):
    """One kind of action the server checks before it acts."""

    READ = "read"  # workflows, executions, monitor, API definitions, environments, audit
    EDIT = "edit"  # workflows, nodes, connections, versions, imports, API definitions, environments
    RUN = "run"  # execute, cancel, resume, step, breakpoints
    ADMIN = "admin"  # node types, users, tokens, secrets, retention


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ}),
    Role.EDITOR: frozenset({Permission.READ, Permission.EDIT}),
    Role.RUNNER: frozenset({Permission.READ, Permission.EDIT, Permission.RUN}),
    Role.ADMIN: frozenset(Permission),
}

TOKEN_PREFIX = "fdt_"
_NAME = re.compile(r"^[\w.@+-]{1,255}$")


class User(BaseModel):
    """A server user: name, role, and the workflow tags the user is limited to (None: all)."""

    id: int
    name: str
    role: Role
    tags: list[str] | None = None
    created_at: datetime | None = None

    def can(self, permission: Permission) -> bool:
        """Whether the user's role grants `permission`."""
        return permission in ROLE_PERMISSIONS[self.role]

    def may_see_tags(self, tags: list[str] | None) -> bool:
        """Whether a workflow with these tags is inside the user's scope."""
        return self.tags is None or bool(set(self.tags) & set(tags or ()))


class TokenInfo(BaseModel):
    """A token as it can be listed: never the token itself."""

    id: int
    user: str
    label: str
    prefix: str
    created_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


def token_digest(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _role(value: str | Role) -> Role:
    try:
        return Role(str(value).strip().lower())
    except ValueError:
        raise InvalidInputError(
            f"'{value}' is not a role (choose from {', '.join(r.value for r in Role)})."
        ) from None


def _user(row: UserRow) -> User:
    return User(id=row.id, name=row.name, role=Role(row.role), tags=row.tags, created_at=row.created_at)


class UserService:
    """Adds, lists and removes users; creates, lists, revokes and checks their tokens."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add_user(self, name: str, role: str | Role, tags: list[str] | None = None) -> User:
        """Add a user; names are unique."""
        name = (name or "").strip()
        if not _NAME.match(name):
            raise InvalidInputError(
                f"'{name}' cannot be a user name (letters, digits and . _ @ + - only, 1 to 255 characters)."
            )
        role = _role(role)
        clean_tags = sorted({str(t).strip() for t in tags if str(t).strip()}) if tags else None
        with self.db.session() as session:
            if session.scalar(select(UserRow.id).where(UserRow.name == name)) is not None:
                raise ConflictError(f"A user named '{name}' exists already.")
            row = UserRow(name=name, role=role.value, tags=clean_tags, created_at=utcnow())
            session.add(row)
            session.flush()
            scope = f", limited to tags {', '.join(clean_tags)}" if clean_tags else ""
            record_audit(session, "user", row.id, "create", f"Added user '{name}' as {role.value}{scope}.")
            return _user(row)

    def set_role(self, name: str, role: str | Role) -> User:
        """Change a user's role."""
        role = _role(role)
        with self.db.session() as session:
            row = self._row(session, name)
            old, row.role = row.role, role.value
            record_audit(session, "user", row.id, "update", f"User '{name}': role {old} -> {role.value}.")
            return _user(row)

    def delete_user(self, name: str) -> None:
        """Remove a user and the user's tokens."""
        with self.db.session() as session:
            row = self._row(session, name)
            session.execute(delete(ApiTokenRow).where(ApiTokenRow.user_id == row.id))
            session.execute(delete(UserRow).where(UserRow.id == row.id))
            record_audit(session, "user", row.id, "delete", f"Removed user '{name}' and their tokens.")

    def list_users(self) -> list[User]:
        """Every user, by name."""
        with self.db.session(read_only=True) as session:
            return [_user(r) for r in session.scalars(select(UserRow).order_by(UserRow.name))]

    def get_user(self, name: str) -> User:
        """One user by name."""
        with self.db.session(read_only=True) as session:
            return _user(self._row(session, name))

    def count_users(self) -> int:
        """How many users exist (the server's auth is off while there are none)."""
        with self.db.session(read_only=True) as session:
            return int(session.scalar(select(func.count()).select_from(UserRow)) or 0)

    @staticmethod
    def _row(session: object, name: str) -> UserRow:
        row = session.scalar(select(UserRow).where(UserRow.name == name))  # type: ignore[attr-defined]
        if row is None:
            raise NotFoundError(f"No user is named '{name}'.")
        return row  # type: ignore[no-any-return]

    # -- tokens --------------------------------------------------------------------------------

    def create_token(self, user_name: str, label: str = "") -> tuple[str, TokenInfo]:
        """A new token for the user: (the token, shown only now; what can be listed about it)."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.db.session() as session:
            user = self._row(session, user_name)
            row = ApiTokenRow(
                user_id=user.id,
                label=label[:255],
                digest=token_digest(token),
                prefix=token[:12],
                created_at=utcnow(),
            )
            session.add(row)
            session.flush()
            record_audit(
                session, "token", row.id, "create", f"Created token {row.prefix}... for user '{user_name}'."
            )
            return token, TokenInfo(
                id=row.id, user=user.name, label=row.label, prefix=row.prefix, created_at=row.created_at
            )

    def list_tokens(self, user_name: str | None = None) -> list[TokenInfo]:
        """Tokens (never their values), newest first; revoked ones included with their time."""
        stmt = (
            select(ApiTokenRow, UserRow.name)
            .join(UserRow, UserRow.id == ApiTokenRow.user_id)
            .order_by(ApiTokenRow.id.desc())
        )
        if user_name is not None:
            stmt = stmt.where(UserRow.name == user_name)
        with self.db.session(read_only=True) as session:
            return [
                TokenInfo(
                    id=t.id,
                    user=name,
                    label=t.label,
                    prefix=t.prefix,
                    created_at=t.created_at,
                    last_used_at=t.last_used_at,
                    revoked_at=t.revoked_at,
                )
                for t, name in session.execute(stmt)
            ]

    def revoke_token(self, token_id_or_prefix: int | str) -> TokenInfo:
        """Revoke a token by id or by the prefix `token list` shows."""
        with self.db.session() as session:
            if isinstance(token_id_or_prefix, int) or str(token_id_or_prefix).isdigit():
                rows = list(
                    session.scalars(select(ApiTokenRow).where(ApiTokenRow.id == int(token_id_or_prefix)))
                )
            else:
                prefix = str(token_id_or_prefix).rstrip(".")
                rows = list(session.scalars(select(ApiTokenRow).where(ApiTokenRow.prefix.startswith(prefix))))
            if not rows:
                raise NotFoundError(f"No token has the id or prefix '{token_id_or_prefix}'.")
            if len(rows) > 1:
                raise InvalidInputError(
                    f"{len(rows)} tokens start with '{token_id_or_prefix}'; give more of it or the token's id."
                )
            row = rows[0]
            if row.revoked_at is None:
                row.revoked_at = utcnow()
                record_audit(session, "token", row.id, "update", f"Revoked token {row.prefix}....")
            user = session.get(UserRow, row.user_id)
            return TokenInfo(
                id=row.id,
                user=user.name if user else "",
                label=row.label,
                prefix=row.prefix,
                created_at=row.created_at,
                last_used_at=row.last_used_at,
                revoked_at=row.revoked_at,
            )

    def authenticate(self, token: str) -> User | None:
        """The user a valid, unrevoked token belongs to, else None. Records when it was last used."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        digest = token_digest(token)
        with self.db.session(read_only=True) as session:
            found = session.execute(
                select(ApiTokenRow.id, ApiTokenRow.revoked_at, ApiTokenRow.last_used_at, UserRow)
                .join(UserRow, UserRow.id == ApiTokenRow.user_id)
                .where(ApiTokenRow.digest == digest)
            ).first()
            if found is None or found[1] is not None:
                return None
            token_id, _, last_used, user_row = found
            user = _user(user_row)
        now = utcnow()
        if last_used is None or (now - last_used).total_seconds() > 60:
            # At most one write a minute per token: a busy client must not turn reads into writes.
            with self.db.session() as session:
                session.execute(
                    update(ApiTokenRow).where(ApiTokenRow.id == token_id).values(last_used_at=now)
                )
        return user
