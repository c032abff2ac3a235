"""Server-mode subcommands: `flowdesk serve`, `flowdesk user ...`, `flowdesk token ...`, `flowdesk audit`.

Registered from flowdesk/cli.py's SUBCOMMANDS, in the `add_<name>` / `cmd_<name>` pattern of cli_api.py.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from datetime import UTC, datetime
from typing import Any

from flowdesk.cli_actions import add_action, add_action_group, cli_module
from flowdesk.domain.errors import InvalidInputError

# -- serve ------------------------------------------------------------------------------------------------


def add_serve(subparsers: Any) -> None:
    """`flowdesk serve`: the REST API (FastAPI under uvicorn)."""
    from flowdesk.server import DEFAULT_BODY_LIMIT, DEFAULT_PORT

    cli = cli_module()
    p = subparsers.add_parser("serve", help="serve the REST API (default http://127.0.0.1:8001)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument(
        "--body-limit",
        type=int,
        default=DEFAULT_BODY_LIMIT,
        metavar="BYTES",
        help=f"largest request body accepted (default {DEFAULT_BODY_LIMIT:,})",
    )
    p.add_argument("--workers-broker", metavar="URL", default=None, help="a Celery broker to hand runs to")
    cli.add_db_option(p)
    p.set_defaults(run=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    import asyncio

    import uvicorn

    from flowdesk.server.app import create_app
    from flowdesk.server.runtime import ServerSettings, is_loopback
    from flowdesk.services.users import UserService

    cli = cli_module()
    if not 0 < args.port < 65536:
        raise InvalidInputError(f"--port must be between 1 and 65535, not {args.port}.")
    db = cli.open_database(args)
    users = UserService(db).count_users()
    if users == 0 and not is_loopback(args.host):
        db.close()
        cli.complain(
            f"{cli.PROG}: refusing to serve on {args.host} without users: anyone who can reach it could "
            f"run and change workflows. Add one first ('{cli.PROG} user add NAME --role admin', then "
            f"'{cli.PROG} token create NAME'), or listen on 127.0.0.1."
        )
        return cli.EXIT_USAGE
    settings = ServerSettings(
        db=db, host=args.host, port=args.port, body_limit=args.body_limit, workers_broker=args.workers_broker
    )
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{args.port}"
    cli.say(f"flowdesk serving {db.display_url} at {url}")
    cli.say(f"API documentation: {url}/docs (OpenAPI: {url}/openapi.json)")
    if users == 0:
        cli.say(
            "Auth is off: no user exists and the server listens on loopback only. "
            f"'{cli.PROG} user add NAME --role admin' and '{cli.PROG} token create NAME' turn it on."
        )
    else:
        cli.say(f"Auth is on: {users} user(s); send 'Authorization: Bearer <token>'.")
    config = uvicorn.Config(
        create_app(settings),
        host=args.host,
        port=args.port,
        log_level="warning",
        timeout_graceful_shutdown=2,
        lifespan="on",
        ws="websockets-sansio" if _has_module("websockets") else "auto",
    )
    server = uvicorn.Server(config)
    # uvicorn handles SIGINT and SIGTERM itself (graceful shutdown), then hands the signal on to the
    # handler that was there before: these end the command quietly, the server having stopped.
    previous = {sig: signal.signal(sig, _stopped) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        asyncio.run(server.serve())
    except (KeyboardInterrupt, _Stopped):
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        db.close()
    if not server.started:
        cli.complain(f"{cli.PROG}: the server could not start on {url} (is the port in use?).")
        return cli.EXIT_USAGE
    cli.say("flowdesk server stopped.")
    return cli.EXIT_OK


class _Stopped(Exception):
    """A stop signal arrived after uvicorn's own shutdown."""


def _stopped(signum: int, frame: Any) -> None:
    raise _Stopped


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


# -- users and tokens --------------------------------------------------------------------------------------


def add_user(subparsers: Any) -> None:
    """`flowdesk user add|list|delete|role`."""
    actions = add_action_group(subparsers, "user", "server users and their roles")
    p = add_action(actions, "add", "add a user", cmd_user_add)
    p.add_argument("name", metavar="NAME")
    p.add_argument("--role", required=True, choices=["viewer", "editor", "runner", "admin"])
    p.add_argument(
        "--tag", action="append", dest="tags", metavar="TAG", help="limit the user to workflows with TAG"
    )
    p = add_action(actions, "list", "list users", cmd_user_list)
    p.add_argument("--json", action="store_true", help="print JSON")
    p = add_action(actions, "delete", "remove a user and their tokens", cmd_user_delete)
    p.add_argument("name", metavar="NAME")
    p = add_action(actions, "role", "change a user's role", cmd_user_role)
    p.add_argument("name", metavar="NAME")
    p.add_argument("role", choices=["viewer", "editor", "runner", "admin"])


def _users(args: argparse.Namespace) -> Any:
    from flowdesk.services.users import UserService

    return UserService(cli_module().open_database(args))


def cmd_user_add(args: argparse.Namespace) -> int:
    service = _users(args)
    try:
        user = service.add_user(args.name, args.role, args.tags)
    finally:
        service.db.close()
    scope = f", limited to workflows tagged {', '.join(user.tags)}" if user.tags else ""
    cli_module().say(
        f"Added user '{user.name}' ({user.role.value}{scope}). Make a token: flowdesk token create {user.name}"
    )
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    cli = cli_module()
    service = _users(args)
    try:
        users = service.list_users()
    finally:
        service.db.close()
    if args.json:
        cli.say(json.dumps([u.model_dump(mode="json") for u in users], ensure_ascii=False))
        return 0
    if not users:
        cli.say("No users: the server runs without auth on loopback.")
        return 0
    rows = [[u.name, u.role.value, ", ".join(u.tags) if u.tags else "(all)"] for u in users]
    cli.say(cli.format_table(["NAME", "ROLE", "WORKFLOW TAGS"], rows))
    return 0


def cmd_user_delete(args: argparse.Namespace) -> int:
    service = _users(args)
    try:
        service.delete_user(args.name)
    finally:
        service.db.close()
    cli_module().say(f"Removed user '{args.name}' and their tokens.")
    return 0


def cmd_user_role(args: argparse.Namespace) -> int:
    service = _users(args)
    try:
        user = service.set_role(args.name, args.role)
    finally:
        service.db.close()
    cli_module().say(f"User '{user.name}' is now {user.role.value}.")
    return 0


def add_token(subparsers: Any) -> None:
    """`flowdesk token create|list|revoke`."""
    actions = add_action_group(subparsers, "token", "API tokens for the server")
    p = add_action(actions, "create", "create a token for a user (printed once)", cmd_token_create)
    p.add_argument("name", metavar="USER")
    p.add_argument("--label", default="", help="what the token is for")
    p = add_action(actions, "list", "list tokens (never their values)", cmd_token_list)
    p.add_argument("--user", default=None)
    p = add_action(actions, "revoke", "revoke a token by id or prefix", cmd_token_revoke)
    p.add_argument("token", metavar="ID_OR_PREFIX")


def cmd_token_create(args: argparse.Namespace) -> int:
    cli = cli_module()
    service = _users(args)
    try:
        token, info = service.create_token(args.name, args.label)
    finally:
        service.db.close()
    cli.say(token)
    cli.complain(f"Token {info.id} for '{info.user}': shown only now, keep it safe (it is stored hashed).")
    return 0


def cmd_token_list(args: argparse.Namespace) -> int:
    cli = cli_module()
    service = _users(args)
    try:
        tokens = service.list_tokens(args.user)
    finally:
        service.db.close()
    rows = [
        [
            str(t.id),
            t.user,
            t.prefix + "...",
            t.label,
            _when(t.last_used_at) or "never",
            "revoked " + _when(t.revoked_at) if t.revoked_at else "active",
        ]
        for t in tokens
    ]
    cli.say(
        cli.format_table(["ID", "USER", "TOKEN", "LABEL", "LAST USED", "STATE"], rows)
        if rows
        else "No tokens."
    )
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    service = _users(args)
    try:
        info = service.revoke_token(args.token)
    finally:
        service.db.close()
    cli_module().say(f"Revoked token {info.id} ({info.prefix}...) of '{info.user}'.")
    return 0


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if value else ""


# -- audit ---------------------------------------------------------------------------------------------------


def add_audit(subparsers: Any) -> None:
    """`flowdesk audit`: who changed what, when."""
    cli = cli_module()
    p = subparsers.add_parser("audit", help="list audit log entries, newest first")
    p.add_argument("--entity", help="workflow, node, connection, execution, api, user, token...")
    p.add_argument("--id", type=int, dest="entity_id", help="the entity's id")
    p.add_argument("--workflow", type=int, help="shorthand for --entity workflow --id N")
    p.add_argument("--actor", help="only what this user did")
    p.add_argument("--since", type=_time_arg, help="only entries at or after this time (ISO 8601)")
    p.add_argument("--until", type=_time_arg, help="only entries before this time (ISO 8601)")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true", help="print JSON lines")
    cli.add_db_option(p)
    p.set_defaults(run=cmd_audit)


def _time_arg(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a time (write e.g. 2026-12-07 or 2026-12-07T10:00)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def cmd_audit(args: argparse.Namespace) -> int:
    from flowdesk.services.audit import AuditService

    cli = cli_module()
    entity, entity_id = args.entity, args.entity_id
    if args.workflow is not None:
        entity, entity_id = "workflow", args.workflow
    with cli.open_database(args) as db:
        entries = AuditService(db).list_entries(
            entity=entity,
            entity_id=entity_id,
            limit=max(1, args.limit),
            actor=args.actor,
            since=args.since,
            until=args.until,
        )
    if args.json:
        for entry in entries:
            sys.stdout.write(json.dumps(entry.model_dump(mode="json"), ensure_ascii=False) + "\n")
        return 0
    rows = [
        [_when(e.occurred_at), e.actor or "", e.action, f"{e.entity} {e.entity_id or ''}".strip(), e.summary]
        for e in entries
    ]
    cli.say(
        cli.format_table(["WHEN (UTC)", "ACTOR", "ACTION", "WHAT", "SUMMARY"], rows)
        if rows
        else "No entries."
    )
    return 0
