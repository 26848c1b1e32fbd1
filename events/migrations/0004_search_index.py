"""The GIN index of the catalogue's Russian full-text search (review.models.search_vector over the title and
the programme): the search reads the stored index instead of computing a vector for every event.

Built CONCURRENTLY on PostgreSQL, so providers go on registering events while it is built (hence
`atomic = False`); not created on SQLite (`make run`), where the search matches substrings."""

from django.contrib.postgres.search import SearchVector
from django.db import migrations

from nmo_portal.migration_operations import AddIndexConcurrentlyOnPostgres
from review.models import SearchIndex


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("events", "0003_event_transitions"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="event",
            index=SearchIndex(SearchVector("title", "programme", config="russian"), name="event_search_idx"),
        ),
    ]
