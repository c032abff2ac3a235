"""Filling the API library from specs, collections and curl commands: a preview, then one transaction.

`plan_spec` / `plan_curl` read the input (nothing is written) and say, per definition, whether it would
be added, would update the definition an earlier import of the same spec made (matched by `source`), or
would be skipped because the library already holds it unchanged. `apply(plan, selected=...)` writes the
chosen definitions, the environment variables (into a named environment, "default" unless told) and the
secret values found, all in one transaction: any failure leaves the database as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select

from flowdesk.domain.errors import InvalidInputError
from flowdesk.domain.models import ApiDefinition
from flowdesk.interchange.api_export import library_to_openapi
from flowdesk.store import Database
from flowdesk.store.audit_trail import record_audit
from flowdesk.store.mapping import api_from_row, api_values
from flowdesk.store.tables import ApiRow, SecretRow, utcnow

from .apis import ApiService, validated_api
from .environments import DEFAULT_ENVIRONMENT, EnvironmentService
from .secrets import SecretService, check_secret_name

if TYPE_CHECKING:  # pragma: no cover
    from flowdesk.interchange.api_import import ApiImportResult

log = logging.getLogger(__name__)

Action = Literal["add", "update", "skip"]

# Fields compared to decide whether a matched definition changed (id and timestamps excluded).
_COMPARED = (
    "name",
    "method",
    "url",
    "headers",
    "query",
    "body",
    "content_type",
    "timeout",
    "auth",
    "body_type",
    "connection",
    "description",
    "tags",
    "parameters",
    "source",
    "response_schema",
)


@dataclass
class PlannedApi:
    """One definition of an import and what applying it would do."""

    index: int
    definition: ApiDefinition
    action: Action
    reason: str
    existing_id: int | None = None
    changed: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.definition.name


@dataclass
class ApiImportPlan:
    """The preview of an import: nothing has been written yet."""

    result: ApiImportResult
    items: list[PlannedApi]
    source_name: str = ""

    @property
    def format(self) -> str:
        return self.result.format

    def counts(self) -> dict[str, int]:
        """How many definitions would be added, updated and skipped."""
        out = {"add": 0, "update": 0, "skip": 0}
        for item in self.items:
            out[item.action] += 1
        return out


@dataclass
class ApiImportReport:
    """What an applied import did."""

    format: str
    environment: str
    added: list[ApiDefinition] = field(default_factory=list)
    updated: list[ApiDefinition] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, why)
    variables_set: dict[str, str] = field(default_factory=dict)
    variables_kept: list[str] = field(default_factory=list)
    secrets_stored: list[str] = field(default_factory=list)
    secrets_kept: list[str] = field(default_factory=list)
    problems: list[Any] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _compare_values(api: ApiDefinition) -> dict[str, Any]:
    values = api_values(api)
    return {k: values.get(k) for k in _COMPARED}


class ApiLibraryService:
    """Import into the API library (preview, then all or nothing) and export it as OpenAPI."""

    def __init__(self, db: Database, *, secrets: SecretService | None = None) -> None:
        self.db = db
        self.secrets = secrets or SecretService(db)
        self.apis = ApiService(db)

    # -- preview --------------------------------------------------------------------------------------
    def plan_spec(self, text_or_bytes: str | bytes, *, source_name: str = "") -> ApiImportPlan:
        """Read an OpenAPI/Swagger/Postman document (or a curl command) and plan its import."""
        # The readers (and YAML) are imported when something is imported, not with the library:
        # the app has this service from its start.
        from flowdesk.interchange.api_import import import_api_spec

        return self._plan(import_api_spec(text_or_bytes, source_name=source_name), source_name)

    def plan_curl(self, command: str) -> ApiImportPlan:
        """Read a paste of one or more curl commands and plan its import (one definition per command)."""
        from flowdesk.interchange.api_import import import_curl

        return self._plan(import_curl(command), "curl")

    def _plan(self, result: ApiImportResult, source_name: str) -> ApiImportPlan:
        with self.db.session(read_only=True) as s:
            rows = list(s.scalars(select(ApiRow).order_by(ApiRow.id)))
            stored = [api_from_row(r) for r in rows]
        by_source: dict[str, ApiDefinition] = {}
        for api in stored:
            if api.source and api.source not in by_source:
                by_source[api.source] = api
        items: list[PlannedApi] = []
        seen_sources: set[str] = set()
        for index, api in enumerate(result.definitions):
            wanted = _compare_values(api)
            if api.source and api.source in seen_sources:
                items.append(PlannedApi(index, api, "skip", "the same source appears twice in this input"))
                continue
            if api.source:
                seen_sources.add(api.source)
            match = by_source.get(api.source) if api.source else None
            if match is not None:
                have = _compare_values(match)
                changed = [k for k in _COMPARED if have[k] != wanted[k]]
                if changed:
                    items.append(
                        PlannedApi(index, api, "update", f"changed: {', '.join(changed)}", match.id, changed)
                    )
                else:
                    items.append(
                        PlannedApi(index, api, "skip", "already in the library, unchanged", match.id)
                    )
                continue
            same = next(
                (
                    a
                    for a in stored
                    if all(_compare_values(a)[k] == wanted[k] for k in _COMPARED if k != "source")
                ),
                None,
            )
            if same is not None:
                items.append(
                    PlannedApi(index, api, "skip", f"identical to API {same.id} '{same.name}'", same.id)
                )
                continue
            items.append(PlannedApi(index, api, "add", "new"))
        return ApiImportPlan(result, items, source_name)

    # -- apply ----------------------------------------------------------------------------------------
    def _chosen(self, plan: ApiImportPlan, selected: Iterable[int | str] | None) -> set[int]:
        if selected is None:
            return {item.index for item in plan.items}
        chosen: set[int] = set()
        for key in selected:
            if isinstance(key, int) and not isinstance(key, bool):
                if not 0 <= key < len(plan.items):
                    raise InvalidInputError(f"There is no definition number {key} in this import.")
                chosen.add(key)
                continue
            hits = [item.index for item in plan.items if item.name == key or item.definition.source == key]
            if not hits:
                raise InvalidInputError(f"There is no definition named '{key}' in this import.")
            chosen.update(hits)
        return chosen

    def apply(
        self,
        plan: ApiImportPlan,
        *,
        selected: Iterable[int | str] | None = None,
        environment: str = DEFAULT_ENVIRONMENT,
    ) -> ApiImportReport:
        """Write the selected definitions (all by default), variables and secrets in one transaction.

        Variables and secrets already set keep their values (they may have been edited since the last
        import); the report lists them as kept.
        """
        chosen = self._chosen(plan, selected)
        result = plan.result
        report = ApiImportReport(
            result.format, environment, problems=list(result.problems), notes=list(result.notes)
        )
        # Encrypt before the transaction opens: the key lookup may touch the keyring or the disk.
        secrets: dict[str, str] = {}
        for key, value in result.secrets.items():
            if not isinstance(value, str) or not value:
                continue
            try:
                secrets[check_secret_name(key)] = value
            except InvalidInputError as err:  # one odd name must not sink the whole import
                report.notes.append(f"{err} Its value was not stored; set it under another name.")
        ciphertexts = {name: self.secrets.encrypt(value) for name, value in secrets.items()}
        for item in plan.items:
            if item.index not in chosen:
                report.skipped.append((item.name, "not selected"))
        with self.db.session() as s:
            for item in plan.items:
                if item.index not in chosen:
                    continue
                if item.action == "skip":
                    report.skipped.append((item.name, item.reason))
                    continue
                model = validated_api(item.definition.model_dump(), repr(item.name))
                if item.action == "update" and item.existing_id is not None:
                    row = s.get(ApiRow, item.existing_id)
                    if row is not None:
                        for key, value in api_values(model).items():
                            setattr(row, key, value)
                        row.updated_at = utcnow()
                        s.flush()
                        record_audit(
                            s,
                            "api",
                            row.id,
                            "update",
                            f"Updated API '{row.name}' from an import: {', '.join(item.changed) or 'refreshed'}.",
                        )
                        report.updated.append(api_from_row(row))
                        continue
                report.added.append(self.apis.create_api(model, session=s))
            if result.environment:
                env_row = EnvironmentService(self.db).ensure(s, environment)
                variables = dict(env_row.variables or {})
                for key, value in result.environment.items():
                    if key in variables and variables[key] != value:
                        report.variables_kept.append(key)
                    elif key not in variables:
                        variables[key] = value
                        report.variables_set[key] = value
                if report.variables_set:
                    env_row.variables = variables
                    env_row.updated_at = utcnow()
                    record_audit(
                        s,
                        "environment",
                        env_row.id,
                        "update",
                        f"Import set variables of '{environment}': {', '.join(sorted(report.variables_set))}.",
                    )
            for name, ciphertext in ciphertexts.items():
                if s.scalars(select(SecretRow.id).where(SecretRow.name == name)).first() is not None:
                    report.secrets_kept.append(name)
                    continue
                now = utcnow()
                secret_row = SecretRow(name=name, ciphertext=ciphertext, created_at=now, updated_at=now)
                s.add(secret_row)
                s.flush()
                record_audit(s, "secret", secret_row.id, "create", f"Stored secret '{name}' from an import.")
                report.secrets_stored.append(name)
        return report

    # -- one call -------------------------------------------------------------------------------------
    def import_spec(
        self,
        text_or_bytes: str | bytes,
        *,
        source_name: str = "",
        selected: Iterable[int | str] | None = None,
        environment: str = DEFAULT_ENVIRONMENT,
    ) -> ApiImportReport:
        """Plan and apply in one call (the preview is skipped)."""
        plan = self.plan_spec(text_or_bytes, source_name=source_name)
        return self.apply(plan, selected=selected, environment=environment)

    def import_curl(self, command: str, *, environment: str = DEFAULT_ENVIRONMENT) -> ApiImportReport:
        """Import one curl command (added unless the library holds the same request)."""
        return self.apply(self.plan_curl(command), environment=environment)

    # -- export ---------------------------------------------------------------------------------------
    def export_openapi(
        self, *, title: str = "flowdesk API library", environment: str | None = None
    ) -> dict[str, Any]:
        """The whole library as an OpenAPI 3 document (a dict); `base_url` from the environment, no secrets."""
        apis = self.apis.list_apis()
        envs = EnvironmentService(self.db)
        variables = envs.variables_for(environment)
        return library_to_openapi(apis, title=title, environment=variables or None)
