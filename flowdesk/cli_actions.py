"""The shape the subcommands with actions share (`flowdesk api list`, `flowdesk user add`, ...).

`add_action_group` adds `flowdesk NAME` with its own `--db` and a list of actions; `add_action` adds
one action to it. `cli_module()` is flowdesk/cli.py, imported when a command runs (say, complain,
open_database, ...), so the subcommand modules can be loaded while cli.py itself is still loading.
"""

from __future__ import annotations

import argparse
import sys
from types import ModuleType
from typing import Any


def cli_module() -> ModuleType:
    """flowdesk/cli.py (say, complain, open_database, the exit codes, ...)."""
    from flowdesk import cli

    return cli


def add_action(group: Any, name: str, help_text: str, run: Any) -> argparse.ArgumentParser:
    """One action of a group (`flowdesk api import`): its parser, which runs `run(args)`."""
    p = group.add_parser(name, help=help_text)
    # --db is accepted before or after the action (`flowdesk api --db X list`, `flowdesk api list --db X`);
    # here it has no default, so that it does not hide one given before the action.
    p.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS, help="database file or SQLAlchemy URL")
    p.set_defaults(run=run)
    return p


def add_action_group(subparsers: Any, name: str, help_text: str) -> Any:
    """`flowdesk NAME ACTION ...`: the subcommand; returns the subparsers its actions are added to.
    Without an action it prints its help to stderr and exits with the usage code."""
    parser = subparsers.add_parser(name, help=help_text)
    cli_module().add_db_option(parser)
    parser.set_defaults(run=lambda args: _missing_action(parser))
    # The actions' parsers are of the same class as the subcommand's (cli.py's, which words errors).
    return parser.add_subparsers(dest=f"{name}_action", metavar="ACTION", parser_class=type(parser))


def _missing_action(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    exit_usage: int = cli_module().EXIT_USAGE
    return exit_usage
