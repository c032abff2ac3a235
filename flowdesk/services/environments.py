"""Environments: named sets of variables (dev, staging, prod) reached as `{{env.NAME}}`; one is active.

`run_values(db, environment)` gives what a run needs: the chosen (or active) environment's variables and
every secret, decrypted, for the executor's `environment=` and `secrets=`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from flowdesk.domain.errors import ConflictError, InvalidInputError, NotFoundError
from flowdesk.store import Database
from flowdesk.store.audit_trail import record_audit
from flowdesk.store.plain_reads import environment_row
from flowdesk.store.tables import EnvironmentRow, utcnow

from .transaction import transaction

DEFAULT_ENVIRONMENT = "default"


@dataclass(frozen=True)
class Environment:
    """One named set of variables."""

    id: int
    name: str
    variables: dict[str, str] = field(default_factory=dict)
    is_active: bool = False


def _model(row: Any) -> Environment:
    return Environment(
        row.id, row.name, {k: str(v) for k, v in (row.variables or {}).items()}, bool(row.is_active)
    )


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError("An environment needs a name.")
    return name.strip()


def _check_variables(variables: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in variables.items():
        if not isinstance(key, str) or not key.strip():
            raise InvalidInputError("An environment variable needs a name.")
        out[key] = "" if value is None else str(value)
    return out


class EnvironmentService:
    """Create, read, change, activate and delete environments."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @staticmethod
    def _row(s: Session, name: str) -> EnvironmentRow | None:
        return s.scalars(select(EnvironmentRow).where(EnvironmentRow.name == name)).first()

    def _existing(self, s: Session, name: str) -> EnvironmentRow:
        row = self._row(s, name)
        if row is None:
            raise NotFoundError(f"There is no environment named '{name}'.")
        return row

    def create_environment(
        self, name: str, variables: Mapping[str, Any] | None = None, *, activate: bool = False
    ) -> Environment:
        """Add an environment; the first one made becomes active."""
        name = _check_name(name)
        values = _check_variables(variables or {})
        with self.db.session() as s:
            if self._row(s, name) is not None:
                raise ConflictError(f"An environment named '{name}' already exists.")
            row = self.ensure(s, name)
            row.variables = values
            if activate:
                self._activate(s, row)
            s.flush()
            return _model(row)

    def ensure(self, s: Session, name: str) -> EnvironmentRow:
        """The environment row `name` inside a caller's transaction, created (empty) when missing."""
        row = self._row(s, name)
        if row is None:
            has_active = s.scalars(select(EnvironmentRow.id).where(EnvironmentRow.is_active)).first()
            now = utcnow()
            row = EnvironmentRow(
                name=name, variables={}, is_active=has_active is None, created_at=now, updated_at=now
            )
            s.add(row)
            s.flush()
            record_audit(s, "environment", row.id, "create", f"Added environment '{name}'.")
        return row

    def get_environment(self, name: str) -> Environment:
        """One environment by name."""
        with self.db.session(read_only=True) as s:
            return _model(self._existing(s, name))

    def list_environments(self) -> list[Environment]:
        """Every environment, by name."""
        with self.db.session(read_only=True) as s:
            return [_model(r) for r in s.scalars(select(EnvironmentRow).order_by(EnvironmentRow.name))]

    def get_active(self) -> Environment | None:
        """The active environment, or None when there is none."""
        with self.db.session(read_only=True) as s:
            row = environment_row(s)
            return _model(row) if row is not None else None

    def set_variables(
        self, name: str, variables: Mapping[str, Any], *, replace: bool = False, create: bool = True
    ) -> Environment:
        """Set variables (merged into the existing ones, or replacing them all); creates the environment."""
        name = _check_name(name)
        values = _check_variables(variables)
        with self.db.session() as s:
            row = self.ensure(s, name) if create else self._existing(s, name)
            merged = values if replace else {**(row.variables or {}), **values}
            row.variables = merged
            row.updated_at = utcnow()
            keys = ", ".join(sorted(values)) or "none"
            record_audit(s, "environment", row.id, "update", f"Set variables of '{name}': {keys}.")
            s.flush()
            return _model(row)

    def unset_variable(self, name: str, key: str) -> Environment:
        """Remove one variable."""
        with self.db.session() as s:
            row = self._existing(s, name)
            variables = dict(row.variables or {})
            if key not in variables:
                raise NotFoundError(f"Environment '{name}' has no variable '{key}'.")
            del variables[key]
            row.variables = variables
            row.updated_at = utcnow()
            record_audit(s, "environment", row.id, "update", f"Removed variable '{key}' from '{name}'.")
            s.flush()
            return _model(row)

    def rename_environment(self, name: str, new_name: str) -> Environment:
        """Give an environment another name."""
        new_name = _check_name(new_name)
        with self.db.session() as s:
            row = self._existing(s, name)
            if new_name != name and self._row(s, new_name) is not None:
                raise ConflictError(f"An environment named '{new_name}' already exists.")
            row.name = new_name
            row.updated_at = utcnow()
            record_audit(s, "environment", row.id, "update", f"Renamed environment '{name}' to '{new_name}'.")
            s.flush()
            return _model(row)

    def delete_environment(self, name: str) -> None:
        """Delete an environment (if it was active, none is active afterwards)."""
        with self.db.session() as s:
            row = self._existing(s, name)
            rid = row.id
            s.delete(row)
            record_audit(s, "environment", rid, "delete", f"Deleted environment '{name}'.")

    def activate(self, name: str) -> Environment:
        """Make `name` the active environment (and no other)."""
        with self.db.session() as s:
            row = self._existing(s, name)
            self._activate(s, row)
            record_audit(s, "environment", row.id, "update", f"Activated environment '{name}'.")
            s.flush()
            return _model(row)

    @staticmethod
    def _activate(s: Session, row: EnvironmentRow) -> None:
        s.execute(update(EnvironmentRow).where(EnvironmentRow.id != row.id).values(is_active=False))
        row.is_active = True

    def variables_for(self, name: str | None = None, *, session: Session | None = None) -> dict[str, str]:
        """The variables of `name` (NotFoundError if missing), or of the active environment, or {}."""
        with transaction(self.db, session, read_only=True) as s:
            row = environment_row(s, name or None)
        if row is None and name:
            raise NotFoundError(f"There is no environment named '{name}'.")
        return _model(row).variables if row is not None else {}


def run_environment_name(db: Database, environment: str | Mapping[str, Any] | None = None) -> str | None:
    """The name a run records for `environment` as run_values reads it: the name given, else the
    active environment's (None for variables given as a mapping, or when no environment is active)."""
    if isinstance(environment, str):
        return environment
    if environment is not None:
        return None
    active = EnvironmentService(db).get_active()
    return active.name if active is not None else None


def run_values(
    db: Database, environment: str | Mapping[str, Any] | None = None, *, secrets: Any = None
) -> tuple[dict[str, str], dict[str, str]]:
    """(environment variables, decrypted secrets) for one run.

    `environment` is an environment's name, a mapping of variables used as given, or None for the
    active environment. `secrets` is a SecretService (default: one with the default key store).
    """
    from .secrets import SecretService

    if isinstance(environment, Mapping):
        variables = {str(k): str(v) for k, v in environment.items()}
    else:
        variables = EnvironmentService(db).variables_for(environment)
    service = secrets if secrets is not None else SecretService(db)
    return variables, service.resolve_all()
