"""The index the society report counts a year's completions of its modules by (module, completion time).

The completions are millions of rows, so on PostgreSQL the index is built CONCURRENTLY: reports of completions
go on being taken while it is built (hence `atomic = False`); on SQLite it is a plain CREATE INDEX."""

from django.db import migrations, models

from nmo_portal.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("modules", "0006_reviewer_indexes"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="modulecompletion",
            index=models.Index(fields=["module", "completed_at"], name="completion_module_time_idx"),
        ),
    ]
