"""Indexes for the questions monitoring asks: runs by workflow and time, by status; steps in order,
by node name, by status and error type.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The composite indexes start with the same column, so they replace the single-column ones.
    op.drop_index("ix_workflow_executions_workflow_id", table_name="workflow_executions")
    op.create_index(
        "ix_workflow_executions_workflow_id_started_at", "workflow_executions", ["workflow_id", "started_at"]
    )
    op.create_index("ix_workflow_executions_status", "workflow_executions", ["status"])
    op.drop_index("ix_workflow_execution_logs_execution_id", table_name="workflow_execution_logs")
    op.create_index(
        "ix_workflow_execution_logs_execution_id_sequence",
        "workflow_execution_logs",
        ["execution_id", "sequence"],
    )
    op.create_index("ix_workflow_execution_logs_node_name", "workflow_execution_logs", ["node_name"])
    op.create_index(
        "ix_workflow_execution_logs_status_error_type", "workflow_execution_logs", ["status", "error_type"]
    )


def downgrade() -> None:
    op.drop_index("ix_workflow_execution_logs_status_error_type", table_name="workflow_execution_logs")
    op.drop_index("ix_workflow_execution_logs_node_name", table_name="workflow_execution_logs")
    op.drop_index("ix_workflow_execution_logs_execution_id_sequence", table_name="workflow_execution_logs")
    op.create_index("ix_workflow_execution_logs_execution_id", "workflow_execution_logs", ["execution_id"])
    op.drop_index("ix_workflow_executions_status", table_name="workflow_executions")
    op.drop_index("ix_workflow_executions_workflow_id_started_at", table_name="workflow_executions")
    op.create_index("ix_workflow_executions_workflow_id", "workflow_executions", ["workflow_id"])
