"""Bad input never gives a 500: NUL characters in paths, query strings and fields, and integers too large for
the database, in every URL of the portal and the API, from anonymous and signed-in people alike."""

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from ..factories import DoctorProfileFactory, EventFactory, MembershipFactory, ModuleFactory, moscow

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"  # past a 64-bit integer
PAST_BIGINT = "9223372036854775808"  # 2**63
QUERIES = [
    "q=%00",
    "q=a%00b",
    f"page={HUGE}",
    f"provider={PAST_BIGINT}",
    f"provider={HUGE}",
    f"specialty={HUGE}",
    f"organization={HUGE}",
    f"status={HUGE}",
    "date_from=9999-12-31&date_to=0001-01-01",
]
# The mock is a separate service (its own tests), the admin has its own tests, and these are the framework's.
_SKIPPED = re.compile(r"^(ministry-mock/|admin/|accounts/|i18n/|static/|media/|api/docs|api/schema)")


def _paths(value: str) -> list[str]:
    """Every path of the portal with `value` in each of its parameters."""
    found: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = _route(pattern.pattern, value)
            if route is None:
                continue
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + route)
            elif isinstance(pattern, URLPattern):
                found.append("/" + prefix + route)

    walk(get_resolver().url_patterns, "")
    return sorted({path for path in found if not _SKIPPED.match(path[1:])})


def _route(pattern, value: str) -> str | None:
    text = str(pattern)
    if hasattr(pattern, "_route"):
        return re.sub(r"<(?:\w+:)?\w+>", value, text)
    text = text.removeprefix("^").removesuffix("$").removesuffix("\\Z")
    text = re.sub(r"\(\?P<format>[^)]*\)", "", text)
    text = re.sub(r"\(\?P<\w+>[^)]*\)", value, text)
    if re.search(r"[\\()\[\]*+?]", text.replace("\\.", "")):
        return None  # a pattern this walk cannot fill; none of the portal's own
    return text.replace("\\.", ".")


@pytest.fixture
def people(psychiatry):
    membership = MembershipFactory()
    event = EventFactory(organization=membership.organization, approved=True, starts_at=moscow(-3, 9))
    ModuleFactory(organization=membership.organization, approved=True, specialties=[psychiatry])
    doctor = DoctorProfileFactory(specialties=[psychiatry]).user
    return {"anonymous": None, "doctor": doctor, "provider": membership.user, "event": event}


def _clients(people):
    for who in ("anonymous", "doctor", "provider"):
        client = Client(raise_request_exception=False)
        if people[who] is not None:
            client.force_login(people[who])
        yield who, client


def _answers(client: Client, method: str, path: str, query: str = ""):
    url = path + ("?" + query if query else "")
    return getattr(client, method)(url)


@pytest.mark.parametrize("value", [HUGE, PAST_BIGINT, "%00", "a%00b"])
def test_no_path_of_the_portal_answers_500_to_a_huge_number_or_a_nul(people, value):
    paths = _paths(value)
    assert len(paths) > 40  # the walk found the portal's URLs
    failures = []
    for who, client in _clients(people):
        for path in paths:
            for method in ("get", "post"):
                response = _answers(client, method, path)
                if response.status_code >= 500:
                    failures.append(f"{who} {method.upper()} {path} → {response.status_code}")
    assert not failures, "\n".join(failures)


def test_no_list_answers_500_to_a_nul_or_a_huge_number_in_its_query(people):
    event = people["event"]
    lists = [
        "/",
        "/catalog/events/",
        "/catalog/modules/",
        "/api/v1/catalog/events/",
        "/api/v1/catalog/modules/",
        "/api/v1/events/",
        "/api/v1/modules/",
        "/api/v1/reviews/",
        f"/provider/events/{event.pk}/codes/",
        f"/api/v1/events/{event.pk}/codes/",
        "/me/credits/",
        "/me/plan/",
        "/me/disputes/new/",
        "/announcements/",
        "/api/v1/announcements/",
    ]
    failures = []
    for who, client in _clients(people):
        for path in lists:
            for query in QUERIES:
                response = _answers(client, "get", path, query)
                if response.status_code >= 500:
                    failures.append(f"{who} GET {path}?{query} → {response.status_code}")
    assert not failures, "\n".join(failures)


def test_a_nul_in_the_query_string_is_a_400_for_anyone(client):
    response = client.get("/catalog/events/?q=%00")
    assert response.status_code == 400

    api = client.get("/api/v1/catalog/events/?q=%00")
    assert api.status_code == 400
    assert api.json()["error"]["code"] == "malformed_request"


def test_a_nul_in_the_path_is_a_400(client):
    assert client.get("/catalog/events/%00/").status_code == 400
    assert client.get("/verify/abc%00def/").status_code == 400


def test_a_nul_in_a_form_field_is_refused_by_the_form(client, people):
    client.force_login(people["doctor"])
    response = client.post("/me/credits/", {"code": "ABCD\x00EFGH1234"})
    assert response.status_code == 200
    assert response.context["form"].has_error("code", "null_characters_not_allowed")


def test_a_nul_in_a_json_field_is_a_400(client, people):
    client.force_login(people["doctor"])
    response = client.post("/api/v1/codes/activate/", {"code": "ABCD\x00"}, content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize("value", [HUGE, PAST_BIGINT])
def test_a_huge_id_in_a_path_is_a_404(client, value):
    assert client.get(f"/catalog/events/{value}/").status_code == 404
    assert client.get(f"/api/v1/catalog/events/{value}/").status_code == 404


@pytest.mark.parametrize("value", [HUGE, PAST_BIGINT, "-1", "1e400"])
def test_forms_answer_a_huge_choice_with_a_form_error_not_a_500(people, value):
    organization = people["provider"].memberships.get().organization_id
    posts = {
        "doctor": [
            ("/me/plan/cycles/", {"specialty": value, "starts_on": "2024-01-01", "rule": value}),
            ("/me/plan/programmes/new/", {"specialty": value, "name": "x", "hours": value}),
            ("/me/disputes/new/", {"code_text": "x", "event_date": "2024-01-01", "event_name": "x"}),
        ],
        "provider": [
            (f"/provider/organizations/{organization}/events/new/", {"title": "x", "specialties": [value]}),
            (f"/provider/organizations/{organization}/modules/new/", {"title": "x", "specialties": [value]}),
            (f"/provider/events/{people['event'].pk}/codes/issue/", {"count": value}),
        ],
    }
    failures = []
    for who, client in _clients(people):
        for path, data in posts.get(who, []):
            response = client.post(path, data)
            if response.status_code >= 500:
                failures.append(f"{who} POST {path} {data} → {response.status_code}")
    assert not failures, "\n".join(failures)
