"""The index the society report counts a year's ИКП codes of its events by: (event, issue time), with the status
alongside so the count of activated ones reads the index alone.

The codes are millions of rows activated all day, so on PostgreSQL the index is built CONCURRENTLY (hence
`atomic = False`); on SQLite it is a plain CREATE INDEX without the included column."""

from django.db import migrations, models

from nmo_portal.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("codes", "0002_event_page_indexes"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="icpcode",
            index=models.Index(fields=["event", "created_at"], include=["status"], name="icp_event_created_idx"),
        ),
    ]
