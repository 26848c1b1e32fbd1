"""Applying for a status (statuses.services.application_submit and application_withdraw): who is eligible on the
edges of the years of practice, what counts as practice and employment, the document, one open application, the
wait before a retake, withdrawing before the decision only; a refusal writes nothing, and the page and the API
refuse with the same code and message."""

from datetime import date, timedelta

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditEvent
from nmo_portal.errors import PortalError
from statuses import services
from statuses.models import StageResult, Status, StatusApplication

from ..factories import AccreditationDocumentFactory, DoctorProfileFactory, WorkRecordFactory, specialty

pytestmark = pytest.mark.django_db

# Work from 1 March 2021 is 4 years and 364 days of practice on 28 February 2026, and five years on 1 March 2026
# (tests/accounts/test_practice.py).
STARTED = date(2021, 3, 1)
SHORT_BY_A_DAY = date(2026, 2, 28)
FIVE_YEARS = date(2026, 3, 1)


def psychiatrist(*, started_on=STARTED, ended_on=None, region="77", issued_on=date(2025, 6, 1), document=True):
    """A psychiatrist with one period of work in the specialty (current unless ended_on) and, unless document is
    False, an accreditation issued on `issued_on`."""
    if document:
        doctor = AccreditationDocumentFactory(issued_on=issued_on).doctor
    else:
        doctor = DoctorProfileFactory(specialties=[specialty("31.08.20")]).user
    WorkRecordFactory(doctor=doctor, started_on=started_on, ended_on=ended_on, region=region)
    return doctor


def refusal(doctor, programme, specialty, **kwargs):
    with pytest.raises(PortalError) as caught:
        services.application_submit(doctor=doctor, programme=programme, specialty=specialty, **kwargs)
    return caught.value


def written():
    """What an application writes: its row, its stages, its audit row, its e-mail."""
    return (
        StatusApplication.objects.count(),
        StageResult.objects.count(),
        AuditEvent.objects.filter(action__startswith="status_application.").count(),
        len(mail.outbox),
    )


# Eligibility on the edges -----------------------------------------------------------------------------------


def test_four_years_and_364_days_of_practice_are_not_enough_and_practice_short_is_named(
    moscow_doctor_programme, psychiatry
):
    doctor = psychiatrist()

    error = refusal(doctor, moscow_doctor_programme, psychiatry, day=SHORT_BY_A_DAY)

    assert error.code == "not_eligible"
    assert error.status == 400
    assert [gap["code"] for gap in error.details["missing"]] == ["practice_short"]
    assert error.details["missing"][0]["years"] == 4
    assert error.details["missing"][0]["years_required"] == 5
    assert "5" in error.details["missing"][0]["message"]
    assert not StatusApplication.objects.exists()


def test_exactly_five_years_of_practice_are_enough(moscow_doctor_programme, psychiatry):
    doctor = psychiatrist()

    application = services.application_submit(
        doctor=doctor, programme=moscow_doctor_programme, specialty=psychiatry, day=FIVE_YEARS
    )

    assert application.state == StatusApplication.State.OPEN
    assert application.snapshot["practice"] == {"days": 1826, "years": 5, "months": 0, "region": "77"}
    assert application.snapshot["taken_on"] == "2026-03-01"
    assert application.stage_results.count() == 3


def test_work_outside_moscow_does_not_count_towards_the_years(moscow_doctor_programme, psychiatry):
    doctor = psychiatrist(started_on=date(2024, 3, 1))  # two years in Moscow, still working there
    WorkRecordFactory(doctor=doctor, started_on=date(2014, 1, 1), ended_on=date(2024, 2, 29), region="50")

    error = refusal(doctor, moscow_doctor_programme, psychiatry, day=FIVE_YEARS)

    assert error.code == "not_eligible"
    assert [(gap["code"], gap["years"]) for gap in error.details["missing"]] == [("practice_short", 2)]


def test_without_current_work_in_moscow_employment_in_region_is_missing(moscow_doctor_programme, psychiatry):
    doctor = psychiatrist(started_on=date(2015, 1, 1), ended_on=date(2025, 12, 31))  # ten years, then left
    WorkRecordFactory(doctor=doctor, started_on=date(2026, 1, 1), ended_on=None, region="50")  # works elsewhere now

    error = refusal(doctor, moscow_doctor_programme, psychiatry, day=FIVE_YEARS)

    assert [gap["code"] for gap in error.details["missing"]] == ["employment_in_region_missing"]
    assert "Москв" in error.details["missing"][0]["message"]


def test_without_a_document_document_missing_is_named(moscow_doctor_programme, psychiatry):
    doctor = psychiatrist(document=False, started_on=date(2015, 1, 1))

    error = refusal(doctor, moscow_doctor_programme, psychiatry, day=FIVE_YEARS)

    assert [gap["code"] for gap in error.details["missing"]] == ["document_missing"]


def test_an_expired_document_is_named_document_missing(moscow_doctor_programme, psychiatry):
    doctor = psychiatrist(issued_on=date(2020, 1, 10), started_on=date(2015, 1, 1))  # expired in January 2025

    error = refusal(doctor, moscow_doctor_programme, psychiatry, day=FIVE_YEARS)

    assert [gap["code"] for gap in error.details["missing"]] == ["document_missing"]


def test_everything_missing_is_named_at_once(moscow_doctor_programme, psychiatry):
    doctor = psychiatrist(document=False, started_on=date(2025, 1, 1), region="50")

    error = refusal(doctor, moscow_doctor_programme, psychiatry, day=FIVE_YEARS)

    assert {gap["code"] for gap in error.details["missing"]} == {
        "document_missing",
        "employment_in_region_missing",
        "practice_short",
    }


# One open application; the retake wait; withdrawing -----------------------------------------------------------


def test_a_second_application_while_one_is_open_is_refused_and_writes_nothing(
    eligible_doctor, moscow_doctor_programme, psychiatry, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.application_submit(doctor=eligible_doctor, programme=moscow_doctor_programme, specialty=psychiatry)
    before = written()

    with django_capture_on_commit_callbacks(execute=True):
        error = refusal(eligible_doctor, moscow_doctor_programme, psychiatry)

    assert (error.code, error.status) == ("application_open", 409)
    assert written() == before
    assert before == (1, 3, 1, 1)


def fail_first_stage(application, member):
    stage = application.programme.stages.get(position=1)
    services.stage_result_record(
        application=application, stage=stage, user=member, held_on=timezone.localdate(), score="79"
    )
    application.refresh_from_db()
    assert application.state == StatusApplication.State.FAILED


def test_a_retake_inside_the_wait_after_a_failed_stage_is_refused_and_allowed_once_it_is_over(
    commission_member, moscow_doctor_programme, psychiatry
):
    doctor = psychiatrist(started_on=date(2015, 1, 1), issued_on=timezone.localdate() - timedelta(days=30))
    fail_first_stage(
        services.application_submit(doctor=doctor, programme=moscow_doctor_programme, specialty=psychiatry),
        commission_member,
    )
    retake_from = timezone.localdate() + timedelta(days=365)

    error = refusal(doctor, moscow_doctor_programme, psychiatry, day=retake_from - timedelta(days=1))

    assert (error.code, error.status) == ("retake_too_soon", 409)
    assert error.details == {"retake_from": retake_from.isoformat()}
    assert f"{retake_from:%d.%m.%Y}" in str(error.message)
    assert StatusApplication.objects.filter(doctor=doctor).count() == 1

    again = services.application_submit(
        doctor=doctor, programme=moscow_doctor_programme, specialty=psychiatry, day=retake_from
    )

    assert again.is_open


def test_a_withdrawn_application_makes_no_retake_wait(eligible_doctor, moscow_doctor_programme, psychiatry):
    first = services.application_submit(doctor=eligible_doctor, programme=moscow_doctor_programme, specialty=psychiatry)
    services.application_withdraw(application=first, doctor=eligible_doctor)

    second = services.application_submit(
        doctor=eligible_doctor, programme=moscow_doctor_programme, specialty=psychiatry
    )

    assert second.is_open
    first.refresh_from_db()
    assert first.state == StatusApplication.State.WITHDRAWN
    assert first.closed_at is not None


def test_withdrawal_is_refused_after_the_decision(
    eligible_doctor, commission_member, moscow_doctor_programme, psychiatry
):
    application = services.application_submit(
        doctor=eligible_doctor, programme=moscow_doctor_programme, specialty=psychiatry
    )
    day = timezone.localdate()
    for stage in moscow_doctor_programme.stages.order_by("position"):
        services.stage_result_record(
            application=application,
            stage=stage,
            user=commission_member,
            held_on=day,
            **({"score": "90"} if stage.is_scored else {"passed": True}),
        )
    services.application_decide(application=application, user=commission_member, award=True)

    with pytest.raises(PortalError) as caught:
        services.application_withdraw(application=application, doctor=eligible_doctor)

    assert (caught.value.code, caught.value.status) == ("application_closed", 409)
    application.refresh_from_db()
    assert application.state == StatusApplication.State.AWARDED
    assert Status.objects.filter(application=application).exists()


def test_another_doctor_cannot_withdraw_an_application(eligible_doctor, doctor, moscow_doctor_programme, psychiatry):
    application = services.application_submit(
        doctor=eligible_doctor, programme=moscow_doctor_programme, specialty=psychiatry
    )

    with pytest.raises(PortalError) as caught:
        services.application_withdraw(application=application, doctor=doctor)

    assert caught.value.status == 404
    application.refresh_from_db()
    assert application.is_open


# The page and the API refuse alike ----------------------------------------------------------------------------


def page_refusal(client, doctor, programme, specialty):
    client.force_login(doctor)
    response = client.post(reverse("statuses:apply", args=[programme.slug]), {"specialty": specialty.code})
    assert response.status_code == 302
    assert response["Location"] == reverse("statuses:programme", args=[programme.slug])
    return [str(m) for m in get_messages(response.wsgi_request)]


def api_refusal(doctor, programme, specialty):
    api = APIClient()
    api.force_login(doctor)
    response = api.post(
        f"/api/v1/status-programmes/{programme.pk}/applications/", {"specialty": specialty.code}, format="json"
    )
    return response.status_code, response.json()["error"]


def test_not_eligible_is_the_same_refusal_on_the_page_and_in_the_api(client, moscow_doctor_programme, psychiatry):
    doctor = psychiatrist(started_on=timezone.localdate() - timedelta(days=400))
    before = written()

    shown = page_refusal(client, doctor, moscow_doctor_programme, psychiatry)
    status, error = api_refusal(doctor, moscow_doctor_programme, psychiatry)

    assert status == 400
    assert error["code"] == "not_eligible"
    assert shown == [error["message"]]
    assert "Москв" in error["message"]
    assert written() == before


def test_application_open_is_the_same_refusal_on_the_page_and_in_the_api(
    client, eligible_doctor, moscow_doctor_programme, psychiatry
):
    services.application_submit(doctor=eligible_doctor, programme=moscow_doctor_programme, specialty=psychiatry)
    before = written()

    shown = page_refusal(client, eligible_doctor, moscow_doctor_programme, psychiatry)
    status, error = api_refusal(eligible_doctor, moscow_doctor_programme, psychiatry)

    assert (status, error["code"]) == (409, "application_open")
    assert shown == [error["message"]]
    assert written() == before


def test_retake_too_soon_is_the_same_refusal_on_the_page_and_in_the_api(
    client, commission_member, moscow_doctor_programme, psychiatry
):
    doctor = psychiatrist(started_on=date(2015, 1, 1))
    fail_first_stage(
        services.application_submit(doctor=doctor, programme=moscow_doctor_programme, specialty=psychiatry),
        commission_member,
    )
    before = written()

    shown = page_refusal(client, doctor, moscow_doctor_programme, psychiatry)
    status, error = api_refusal(doctor, moscow_doctor_programme, psychiatry)

    assert (status, error["code"]) == (409, "retake_too_soon")
    assert error["retake_from"] == (timezone.localdate() + timedelta(days=365)).isoformat()
    assert shown == [error["message"]]
    assert written() == before
