import importlib
import os
import shutil

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from nmo_portal.celery import app as celery_app

from .factories import (
    DoctorProfileFactory,
    MembershipFactory,
    ReviewerAppointmentFactory,
    StaffFactory,
    UserFactory,
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
    reference data (specialties, cycle rules) back for the tests that come after one."""
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    if not marker and not {"db", "transactional_db"} & names:
        return
    transactional = "transactional_db" in names or (marker is not None and marker.kwargs.get("transaction"))
    request.getfixturevalue("transactional_db" if transactional else "db")  # set the database up first
    from django.apps import apps as django_apps

    from credits.models import CycleRule

    if not CycleRule.objects.exists():
        importlib.import_module("credits.migrations.0003_cycle_rules").add_rules(django_apps, None)
    if not django_apps.get_model("accounts", "Specialty").objects.exists():
        importlib.import_module("accounts.migrations.0002_specialties").add_specialties(django_apps, None)


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


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}
