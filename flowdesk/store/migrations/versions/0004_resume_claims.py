"""Resume claims: an execution records the execution that resumed it, so it is resumed once.

`workflow_executions.resumed_as_id` is set in the transaction that creates the resuming execution,
by an UPDATE that only matches while it is still NULL (engine/records.py, `claim_for_resume`): of two
resumes at once, one claims the execution and the other is refused. An `interrupted` execution
becomes `resumed` at the same moment (a failed, cancelled or timed-out one keeps its status, which
the monitor's figures count). A plain integer, not a foreign key: the refusal names the execution
that resumed it even after that one is deleted, and SQLite adds the column without rebuilding the
table (whose triggers revision 0003 made).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("workflow_executions", sa.Column("resumed_as_id", sa.Integer(), nullable=True))
    # Executions resumed before this revision: claimed by their newest resume.
    op.execute(
        "UPDATE workflow_executions SET resumed_as_id = (SELECT MAX(r.id) FROM workflow_executions r"
        " WHERE r.resumed_from_id = workflow_executions.id)"
        " WHERE EXISTS (SELECT 1 FROM workflow_executions r WHERE r.resumed_from_id = workflow_executions.id)"
    )
    op.execute(
        "UPDATE workflow_executions SET status = 'resumed'"
        " WHERE status = 'interrupted' AND resumed_as_id IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("UPDATE workflow_executions SET status = 'interrupted' WHERE status = 'resumed'")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("workflow_executions", recreate="never") as batch:
            batch.drop_column("resumed_as_id")
    else:
        op.drop_column("workflow_executions", "resumed_as_id")
