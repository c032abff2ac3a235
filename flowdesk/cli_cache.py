"""`flowdesk cache clear [--workflow W]`: forget the API answers kept in the database (docs/cli.md,
docs/semantics.md §2.12). The answers an engine keeps in memory live as long as that engine."""

from __future__ import annotations

import argparse
from typing import Any

from flowdesk.cli_actions import add_action, add_action_group, cli_module


def add_cache(subparsers: Any) -> None:
    """`flowdesk cache clear`."""
    actions = add_action_group(subparsers, "cache", "the response cache of API calls kept in the database")
    p = add_action(actions, "clear", "delete the kept answers (all, or one workflow's)", cmd_cache_clear)
    p.add_argument("--workflow", metavar="WORKFLOW", help="only this workflow's (id or name)")


def cmd_cache_clear(args: argparse.Namespace) -> int:
    cli = cli_module()
    from flowdesk.services.response_cache import ResponseCacheService
    from flowdesk.services.workflows import WorkflowService

    with cli.open_database(args) as db:
        workflow = WorkflowService(db).find_workflow(args.workflow) if args.workflow else None
        gone = ResponseCacheService(db).clear(workflow.id if workflow is not None else None)
    whose = f" of workflow '{workflow.name}'" if workflow is not None else ""
    cli.say(f"Deleted {gone} cached answer{'s' if gone != 1 else ''}{whose}.")
    return int(cli.EXIT_OK)
