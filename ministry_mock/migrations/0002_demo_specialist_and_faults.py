"""The Faults row (everything off) and the one specialist the portal's demo doctor links to."""

import datetime

from django.db import migrations

DEMO_SNILS = "11223344595"


def create(apps, schema_editor):
    Faults = apps.get_model("ministry_mock", "Faults")
    Specialist = apps.get_model("ministry_mock", "Specialist")
    SpecialistCycle = apps.get_model("ministry_mock", "SpecialistCycle")
    Faults.objects.get_or_create(pk=1, defaults={"latency_ms": 0, "failure_rate": 0.0, "down": False})
    specialist, _created = Specialist.objects.get_or_create(
        snils=DEMO_SNILS, defaults={"login": "ivanova.ms", "full_name": "Иванова Мария Сергеевна"}
    )
    SpecialistCycle.objects.get_or_create(
        specialist=specialist,
        specialty_code="31.08.20",
        defaults={"starts_on": datetime.date(2024, 1, 15), "ends_on": datetime.date(2029, 1, 14)},
    )


def remove(apps, schema_editor):
    apps.get_model("ministry_mock", "Specialist").objects.filter(snils=DEMO_SNILS).delete()
    apps.get_model("ministry_mock", "Faults").objects.filter(pk=1).delete()


class Migration(migrations.Migration):
    dependencies = [("ministry_mock", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
