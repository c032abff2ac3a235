"""The store on SQLite or PostgreSQL: ORM tables, Alembic migrations, `Database`."""

from .database import HEAD_REVISION, Database, default_database_path

__all__ = ["HEAD_REVISION", "Database", "default_database_path"]
