"""Schemathesis fuzzes every operation of the OpenAPI schema against the WSGI app, in-process, on the suite's
PostgreSQL database: as a signed-in doctor (session cookie + CSRF token) and with an organization's API key.
No answer may be a 500, and every answer must match the schema (status code, body, content type).

The requests are counted (REQUESTS) so that the run's figures can be reported; `-s` prints them.
"""

import random
import string
from collections import Counter

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.services import api_key_create
from nmo_portal.wsgi import application
from review.services import public_number_issue

from ..factories import DoctorProfileFactory, EventFactory, MembershipFactory, ModuleFactory, specialty

EXAMPLES = 25
RAW_SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
SCHEMA = schemathesis.openapi.from_dict(RAW_SCHEMA)
SCHEMA.app = application
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
REQUESTS: Counter[tuple[str, str]] = Counter()

# Ids of real objects of the test's own organization, so that the `{id}` paths reach them and not only 404s.
REAL_IDS: dict[str, list[object]] = {}


@SCHEMA.hook
def flatmap_path_parameters(context, path_parameters):
    path = context.operation.path if context.operation else ""
    if not path_parameters or "id" not in path_parameters:
        return st.just(path_parameters)
    real = REAL_IDS.get("review" if path.startswith("/api/v1/reviews/") else path.split("/")[3], [])
    return st.sampled_from([path_parameters, *({**path_parameters, "id": value} for value in real)])


@pytest.fixture
def _keep_connection():
    """The WSGI handler closes the database connection at the end of a request, which would end the test's
    transaction; Django's test client disconnects the same receiver for the same reason."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(db, _keep_connection):
    """A doctor, and a verified organization whose administrator holds an API key, with approved activities."""
    doctor = DoctorProfileFactory(specialties=[specialty("31.08.20")]).user
    provider = MembershipFactory().user
    organization = provider.memberships.get().organization
    event = EventFactory(organization=organization, approved=True)
    module = ModuleFactory(organization=organization, approved=True)
    for approved in (event, module):
        public_number_issue(activity=approved, actor=None)
    EventFactory(organization=organization, format="online", link="https://meet.example.org/x")  # a draft
    _api_key, key = api_key_create(organization=organization, actor=provider, name="LMS")
    REAL_IDS.update(
        events=[event.pk],
        modules=[module.pk],
        catalog=[event.pk, module.pk],
        review=[f"event-{event.pk}", f"module-{module.pk}"],
    )
    browser = Client()
    browser.force_login(doctor)
    return {"doctor_session": browser.cookies["sessionid"].value, "key": key}


def _doctor(world):
    token = "".join(random.choices(string.ascii_letters + string.digits, k=32))
    return {
        "headers": {"X-CSRFToken": token},
        "cookies": {"sessionid": world["doctor_session"], "csrftoken": token},
    }


def _api_key(world):
    return {"headers": {"Authorization": f"Api-Key {world['key']}"}, "cookies": {}}


def _run(case, credentials, who):
    REQUESTS[who, case.operation.label] += 1
    headers = {**(case.headers or {}), **credentials["headers"]}
    response = case.call(headers=headers, cookies=credentials["cookies"])
    case.validate_response(response, checks=CHECKS)


# Phase.explicit adds schemathesis' coverage cases (boundaries, missing and wrong-typed values) to the 25
# generated examples: for the API key, which reaches the provider's real objects. The doctor's run is the
# generated examples only (most operations answer a doctor 403 before reading anything).
_COMMON = {"max_examples": EXAMPLES, "deadline": None, "derandomize": True, "database": None}
FUZZ_WITH_COVERAGE = settings(
    phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck), **_COMMON
)
FUZZ = settings(phases=[Phase.generate], suppress_health_check=list(HealthCheck), **_COMMON)


@pytest.mark.timeout(120)
@SCHEMA.parametrize()
@FUZZ
def test_api_as_a_signed_in_doctor_never_fails_nor_breaks_its_schema(case, world):
    _run(case, _doctor(world), "doctor")


@pytest.mark.timeout(120)
@SCHEMA.parametrize()
@FUZZ_WITH_COVERAGE
def test_api_with_an_organizations_api_key_never_fails_nor_breaks_its_schema(case, world):
    _run(case, _api_key(world), "api_key")


def test_zzz_every_operation_got_at_least_25_requests_from_each_caller(capsys):
    """Runs after the two fuzzing tests (file order; `-k` alone runs nothing to count) and prints their figures
    (`-s` shows them): operations and requests per caller."""
    if not REQUESTS:
        return  # selected alone: the fuzzing tests did not run in this session
    operations = {(path, method) for path, methods in RAW_SCHEMA["paths"].items() for method in methods}
    for who in ("doctor", "api_key"):
        counts = {operation: n for (caller, operation), n in REQUESTS.items() if caller == who}
        with capsys.disabled():
            print(f"\nschemathesis as {who}: {len(counts)} operations, {sum(counts.values())} requests")
        assert len(counts) == len(operations), who
        assert min(counts.values()) >= EXAMPLES, who
