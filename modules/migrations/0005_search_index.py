"""The GIN index of the catalogue's Russian full-text search (review.models.search_vector over the title and
the annotation): the search reads the stored index instead of computing a vector for every module.

Built CONCURRENTLY on PostgreSQL (hence `atomic = False`); not created on SQLite (`make run`), where the search
matches substrings."""

from django.contrib.postgres.search import SearchVector
from django.db import migrations

from nmo_portal.migration_operations import AddIndexConcurrentlyOnPostgres
from review.models import SearchIndex


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("modules", "0004_module_transitions"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="module",
            index=SearchIndex(SearchVector("title", "annotation", config="russian"), name="module_search_idx"),
        ),
    ]
