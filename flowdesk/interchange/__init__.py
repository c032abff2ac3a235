"""Files in and out: the workflow file format (and, later, the API importers).

`read_workflow_file` / `write_workflow_file` are the one reader and writer of workflow files;
every export passes through `redact_for_export` so no secret reaches a file.
"""

from __future__ import annotations

from . import credential_redaction  # noqa: F401  (registers the API library's export rule)
from .export_redaction import add_redaction_rule, redact_for_export
from .workflow_file import (
    FORMAT_VERSION,
    WorkflowFile,
    describe_problem,
    read_workflow_file,
    workflow_document,
    write_workflow_file,
)

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
