"""Alembic environment for flowdesk.

flowdesk runs migrations itself (`flowdesk.store.database.Database`), handing over an open connection
that is already inside a transaction through `config.attributes["connection"]`. Run by hand
(`alembic -c flowdesk/store/migrations/alembic.ini ...`, for writing a new revision), it connects to
`sqlalchemy.url` from the ini file or `$FLOWDESK_DB` (a SQLite path or any flowdesk URL, PostgreSQL too).
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine

from flowdesk.store.tables import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copying them; batch mode does that for us
        compare_type=True,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("FLOWDESK_DB")
    if not url:
        raise SystemExit("Set sqlalchemy.url in alembic.ini or FLOWDESK_DB to run migrations by hand.")
    if "://" not in url:
        url = f"sqlite:///{url}"
    engine = create_engine(url)
    with engine.begin() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
