"""What the module completion tests share: a provider with an approved module, a doctor, and helpers."""

import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import api_key_create
from nmo_portal.calendar import register_zone

from ..factories import DoctorProfileFactory, MembershipFactory, ModuleFactory, make_snils

MOSCOW = register_zone()  # the register's zone, settings.TIME_ZONE

# СНИЛС numbers no factory hands out: doctors who have not signed up yet.
UNREGISTERED_SNILS = make_snils(800_001)
ANOTHER_UNREGISTERED_SNILS = make_snils(800_002)


def wrong_control(snils: str) -> str:
    return snils[:9] + ("01" if snils[9:] == "00" else "00")


@pytest.fixture
def doctor(db, psychiatry):
    """A doctor whose СНИЛС the Ministry link has confirmed: completions naming it are credited at once."""
    return DoctorProfileFactory(specialties=[psychiatry], snils_confirmed_at=timezone.now()).user


@pytest.fixture
def membership(db):
    return MembershipFactory()


@pytest.fixture
def module(membership, psychiatry):
    return ModuleFactory(
        organization=membership.organization, approved=True, hours=8, credits_requested=6, specialties=[psychiatry]
    )


@pytest.fixture
def key_api(membership):
    _api_key, key = api_key_create(organization=membership.organization, actor=membership.user, name="СДО")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def completions_url(module):
    return f"/api/v1/modules/{module.pk}/completions/"


def page_url(module):
    return reverse("modules:completions", args=[module.pk])


def yesterday(hour=10):
    return (timezone.localtime() - timedelta(days=1)).replace(hour=hour, minute=30, second=0, microsecond=0)


def payload(external_id="lms-1", **fields):
    return {"external_id": external_id, "completed_at": yesterday().isoformat(), **fields}


def doctor_snils(doctor):
    return doctor.doctor_profile.snils


def upload(client, module, content: bytes, name="report.csv"):
    handle = io.BytesIO(content)
    handle.name = name
    return client.post(page_url(module), {"file": handle})


@pytest.fixture
def member_client(client, membership):
    client.force_login(membership.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client
