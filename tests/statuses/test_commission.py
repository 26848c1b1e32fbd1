"""The commission's pages: the queue of a member's programmes and specialties, one application with its frozen
portfolio, the stages recorded in order, the decision; and what a non-member or a conflicted member meets."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from credits import services as credits_services
from learning_plan.models import AccreditationDocument
from statuses import services
from statuses.models import StageResult, Status, StatusApplication

from ..factories import (
    AccreditationDocumentFactory,
    CommissionMemberFactory,
    EventFactory,
    WorkRecordFactory,
)

pytestmark = pytest.mark.django_db

APPLICANTS_EMPLOYER_INN = "7724036928"  # WorkRecordFactory's employer, where eligible_doctor works now


def submit(doctor, programme, specialty):
    return services.application_submit(doctor=doctor, programme=programme, specialty=specialty)


def eligible_in(specialty, employer_inn=APPLICANTS_EMPLOYER_INN):
    document = AccreditationDocumentFactory(specialty=specialty)
    WorkRecordFactory(
        doctor=document.doctor,
        specialty=specialty,
        employer_inn=employer_inn,
        started_on=timezone.localdate() - timedelta(days=365 * 6 + 2),
        ended_on=None,
    )
    return document.doctor


def stages(programme):
    return list(programme.stages.order_by("position"))


def page_url(application):
    return reverse("statuses:commission_application", args=[application.pk])


def result_url(application, stage):
    return reverse("statuses:stage_result", args=[application.pk, stage.pk])


def schedule_url(application, stage):
    return reverse("statuses:stage_schedule", args=[application.pk, stage.pk])


def decide_url(application):
    return reverse("statuses:decide", args=[application.pk])


def result_post(stage, *, score=None, passed=None, held_on=None, comment=""):
    prefix = f"result-{stage.pk}"
    data = {f"{prefix}-held_on": (held_on or timezone.localdate()).isoformat(), f"{prefix}-comment": comment}
    if score is not None:
        data[f"{prefix}-score"] = score
    if passed is not None:
        data[f"{prefix}-passed"] = "yes" if passed else "no"
    return data


def decision_post(decision, comment=""):
    return {"decision-decision": decision, "decision-comment": comment}


def pass_all(application, member, programme):
    day = timezone.localdate()
    test, practical, interview = stages(programme)
    services.stage_result_record(application=application, stage=test, user=member, held_on=day, score="85")
    services.stage_result_record(application=application, stage=practical, user=member, held_on=day, passed=True)
    services.stage_result_record(application=application, stage=interview, user=member, held_on=day, passed=True)


def recorded(application):
    return list(
        StageResult.objects.filter(application=application)
        .order_by("stage__position")
        .values_list("passed", "score", "recorded_by_id")
    )


@pytest.fixture
def application(eligible_doctor, moscow_doctor_programme, psychiatry):
    return submit(eligible_doctor, moscow_doctor_programme, psychiatry)


@pytest.fixture
def conflicted_member(moscow_doctor_programme, psychiatry):
    """A member of the psychiatry commission whose employer is the applicant's."""
    return CommissionMemberFactory(
        programme=moscow_doctor_programme, specialty=psychiatry, employer_inn=APPLICANTS_EMPLOYER_INN
    ).user


# The queue ------------------------------------------------------------------------------------------------


def test_the_queue_is_forbidden_to_a_person_without_a_seat(client, doctor, application):
    client.force_login(doctor)
    assert client.get(reverse("statuses:commission_queue")).status_code == 403


def test_a_retired_member_no_longer_sees_the_queue(client, moscow_doctor_programme, psychiatry, staff, application):
    seat = CommissionMemberFactory(programme=moscow_doctor_programme, specialty=psychiatry)
    services.commission_member_retire(member=seat, actor=staff)
    client.force_login(seat.user)
    assert client.get(reverse("statuses:commission_queue")).status_code == 403
    assert client.get(page_url(application)).status_code == 403


def test_the_queue_shows_only_the_members_programme_and_specialty(
    client, commission_member, application, moscow_doctor_programme, cardiology
):
    cardiologist = eligible_in(cardiology)
    elsewhere = submit(cardiologist, moscow_doctor_programme, cardiology)
    client.force_login(commission_member)
    page = client.get(reverse("statuses:commission_queue"))
    html = page.content.decode()
    assert page.status_code == 200
    assert f'data-application="{application.pk}"' in html
    assert application.doctor.full_name in html
    assert f'data-application="{elsewhere.pk}"' not in html
    assert cardiologist.full_name not in html
    # nor can the member open the other specialty's application
    assert client.get(page_url(elsewhere)).status_code == 403


def test_the_queue_lists_open_applications_first_with_the_next_stage_and_filters_closed_ones(
    client, commission_member, moscow_doctor_programme, psychiatry
):
    closed = submit(eligible_in(psychiatry), moscow_doctor_programme, psychiatry)
    test_stage = stages(moscow_doctor_programme)[0]
    services.stage_result_record(
        application=closed, stage=test_stage, user=commission_member, held_on=timezone.localdate(), score="10"
    )
    waiting = submit(eligible_in(psychiatry), moscow_doctor_programme, psychiatry)
    services.stage_schedule(
        application=waiting,
        stage=test_stage,
        user=commission_member,
        scheduled_at=datetime(2031, 3, 4, 10, 30, tzinfo=ZoneInfo("Europe/Moscow")),
        place="Москва, ул. Шарикоподшипниковская, 9",
    )
    client.force_login(commission_member)

    html = client.get(reverse("statuses:commission_queue")).content.decode()
    assert html.index(f'data-application="{waiting.pk}"') < html.index(f'data-application="{closed.pk}"')
    assert "Шарикоподшипниковская" in html
    assert "04.03.2031 10:30" in html
    assert test_stage.name in html

    closed_only = client.get(reverse("statuses:commission_queue"), {"state": "closed"}).content.decode()
    assert f'data-application="{closed.pk}"' in closed_only
    assert f'data-application="{waiting.pk}"' not in closed_only
    open_only = client.get(reverse("statuses:commission_queue"), {"state": "open"}).content.decode()
    assert f'data-application="{waiting.pk}"' in open_only
    assert f'data-application="{closed.pk}"' not in open_only


def test_the_queue_marks_the_applications_another_member_decides(
    client, conflicted_member, application, moscow_doctor_programme, psychiatry
):
    unrelated = submit(eligible_in(psychiatry, employer_inn="7707083893"), moscow_doctor_programme, psychiatry)
    client.force_login(conflicted_member)
    html = client.get(reverse("statuses:commission_queue")).content.decode()
    assert f'data-application="{application.pk}" data-state="open" data-conflict' in html
    assert f'data-application="{unrelated.pk}" data-state="open">' in html


def test_the_queue_asks_a_fixed_number_of_queries_however_many_applications(
    client, commission_member, moscow_doctor_programme, psychiatry, django_assert_max_num_queries
):
    for _ in range(6):
        submit(eligible_in(psychiatry), moscow_doctor_programme, psychiatry)
    client.force_login(commission_member)
    # one more than before the «Комиссия» link: base.html asks whether the user holds a seat
    with django_assert_max_num_queries(11):
        page = client.get(reverse("statuses:commission_queue"))
    assert page.content.decode().count("data-application=") == 6


# Who may see and act ----------------------------------------------------------------------------------------


def test_a_non_member_gets_403_on_every_page_and_post_and_nothing_changes(
    client, doctor, application, moscow_doctor_programme
):
    stage = stages(moscow_doctor_programme)[0]
    client.force_login(doctor)
    assert client.get(reverse("statuses:commission_queue")).status_code == 403
    assert client.get(page_url(application)).status_code == 403
    schedule = {f"schedule-{stage.pk}-scheduled_at": "2031-03-04T10:30", f"schedule-{stage.pk}-place": "Москва"}
    assert client.post(schedule_url(application, stage), schedule).status_code == 403
    assert client.post(result_url(application, stage), result_post(stage, score="90")).status_code == 403
    assert client.post(decide_url(application), decision_post("award")).status_code == 403
    assert recorded(application) == [(None, None, None)] * 3
    assert not StageResult.objects.filter(application=application, scheduled_at__isnull=False).exists()
    application.refresh_from_db()
    assert application.state == StatusApplication.State.OPEN


def test_anonymous_visitors_are_sent_to_sign_in(client, application):
    response = client.get(page_url(application))
    assert response.status_code == 302
    assert "login" in response.url


def test_a_member_at_the_applicants_employer_reads_the_page_without_forms(client, conflicted_member, application):
    client.force_login(conflicted_member)
    page = client.get(page_url(application))
    html = page.content.decode()
    assert page.status_code == 200
    assert "data-conflict" in html
    assert "data-result-form" not in html
    assert "data-decision-form" not in html
    assert '<form method="post" action="/commission' not in html


def test_a_member_at_the_applicants_employer_cannot_record_a_result_nor_decide(
    client, conflicted_member, commission_member, application, moscow_doctor_programme
):
    test_stage = stages(moscow_doctor_programme)[0]
    client.force_login(conflicted_member)

    response = client.post(result_url(application, test_stage), result_post(test_stage, score="95"))

    assert response.status_code == 403
    assert recorded(application) == [(None, None, None)] * 3
    pass_all(application, commission_member, moscow_doctor_programme)
    before = recorded(application)
    assert client.post(decide_url(application), decision_post("award")).status_code == 403
    application.refresh_from_db()
    assert application.state == StatusApplication.State.OPEN
    assert not Status.objects.exists()
    assert recorded(application) == before


def test_the_services_refuse_a_conflicted_member_whatever_door_they_come_by(
    conflicted_member, application, moscow_doctor_programme
):
    from nmo_portal.errors import PermissionDenied

    test_stage = stages(moscow_doctor_programme)[0]
    with pytest.raises(PermissionDenied) as refused:
        services.stage_result_record(
            application=application,
            stage=test_stage,
            user=conflicted_member,
            held_on=timezone.localdate(),
            score="95",
        )
    assert refused.value.code == "conflict_of_interest"
    assert recorded(application) == [(None, None, None)] * 3


def test_a_member_whose_own_work_history_names_the_applicants_employer_is_conflicted(
    client, commission_member, application
):
    WorkRecordFactory(doctor=commission_member, employer_inn=APPLICANTS_EMPLOYER_INN, ended_on=None)
    client.force_login(commission_member)
    assert "data-conflict" in client.get(page_url(application)).content.decode()
    queue = client.get(reverse("statuses:commission_queue")).content.decode()
    assert f'data-application="{application.pk}" data-state="open" data-conflict' in queue


# The application's page -------------------------------------------------------------------------------------


def test_the_page_shows_the_frozen_portfolio_and_a_credit_added_after_submission_does_not_appear(
    client, commission_member, eligible_doctor, moscow_doctor_programme, psychiatry
):
    def credit(title, hours, on):
        event = EventFactory(approved=True, hours=hours, credits_requested=hours, title=title)
        credits_services.ledger_append(
            doctor=eligible_doctor,
            kind="credit",
            source="code",
            credits=hours,
            earned_on=on,
            actor=None,
            activity=event,
        )

    credit("Школа психиатра до подачи", 6, timezone.localdate() - timedelta(days=60))
    application = submit(eligible_doctor, moscow_doctor_programme, psychiatry)
    credit("Конференция после подачи", 12, timezone.localdate() - timedelta(days=1))
    client.force_login(commission_member)

    html = client.get(page_url(application)).content.decode()

    assert "Школа психиатра до подачи" in html
    assert "Конференция после подачи" not in html
    assert "data-total>6<" in html
    submitted = timezone.localtime(application.submitted_at, ZoneInfo("Europe/Moscow"))
    assert f"{submitted:%d.%m.%Y}" in html
    assert "data-frozen" in html
    assert 'data-practice="6"' in html
    assert "7724036928" in html  # the work history table
    assert AccreditationDocument.objects.get(doctor=eligible_doctor).number in html


def test_the_page_offers_the_result_form_for_the_next_stage_only_with_the_pass_mark(
    client, commission_member, application, moscow_doctor_programme
):
    test_stage, _practical, interview = stages(moscow_doctor_programme)
    client.force_login(commission_member)
    html = client.get(page_url(application)).content.decode()
    assert html.count("data-result-form") == 1
    assert f'action="{result_url(application, test_stage)}"' in html
    assert f'action="{result_url(application, interview)}"' not in html
    assert "80%" in html
    assert "data-decision-form" not in html


def test_a_stage_is_scheduled_on_moscow_time_whatever_the_members_zone(
    client, commission_member, application, moscow_doctor_programme, django_capture_on_commit_callbacks
):
    commission_member.timezone = "Asia/Vladivostok"
    commission_member.save(update_fields=["timezone"])
    stage = stages(moscow_doctor_programme)[0]
    client.force_login(commission_member)
    data = {f"schedule-{stage.pk}-scheduled_at": "2031-03-04T10:30", f"schedule-{stage.pk}-place": "Москва, ул. 1"}

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(schedule_url(application, stage), data)

    assert response.status_code == 302
    result = StageResult.objects.get(application=application, stage=stage)
    assert result.scheduled_at == datetime(2031, 3, 4, 10, 30, tzinfo=ZoneInfo("Europe/Moscow"))
    assert result.place == "Москва, ул. 1"
    assert [m.to for m in mail.outbox] == [[application.doctor.email]]


def test_a_stage_without_a_place_is_not_scheduled(client, commission_member, application, moscow_doctor_programme):
    stage = stages(moscow_doctor_programme)[0]
    client.force_login(commission_member)
    data = {f"schedule-{stage.pk}-scheduled_at": "2031-03-04T10:30", f"schedule-{stage.pk}-place": "  "}
    response = client.post(schedule_url(application, stage), data)
    assert response.status_code == 400
    assert not StageResult.objects.filter(application=application, scheduled_at__isnull=False).exists()


def test_an_interview_result_before_a_passed_test_is_refused_and_nothing_is_saved(
    client, commission_member, application, moscow_doctor_programme
):
    _test, _practical, interview = stages(moscow_doctor_programme)
    client.force_login(commission_member)

    response = client.post(result_url(application, interview), result_post(interview, passed=True))

    assert response.status_code == 409
    assert "Record the results of the earlier stages first" in response.content.decode() or (
        "Сначала" in response.content.decode()
    )
    assert recorded(application) == [(None, None, None)] * 3
    application.refresh_from_db()
    assert application.state == StatusApplication.State.OPEN


def test_a_79_percent_test_fails_at_the_80_percent_mark_and_ends_the_attempt(
    client, commission_member, application, moscow_doctor_programme
):
    test_stage, practical, _interview = stages(moscow_doctor_programme)
    client.force_login(commission_member)

    response = client.post(result_url(application, test_stage), result_post(test_stage, score="79"))

    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == StatusApplication.State.FAILED
    assert recorded(application)[0][:2] == (False, 79)
    # the later stages are closed to results
    later = client.post(result_url(application, practical), result_post(practical, passed=True))
    assert later.status_code == 409
    assert "data-refusal" in later.content.decode()
    assert recorded(application)[1] == (None, None, None)
    page = client.get(page_url(application)).content.decode()
    assert "data-result-form" not in page
    assert "data-decision-form" not in page


def test_an_80_percent_test_passes(client, commission_member, application, moscow_doctor_programme):
    test_stage, practical, _interview = stages(moscow_doctor_programme)
    client.force_login(commission_member)

    response = client.post(result_url(application, test_stage), result_post(test_stage, score="80"))

    assert response.status_code == 302
    assert recorded(application)[0] == (True, 80, commission_member.pk)
    application.refresh_from_db()
    assert application.state == StatusApplication.State.OPEN
    html = client.get(page_url(application)).content.decode()
    assert f'action="{result_url(application, practical)}"' in html


def test_a_score_that_is_not_a_percentage_is_refused_on_its_field(
    client, commission_member, application, moscow_doctor_programme
):
    test_stage = stages(moscow_doctor_programme)[0]
    client.force_login(commission_member)
    response = client.post(result_url(application, test_stage), result_post(test_stage, score="120"))
    assert response.status_code == 400
    assert recorded(application) == [(None, None, None)] * 3


# The decision ----------------------------------------------------------------------------------------------


def test_the_decision_awards_a_status_and_emails_the_applicant(
    client, commission_member, application, moscow_doctor_programme, django_capture_on_commit_callbacks
):
    pass_all(application, commission_member, moscow_doctor_programme)
    client.force_login(commission_member)
    assert "data-decision-form" in client.get(page_url(application)).content.decode()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(decide_url(application), decision_post("award"))

    assert response.status_code == 302
    status = Status.objects.get(application=application)
    assert status.doctor == application.doctor
    assert [m.to for m in mail.outbox] == [[application.doctor.email]]
    assert status.number in mail.outbox[0].body
    html = client.get(page_url(application)).content.decode()
    assert status.number in html
    assert "data-decision-form" not in html


def test_a_refusal_needs_a_comment(
    client, commission_member, application, moscow_doctor_programme, django_capture_on_commit_callbacks
):
    pass_all(application, commission_member, moscow_doctor_programme)
    client.force_login(commission_member)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        bare = client.post(decide_url(application), decision_post("refuse", "  "))

    assert bare.status_code == 400
    application.refresh_from_db()
    assert application.state == StatusApplication.State.OPEN
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        reasoned = client.post(decide_url(application), decision_post("refuse", "Портфолио не защищено."))

    assert reasoned.status_code == 302
    application.refresh_from_db()
    assert application.state == StatusApplication.State.REFUSED
    assert application.decision_comment == "Портфолио не защищено."
    assert not Status.objects.exists()
    assert [m.to for m in mail.outbox] == [[application.doctor.email]]


def test_a_decision_before_every_stage_is_passed_is_refused(
    client, commission_member, application, moscow_doctor_programme
):
    client.force_login(commission_member)
    response = client.post(decide_url(application), decision_post("award"))
    assert response.status_code == 409
    application.refresh_from_db()
    assert application.state == StatusApplication.State.OPEN
    assert not Status.objects.exists()


def test_the_decision_posted_twice_is_one_decision(client, commission_member, application, moscow_doctor_programme):
    pass_all(application, commission_member, moscow_doctor_programme)
    client.force_login(commission_member)

    first = client.post(decide_url(application), decision_post("award"))
    second = client.post(decide_url(application), decision_post("refuse", "Передумали."))

    assert first.status_code == 302
    assert second.status_code == 409
    assert "data-refusal" in second.content.decode()
    assert Status.objects.filter(application=application).count() == 1
    application.refresh_from_db()
    assert application.state == StatusApplication.State.AWARDED
    assert application.decision_comment == ""


def test_the_writes_answer_only_posts(client, commission_member, application, moscow_doctor_programme):
    stage = stages(moscow_doctor_programme)[0]
    client.force_login(commission_member)
    assert client.get(decide_url(application)).status_code == 405
    assert client.get(result_url(application, stage)).status_code == 405
    assert client.get(schedule_url(application, stage)).status_code == 405


def test_the_writes_need_the_csrf_token(commission_member, application, moscow_doctor_programme):
    from django.test import Client

    pass_all(application, commission_member, moscow_doctor_programme)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(commission_member)
    assert browser.post(decide_url(application), decision_post("award")).status_code == 403
    assert not Status.objects.exists()
