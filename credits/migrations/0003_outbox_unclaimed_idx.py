"""The partial index of the rows the worker's poll announces (credits.tasks.announce_new).

The outbox holds a row per ledger row ever written, so on PostgreSQL the index is built CONCURRENTLY: the
evening's activations go on writing while it is built (hence `atomic = False`). SQLite (`make run`) has no
such thing and a small table: there it is a plain CREATE INDEX."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models
from django.db.migrations.operations import AddIndex


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    """AddIndexConcurrently on PostgreSQL, AddIndex elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("credits", "0002_credit_number"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="outboxrecord",
            index=models.Index(
                condition=models.Q(("announce_attempts", 0), ("announced_at", None)),
                fields=["id"],
                name="outbox_unclaimed_idx",
            ),
        ),
    ]
