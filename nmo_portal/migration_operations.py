"""Migration operations that build indexes of big tables without locking them on PostgreSQL.

On PostgreSQL an index of a table with millions of rows is built CONCURRENTLY (the migration must be
`atomic = False`): activations go on writing while it is built. SQLite (`make run`) has small tables and no
such thing: there the index is created plainly, and PostgreSQL's own kinds (GIN, GiST, trigram classes) are
not created at all, the queries that use them taking their SQLite path instead."""

from typing import Any

from django.contrib.postgres.indexes import PostgresIndex
from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently, TrigramExtension
from django.db.migrations.operations import AddIndex, RemoveIndex


def _on_postgres(schema_editor: Any) -> bool:
    return bool(schema_editor.connection.vendor == "postgresql")


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    """AddIndexConcurrently on PostgreSQL; AddIndex elsewhere, unless the index is PostgreSQL's own kind."""

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if _on_postgres(schema_editor):
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        elif not isinstance(self.index, PostgresIndex):
            AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if _on_postgres(schema_editor):
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        elif not isinstance(self.index, PostgresIndex):
            AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class RemoveIndexConcurrentlyOnPostgres(RemoveIndexConcurrently):
    """RemoveIndexConcurrently on PostgreSQL; RemoveIndex elsewhere, unless the index is PostgreSQL's own kind."""

    def _index(self, state: Any, app_label: str) -> Any:
        return state.models[app_label, self.model_name_lower].get_index_by_name(self.name)

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if _on_postgres(schema_editor):
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        elif not isinstance(self._index(from_state, app_label), PostgresIndex):
            RemoveIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if _on_postgres(schema_editor):
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        elif not isinstance(self._index(to_state, app_label), PostgresIndex):
            RemoveIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class TrigramExtensionOnPostgres(TrigramExtension):
    """pg_trgm on PostgreSQL; nothing elsewhere, forwards or backwards (Django's own asks SQLite for
    pg_extension when unapplied)."""

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if _on_postgres(schema_editor):
            super().database_backwards(app_label, schema_editor, from_state, to_state)
