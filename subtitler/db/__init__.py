"""Database: engine (SQLite pragmas), ORM models and Alembic migrations."""

from subtitler.db.engine import Database

__all__ = ["Database"]
