"""Indexes of PostgreSQL's own kinds (GIN, operator classes) declared in a model's Meta, made on PostgreSQL only.

SQLite (`make run`) has no such indexes: their migrations skip them (nmo_portal.migration_operations), the
queries that use them take their SQLite path, and when SQLite rebuilds a table for a later change of its model,
the index's statement is an empty one instead of a CREATE INDEX that SQLite cannot read."""

from typing import Any

from django.contrib.postgres.indexes import BTreeIndex, GinIndex
from django.db.backends.ddl_references import Statement


class PostgresOnly:
    def create_sql(self, model: Any, schema_editor: Any, using: str = "", **kwargs: Any) -> Statement:
        if schema_editor.connection.vendor != "postgresql":
            return Statement("SELECT 1")
        return super().create_sql(model, schema_editor, using=using, **kwargs)  # type: ignore[misc, no-any-return]

    def remove_sql(self, model: Any, schema_editor: Any, **kwargs: Any) -> str:
        if schema_editor.connection.vendor != "postgresql":
            return "SELECT 1"
        return super().remove_sql(model, schema_editor, **kwargs)  # type: ignore[misc, no-any-return]


class PostgresGinIndex(PostgresOnly, GinIndex):
    """A GIN index (full-text vectors, trigrams) on PostgreSQL; nothing on SQLite."""


class PostgresBTreeIndex(PostgresOnly, BTreeIndex):
    """A B-tree index with an operator class (text_pattern_ops for prefix searches) on PostgreSQL; nothing on
    SQLite."""
