"""What periodic accreditation needs and the stages after filing, as SPEC.md reads the regulation: data,
editable in admin."""

from django.db import migrations

ALTERNATIVES = [
    ("Программы образовательных организаций: 144 часа", "Programmes of educational organizations: 144 hours",
     [("programme", 144)]),
    ("Программы: не менее 74 часов и НМО: не менее 70 часов", "Programmes: at least 74 hours, and НМО: at least 70",
     [("programme", 74), ("nmo", 70)]),
]

STAGES = [
    ("Проверка в аккредитационном центре", "Check at the accreditation centre", "working_days", 20, 1),
    ("Заседание центральной аккредитационной комиссии", "Session of the central accreditation commission",
     "last_weekday", 0, 1),
    ("Выписка о прохождении аккредитации в ФРМР", "The accreditation extract in ФРМР", "working_days", 5, 1),
]


def add_data(apps, schema_editor):  # type: ignore[no-untyped-def]
    Alternative = apps.get_model("learning_plan", "AccreditationAlternative")
    Component = apps.get_model("learning_plan", "AlternativeComponent")
    Stage = apps.get_model("learning_plan", "FilingStage")
    for order, (name, name_en, components) in enumerate(ALTERNATIVES):
        alternative, _ = Alternative.objects.update_or_create(name=name, defaults={"name_en": name_en, "order": order})
        for counts, hours in components:
            Component.objects.update_or_create(alternative=alternative, counts=counts, defaults={"required_hours": hours})
    for order, (name, name_en, rule, days, weekday) in enumerate(STAGES):
        Stage.objects.update_or_create(
            name=name, defaults={"name_en": name_en, "order": order, "rule": rule, "days": days, "weekday": weekday}
        )


def remove_data(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("learning_plan", "AccreditationAlternative").objects.filter(
        name__in=[a[0] for a in ALTERNATIVES]
    ).delete()
    apps.get_model("learning_plan", "FilingStage").objects.filter(name__in=[s[0] for s in STAGES]).delete()


class Migration(migrations.Migration):
    dependencies = [("learning_plan", "0003_portfolio")]
    operations = [migrations.RunPython(add_data, remove_data)]
