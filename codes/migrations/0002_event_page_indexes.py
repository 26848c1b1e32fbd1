"""The indexes of the provider's codes page: an event's codes in id order, with or without a status.

The page reads a hundred codes of one event at a time, ordered by id. With (event) and (event, status) alone
PostgreSQL either sorted all of the event's codes (200,000 for a national congress) or walked the primary key
through every code of the country until it met the event's (half a second at a twentieth of the country for
`?status=activated`). (event, id) and (event, status, id) give the page in order; (event, id) serves the
foreign key as well, so the plain index of `event` goes, and (event, status, id) replaces (event, status) for
the status counts.

On PostgreSQL the indexes of the code table (12 million rows) are built and dropped CONCURRENTLY, so
activations go on while they are (hence `atomic = False`): the new ones first, the old ones after."""

from typing import Any

from django.db import migrations, models

from nmo_portal.migration_operations import AddIndexConcurrentlyOnPostgres, RemoveIndexConcurrentlyOnPostgres


def _event_index_name(schema_editor: Any, code_model: Any) -> str:
    """The name Django gave the foreign key's own index (the same on PostgreSQL and SQLite)."""
    return str(schema_editor._create_index_name(code_model._meta.db_table, ["event_id"]))


def drop_event_index(apps: Any, schema_editor: Any) -> None:
    code_model = apps.get_model("codes", "IcpCode")
    concurrently = " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
    name = schema_editor.quote_name(_event_index_name(schema_editor, code_model))
    schema_editor.execute(f"DROP INDEX{concurrently} IF EXISTS {name}")


def create_event_index(apps: Any, schema_editor: Any) -> None:
    code_model = apps.get_model("codes", "IcpCode")
    concurrently = " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
    name = schema_editor.quote_name(_event_index_name(schema_editor, code_model))
    table = schema_editor.quote_name(code_model._meta.db_table)
    schema_editor.execute(f"CREATE INDEX{concurrently} IF NOT EXISTS {name} ON {table} (event_id)")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("codes", "0001_initial"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="icpcode",
            index=models.Index(fields=["event", "id"], name="icp_event_idx"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="icpcode",
            index=models.Index(fields=["event", "status", "id"], name="icp_event_status_id_idx"),
        ),
        RemoveIndexConcurrentlyOnPostgres(model_name="icpcode", name="icp_event_status_idx"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="icpcode",
                    name="event",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=models.deletion.PROTECT,
                        related_name="codes",
                        to="events.event",
                        verbose_name="event",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_event_index, create_event_index)],
        ),
    ]
