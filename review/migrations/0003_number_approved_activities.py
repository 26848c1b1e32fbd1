"""Approved activities that predate public numbers get theirs, in the order they were approved.

The year of a number is that of the approval in the register's zone, as `review.services.public_number_issue`
gives it; the form is written out here so that this migration does not change when the app's code does.
"""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import migrations


def number_approved(apps, schema_editor):
    PublicNumber = apps.get_model("review", "PublicNumber")
    zone = ZoneInfo(settings.TIME_ZONE)
    approved = []
    for kind, model in (("event", apps.get_model("events", "Event")), ("module", apps.get_model("modules", "Module"))):
        for activity in model.objects.filter(status="approved", public_number__isnull=True):
            approved.append((activity.decided_at or activity.updated_at, kind, activity))
    approved.sort(key=lambda item: (item[0], item[1], item[2].pk))
    for decided_at, kind, activity in approved:
        row = PublicNumber.objects.create(kind=kind, activity_id=activity.pk)
        row.number = f"{decided_at.astimezone(zone).year}-{row.pk:06d}"
        row.save(update_fields=["number"])
        type(activity).objects.filter(pk=activity.pk).update(public_number=row.number)


class Migration(migrations.Migration):
    dependencies = [
        ("review", "0002_public_numbers"),
        ("events", "0002_event_time_zone"),
        ("modules", "0002_public_number"),
    ]

    operations = [migrations.RunPython(number_approved, migrations.RunPython.noop, elidable=True)]
