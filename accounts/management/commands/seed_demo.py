from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import DoctorProfile, Membership, Organization, ReviewerAppointment, Specialty, User

DEMO_PASSWORD = "demo-password-1"  # noqa: S105 - published demo password; seed_demo refuses to run without DEBUG
DEMO_SNILS = "11223344595"


class Command(BaseCommand):
    help = "Create demo users, one per role, and their organization (idempotent; refused when DEBUG is off)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo creates accounts with a published password: it runs only with DEBUG on.")
        with transaction.atomic():
            self.seed()
        self.stdout.write(self.style.SUCCESS("Demo data is ready. Sign in at http://127.0.0.1:8000/ with:"))
        for email, role in [
            ("admin@example.org", "administrator (Django admin at /admin/)"),
            ("doctor@example.org", "doctor, psychiatry, СНИЛС 112-233-445 95"),
            ("provider@example.org", "provider staff, «Российское общество психиатров»"),
            ("reviewer@example.org", "reviewer for 31.08.20 Психиатрия"),
        ]:
            self.stdout.write(f"  {email:<24} {DEMO_PASSWORD}   {role}")

    def user(self, email: str, last: str, first: str, middle: str, **extra: Any) -> User:
        user, created = User.objects.get_or_create(
            email=email, defaults={"last_name": last, "first_name": first, "middle_name": middle, **extra}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
        return user

    def seed(self) -> None:
        psychiatry = Specialty.objects.get(code="31.08.20")
        self.user("admin@example.org", "Администраторов", "Алексей", "Петрович", is_staff=True, is_superuser=True)

        doctor = self.user("doctor@example.org", "Иванова", "Мария", "Сергеевна")
        profile, _ = DoctorProfile.objects.get_or_create(user=doctor, defaults={"snils": DEMO_SNILS})
        profile.specialties.add(psychiatry)

        provider = self.user("provider@example.org", "Петров", "Илья", "Андреевич")
        organization, _ = Organization.objects.get_or_create(
            inn="7701234567",
            defaults={
                "name": "Российское общество психиатров",
                "short_name": "РОП",
                "kind": Organization.Kind.SOCIETY,
                "email": "provider@example.org",
                "website": "https://psychiatr.example.org",
                "status": Organization.Status.VERIFIED,
                "created_by": provider,
            },
        )
        Membership.objects.get_or_create(
            organization=organization, user=provider, defaults={"role": Membership.Role.ADMIN}
        )

        reviewer = self.user("reviewer@example.org", "Сидоров", "Николай", "Игоревич")
        ReviewerAppointment.objects.get_or_create(
            user=reviewer, specialty=psychiatry, defaults={"society": "Российское общество психиатров (эксперты)"}
        )
