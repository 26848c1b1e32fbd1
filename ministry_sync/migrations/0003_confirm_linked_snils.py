from django.db import migrations


def confirm_snils_of_linked_accounts(apps, schema_editor):
    """An account linked before confirmations were recorded had its СНИЛС confirmed by that link."""
    MinistryLink = apps.get_model("ministry_sync", "MinistryLink")
    DoctorProfile = apps.get_model("accounts", "DoctorProfile")
    for link in MinistryLink.objects.filter(state="linked").only("doctor_id", "linked_at", "requested_at"):
        DoctorProfile.objects.filter(user_id=link.doctor_id, snils__isnull=False).update(
            snils_confirmed_at=link.linked_at or link.requested_at
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_snils_confirmed"),
        ("ministry_sync", "0002_outbox_announcement"),
    ]

    operations = [migrations.RunPython(confirm_snils_of_linked_accounts, migrations.RunPython.noop)]
