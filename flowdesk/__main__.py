"""`python -m flowdesk`: the same as the `flowdesk` command."""

from flowdesk.cli import entry

entry()
