"""The response cache: API definitions keep their `cache` option (`{"ttl": 60, ...}`), and answers
cached with `"persist": true` are kept across runs in `response_cache`, found by the SHA-256 of the
request's cache key (so a secret the request carried is never stored), with the time they expire.
`workflow_id` is a plain column (an unsaved graph's run has none; `flowdesk cache clear --workflow`
deletes by it).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_definitions") as batch:
        batch.add_column(sa.Column("cache", sa.JSON(), nullable=True))
    op.create_table(
        "response_cache",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("workflow_id", sa.Integer(), nullable=True),
        sa.Column("node_name", sa.String(255), nullable=True),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(255), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("http_version", sa.String(20), nullable=False),
        sa.Column("elapsed_ms", sa.Float(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_response_cache"),
    )
    op.create_index("ix_response_cache_workflow_id", "response_cache", ["workflow_id"])
    op.create_index("ix_response_cache_expires_at", "response_cache", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_response_cache_expires_at", table_name="response_cache")
    op.drop_index("ix_response_cache_workflow_id", table_name="response_cache")
    op.drop_table("response_cache")
    with op.batch_alter_table("api_definitions") as batch:
        batch.drop_column("cache")
