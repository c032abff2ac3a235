"""Step rows: drop the index on workflow_execution_logs (node_id) alone.

Migration 0003 added the index (node_id, execution_time), whose leading column serves every lookup
the single-column index served (the monitor's per-node figures, the cascade from workflow_nodes);
the query plans of the store, services, server and command-line tests used the old index only to
count rows, which any index serves. Each index costs every step row's insert: measured on a
database of 5,000 steps (10 commits of 100 rows, as the step sink writes them, median of 7, on the
2-core development machine), 1,000 inserts took 16.2 ms with it and 13.9 ms without.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_workflow_execution_logs_node_id", table_name="workflow_execution_logs")


def downgrade() -> None:
    op.create_index("ix_workflow_execution_logs_node_id", "workflow_execution_logs", ["node_id"])
