"""The index of how many days each approved event runs after its first (events.models.days_after_first): the
catalogue's days filter reads the longest of them at once (the last entry of the index) to know how long before a
window an event that still runs in it may have started, and so reads the window alone from the catalogue's index
in start order instead of walking it from the first event ever held.

Built CONCURRENTLY on PostgreSQL, so providers go on registering events while it is built (hence
`atomic = False`); not created on SQLite (`make run`), whose few events are read in full."""

from django.db import migrations, models
from django.db.models import DurationField, ExpressionWrapper, F

from nmo_portal.indexes import PostgresBTreeIndex
from nmo_portal.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("events", "0005_reviewer_indexes"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="event",
            index=PostgresBTreeIndex(
                ExpressionWrapper(F("end_date") - F("start_date"), output_field=DurationField()),
                condition=models.Q(status="approved"),
                name="event_catalog_span_idx",
            ),
        ),
    ]
