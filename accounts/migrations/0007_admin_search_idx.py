"""The indexes of the admin's searches and filters on big tables (issue 18): users by an e-mail's or a surname's
beginning (450,000 users), and the staff among them; the audit log by an IP address (millions of rows); work
records by a word of the employer (trigrams, pg_trgm; CREATE EXTENSION IF NOT EXISTS, so another app's
migration may create it as well).

Built CONCURRENTLY on PostgreSQL (hence `atomic = False`): sign-ups and the audit rows of activations go on
being written meanwhile. On SQLite (`make run`) the IP index is a plain CREATE INDEX and the prefix and trigram
indexes, PostgreSQL's own kinds, are not made: the admin's search scans the few rows there."""

from django.contrib.postgres.indexes import OpClass
from django.db import migrations, models
from django.db.models.functions import Upper

from nmo_portal.indexes import PostgresBTreeIndex, PostgresGinIndex
from nmo_portal.migration_operations import AddIndexConcurrentlyOnPostgres, TrigramExtensionOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0006_society_specialties"),
    ]

    operations = [
        TrigramExtensionOnPostgres(),
        AddIndexConcurrentlyOnPostgres(
            model_name="auditevent",
            index=models.Index(fields=["ip"], name="audit_ip_idx"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="user",
            index=PostgresBTreeIndex(OpClass(Upper("email"), name="text_pattern_ops"), name="user_email_prefix_idx"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="user",
            index=PostgresBTreeIndex(OpClass(Upper("last_name"), name="text_pattern_ops"), name="user_last_name_prefix_idx"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="user",
            index=models.Index(condition=models.Q(("is_staff", True)), fields=["email"], name="user_staff_idx"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="workrecord",
            index=PostgresGinIndex(OpClass(Upper("employer"), name="gin_trgm_ops"), name="work_record_employer_trgm_idx"),
        ),
    ]
