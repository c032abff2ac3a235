"""The alert subcommands: `flowdesk alert add|list|delete|history` (docs/cli.md, docs/monitoring.md).

Registered from flowdesk/cli.py's SUBCOMMANDS, built like the API library's groups (cli_api.py).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

from flowdesk.cli_actions import add_action, add_action_group, cli_module
from flowdesk.domain.alert_rules import AlertKind
from flowdesk.domain.errors import ConflictError, NotFoundError


def add_alert(subparsers: Any) -> None:
    """`flowdesk alert add|list|delete|history`."""
    actions = add_action_group(subparsers, "alert", "alert rules of workflows, and the alerts they fired")
    kinds = ", ".join(k.value.replace("_", "-") for k in AlertKind)
    p = add_action(actions, "add", "add an alert rule to a workflow", cmd_alert_add)
    p.add_argument("workflow", metavar="WORKFLOW", help="the workflow's id or name")
    p.add_argument("kind", metavar="KIND", help=f"what the rule watches: {kinds}")
    p.add_argument(
        "threshold",
        metavar="THRESHOLD",
        help="percent for the rates (fires below it for success-rate, above it for node-error-rate), "
        "seconds for p95-duration, a count for failures-in-row",
    )
    window = p.add_mutually_exclusive_group()
    window.add_argument("--runs", metavar="N", help="measure over the last N finished runs (default 20)")
    window.add_argument(
        "--period", metavar="SECONDS", help="measure over the runs that ended in the last SECONDS"
    )
    p.add_argument("--node", metavar="NAME", help="the node of a node-error-rate rule")
    p.add_argument("--webhook", metavar="API", help="an API definition (id or name) to POST each alert to")
    p.add_argument("--name", metavar="TEXT", help="what the alert is called (default: the rule in words)")
    p = add_action(actions, "list", "list alert rules", cmd_alert_list)
    p.add_argument("workflow", metavar="WORKFLOW", nargs="?", help="only this workflow's (id or name)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = add_action(
        actions, "delete", "delete an alert rule (its alerts stay in the history)", cmd_alert_delete
    )
    p.add_argument("rule_id", metavar="RULE", type=int, help="the rule's id (see `alert list`)")
    p = add_action(actions, "history", "list the alerts that fired, newest first", cmd_alert_history)
    p.add_argument("workflow", metavar="WORKFLOW", nargs="?", help="only this workflow's (id or name)")
    p.add_argument("--limit", metavar="N", type=int, default=50, help="at most N alerts (default 50)")
    p.add_argument("--json", action="store_true", help="print JSON")


def _workflow_id(db: Any, ref: str | None) -> int | None:
    if ref is None:
        return None
    from flowdesk.services.workflows import WorkflowService

    return WorkflowService(db).find_workflow(ref).id


def _api_id(db: Any, ref: str) -> int:
    """An API definition by id (digits) or exact name."""
    from flowdesk.services.apis import ApiService

    service = ApiService(db)
    text = ref.strip()
    if text.isdigit():
        return service.get_api(int(text)).id or int(text)
    named = [a for a in service.list_apis(search=text) if a.name == text]
    if not named:
        raise NotFoundError(f"The alert rule's webhook: no API definition has the id or name '{text}'.")
    if len(named) > 1:
        ids = ", ".join(str(a.id) for a in named)
        raise ConflictError(
            f"The alert rule's webhook: {len(named)} API definitions are named '{text}' (ids {ids})."
        )
    assert named[0].id is not None
    return named[0].id


def _say_json(items: list[dict[str, Any]]) -> int:
    cli = cli_module()
    cli.say(json.dumps(items, ensure_ascii=False, indent=2))
    return int(cli.EXIT_OK)


def cmd_alert_add(args: argparse.Namespace) -> int:
    cli = cli_module()
    from flowdesk.services.alerts import AlertService

    with cli.open_database(args) as db:
        workflow_id = _workflow_id(db, args.workflow)
        assert workflow_id is not None
        webhook = _api_id(db, args.webhook) if args.webhook else None
        rule = AlertService(db).add_rule(
            workflow_id,
            args.kind,
            args.threshold,
            runs=args.runs,
            period=args.period,
            node=args.node,
            webhook_api_id=webhook,
            name=args.name,
        )
    cli.say(f"Added alert rule {rule.id}: {rule.name}.")
    return cli.EXIT_OK


def cmd_alert_list(args: argparse.Namespace) -> int:
    cli = cli_module()
    from flowdesk.services.alerts import AlertService

    with cli.open_database(args) as db:
        rules = AlertService(db).list_rules(_workflow_id(db, args.workflow))
    if args.json:
        return _say_json(
            [
                {
                    "id": r.id,
                    "workflow_id": r.workflow_id,
                    "workflow": name,
                    "name": r.name,
                    "kind": r.kind.value,
                    "threshold": r.threshold,
                    "runs": r.runs,
                    "period": r.period,
                    "node": r.node,
                    "webhook_api_id": r.webhook_api_id,
                    "firing": r.firing,
                }
                for r, name in rules
            ]
        )
    if not rules:
        cli.say("No alert rules.")
        return cli.EXIT_OK
    rows = [
        (
            str(r.id),
            name,
            r.describe(),
            str(r.webhook_api_id) if r.webhook_api_id is not None else "",
            "firing" if r.firing else "",
        )
        for r, name in rules
    ]
    cli.say(cli.format_table(("ID", "WORKFLOW", "RULE", "WEBHOOK", "STATE"), rows))
    return cli.EXIT_OK


def cmd_alert_delete(args: argparse.Namespace) -> int:
    cli = cli_module()
    from flowdesk.services.alerts import AlertService

    with cli.open_database(args) as db:
        rule = AlertService(db).delete_rule(args.rule_id)
    cli.say(f"Deleted alert rule {args.rule_id}: {rule.name}.")
    return cli.EXIT_OK


def cmd_alert_history(args: argparse.Namespace) -> int:
    cli = cli_module()
    from flowdesk.services.alerts import AlertService

    if args.limit < 1:
        raise cli.UsageError(f"--limit must be at least 1, got {args.limit}")
    with cli.open_database(args) as db:
        alerts = AlertService(db).history(_workflow_id(db, args.workflow), limit=args.limit)
    if args.json:
        return _say_json([{**asdict(a), "fired_at": a.fired_at.isoformat()} for a in alerts])
    if not alerts:
        cli.say("No alerts have fired.")
        return cli.EXIT_OK
    rows = [
        (
            a.fired_at.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
            a.workflow_name,
            f"#{a.execution_id}" if a.execution_id is not None else "",
            a.message,
            a.webhook_status or "",
        )
        for a in alerts
    ]
    cli.say(cli.format_table(("FIRED", "WORKFLOW", "RUN", "ALERT", "WEBHOOK"), rows))
    return cli.EXIT_OK
