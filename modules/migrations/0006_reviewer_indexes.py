"""The indexes of the expert's queue (review.selectors.reviewer_queue and reviewer_decided): the open cases of
an expert and their last decisions, read a page long whatever the number of cases an expert has decided over
the years. Built CONCURRENTLY on PostgreSQL (hence `atomic = False`), plainly on SQLite."""

from django.db import migrations, models

from nmo_portal.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("modules", "0005_search_index"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="module",
            index=models.Index(fields=["reviewer", "status"], name="module_reviewer_status_idx"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="module",
            index=models.Index(fields=["reviewer", "-decided_at"], name="module_reviewer_decided_idx"),
        ),
    ]
