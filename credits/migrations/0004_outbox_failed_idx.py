"""The partial index of the failed outbox rows, which administrators list (the admin's state filter) to send
them again: a few rows among millions of delivered ones.

Built CONCURRENTLY on PostgreSQL (hence `atomic = False`), as the outbox is written by every activation; a plain
CREATE INDEX on SQLite (`make run`)."""

from django.db import migrations, models

from nmo_portal.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("credits", "0003_outbox_unclaimed_idx"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="outboxrecord",
            index=models.Index(condition=models.Q(("state", "failed")), fields=["id"], name="outbox_failed_idx"),
        ),
    ]
