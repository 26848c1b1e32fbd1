"""«Московский врач» as the portal ships it (SPEC.md, "Status programmes"); administrators edit it in admin.

Its specialties are those of the reference list that Moscow's programme names; psychiatry among them. The retake
wait is a year until an administrator sets another."""

from decimal import Decimal

from django.db import migrations

SPECIALTIES = ["31.08.20", "31.08.36", "31.08.42", "31.08.49", "31.08.54", "31.08.57"]
STAGES = [
    (1, "test", "Тестирование (теоретический этап)", "Test (theory)", Decimal("80")),
    (2, "practical", "Оценка практических навыков", "Practical skills", None),
    (3, "interview", "Собеседование и защита профессионального портфолио", "Interview and portfolio defence", None),
]


def create(apps, schema_editor):
    Programme = apps.get_model("statuses", "StatusProgramme")
    Stage = apps.get_model("statuses", "ProgrammeStage")
    Specialty = apps.get_model("accounts", "Specialty")
    programme, _created = Programme.objects.get_or_create(
        slug="moscow-doctor",
        defaults={
            "name": "Московский врач",
            "name_en": "Moscow Doctor",
            "authority": "Департамент здравоохранения города Москвы",
            "authority_en": "Moscow City Health Department",
            "description": (
                "Добровольный и бесплатный статус для врачей медицинских организаций Москвы со стажем по "
                "специальности не менее пяти лет: тестирование, оценка практических навыков и собеседование с "
                "защитой профессионального портфолио перед комиссией. Статус действует пять лет, затем "
                "подтверждается; по каждой специальности назначается ежемесячная надбавка."
            ),
            "description_en": (
                "A free, voluntary status for doctors of Moscow's medical organizations with at least five years of "
                "practice in the specialty: a test, practical skills, and an interview with a defence of the "
                "professional portfolio before a commission. It is valid five years and then confirmed again; each "
                "specialty brings a monthly allowance."
            ),
            "region": "77",
            "requires_employment_in_region": True,
            "requires_document": True,
            "min_practice_years": 5,
            "validity_years": 5,
            "allowance_rub": 15000,
            "retake_wait_days": 365,
            "renewal_window_months": 6,
            "number_prefix": "МВ",
        },
    )
    programme.specialties.add(*Specialty.objects.filter(code__in=SPECIALTIES))
    for position, kind, name, name_en, pass_mark in STAGES:
        Stage.objects.get_or_create(
            programme=programme,
            position=position,
            defaults={"kind": kind, "name": name, "name_en": name_en, "pass_mark": pass_mark},
        )


def remove(apps, schema_editor):
    apps.get_model("statuses", "StatusProgramme").objects.filter(slug="moscow-doctor", applications=None).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("statuses", "0001_initial"),
        ("accounts", "0002_specialties"),
    ]

    operations = [migrations.RunPython(create, remove)]
