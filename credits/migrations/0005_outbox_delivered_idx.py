"""The partial index of the delivered outbox rows by delivery time, which the retention reads oldest first
(credits.tasks.prune_delivered_outbox). Nearly every row of the outbox is a delivered one, so on PostgreSQL it is
built CONCURRENTLY (`atomic = False`) while activations go on writing; on SQLite it is a plain CREATE INDEX."""

from django.db import migrations, models

from nmo_portal.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("credits", "0004_outbox_failed_idx"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="outboxrecord",
            index=models.Index(
                condition=models.Q(("state", "delivered")),
                fields=["delivered_at"],
                name="outbox_delivered_idx",
            ),
        ),
    ]
