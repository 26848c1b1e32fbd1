"""The cycle rules SPEC.md describes, as data editable in admin."""

from django.db import migrations

RULES = [
    {
        "slug": "standard-144",
        "name": "Стандартный цикл: 144 часа",
        "name_en": "Standard cycle: 144 hours",
        "total_hours": 144,
        "yearly_recommended": None,
        "is_default": True,
        "components": [
            ("programme", "Программы образовательных организаций", "Programmes of educational organizations", 108, False),
            ("nmo", "Мероприятия и модули НМО", "НМО events and modules", 36, False),
            ("events", "из них образовательные мероприятия", "of which educational events", 16, True),
            ("modules", "из них интерактивные модули", "of which e-learning modules", 20, True),
        ],
    },
    {
        "slug": "individual-250",
        "name": "Индивидуальный план: 250 кредитов",
        "name_en": "Individual plan: 250 credits",
        "total_hours": 250,
        "yearly_recommended": 50,
        "is_default": False,
        "components": [("nmo", "Кредиты НМО", "НМО credits", 250, False)],
    },
]


def add_rules(apps, schema_editor):  # type: ignore[no-untyped-def]
    CycleRule = apps.get_model("learning_plan", "CycleRule")
    RuleComponent = apps.get_model("learning_plan", "RuleComponent")
    for data in RULES:
        components = data["components"]
        fields = {key: value for key, value in data.items() if key not in ("slug", "components")}
        rule, _ = CycleRule.objects.update_or_create(slug=data["slug"], defaults=fields)
        for order, (counts, name, name_en, hours, is_minimum) in enumerate(components):
            RuleComponent.objects.update_or_create(
                rule=rule,
                counts=counts,
                defaults={"name": name, "name_en": name_en, "required_hours": hours, "is_minimum": is_minimum,
                          "order": order},
            )


def remove_rules(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("learning_plan", "CycleRule").objects.filter(slug__in=[r["slug"] for r in RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("learning_plan", "0001_initial")]
    operations = [migrations.RunPython(add_rules, remove_rules)]
