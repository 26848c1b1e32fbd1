"""The commission's queue walks its programme's and specialty's applications in the page's order (oldest first),
open ones first (the page's order, statuses.models.open_first) or one state, and stops at the page's 50, instead of joining every application of the specialty with the
users table and sorting them (issue 18: a seq scan of 450,000 users at national scale).

Concurrently on PostgreSQL (hence `atomic = False`), plainly on SQLite."""

from django.db import migrations, models

from nmo_portal.migration_operations import AddIndexConcurrentlyOnPostgres, RemoveIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("statuses", "0003_number_prefix_unique"),
    ]

    operations = [
        RemoveIndexConcurrentlyOnPostgres(model_name="statusapplication", name="status_application_queue_idx"),
        AddIndexConcurrentlyOnPostgres(
            model_name="statusapplication",
            index=models.Index(
                fields=["programme", "specialty", "state", "submitted_at", "id"], name="status_application_queue_idx"
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="statusapplication",
            index=models.Index(
                models.F("programme"),
                models.F("specialty"),
                models.Case(
                    models.When(state="open", then=models.Value(0)),
                    default=models.Value(1),
                    output_field=models.IntegerField(),
                ),
                models.F("submitted_at"),
                models.F("id"),
                name="status_application_all_idx",
            ),
        ),
    ]
