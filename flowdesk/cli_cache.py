"""`flowdesk cache clear [--workflow W]`: forget the API answers kept in the database (docs/cli.md,
docs/semantics.md §2.12). The answers an engine keeps in memory live as long as that engine."""

from __future__ import annotations

import argparse
from typing import Any


def add_cache(subparsers: Any) -> None:
    """`flowdesk cache clear`."""
    from flowdesk import cli

    parser = subparsers.add_parser("cache", help="the response cache of API calls kept in the database")
    cli.add_db_option(parser)
    actions = parser.add_subparsers(dest="cache_action", metavar="ACTION", parser_class=type(parser))
    actions.required = True
    p = actions.add_parser("clear", help="delete the kept answers (all, or one workflow's)")
    p.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS, help="database file or SQLAlchemy URL")
    p.add_argument("--workflow", metavar="WORKFLOW", help="only this workflow's (id or name)")
    p.set_defaults(run=cmd_cache_clear)


def cmd_cache_clear(args: argparse.Namespace) -> int:
    from flowdesk import cli
    from flowdesk.services.response_cache import ResponseCacheService
    from flowdesk.services.workflows import WorkflowService

    with cli.open_database(args) as db:
        workflow = WorkflowService(db).find_workflow(args.workflow) if args.workflow else None
        gone = ResponseCacheService(db).clear(workflow.id if workflow is not None else None)
    whose = f" of workflow '{workflow.name}'" if workflow is not None else ""
    cli.say(f"Deleted {gone} cached answer{'s' if gone != 1 else ''}{whose}.")
    return int(cli.EXIT_OK)
