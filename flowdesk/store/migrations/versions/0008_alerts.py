"""Alerts (issue 18): rules per workflow (`alert_rules`) and the history of their firings
(`alert_history`).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workflow_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("window_runs", sa.Integer(), nullable=True),
        sa.Column("window_seconds", sa.Float(), nullable=True),
        sa.Column("node_name", sa.String(255), nullable=True),
        sa.Column("webhook_api_id", sa.Integer(), nullable=True),
        sa.Column("firing", sa.Boolean(), nullable=False),
        _ts("created_at"),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflow_definitions.id"],
            ondelete="CASCADE",
            name="fk_alert_rules_workflow_id_workflow_definitions",
        ),
        sa.ForeignKeyConstraint(
            ["webhook_api_id"],
            ["api_definitions.id"],
            ondelete="SET NULL",
            name="fk_alert_rules_webhook_api_id_api_definitions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alert_rules"),
    )
    op.create_index("ix_alert_rules_workflow_id", "alert_rules", ["workflow_id"])
    op.create_table(
        "alert_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("workflow_id", sa.Integer(), nullable=False),
        sa.Column("execution_id", sa.Integer(), nullable=True),
        sa.Column("rule_name", sa.String(255), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("webhook_status", sa.Text(), nullable=True),
        _ts("fired_at"),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["alert_rules.id"], ondelete="SET NULL", name="fk_alert_history_rule_id_alert_rules"
        ),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflow_definitions.id"],
            ondelete="CASCADE",
            name="fk_alert_history_workflow_id_workflow_definitions",
        ),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["workflow_executions.id"],
            ondelete="SET NULL",
            name="fk_alert_history_execution_id_workflow_executions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alert_history"),
    )
    op.create_index("ix_alert_history_workflow_id_fired_at", "alert_history", ["workflow_id", "fired_at"])
    op.create_index("ix_alert_history_rule_id", "alert_history", ["rule_id"])


def downgrade() -> None:
    op.drop_index("ix_alert_history_rule_id", table_name="alert_history")
    op.drop_index("ix_alert_history_workflow_id_fired_at", table_name="alert_history")
    op.drop_table("alert_history")
    op.drop_index("ix_alert_rules_workflow_id", table_name="alert_rules")
    op.drop_table("alert_rules")
