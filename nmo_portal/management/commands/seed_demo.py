from datetime import datetime, time, timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import (
    DoctorProfile,
    Membership,
    Organization,
    ReviewerAppointment,
    Specialty,
    User,
    WorkRecord,
)
from accounts.snils import snils_control
from accounts.work import MOSCOW
from codes.issuance import codes_issue
from codes.models import IcpCode
from events.models import Event
from learning_plan.models import AccreditationDocument, Cycle
from learning_plan.services import document_record, programme_add
from modules.models import Module
from nmo_portal.calendar import add_months, make_local
from review.models import Activity, Status
from review.services import public_number_issue
from societies.models import Announcement, Survey
from societies.services import announcement_publish
from societies.survey_template import survey_from_template
from societies.surveys import survey_edit, survey_open
from statuses.models import CommissionMember, StatusApplication, StatusProgramme
from statuses.services import application_decide, application_submit, commission_member_appoint, stage_result_record

DEMO_PASSWORD = "demo-password-1"  # noqa: S105 - published demo password; seed_demo refuses to run without DEBUG
DEMO_SNILS = "11223344595"


class Command(BaseCommand):
    help = "Create demo users, one per role, and their organization (idempotent; refused when DEBUG is off)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo creates accounts with a published password: it runs only with DEBUG on.")
        with transaction.atomic():
            self.seed()
        self.stdout.write(self.style.SUCCESS(f"Demo data is ready. Sign in at {settings.SITE_URL}/ with:"))
        for email, role in [
            ("admin@example.org", "administrator (Django admin at /admin/)"),
            ("doctor@example.org", "doctor, psychiatry, СНИЛС 112-233-445 95"),
            ("provider@example.org", "provider staff, «Российское общество психиатров»"),
            ("reviewer@example.org", "reviewer for 31.08.20 Психиатрия"),
            ("society@example.org", "society staff, «Российское общество психиатров» (announcements, surveys)"),
            ("commission@example.org", "commission of «Московский врач», 31.08.20 Психиатрия (/commission/)"),
        ]:
            self.stdout.write(f"  {email:<24} {DEMO_PASSWORD}   {role}")
        self.stdout.write(
            "  demo-applicant1..3@example.org (same password): psychiatrists who applied for «Московский врач» "
            "(awarded; failed the test; open after the test)"
        )
        self.print_codes()

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
        admin = self.user(
            "admin@example.org", "Администраторов", "Алексей", "Петрович", is_staff=True, is_superuser=True
        )

        doctor = self.user("doctor@example.org", "Иванова", "Мария", "Сергеевна")
        profile, _ = DoctorProfile.objects.get_or_create(user=doctor, defaults={"snils": DEMO_SNILS})
        profile.specialties.add(psychiatry)
        if not Cycle.objects.filter(doctor=doctor, specialty=psychiatry).exists():
            # An accreditation that expires in about four months: the filing window is open, and the psychiatry
            # cycle runs on the accreditation's five years (document_record opens it).
            document_record(
                doctor=doctor,
                specialty=psychiatry,
                number="7722 031234567",
                issued_on=add_months(timezone.localdate(), 4 - 12 * AccreditationDocument.VALID_YEARS),
            )
            programme_add(
                doctor=doctor,
                specialty=psychiatry,
                name="Психиатрия: актуальные вопросы диагностики и терапии",
                organization="Российская медицинская академия непрерывного профессионального образования",
                hours=72,
                starts_on=timezone.localdate() - timedelta(days=400),
                ends_on=timezone.localdate() - timedelta(days=380),
                document_number="ПК 772412345678",
            )

        if not WorkRecord.objects.filter(doctor=doctor).exists():
            record = WorkRecord(
                doctor=doctor,
                employer="ГБУЗ «Психиатрическая клиническая больница № 1 ДЗМ»",
                employer_inn="7701551231",
                region=MOSCOW,
                unit="Отделение неотложной психиатрической помощи",
                position="Врач-психиатр",
                specialty=psychiatry,
                started_on=add_months(timezone.localdate(), -12 * 6),
            )
            record.full_clean()
            record.save()

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

        self.society(organization)

        reviewer = self.user("reviewer@example.org", "Сидоров", "Николай", "Игоревич")
        ReviewerAppointment.objects.get_or_create(
            user=reviewer, specialty=psychiatry, defaults={"society": "Российское общество психиатров (эксперты)"}
        )
        self.activities(organization=organization, provider=provider, reviewer=reviewer)
        self.codes(organization=organization, provider=provider)
        self.status_programme(psychiatry=psychiatry, admin=admin)

    SOCIETY_SPECIALTIES = ["31.08.20", "31.08.21", "31.08.22", "31.08.24"]
    ANNOUNCEMENT = "Открыт приём заявок на экспертизу программ НМО по психиатрии"

    def society(self, organization: Organization) -> None:
        """The demo provider is the Russian Society of Psychiatrists: responsible for psychiatry and its three
        neighbours, with society@example.org among its administrators, and one published announcement."""
        staff = self.user("society@example.org", "Кузнецова", "Елена", "Викторовна")
        Membership.objects.get_or_create(
            organization=organization, user=staff, defaults={"role": Membership.Role.ADMIN}
        )
        organization.specialties.add(*Specialty.objects.filter(code__in=self.SOCIETY_SPECIALTIES))
        if not Announcement.objects.filter(society=organization, title=self.ANNOUNCEMENT).exists():
            announcement_publish(
                society=organization,
                actor=staff,
                title=self.ANNOUNCEMENT,
                body=(
                    "Российское общество психиатров напоминает: программы мероприятий и модулей по психиатрии "
                    "подаются на экспертизу **не позднее чем за 30 дней** до начала.\n\n"
                    "- заявка подаётся на портале в разделе «Мои организации»;\n"
                    "- эксперт общества рассматривает её в течение 14 дней;\n"
                    "- вопросы — на [сайте общества](https://psychiatr.example.org).\n"
                ),
                specialties=Specialty.objects.filter(code="31.08.20"),
                published_at=timezone.now() - timedelta(days=2),
            )
        if not Survey.objects.filter(society=organization).exists():
            # an open psychiatry survey, from the template, open from today for a month
            survey = survey_from_template(society=organization, actor=staff)
            survey_edit(
                survey=survey,
                actor=staff,
                title=survey.title,
                intro=survey.intro,
                specialties=Specialty.objects.filter(code="31.08.20"),
                opens_on=timezone.localdate(),
                closes_on=timezone.localdate() + timedelta(days=30),
            )
            survey_open(survey=survey, actor=staff)

    COMMISSION_EMPLOYER_INN = "7728012340"  # not the demo doctor's clinic (7701551231): no conflict of interest
    # The demo psychiatrists who applied for «Московский врач»: how far each got (the test's score, then the
    # practical and the interview passed or not) and whether the commission awarded the status.
    APPLICANTS: list[tuple[str, str, str, str, tuple[str | bool, ...], bool | None]] = [
        ("demo-applicant1@example.org", "Орлов", "Дмитрий", "Сергеевич", ("91", True, True), True),
        ("demo-applicant2@example.org", "Белова", "Ольга", "Николаевна", ("72",), None),
        ("demo-applicant3@example.org", "Захаров", "Павел", "Ильич", ("86",), None),
    ]

    def status_programme(self, *, psychiatry: Specialty, admin: User) -> None:
        """«Московский врач»'s psychiatry commission (commission@example.org), and three psychiatrists' applications
        run through the services so that its queue and statistics are not empty: one awarded (named in the public
        register), one failed at the test, one open after it. The demo doctor is eligible and applies themselves."""
        programme = StatusProgramme.objects.get(slug="moscow-doctor")
        member = self.user("commission@example.org", "Соколова", "Анна", "Викторовна")
        if not CommissionMember.objects.filter(
            programme=programme, specialty=psychiatry, user=member, retired_at__isnull=True
        ).exists():
            commission_member_appoint(
                programme=programme,
                specialty=psychiatry,
                user=member,
                employer_inn=self.COMMISSION_EMPLOYER_INN,
                actor=admin,
            )
        stages = list(programme.stages.order_by("position"))
        day = timezone.localdate()
        for number, (email, last, first, middle, results, award) in enumerate(self.APPLICANTS, start=1):
            doctor = self.user(email, last, first, middle)
            if StatusApplication.objects.filter(doctor=doctor, programme=programme).exists():
                continue
            self.eligible_psychiatrist(doctor, psychiatry, number)
            application = application_submit(
                doctor=doctor, programme=programme, specialty=psychiatry, public_consent=award is True
            )
            for stage, result in zip(stages, results, strict=False):
                if stage.is_scored:
                    stage_result_record(application=application, stage=stage, user=member, held_on=day, score=result)
                else:
                    stage_result_record(
                        application=application, stage=stage, user=member, held_on=day, passed=bool(result)
                    )
            if award is not None:
                application_decide(application=application, user=member, award=award)

    def eligible_psychiatrist(self, doctor: User, psychiatry: Specialty, number: int) -> None:
        """A valid accreditation and 6 + `number` years of psychiatry at a Moscow clinic, where they still work."""
        # A doctor's profile as the demo doctor's: a valid СНИЛС of their own, so the pages treat them as a doctor.
        head = f"{223_344_550 + number:09d}"
        profile, _ = DoctorProfile.objects.get_or_create(user=doctor)
        if not profile.snils:  # a demo database seeded before the demo applicants had one
            profile.snils = head + snils_control(head)
            profile.save(update_fields=["snils"])
        profile.specialties.add(psychiatry)
        if not AccreditationDocument.objects.filter(doctor=doctor, specialty=psychiatry).exists():
            document_record(
                doctor=doctor,
                specialty=psychiatry,
                number=f"7722 03100000{number}",
                issued_on=add_months(timezone.localdate(), -12 * 2 - number),
            )
        if not WorkRecord.objects.filter(doctor=doctor).exists():
            record = WorkRecord(
                doctor=doctor,
                employer="ГБУЗ «Психиатрическая клиническая больница № 1 ДЗМ»",
                employer_inn="7701551231",
                region=MOSCOW,
                unit=f"Отделение № {number}",
                position="Врач-психиатр",
                specialty=psychiatry,
                started_on=add_months(timezone.localdate(), -12 * (6 + number)),
            )
            record.full_clean()
            record.save()

    ENDED_EVENT = "Конференция «Тревожные расстройства в общей практике»"

    def codes(self, *, organization: Organization, provider: User) -> None:
        """20 codes of the psychiatry event that has already ended, so that a newcomer can activate one."""
        event = Event.objects.get(title=self.ENDED_EVENT, organization=organization)
        if not IcpCode.objects.filter(event=event).exists():
            codes_issue(event=event, actor=provider, count=20)

    def print_codes(self) -> None:
        codes = IcpCode.objects.filter(event__title=self.ENDED_EVENT, status=IcpCode.Status.ISSUED).order_by("id")[:3]
        credited = IcpCode.objects.filter(
            event__title=self.ENDED_EVENT, activated_by__email="doctor@example.org", status=IcpCode.Status.ACTIVATED
        ).first()
        if codes:
            self.stdout.write(
                f"Codes of «{self.ENDED_EVENT}», which has ended (one credit per doctor per event: "
                "doctor@example.org can activate one of them, the others are for other accounts you sign up):"
            )
            for code in codes:
                self.stdout.write(f"  {code.display}")
            if credited:
                self.stdout.write(f"  (doctor@example.org has already activated {credited.display})")

    def activities(self, *, organization: Organization, provider: User, reviewer: User) -> None:
        """Approved events and modules for the catalogue, a draft, and a case waiting for the reviewer."""
        specialties = {
            s.code: s for s in Specialty.objects.filter(code__in=["31.08.20", "31.08.21", "31.08.22", "31.08.36"])
        }
        today = timezone.localdate()

        def at(days: int, hour: int) -> datetime:
            return make_local(datetime.combine(today + timedelta(days=days), time(hour)))

        events = [
            ("Национальный конгресс психиатров", 90, 4, 24, Status.APPROVED, ["31.08.20", "31.08.21", "31.08.22"]),
            ("Школа клинической психофармакологии", 40, 1, 6, Status.APPROVED, ["31.08.20"]),
            (
                "Конференция «Тревожные расстройства в общей практике»",
                -3,
                2,
                12,
                Status.APPROVED,
                ["31.08.20", "31.08.22"],
            ),
            (
                "Семинар «Депрессия у пациентов с сердечно-сосудистыми заболеваниями»",
                70,
                1,
                5,
                Status.IN_REVIEW,
                ["31.08.20", "31.08.36"],
            ),
            ("Научно-практическая конференция молодых психиатров", 120, 2, 12, Status.DRAFT, ["31.08.20"]),
        ]
        for title, starts_in, days, credits, status, codes in events:
            event, created = Event.objects.get_or_create(
                title=title,
                organization=organization,
                defaults={
                    "programme": "Пленарные доклады ведущих специалистов, симпозиумы, клинические разборы, дискуссия.",
                    "format": Event.Format.MIXED,
                    "venue": "Москва, Краснопресненская наб., 12",
                    "link": "https://congress.example.org/live",
                    "starts_at": at(starts_in, 9),
                    "ends_at": at(starts_in + days - 1, 18),
                    "hours": 8 * days,
                    "credits_requested": credits,
                    "status": status,
                    "credits_granted": credits if status == Status.APPROVED else None,
                    "reviewer": reviewer if status != Status.DRAFT else None,
                    "due_at": timezone.now() + timedelta(days=10) if status == Status.IN_REVIEW else None,
                    "created_by": provider,
                },
            )
            if created:
                event.specialties.set([specialties[code] for code in codes])
                self.history(event, provider=provider, reviewer=reviewer)
            if event.status == Status.APPROVED:
                public_number_issue(activity=event, actor=reviewer)
        modules = [
            ("Антипсихотики: выбор и мониторинг побочных эффектов", 10, ["31.08.20", "31.08.21"]),
            ("Когнитивно-поведенческая терапия бессонницы", 6, ["31.08.22", "31.08.20"]),
        ]
        for title, credits, codes in modules:
            module, created = Module.objects.get_or_create(
                title=title,
                organization=organization,
                defaults={
                    "annotation": "Интерактивный модуль: клинические задачи, видеолекции и итоговое тестирование.",
                    "link": "https://learn.example.org/modules/demo",
                    "available_from": today - timedelta(days=30),
                    "available_until": today + timedelta(days=335),
                    "hours": credits,
                    "credits_requested": credits,
                    "status": Status.APPROVED,
                    "credits_granted": credits,
                    "reviewer": reviewer,
                    "created_by": provider,
                },
            )
            if created:
                module.specialties.set([specialties[code] for code in codes])
                self.history(module, provider=provider, reviewer=reviewer)
            public_number_issue(activity=module, actor=reviewer)  # every demo module is approved

    def history(self, activity: Activity, *, provider: User, reviewer: User) -> None:
        """The review steps the seeded state implies, so that timelines read as they would in real use."""
        if activity.status == Status.DRAFT:
            return
        steps: list[tuple[User | None, str, str, str, int | None]] = [
            (provider, Status.DRAFT, Status.SUBMITTED, "", None),
            (None, Status.SUBMITTED, Status.IN_REVIEW, "Назначено автоматически.", None),
        ]
        if activity.status == Status.APPROVED:
            steps.append(
                (
                    reviewer,
                    Status.IN_REVIEW,
                    Status.APPROVED,
                    "Программа соответствует требованиям.",
                    activity.credits_granted,
                )
            )
        for actor, source, target, comment, credits in steps:
            activity.transitions.create(  # type: ignore[attr-defined]
                actor=actor,
                from_status=source,
                to_status=target,
                comment=comment,
                credits=credits,
                reviewer=reviewer,
            )
