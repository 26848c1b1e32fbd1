import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import AuditEvent, DoctorProfile, Organization, ReviewerAppointment, Specialty, User, WorkRecord
from accounts.selectors import user_roles
from accounts.work import inn_is_valid
from events.models import Event
from learning_plan.models import Cycle
from learning_plan.portfolio import specialty_portfolio
from modules.models import Module
from nmo_portal.calendar import add_months, today
from review.models import PublicNumber, Status
from societies.models import Announcement
from statuses.models import CommissionMember, StageResult, StatusApplication, StatusProgramme
from statuses.models import Status as ProgrammeStatus
from statuses.selectors import eligibility

DEMO = [
    "admin@example.org",
    "doctor@example.org",
    "provider@example.org",
    "reviewer@example.org",
    "society@example.org",
    "commission@example.org",
]


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_every_demo_user_signs_in(client, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")
    assert User.objects.filter(email__in=DEMO).count() == len(DEMO)
    assert Organization.objects.filter(status=Organization.Status.VERIFIED).count() == 1
    doctor = User.objects.get(email="doctor@example.org")
    assert DoctorProfile.objects.get(user=doctor).specialties.filter(code="31.08.20").exists()
    assert ReviewerAppointment.objects.filter(user__email="reviewer@example.org", specialty__code="31.08.20").exists()
    for email in DEMO:
        client.logout()
        response = client.post(reverse("account_login"), {"login": email, "password": "demo-password-1"})
        assert response.status_code == 302, email
        assert client.session["_auth_user_id"] == str(User.objects.get(email=email).pk)
    roles = user_roles(User.objects.get(email="provider@example.org"))
    assert roles.is_provider
    assert not roles.is_reviewer


@pytest.mark.django_db
def test_seed_demo_numbers_its_approved_activities_once_through_the_review_service(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")
    approved = [*Event.objects.filter(status=Status.APPROVED), *Module.objects.filter(status=Status.APPROVED)]
    numbers = [activity.public_number for activity in approved]
    assert approved
    assert all(numbers)
    assert sorted(numbers) == sorted(PublicNumber.objects.values_list("number", flat=True))
    assert not Event.objects.exclude(status=Status.APPROVED).exclude(public_number=None).exists()


@pytest.mark.django_db
def test_seed_demo_is_refused_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed_demo")
    assert not User.objects.filter(email__in=DEMO).exists()


@pytest.mark.django_db
def test_the_demo_doctors_filing_window_is_open_on_a_fresh_seed(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")
    doctor = User.objects.get(email="doctor@example.org")
    psychiatry = Specialty.objects.get(code="31.08.20")
    found = specialty_portfolio(doctor=doctor, specialty=psychiatry)
    assert found.window == "open"
    assert found.expires_on is not None
    assert 0 < (found.expires_on - today()).days < 366
    cycle = Cycle.objects.get(doctor=doctor, specialty=psychiatry)
    assert (cycle.starts_on, cycle.document) == (found.document.issued_on, found.document)
    # six years of work in psychiatry at a Moscow clinic
    (record,) = WorkRecord.objects.filter(doctor=doctor)
    assert (record.region, record.specialty, record.ended_on) == ("77", psychiatry, None)
    assert record.started_on <= add_months(today(), -72)
    assert "work_record_missing" not in [gap.code for gap in found.missing]


@pytest.mark.django_db
def test_the_demo_society_has_its_staff_specialties_and_one_announcement(client, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")
    society = Organization.objects.get(inn="7701234567")
    assert (society.kind, society.status) == (Organization.Kind.SOCIETY, Organization.Status.VERIFIED)
    codes = sorted(society.specialties.values_list("code", flat=True))
    assert codes == ["31.08.20", "31.08.21", "31.08.22", "31.08.24"]
    staff = User.objects.get(email="society@example.org")
    assert society.memberships.get(user=staff).role == "admin"
    (announcement,) = Announcement.objects.filter(society=society)
    assert announcement.is_published
    assert [s.code for s in announcement.specialties.all()] == ["31.08.20"]
    client.force_login(User.objects.get(email="doctor@example.org"))
    assert announcement.title in client.get(reverse("home")).content.decode()


@pytest.mark.django_db
def test_the_demo_commission_sits_for_psychiatry_and_its_applicants_are_seeded_once(client, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "commission@example.org   demo-password-1" in out.getvalue()
    psychiatry = Specialty.objects.get(code="31.08.20")
    programme = StatusProgramme.objects.get(slug="moscow-doctor")
    (seat,) = CommissionMember.objects.filter(user__email="commission@example.org")
    assert (seat.programme, seat.specialty, seat.retired_at) == (programme, psychiatry, None)
    assert inn_is_valid(seat.employer_inn)
    assert seat.employer_inn not in WorkRecord.objects.values_list("employer_inn", flat=True)
    appointed = AuditEvent.objects.get(action="commission_member.appoint")
    assert appointed.actor.email == "admin@example.org"
    assert seat.user.full_name == "Соколова Анна Викторовна"

    # one application each, run through the services: awarded, failed at the test, open after it
    states = dict(StatusApplication.objects.values_list("doctor__email", "state"))
    assert states == {
        "demo-applicant1@example.org": "awarded",
        "demo-applicant2@example.org": "failed",
        "demo-applicant3@example.org": "open",
    }
    (status,) = ProgrammeStatus.objects.all()
    assert (status.doctor.email, status.public_consent) == ("demo-applicant1@example.org", True)
    assert (
        StageResult.objects.get(application__doctor__email="demo-applicant2@example.org", score__isnull=False).score
        == 72
    )
    assert AuditEvent.objects.filter(action="status_application.submit").count() == 3

    # the demo doctor may apply, and applies themselves
    doctor = User.objects.get(email="doctor@example.org")
    assert eligibility(doctor=doctor, programme=programme, specialty=psychiatry) == []
    assert not StatusApplication.objects.filter(doctor=doctor).exists()

    client.post(reverse("account_login"), {"login": "commission@example.org", "password": "demo-password-1"})
    page = client.get(reverse("statuses:statistics", args=[programme.slug])).content.decode()
    assert 'data-specialty="31.08.20"' in page
    assert "67%" in page  # two of the three passed the test
