"""Where the daily accreditation reminders stand with each document (learning_plan.reminders), so that a day's run
reads only the documents a reminder may be due for: the window's and the 90-day reminders sent, and the day the
hours are next weighed for the hours-short one. The markers of the reminders already sent are set from their
PortfolioReminder rows before the indexes are built. Their partial indexes of expiry replace the plain one, which
only the reminders read and which walks the documents already reminded.

The documents are one per doctor and specialty (450,000 at national scale): the indexes are built concurrently on
PostgreSQL (hence `atomic = False`; the fields and their filling each run in a transaction of their own)."""

from datetime import date

from django.db import migrations, models
from django.db.models import Exists, OuterRef

from nmo_portal.migration_operations import AddIndexConcurrentlyOnPostgres, RemoveIndexConcurrentlyOnPostgres


def mark_the_reminders_sent(apps, schema_editor):  # type: ignore[no-untyped-def]
    Document = apps.get_model("learning_plan", "AccreditationDocument")
    Reminder = apps.get_model("learning_plan", "PortfolioReminder")

    def sent(kind):  # type: ignore[no-untyped-def]
        return Exists(Reminder.objects.filter(document=OuterRef("pk"), kind=kind))

    Document.objects.filter(sent("window_open")).update(window_reminded=True)
    Document.objects.filter(sent("days_90")).update(days_90_reminded=True)
    Document.objects.filter(sent("hours_short")).update(hours_short_next_on=date.max)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("learning_plan", "0004_accreditation_data"),
    ]

    operations = [
        migrations.AddField(
            model_name="accreditationdocument",
            name="window_reminded",
            field=models.BooleanField(
                db_default=False, default=False, editable=False, verbose_name="window reminder sent"
            ),
        ),
        migrations.AddField(
            model_name="accreditationdocument",
            name="days_90_reminded",
            field=models.BooleanField(
                db_default=False, default=False, editable=False, verbose_name="90-day reminder sent"
            ),
        ),
        migrations.AddField(
            model_name="accreditationdocument",
            name="hours_short_next_on",
            field=models.DateField(blank=True, editable=False, null=True, verbose_name="hours weighed again on"),
        ),
        migrations.RunPython(mark_the_reminders_sent, migrations.RunPython.noop, atomic=True),
        AddIndexConcurrentlyOnPostgres(
            model_name="accreditationdocument",
            index=models.Index(
                condition=models.Q(("window_reminded", False)), fields=["expires_on"], name="accreditation_window_idx"
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="accreditationdocument",
            index=models.Index(
                condition=models.Q(("days_90_reminded", False)), fields=["expires_on"], name="accreditation_days_90_idx"
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="accreditationdocument",
            index=models.Index(
                condition=models.Q(("hours_short_next_on", None)),
                fields=["expires_on"],
                name="accreditation_hours_new_idx",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="accreditationdocument",
            index=models.Index(
                condition=models.Q(("hours_short_next_on__isnull", False)),
                fields=["hours_short_next_on", "id"],
                name="accreditation_hours_again_idx",
            ),
        ),
        RemoveIndexConcurrentlyOnPostgres(model_name="accreditationdocument", name="accreditation_expires_idx"),
    ]
