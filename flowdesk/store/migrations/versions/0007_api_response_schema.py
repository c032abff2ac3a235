"""API definitions keep the JSON Schema of a successful answer (`response_schema`), read from the
OpenAPI document they were imported from: an ASSERT after a call of the definition checks the
answer against it by default.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_definitions") as batch:
        batch.add_column(sa.Column("response_schema", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_definitions") as batch:
        batch.drop_column("response_schema")
