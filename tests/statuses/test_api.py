"""The status programmes' API: the programmes for anyone, applying and my applications and statuses for a doctor,
with their shapes, refusals and query counts."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import api_key_create
from statuses import services
from statuses.models import Status, StatusApplication

from ..factories import MembershipFactory, StaffFactory

pytestmark = pytest.mark.django_db

PROGRAMMES = "/api/v1/status-programmes/"
MINE = "/api/v1/me/statuses/"


def applications_url(programme_or_id):
    return f"/api/v1/status-programmes/{getattr(programme_or_id, 'pk', programme_or_id)}/applications/"


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def doctor_api(api, eligible_doctor):
    api.force_login(eligible_doctor)
    return api


def award(doctor, member, programme, specialty):
    application = services.application_submit(doctor=doctor, programme=programme, specialty=specialty)
    day = timezone.localdate()
    for stage in programme.stages.order_by("position"):
        result = {"score": "85"} if stage.is_scored else {"passed": True}
        services.stage_result_record(application=application, stage=stage, user=member, held_on=day, **result)
    services.application_decide(application=application, user=member, award=True)
    return Status.objects.get(application=application)


# The programmes -----------------------------------------------------------------------------------------------


def test_anyone_reads_the_programmes_with_their_stages_and_eligibility(
    api, moscow_doctor_programme, django_assert_max_num_queries
):
    with django_assert_max_num_queries(3):
        response = api.get(PROGRAMMES)

    assert response.status_code == 200
    [programme] = response.json()
    assert programme["id"] == moscow_doctor_programme.pk
    assert programme["slug"] == "moscow-doctor"
    assert programme["name"] == "Московский врач"
    assert programme["authority"] == "Департамент здравоохранения города Москвы"
    assert programme["region"] == "77"
    assert {"code": "31.08.20", "name": "Психиатрия"} in programme["specialties"]
    assert programme["stages"] == [
        {"position": 1, "kind": "test", "name": "Тестирование (теоретический этап)", "pass_mark": 80.0},
        {"position": 2, "kind": "practical", "name": "Оценка практических навыков", "pass_mark": None},
        {
            "position": 3,
            "kind": "interview",
            "name": "Собеседование и защита профессионального портфолио",
            "pass_mark": None,
        },
    ]
    assert programme["eligibility"] == {
        "min_practice_years": 5,
        "requires_employment_in_region": True,
        "requires_document": True,
    }
    assert (programme["validity_years"], programme["allowance_rub"], programme["retake_wait_days"]) == (5, 15000, 365)


def test_the_programmes_in_english_use_their_english_names(api, moscow_doctor_programme):
    [programme] = api.get(PROGRAMMES, HTTP_ACCEPT_LANGUAGE="en").json()

    assert programme["name"] == "Moscow Doctor"
    assert programme["stages"][0]["name"] == "Test (theory)"


def test_a_closed_programme_is_not_listed(api, moscow_doctor_programme):
    moscow_doctor_programme.is_active = False
    moscow_doctor_programme.save()

    assert api.get(PROGRAMMES).json() == []


# Applying -----------------------------------------------------------------------------------------------------


def test_a_doctor_applies_and_gets_the_application(
    doctor_api, eligible_doctor, moscow_doctor_programme, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = doctor_api.post(
            applications_url(moscow_doctor_programme), {"specialty": "31.08.20", "public_consent": True}, format="json"
        )

    assert response.status_code == 201, response.content
    body = response.json()
    application = StatusApplication.objects.get(doctor=eligible_doctor)
    assert body["id"] == application.pk
    assert body["programme"] == {"id": moscow_doctor_programme.pk, "slug": "moscow-doctor", "name": "Московский врач"}
    assert body["specialty"] == {"code": "31.08.20", "name": "Психиатрия"}
    assert body["state"] == "open"
    assert body["public_consent"] is True
    assert body["closed_at"] is None
    assert [s["position"] for s in body["stages"]] == [1, 2, 3]
    assert body["stages"][0] == {
        "position": 1,
        "name": "Тестирование (теоретический этап)",
        "scheduled_at": None,
        "place": "",
        "score": None,
        "passed": None,
        "held_on": None,
        "comment": "",
    }
    assert [m.to for m in mail.outbox] == [[eligible_doctor.email]]


def test_consent_defaults_to_no(doctor_api, eligible_doctor, moscow_doctor_programme):
    response = doctor_api.post(applications_url(moscow_doctor_programme), {"specialty": "31.08.20"}, format="json")

    assert response.json()["public_consent"] is False


def test_not_eligible_lists_what_is_missing(api, doctor, moscow_doctor_programme):
    api.force_login(doctor)

    response = api.post(applications_url(moscow_doctor_programme), {"specialty": "31.08.20"}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "not_eligible"
    assert [gap["code"] for gap in error["missing"]] == [
        "document_missing",
        "employment_in_region_missing",
        "practice_short",
    ]
    assert all(gap["message"] for gap in error["missing"])
    assert error["missing"][2]["years"] == 0
    assert not StatusApplication.objects.exists()


def test_a_second_application_is_409_application_open(doctor_api, moscow_doctor_programme):
    doctor_api.post(applications_url(moscow_doctor_programme), {"specialty": "31.08.20"}, format="json")

    response = doctor_api.post(applications_url(moscow_doctor_programme), {"specialty": "31.08.20"}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "application_open"
    assert StatusApplication.objects.count() == 1


def test_holding_the_status_is_409_status_held_until_its_renewal_opens(
    doctor_api, eligible_doctor, commission_member, moscow_doctor_programme, psychiatry
):
    status = award(eligible_doctor, commission_member, moscow_doctor_programme, psychiatry)

    response = doctor_api.post(applications_url(moscow_doctor_programme), {"specialty": "31.08.20"}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "status_held"
    assert response.json()["error"]["renewal_opens_on"] == status.renewal_opens_on().isoformat()
    assert StatusApplication.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"specialty": "99.99.99"}, "specialty_unknown"),
        ({"specialty": "31.08.01"}, "specialty_not_offered"),
        ({}, "invalid"),
        ({"specialty": ["31.08.20"]}, "invalid"),
        ({"specialty": "3" * 17}, "invalid"),
        ({"specialty": "31.08.20", "public_consent": "perhaps"}, "invalid"),
    ],
)
def test_a_bad_specialty_or_body_is_a_400_that_writes_nothing(doctor_api, moscow_doctor_programme, body, code):
    response = doctor_api.post(applications_url(moscow_doctor_programme), body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert not StatusApplication.objects.exists()


@pytest.mark.parametrize("programme_id", [0, 10**6, 2**63])
def test_an_unknown_programme_is_404(doctor_api, programme_id):
    response = doctor_api.post(applications_url(programme_id), {"specialty": "31.08.20"}, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_applying_needs_a_signed_in_doctor(api, user, moscow_doctor_programme):
    url = applications_url(moscow_doctor_programme)

    assert api.post(url, {"specialty": "31.08.20"}, format="json").status_code == 401
    api.force_login(user)
    response = api.post(url, {"specialty": "31.08.20"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert not StatusApplication.objects.exists()


def test_an_organizations_api_key_cannot_apply(api, moscow_doctor_programme):
    membership = MembershipFactory()
    _key, secret = api_key_create(organization=membership.organization, actor=membership.user, name="МИС")
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")

    response = api.post(applications_url(moscow_doctor_programme), {"specialty": "31.08.20"}, format="json")

    assert response.status_code == 403
    assert api.get(MINE).status_code == 403
    assert not StatusApplication.objects.exists()


# My applications and statuses ---------------------------------------------------------------------------------


def test_my_statuses_list_applications_with_stage_results_and_statuses_with_their_state(
    doctor_api, eligible_doctor, commission_member, moscow_doctor_programme, psychiatry, settings
):
    settings.SITE_URL = "https://nmo.example.org"
    status = award(eligible_doctor, commission_member, moscow_doctor_programme, psychiatry)

    response = doctor_api.get(MINE)

    assert response.status_code == 200
    body = response.json()
    [application] = body["applications"]
    assert application["state"] == "awarded"
    assert application["closed_at"] is not None
    assert [(s["position"], s["passed"]) for s in application["stages"]] == [(1, True), (2, True), (3, True)]
    assert application["stages"][0]["score"] == 85.0
    assert application["stages"][0]["held_on"] == timezone.localdate().isoformat()
    [held] = body["statuses"]
    assert held["number"] == status.number
    assert held["programme"]["slug"] == "moscow-doctor"
    assert held["specialty"]["code"] == "31.08.20"
    assert held["awarded_on"] == status.awarded_on.isoformat()
    assert held["expires_on"] == status.expires_on.isoformat()
    assert held["state"] == "valid"
    assert held["check_url"] == f"https://nmo.example.org/statuses/check/{status.check_token}/"


def test_my_statuses_show_expired_and_revoked(
    doctor_api, eligible_doctor, commission_member, moscow_doctor_programme, psychiatry
):
    status = award(eligible_doctor, commission_member, moscow_doctor_programme, psychiatry)
    day = timezone.localdate()
    Status.objects.filter(pk=status.pk).update(awarded_on=day - timedelta(days=1900), expires_on=day)
    assert doctor_api.get(MINE).json()["statuses"][0]["state"] == "expired"

    services.status_revoke(status=status, actor=StaffFactory(), reason="Ошибка в документах")
    assert doctor_api.get(MINE).json()["statuses"][0]["state"] == "revoked"


def test_my_statuses_ask_no_more_queries_for_more_rows(
    doctor_api, eligible_doctor, commission_member, moscow_doctor_programme, psychiatry, django_assert_max_num_queries
):
    for _ in range(3):
        application = services.application_submit(
            doctor=eligible_doctor, programme=moscow_doctor_programme, specialty=psychiatry
        )
        services.application_withdraw(application=application, doctor=eligible_doctor)
    award(eligible_doctor, commission_member, moscow_doctor_programme, psychiatry)

    with django_assert_max_num_queries(7):
        body = doctor_api.get(MINE).json()

    assert len(body["applications"]) == 4
    assert len(body["statuses"]) == 1


def test_my_statuses_need_a_signed_in_doctor(api, user):
    assert api.get(MINE).status_code == 401
    api.force_login(user)
    assert api.get(MINE).status_code == 403


def test_another_doctors_applications_are_not_mine(api, doctor, eligible_doctor, moscow_doctor_programme, psychiatry):
    services.application_submit(doctor=eligible_doctor, programme=moscow_doctor_programme, specialty=psychiatry)
    api.force_login(doctor)

    assert api.get(MINE).json() == {"applications": [], "statuses": []}


# The schema -------------------------------------------------------------------------------------------------


def test_the_schema_documents_the_three_operations_and_their_refusals(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]

    assert "403" not in paths["/api/v1/status-programmes/"]["get"]["responses"]
    assert {"201", "400", "401", "403", "404", "409"} <= set(
        paths["/api/v1/status-programmes/{id}/applications/"]["post"]["responses"]
    )
    assert {"200", "401", "403"} <= set(paths["/api/v1/me/statuses/"]["get"]["responses"])
