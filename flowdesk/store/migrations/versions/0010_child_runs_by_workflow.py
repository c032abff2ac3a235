"""The monitor's child-run figures: an index on `workflow_executions (workflow_id,
parent_execution_id)`, so counting a workflow's child runs (runs a SUBWORKFLOW step started) reads
index entries only, and its top-level runs are found without reading every run of the workflow
(store/child_runs.py). Only an index: nothing to convert.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_INDEX = "ix_workflow_executions_workflow_id_parent_execution_id"


def upgrade() -> None:
    op.create_index(_INDEX, "workflow_executions", ["workflow_id", "parent_execution_id"])


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="workflow_executions")
