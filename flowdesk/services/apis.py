"""The API library: definitions that API_CALL nodes name by `api_id` in their config."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from flowdesk.domain.errors import ConflictError, InvalidInputError
from flowdesk.domain.models import ApiDefinition
from flowdesk.store import Database
from flowdesk.store.audit_trail import record_audit
from flowdesk.store.mapping import API_FIELDS, api_from_row, api_values
from flowdesk.store.tables import ApiRow, NodeRow, WorkflowRow, get_row, utcnow

from .transaction import transaction

# What makes two definitions "the same API" when a file is imported (name and description may differ).
IDENTITY_FIELDS = ("method", "url", "headers", "query", "body", "auth", "timeout")


def _api_row(session: Session, api_id: int) -> ApiRow:
    return get_row(session, ApiRow, api_id, "API")


def validated_api(data: dict[str, Any], label: str) -> ApiDefinition:
    """`data` as an ApiDefinition with a name and a URL, or InvalidInputError naming the API (`label`)
    and the first field that is wrong (the API library's import checks its definitions with it too)."""
    try:
        api = ApiDefinition.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or "value"
        raise InvalidInputError(f"API {label}: {field}: {first.get('msg', 'invalid value')}.") from None
    if not api.name.strip():
        raise InvalidInputError("An API needs a name.")
    if not api.url.strip():
        raise InvalidInputError(f"API '{api.name}' needs a URL.")
    return api


def workflows_using_api(session: Session, api_id: int) -> list[tuple[int, str]]:
    """(id, name) of the workflows with a node whose config has this `api_id`."""
    rows = session.execute(
        select(WorkflowRow.id, WorkflowRow.name, NodeRow.config)
        .join(NodeRow, NodeRow.workflow_id == WorkflowRow.id)
        .where(NodeRow.node_type.in_(("API_CALL", "POLL")))
        .order_by(WorkflowRow.id)
    ).all()
    # Compared in Python: an api_id may have been stored as 3 or "3" by hand-written files.
    found: dict[int, str] = {}
    for wid, name, config in rows:
        ref = (config or {}).get("api_id")
        if ref is not None and str(ref) == str(api_id):
            found[wid] = name
    return list(found.items())


class ApiService:
    """Create, read, update and delete API definitions; find an identical one for import."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create_api(
        self, api: ApiDefinition | None = None, *, session: Session | None = None, **fields: Any
    ) -> ApiDefinition:
        """Add a definition, given as an ApiDefinition or as fields (name=..., url=..., ...)."""
        data = api.model_dump() if api is not None else {}
        data.update(fields)
        data.pop("id", None)
        model = validated_api(data, repr(data.get("name", "")))
        now = utcnow()
        with transaction(self.db, session) as s:
            row = ApiRow(**api_values(model), created_at=now, updated_at=now)
            s.add(row)
            s.flush()
            record_audit(
                s, "api", row.id, "create", f"Added API '{model.name}' ({model.method.upper()} {model.url})."
            )
            return api_from_row(row)

    def get_api(self, api_id: int, *, session: Session | None = None) -> ApiDefinition:
        """One definition by id."""
        with transaction(self.db, session, read_only=True) as s:
            return api_from_row(_api_row(s, api_id))

    def list_apis(self, search: str | None = None, tag: str | None = None) -> list[ApiDefinition]:
        """Definitions by name, filtered by a case-insensitive search (name, URL, description) and tag."""
        with self.db.session(read_only=True) as session:
            apis = [api_from_row(r) for r in session.scalars(select(ApiRow).order_by(ApiRow.name, ApiRow.id))]
        if tag is not None:
            apis = [a for a in apis if tag in a.tags]
        if search:
            needle = search.casefold()
            apis = [
                a
                for a in apis
                if needle in a.name.casefold()
                or needle in a.url.casefold()
                or needle in a.description.casefold()
            ]
        return apis

    def update_api(self, api_id: int, *, session: Session | None = None, **fields: Any) -> ApiDefinition:
        """Change some fields of a definition."""
        unknown = set(fields) - set(API_FIELDS)
        if unknown:
            raise InvalidInputError(f"An API has no field {', '.join(sorted(unknown))}.")
        with transaction(self.db, session) as session:
            row = _api_row(session, api_id)
            current = api_from_row(row)
            merged = validated_api({**current.model_dump(), **fields}, str(api_id))
            values = api_values(merged)
            columns = list(fields)
            changed = [k for k in columns if getattr(row, k) != values[k]]
            for key in columns:
                setattr(row, key, values[key])
            row.updated_at = utcnow()
            session.flush()
            what = ", ".join(changed) if changed else "nothing changed"
            record_audit(session, "api", api_id, "update", f"Updated API '{row.name}': {what}.")
            return api_from_row(row)

    def delete_api(self, api_id: int) -> None:
        """Delete a definition; refused while any workflow's node uses it."""
        with self.db.session() as session:
            row = _api_row(session, api_id)
            users = workflows_using_api(session, api_id)
            if users:
                names = ", ".join(f"'{name}' (id {wid})" for wid, name in users)
                raise ConflictError(
                    f"API '{row.name}' is used by workflow(s) {names}; change those nodes first."
                )
            name = row.name
            session.execute(delete(ApiRow).where(ApiRow.id == api_id))
            record_audit(session, "api", api_id, "delete", f"Deleted API '{name}'.")

    def workflows_using(self, api_id: int) -> list[tuple[int, str]]:
        """(id, name) of every workflow whose nodes use this API."""
        with self.db.session(read_only=True) as session:
            _api_row(session, api_id)
            return workflows_using_api(session, api_id)

    def find_identical(self, api: ApiDefinition, *, session: Session | None = None) -> ApiDefinition | None:
        """A stored definition with the same method, URL, headers, query, body, auth and timeout."""
        wanted = api_values(api)
        with transaction(self.db, session, read_only=True) as s:
            rows = s.scalars(
                select(ApiRow)
                .where(ApiRow.method == wanted["method"], ApiRow.url == wanted["url"])
                .order_by(ApiRow.id)
            )
            for row in rows:
                stored = api_values(api_from_row(row))
                if all(stored[k] == wanted[k] for k in IDENTITY_FIELDS):
                    return api_from_row(row)
        return None
