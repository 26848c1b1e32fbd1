import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import DoctorProfile, Organization, ReviewerAppointment, Specialty, User, WorkRecord
from accounts.selectors import user_roles
from events.models import Event
from learning_plan.models import Cycle
from learning_plan.portfolio import specialty_portfolio
from modules.models import Module
from nmo_portal.calendar import add_months, today
from review.models import PublicNumber, Status
from societies.models import Announcement

DEMO = [
    "admin@example.org",
    "doctor@example.org",
    "provider@example.org",
    "reviewer@example.org",
    "society@example.org",
]


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_every_demo_user_signs_in(client, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")
    assert User.objects.filter(email__in=DEMO).count() == 5
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
