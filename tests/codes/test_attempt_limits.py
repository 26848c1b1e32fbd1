"""The failed-attempt limits: increment, then compare, so a burst gets exactly the limit and no more."""

from collections import Counter
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from accounts.models import DoctorProfile
from codes import services
from codes.format import generate_code
from codes.models import IcpCode

from ..concurrency import run_at_once
from ..conftest import in_ci
from ..factories import DoctorProfileFactory, EventFactory

pytestmark = pytest.mark.django_db


def outcome(doctor, raw, ip=None):
    try:
        services.code_activate(user=doctor, raw=raw, ip=ip)
    except services.ActivationError as exc:
        return exc.code
    return "ok"


@pytest.fixture
def redis_cache():
    if django_settings.CACHES["default"]["BACKEND"] != "nmo_portal.cache.RedisCache":
        message = "the counters' race needs the real Redis (REDIS_URL)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)


def race(test):
    """On PostgreSQL and the real Redis, each thread on its own database connection."""
    test = pytest.mark.usefixtures("redis_cache")(test)
    test = pytest.mark.skipif(connection.vendor != "postgresql", reason="the race runs on PostgreSQL, as in CI")(test)
    return pytest.mark.django_db(transaction=True, serialized_rollback=True)(test)


@race
def test_sixty_four_failed_attempts_of_one_account_at_once_evaluate_exactly_the_limit(doctor, settings):
    settings.ICP_FAILED_ATTEMPTS_PER_ACCOUNT = 10
    codes = [generate_code() for _ in range(64)]  # well-formed, issued to no one
    outcomes = run_at_once([lambda c=c: services.code_activate(user=doctor, raw=c, ip=None) for c in codes])
    kinds = Counter(kind for kind, _ in outcomes)
    assert kinds == {"code_not_found": 10, "too_many_attempts": 54}, outcomes
    # the window is spent: the next attempt, even a good one, waits
    assert outcome(doctor, generate_code()) == "too_many_attempts"


@race
def test_sixty_four_failed_attempts_from_one_ip_at_once_evaluate_exactly_the_limit(psychiatry, settings):
    settings.ICP_FAILED_ATTEMPTS_PER_IP = 10
    doctors = [DoctorProfileFactory(specialties=[psychiatry]).user for _ in range(64)]
    ip = "203.0.113.7"
    outcomes = run_at_once([lambda d=d: (d, outcome(d, generate_code(), ip)) for d in doctors])
    assert [kind for kind, _ in outcomes] == ["ok"] * 64, outcomes  # no thread crashed outside the service
    kinds = Counter(kind for _, (_, kind) in outcomes)
    assert kinds == {"code_not_found": 10, "too_many_attempts": 54}, kinds
    # a refused account kept its own allowance: from another address its attempt is evaluated
    refused = next(d for _, (d, kind) in outcomes if kind == "too_many_attempts")
    assert outcome(refused, generate_code(), "198.51.100.1") == "code_not_found"


def test_successful_activations_do_not_use_up_the_limit(doctor, ended_event_factory, settings):
    settings.ICP_FAILED_ATTEMPTS_PER_ACCOUNT = 2
    ip = "192.0.2.10"
    settings.ICP_FAILED_ATTEMPTS_PER_IP = 2
    assert outcome(doctor, generate_code(), ip) == "code_not_found"
    for _ in range(5):
        _event, code = ended_event_factory()
        assert outcome(doctor, code.code, ip) == "ok"
    assert outcome(doctor, generate_code(), ip) == "code_not_found"  # the second failure is still evaluated
    assert outcome(doctor, generate_code(), ip) == "too_many_attempts"


def test_refusals_that_are_not_guesses_do_not_use_up_the_limit(doctor, ended_event, make_codes, psychiatry, settings):
    settings.ICP_FAILED_ATTEMPTS_PER_ACCOUNT = 1
    mine, second = make_codes(ended_event, 2)
    assert outcome(doctor, mine.code) == "ok"
    soon = EventFactory(
        approved=True,
        starts_at=timezone.now() + timedelta(days=1),
        ends_at=timezone.now() + timedelta(days=2),
        specialties=[psychiatry],
    )
    (early,) = make_codes(soon)
    for _ in range(3):
        assert outcome(doctor, mine.code) == "code_already_yours"
        assert outcome(doctor, second.code) == "event_already_credited"
        assert outcome(doctor, early.code) == "event_not_finished"
    assert outcome(doctor, generate_code()) == "code_not_found"  # the one failure the limit allows
    assert outcome(doctor, generate_code()) == "too_many_attempts"
    second.refresh_from_db()
    assert second.status == IcpCode.Status.ISSUED


def test_a_code_taken_by_another_account_counts_as_a_failed_attempt(
    doctor, ended_event, make_codes, psychiatry, settings
):
    settings.ICP_FAILED_ATTEMPTS_PER_ACCOUNT = 1
    (code,) = make_codes(ended_event)
    assert outcome(DoctorProfileFactory(specialties=[psychiatry]).user, code.code) == "ok"
    assert outcome(doctor, code.code) == "code_taken"
    assert outcome(doctor, generate_code()) == "too_many_attempts"


def test_a_locked_ip_does_not_use_up_the_accounts_own_allowance(doctor, settings):
    settings.ICP_FAILED_ATTEMPTS_PER_ACCOUNT = 2
    settings.ICP_FAILED_ATTEMPTS_PER_IP = 1
    assert outcome(doctor, generate_code(), "192.0.2.1") == "code_not_found"
    for _ in range(5):
        assert outcome(doctor, generate_code(), "192.0.2.1") == "too_many_attempts"
    assert outcome(doctor, generate_code(), "192.0.2.2") == "code_not_found"  # the account's second failure
    assert outcome(doctor, generate_code(), "192.0.2.3") == "too_many_attempts"


def test_while_redis_is_down_failures_are_not_counted_and_activations_go_on(doctor, ended_event, make_codes, settings):
    settings.ICP_FAILED_ATTEMPTS_PER_ACCOUNT = 1
    settings.CACHES = {
        "default": {
            "BACKEND": "nmo_portal.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }
    (code,) = make_codes(ended_event)
    for _ in range(3):
        assert outcome(doctor, generate_code(), "192.0.2.1") == "code_not_found"
    assert outcome(doctor, code.code, "192.0.2.1") == "ok"


def test_an_incomplete_profile_does_not_use_up_the_limit(doctor, settings):
    settings.ICP_FAILED_ATTEMPTS_PER_ACCOUNT = 1
    snils = doctor.doctor_profile.snils
    DoctorProfile.objects.filter(user=doctor).update(snils=None)
    for _ in range(3):
        assert outcome(doctor, generate_code()) == "profile_incomplete"
    DoctorProfile.objects.filter(user=doctor).update(snils=snils)
    assert outcome(doctor, generate_code()) == "code_not_found"
    assert outcome(doctor, generate_code()) == "too_many_attempts"
