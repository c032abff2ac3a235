"""Files in and out: the workflow file format (and, later, the API importers).

`read_workflow_file` / `write_workflow_file` are the one reader and writer of workflow files;
every export passes through `redact_for_export` so no secret reaches a file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import credential_redaction  # noqa: F401  (registers the API library's export rule)
from .export_redaction import add_redaction_rule, redact_for_export

if TYPE_CHECKING:  # pragma: no cover
    from .workflow_file import (
        FORMAT_VERSION,
        WorkflowFile,
        describe_problem,
        read_workflow_file,
        workflow_document,
        write_workflow_file,
    )

_WORKFLOW_FILE = {
    "FORMAT_VERSION",
    "WorkflowFile",
    "describe_problem",
    "read_workflow_file",
    "workflow_document",
    "write_workflow_file",
}


def __getattr__(name: str) -> Any:
    # The workflow file reader (with graph validation and the expression language) is loaded when first
    # asked for: the API importers live in this package too, and importing a 13 MB OpenAPI spec in a
    # fresh process spent some 0.2 s loading what it never uses.
    if name in _WORKFLOW_FILE:
        from . import workflow_file

        return getattr(workflow_file, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "FORMAT_VERSION",
    "WorkflowFile",
    "add_redaction_rule",
    "describe_problem",
    "read_workflow_file",
    "redact_for_export",
    "workflow_document",
    "write_workflow_file",
]
