"""API definitions get columns of their own for how calls connect (`connection`: verify, client
certificate, HTTP/2, proxy) and for the body's type (`body_type`: "multipart"). Connection settings
written while they rode in the `auth` JSON under the key "connection" are moved to the new column.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_KEY = "connection"


def _decoded(value):
    return json.loads(value) if isinstance(value, str) else value


def upgrade() -> None:
    with op.batch_alter_table("api_definitions") as batch:
        batch.add_column(sa.Column("body_type", sa.String(20), nullable=True))
        batch.add_column(sa.Column("connection", sa.JSON(), nullable=True))
    bind = op.get_bind()
    table = sa.table(
        "api_definitions",
        sa.column("id", sa.Integer),
        sa.column("auth", sa.JSON),
        sa.column("connection", sa.JSON),
    )
    for row_id, auth in bind.execute(sa.select(table.c.id, table.c.auth)).all():
        auth = _decoded(auth)
        if isinstance(auth, dict) and _KEY in auth:
            rest = {k: v for k, v in auth.items() if k != _KEY}
            bind.execute(
                table.update()
                .where(table.c.id == row_id)
                .values(auth=rest or None, connection=auth[_KEY] or None)
            )


def downgrade() -> None:
    bind = op.get_bind()
    table = sa.table(
        "api_definitions",
        sa.column("id", sa.Integer),
        sa.column("auth", sa.JSON),
        sa.column("connection", sa.JSON),
    )
    for row_id, auth, connection in bind.execute(
        sa.select(table.c.id, table.c.auth, table.c.connection).where(table.c.connection.is_not(None))
    ).all():
        connection = _decoded(connection)
        if connection:
            merged = {**(_decoded(auth) or {}), _KEY: connection}
            bind.execute(table.update().where(table.c.id == row_id).values(auth=merged))
    with op.batch_alter_table("api_definitions") as batch:
        batch.drop_column("connection")
        batch.drop_column("body_type")
