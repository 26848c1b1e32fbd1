"""The partial index of the rows the worker's poll announces (credits.tasks.announce_new).

The outbox holds a row per ledger row ever written, so on PostgreSQL the index is built CONCURRENTLY: the
evening's activations go on writing while it is built (hence `atomic = False`). SQLite (`make run`) has no
such thing and a small table: there it is a plain CREATE INDEX."""

from django.db import migrations, models

from nmo_portal.migration_operations import AddIndexConcurrentlyOnPostgres


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
