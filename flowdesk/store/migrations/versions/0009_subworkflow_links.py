"""Sub-workflow runs: an execution records the execution and the step that started it.

`workflow_executions.parent_execution_id` is the run whose SUBWORKFLOW step started this one (NULL
for a top-level run) and `parent_step` that step's name (`call[2]` inside a loop). An index on
`parent_execution_id` serves the monitor's child counts and the run log's "steps of this step's
child run". Plain columns, not a foreign key (like `resumed_as_id`, 0004): SQLite adds them without
rebuilding the table whose triggers revision 0003 made, and a child keeps the number of a deleted
parent.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_INDEX = "ix_workflow_executions_parent_execution_id"


def upgrade() -> None:
    op.add_column("workflow_executions", sa.Column("parent_execution_id", sa.Integer(), nullable=True))
    op.add_column("workflow_executions", sa.Column("parent_step", sa.Text(), nullable=True))
    op.create_index(_INDEX, "workflow_executions", ["parent_execution_id"])


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="workflow_executions")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("workflow_executions", recreate="never") as batch:
            batch.drop_column("parent_step")
            batch.drop_column("parent_execution_id")
    else:
        op.drop_column("workflow_executions", "parent_step")
        op.drop_column("workflow_executions", "parent_execution_id")
