"""The specialty reference list with official codes (ФГОС ВО, ординатура). Editable in admin afterwards."""

from django.db import migrations

SPECIALTIES = [
    ("31.08.01", "Акушерство и гинекология", "Obstetrics and gynaecology"),
    ("31.08.02", "Анестезиология-реаниматология", "Anaesthesiology and intensive care"),
    ("31.08.07", "Патологическая анатомия", "Pathological anatomy"),
    ("31.08.09", "Рентгенология", "Radiology"),
    ("31.08.11", "Ультразвуковая диагностика", "Ultrasound diagnostics"),
    ("31.08.19", "Педиатрия", "Paediatrics"),
    ("31.08.20", "Психиатрия", "Psychiatry"),
    ("31.08.21", "Психиатрия-наркология", "Addiction psychiatry"),
    ("31.08.22", "Психотерапия", "Psychotherapy"),
    ("31.08.24", "Судебно-психиатрическая экспертиза", "Forensic psychiatry"),
    ("31.08.26", "Аллергология и иммунология", "Allergology and immunology"),
    ("31.08.28", "Гастроэнтерология", "Gastroenterology"),
    ("31.08.32", "Дерматовенерология", "Dermatovenereology"),
    ("31.08.35", "Инфекционные болезни", "Infectious diseases"),
    ("31.08.36", "Кардиология", "Cardiology"),
    ("31.08.42", "Неврология", "Neurology"),
    ("31.08.45", "Пульмонология", "Pulmonology"),
    ("31.08.49", "Терапия", "Internal medicine"),
    ("31.08.53", "Эндокринология", "Endocrinology"),
    ("31.08.54", "Общая врачебная практика (семейная медицина)", "General practice (family medicine)"),
    ("31.08.57", "Онкология", "Oncology"),
    ("31.08.67", "Хирургия", "Surgery"),
    ("31.08.71", "Организация здравоохранения и общественное здоровье", "Healthcare management and public health"),
]


def add_specialties(apps, schema_editor):  # type: ignore[no-untyped-def]
    Specialty = apps.get_model("accounts", "Specialty")
    for code, name, name_en in SPECIALTIES:
        Specialty.objects.update_or_create(code=code, defaults={"name": name, "name_en": name_en})


def remove_specialties(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("accounts", "Specialty").objects.filter(code__in=[code for code, _, _ in SPECIALTIES]).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(add_specialties, remove_specialties)]
