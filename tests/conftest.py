import importlib
import os
import shutil
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from codes.format import generate_codes
from codes.models import IcpCode
from nmo_portal.celery import app as celery_app

from .factories import (
    AccreditationDocumentFactory,
    CommissionMemberFactory,
    DoctorProfileFactory,
    EventFactory,
    MembershipFactory,
    ReviewerAppointmentFactory,
    StaffFactory,
    UserFactory,
    WorkRecordFactory,
    specialty,
)


def pytest_report_header(config):
    database = settings.DATABASES["default"]
    cache_backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    chromium = shutil.which("chromium") or "not installed"
    return [
        f"database: {connection.vendor} ({database['ENGINE']}, {database.get('HOST') or database['NAME']})",
        f"cache: {cache_backend}; redis: {settings.REDIS_URL or 'not configured'}",
        f"chromium for browser tests: {chromium}",
    ]


@pytest.fixture(autouse=True)
def _isolation(settings):
    """Each test starts with an empty cache (rate limits live there) and tasks run in-process.

    Tests of delivery through a real broker and worker switch eager mode off themselves.
    """
    cache.clear()
    celery_app.conf.task_always_eager = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Hashing is slow by design; tests create hundreds of users and test nothing about the hash itself.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The hashed-manifest storage needs collectstatic; tests serve the files as they are.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        # Generated files stay in memory: no object store is reachable here, and the tree stays clean.
        "private": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Transactional tests end by flushing every table, the data migrations' rows included: put the
    reference data (specialties, cycle rules, accreditation alternatives, filing stages) back for the tests
    that come after one."""
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    if not marker and not {"db", "transactional_db"} & names:
        return
    transactional = "transactional_db" in names or (marker is not None and marker.kwargs.get("transaction"))
    request.getfixturevalue("transactional_db" if transactional else "db")  # set the database up first
    from django.apps import apps as django_apps

    from learning_plan.models import AccreditationAlternative, CycleRule

    if not CycleRule.objects.exists():
        importlib.import_module("learning_plan.migrations.0002_cycle_rules").add_rules(django_apps, None)
    if not AccreditationAlternative.objects.exists():
        importlib.import_module("learning_plan.migrations.0004_accreditation_data").add_data(django_apps, None)
    if not django_apps.get_model("accounts", "Specialty").objects.exists():
        importlib.import_module("accounts.migrations.0002_specialties").add_specialties(django_apps, None)
    if not django_apps.get_model("statuses", "StatusProgramme").objects.exists():
        importlib.import_module("statuses.migrations.0002_moscow_doctor").create(django_apps, None)


@pytest.fixture
def psychiatry():
    return specialty("31.08.20")


@pytest.fixture
def cardiology():
    return specialty("31.08.36")


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def doctor(db, psychiatry):
    return DoctorProfileFactory(specialties=[psychiatry]).user


@pytest.fixture
def provider(db):
    """An administrator of a verified organization."""
    return MembershipFactory().user


@pytest.fixture
def reviewer(db, psychiatry):
    return ReviewerAppointmentFactory(specialty=psychiatry).user


@pytest.fixture
def staff(db):
    return StaffFactory()


@pytest.fixture
def moscow_doctor_programme(db):
    """«Московский врач» as the data migration ships it: psychiatry among its specialties, Moscow, 5 years, a
    test with an 80% pass mark, practical skills, an interview."""
    from statuses.models import StatusProgramme

    return StatusProgramme.objects.get(slug="moscow-doctor")


@pytest.fixture
def eligible_doctor(db, psychiatry):
    """A psychiatrist eligible for «Московский врач»: a valid accreditation, and six years of psychiatry in a
    Moscow hospital where they still work."""
    document = AccreditationDocumentFactory(specialty=psychiatry)
    WorkRecordFactory(
        doctor=document.doctor,
        started_on=timezone.localdate() - timedelta(days=365 * 6 + 2),
        ended_on=None,
    )
    return document.doctor


@pytest.fixture
def commission_member(db, psychiatry, moscow_doctor_programme):
    """A member of the programme's psychiatry commission at another employer than the eligible doctor's."""
    return CommissionMemberFactory(programme=moscow_doctor_programme, specialty=psychiatry).user


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture
def ended_event(db, psychiatry):
    """An approved psychiatry event of 2 days that ended yesterday, 12 credits."""
    ends = timezone.now() - timedelta(days=1)
    return EventFactory(
        organization=MembershipFactory().organization,
        approved=True,
        starts_at=ends - timedelta(days=1, hours=8),
        ends_at=ends,
        hours=16,
        credits_requested=12,
        specialties=[psychiatry],
    )


@pytest.fixture
def make_codes():
    def make(event, n=1, **fields):
        return [IcpCode.objects.create(code=code, event=event, **fields) for code in generate_codes(n)]

    return make


@pytest.fixture
def ended_event_factory(psychiatry):
    def make():
        ends = timezone.now() - timedelta(days=1)
        event = EventFactory(
            organization=MembershipFactory().organization,
            approved=True,
            starts_at=ends - timedelta(hours=8),
            ends_at=ends,
            hours=8,
            credits_requested=6,
            specialties=[psychiatry],
        )
        return event, IcpCode.objects.create(code=generate_codes(1)[0], event=event)

    return make
