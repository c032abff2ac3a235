"""Files in and out: the workflow file format (and, later, the API importers).

`read_workflow_file` / `write_workflow_file` are the one reader and writer of workflow files;
every export passes through `redact_for_export` so no secret reaches a file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowdesk.lazy_exports import lazy_exports

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


# The workflow file reader (with graph validation and the expression language) is loaded when first
# asked for: the API importers live in this package too, and importing a 13 MB OpenAPI spec in a
# fresh process spent some 0.2 s loading what it never uses.
__getattr__ = lazy_exports(__name__, dict.fromkeys(_WORKFLOW_FILE, ".workflow_file"))

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
