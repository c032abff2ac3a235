"""Initial schema: workflows, nodes, connections, runs, API library, versions, node types, audit,
environments and secrets.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "workflow_definitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("version", sa.String(50), nullable=False),
        sa.Column("config", sa.JSON(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_workflow_definitions"),
    )
    op.create_index("ix_workflow_definitions_name", "workflow_definitions", ["name"])

    op.create_table(
        "workflow_nodes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workflow_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("node_type", sa.String(100), nullable=False),
        sa.Column("config", sa.JSON(), nullable=True),
        sa.Column("position_x", sa.Float(), nullable=False),
        sa.Column("position_y", sa.Float(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        _ts("created_at"),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflow_definitions.id"],
            ondelete="CASCADE",
            name="fk_workflow_nodes_workflow_id_workflow_definitions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_workflow_nodes"),
        sa.UniqueConstraint("workflow_id", "name", name="uq_workflow_nodes_workflow_id_name"),
    )

    op.create_table(
        "workflow_connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workflow_id", sa.Integer(), nullable=False),
        sa.Column("from_node_id", sa.Integer(), nullable=False),
        sa.Column("to_node_id", sa.Integer(), nullable=False),
        sa.Column("connection_type", sa.String(50), nullable=False),
        sa.Column("condition", sa.Text(), nullable=True),
        sa.Column("config", sa.JSON(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        _ts("created_at"),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflow_definitions.id"],
            ondelete="CASCADE",
            name="fk_workflow_connections_workflow_id_workflow_definitions",
        ),
        sa.ForeignKeyConstraint(
            ["from_node_id"],
            ["workflow_nodes.id"],
            ondelete="CASCADE",
            name="fk_workflow_connections_from_node_id_workflow_nodes",
        ),
        sa.ForeignKeyConstraint(
            ["to_node_id"],
            ["workflow_nodes.id"],
            ondelete="CASCADE",
            name="fk_workflow_connections_to_node_id_workflow_nodes",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_workflow_connections"),
    )
    op.create_index("ix_workflow_connections_workflow_id_seq", "workflow_connections", ["workflow_id", "seq"])
    op.create_index("ix_workflow_connections_from_node_id", "workflow_connections", ["from_node_id"])
    op.create_index("ix_workflow_connections_to_node_id", "workflow_connections", ["to_node_id"])

    op.create_table(
        "workflow_executions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workflow_id", sa.Integer(), nullable=False),
        sa.Column("execution_name", sa.String(255), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("input_data", sa.JSON(), nullable=True),
        sa.Column("output_data", sa.JSON(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("current_node", sa.Text(), nullable=True),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=True),
        sa.Column("environment", sa.Text(), nullable=True),
        sa.Column("runner_pid", sa.Integer(), nullable=True),
        sa.Column("runner_host", sa.String(255), nullable=True),
        sa.Column("resumed_from_id", sa.Integer(), nullable=True),
        _ts("started_at", nullable=True),
        _ts("completed_at", nullable=True),
        _ts("created_at"),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflow_definitions.id"],
            ondelete="CASCADE",
            name="fk_workflow_executions_workflow_id_workflow_definitions",
        ),
        sa.ForeignKeyConstraint(
            ["resumed_from_id"],
            ["workflow_executions.id"],
            ondelete="SET NULL",
            name="fk_workflow_executions_resumed_from_id_workflow_executions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_workflow_executions"),
    )
    # What the cascades need; 0002 adds what monitoring asks for.
    op.create_index("ix_workflow_executions_workflow_id", "workflow_executions", ["workflow_id"])
    op.create_index("ix_workflow_executions_resumed_from_id", "workflow_executions", ["resumed_from_id"])

    op.create_table(
        "workflow_execution_logs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("execution_id", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=True),
        sa.Column("step_name", sa.String(255), nullable=False),
        sa.Column("node_name", sa.String(255), nullable=True),
        sa.Column("node_type", sa.String(100), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("input_data", sa.JSON(), nullable=True),
        sa.Column("output_data", sa.JSON(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("error_type", sa.String(50), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("execution_time", sa.Float(), nullable=True),
        sa.Column("warnings", sa.JSON(), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=True),
        sa.Column("iteration_path", sa.JSON(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        _ts("started_at", nullable=True),
        _ts("completed_at", nullable=True),
        _ts("created_at"),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["workflow_executions.id"],
            ondelete="CASCADE",
            name="fk_workflow_execution_logs_execution_id_workflow_executions",
        ),
        sa.ForeignKeyConstraint(
            ["node_id"],
            ["workflow_nodes.id"],
            ondelete="SET NULL",
            name="fk_workflow_execution_logs_node_id_workflow_nodes",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_workflow_execution_logs"),
    )
    op.create_index("ix_workflow_execution_logs_execution_id", "workflow_execution_logs", ["execution_id"])
    op.create_index("ix_workflow_execution_logs_node_id", "workflow_execution_logs", ["node_id"])

    op.create_table(
        "api_definitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=True),
        sa.Column("query", sa.JSON(), nullable=True),
        sa.Column("body", sa.JSON(), nullable=True),
        sa.Column("content_type", sa.String(255), nullable=True),
        sa.Column("timeout", sa.Float(), nullable=False),
        sa.Column("auth", sa.JSON(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=True),
        sa.Column("parameters", sa.JSON(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_api_definitions"),
    )
    op.create_index("ix_api_definitions_source", "api_definitions", ["source"])

    op.create_table(
        "workflow_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workflow_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        _ts("created_at"),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflow_definitions.id"],
            ondelete="CASCADE",
            name="fk_workflow_versions_workflow_id_workflow_definitions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_workflow_versions"),
    )
    op.create_index("ix_workflow_versions_workflow_id_number", "workflow_versions", ["workflow_id", "number"])

    op.create_table(
        "node_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type_name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("config_schema", sa.JSON(), nullable=True),
        sa.Column("execution_handler", sa.Text(), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_node_types"),
        sa.UniqueConstraint("type_name", name="uq_node_types_type_name"),
    )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        _ts("occurred_at"),
        sa.Column("entity", sa.String(50), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_entity_entity_id", "audit_log", ["entity", "entity_id"])
    op.create_index("ix_audit_log_occurred_at", "audit_log", ["occurred_at"])

    op.create_table(
        "environments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("variables", sa.JSON(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_environments"),
        sa.UniqueConstraint("name", name="uq_environments_name"),
    )

    op.create_table(
        "secrets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_secrets"),
        sa.UniqueConstraint("name", name="uq_secrets_name"),
    )


def downgrade() -> None:
    for table in (
        "secrets",
        "environments",
        "audit_log",
        "node_types",
        "workflow_versions",
        "api_definitions",
        "workflow_execution_logs",
        "workflow_executions",
        "workflow_connections",
        "workflow_nodes",
        "workflow_definitions",
    ):
        op.drop_table(table)
