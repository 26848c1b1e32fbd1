"""Edges of the status rules found in review: what must not happen, whichever door is used."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from nmo_portal.errors import PermissionDenied, PortalError
from statuses import selectors, services
from statuses.models import CommissionMember, StageResult, Status, StatusApplication, StatusProgramme
from statuses.tasks import send_application_email

from ..factories import CommissionMemberFactory, UserFactory
from .awarded import award, make_status


def stages(programme):
    return list(programme.stages.order_by("position"))


def submit(doctor, programme, specialty, **kwargs):
    return services.application_submit(doctor=doctor, programme=programme, specialty=specialty, **kwargs)


@pytest.mark.parametrize("typed", ["1e2", "8E1", "+80", "٨٠", "80.001", "NaN", "-0", "80 %", "0x50", "100.5"])
def test_a_score_in_another_notation_is_refused_and_nothing_is_recorded(
    typed, eligible_doctor, commission_member, moscow_doctor_programme, psychiatry
):
    application = submit(eligible_doctor, moscow_doctor_programme, psychiatry)
    test = stages(moscow_doctor_programme)[0]
    with pytest.raises(PortalError) as refused:
        services.stage_result_record(
            application=application, stage=test, user=commission_member, held_on=timezone.localdate(), score=typed
        )
    assert refused.value.code == "score_invalid"
    assert not StageResult.objects.filter(application=application, passed__isnull=False).exists()


@pytest.mark.parametrize(("typed", "passed"), [("80", True), ("79,99", False), ("100", True), ("0", False)])
def test_scores_as_people_type_them_are_read(
    typed, passed, eligible_doctor, commission_member, moscow_doctor_programme, psychiatry
):
    application = submit(eligible_doctor, moscow_doctor_programme, psychiatry)
    result = services.stage_result_record(
        application=application,
        stage=stages(moscow_doctor_programme)[0],
        user=commission_member,
        held_on=timezone.localdate(),
        score=typed,
    )
    assert result.passed is passed


def test_a_member_never_decides_on_their_own_application(eligible_doctor, moscow_doctor_programme, psychiatry, staff):
    # The applicant sits on the commission at another employer than their own: still their own application.
    CommissionMemberFactory(programme=moscow_doctor_programme, specialty=psychiatry, user=eligible_doctor)
    application = submit(eligible_doctor, moscow_doctor_programme, psychiatry)
    with pytest.raises(PermissionDenied) as refused:
        services.stage_result_record(
            application=application,
            stage=stages(moscow_doctor_programme)[0],
            user=eligible_doctor,
            held_on=timezone.localdate(),
            score="100",
        )
    assert refused.value.code == "conflict_of_interest"
    assert not StageResult.objects.filter(application=application, passed__isnull=False).exists()


def test_an_employer_named_on_any_of_the_members_seats_is_a_conflict(
    eligible_doctor, moscow_doctor_programme, psychiatry, cardiology
):
    member = UserFactory()
    CommissionMemberFactory(programme=moscow_doctor_programme, specialty=psychiatry, user=member)
    # a second seat names the applicant's employer (the eligible doctor works at 7724036928)
    CommissionMemberFactory(
        programme=moscow_doctor_programme, specialty=cardiology, user=member, employer_inn="7724036928"
    )
    application = submit(eligible_doctor, moscow_doctor_programme, psychiatry)
    with pytest.raises(PermissionDenied):
        services.stage_schedule(
            application=application,
            stage=stages(moscow_doctor_programme)[0],
            user=member,
            scheduled_at=timezone.now() + timedelta(days=3),
            place="Москва",
        )


def test_the_retake_wait_counts_in_the_registers_calendar_whatever_zone_the_viewer_chose(
    eligible_doctor, commission_member, moscow_doctor_programme, psychiatry
):
    application = submit(eligible_doctor, moscow_doctor_programme, psychiatry)
    services.stage_result_record(
        application=application,
        stage=stages(moscow_doctor_programme)[0],
        user=commission_member,
        held_on=timezone.localdate(),
        score="50",
    )
    # closed at 22:30 Moscow time on 1 March: in Vladivostok it is already 2 March
    closed = datetime(2026, 3, 1, 22, 30, tzinfo=ZoneInfo("Europe/Moscow"))
    StatusApplication.objects.filter(pk=application.pk).update(closed_at=closed)
    wait = moscow_doctor_programme.retake_wait_days
    expected = (closed.date() + timedelta(days=wait)).isoformat()
    for zone in ("Europe/Moscow", "Asia/Vladivostok"):
        with timezone.override(ZoneInfo(zone)), pytest.raises(PortalError) as refused:
            submit(eligible_doctor, moscow_doctor_programme, psychiatry, day=closed.date() + timedelta(days=wait - 1))
        assert refused.value.details["retake_from"] == expected, zone


def test_a_stage_cannot_be_dated_before_the_stage_before_it(
    eligible_doctor, commission_member, moscow_doctor_programme, psychiatry
):
    application = submit(eligible_doctor, moscow_doctor_programme, psychiatry)
    StatusApplication.objects.filter(pk=application.pk).update(submitted_at=timezone.now() - timedelta(days=30))
    application.refresh_from_db()
    test, practical, _interview = stages(moscow_doctor_programme)
    day = timezone.localdate()
    services.stage_result_record(application=application, stage=test, user=commission_member, held_on=day, score="90")
    with pytest.raises(PortalError) as refused:
        services.stage_result_record(
            application=application,
            stage=practical,
            user=commission_member,
            held_on=day - timedelta(days=5),
            passed=True,
        )
    assert refused.value.code == "held_on_invalid"
    assert StageResult.objects.get(application=application, stage=practical).passed is None


def test_a_stage_cannot_be_scheduled_before_the_application_was_submitted(
    eligible_doctor, commission_member, moscow_doctor_programme, psychiatry
):
    application = submit(eligible_doctor, moscow_doctor_programme, psychiatry)
    with pytest.raises(PortalError) as refused:
        services.stage_schedule(
            application=application,
            stage=stages(moscow_doctor_programme)[0],
            user=commission_member,
            scheduled_at=timezone.now() - timedelta(days=400),
            place="Москва",
        )
    assert refused.value.code == "scheduled_at_invalid"
    assert StageResult.objects.get(application=application, stage__position=1).scheduled_at is None


def test_the_letter_of_a_stage_says_the_date_set_then_even_if_it_moved_since(
    eligible_doctor, commission_member, moscow_doctor_programme, psychiatry
):
    application = submit(eligible_doctor, moscow_doctor_programme, psychiatry)
    test = stages(moscow_doctor_programme)[0]
    first = datetime(2027, 1, 15, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))
    services.stage_schedule(
        application=application, stage=test, user=commission_member, scheduled_at=first, place="ауд. 1"
    )
    services.stage_schedule(
        application=application,
        stage=test,
        user=commission_member,
        scheduled_at=first + timedelta(days=7),
        place="ауд. 2",
    )
    mail.outbox.clear()
    send_application_email(
        application_id=application.pk,
        event="scheduled",
        stage_id=test.pk,
        scheduled_at=first.isoformat(),
        place="ауд. 1",
    )
    (letter,) = mail.outbox
    assert "ауд. 1" in letter.body
    assert "15" in letter.body
    assert "ауд. 2" not in letter.body


def test_a_renewal_continues_the_term_and_the_holder_is_listed_once(
    eligible_doctor, commission_member, moscow_doctor_programme, psychiatry
):
    first = award(doctor=eligible_doctor, member=commission_member, programme=moscow_doctor_programme)
    renewal_day = first.renewal_opens_on()
    # the first status is in its renewal window: move its dates back so that the window is open today
    shift = renewal_day - timezone.localdate() + timedelta(days=10)  # a margin for months of unequal length
    Status.objects.filter(pk=first.pk).update(awarded_on=first.awarded_on - shift, expires_on=first.expires_on - shift)
    first.refresh_from_db()
    application = submit(eligible_doctor, moscow_doctor_programme, psychiatry, public_consent=True)
    assert application.renews == first
    day = timezone.localdate()
    test, *others = stages(moscow_doctor_programme)
    services.stage_result_record(application=application, stage=test, user=commission_member, held_on=day, score="95")
    for stage in others:
        services.stage_result_record(
            application=application, stage=stage, user=commission_member, held_on=day, passed=True
        )
    services.application_decide(application=application, user=commission_member, award=True)

    second = Status.objects.get(application=application)
    assert second.expires_on == Status.expiry_of(first.expires_on, moscow_doctor_programme.validity_years)
    assert list(selectors.public_register()) == [second]
    mine = selectors.statuses_of(doctor=eligible_doctor)
    assert {s.pk: s.renewal_pending for s in mine} == {first.pk: True, second.pk: False}


def test_the_renew_link_is_offered_only_for_a_valid_status_in_its_window_not_yet_renewed(client, eligible_doctor):
    day = timezone.localdate()
    expired = make_status(
        doctor=eligible_doctor, awarded_on=day - timedelta(days=2000), expires_on=day - timedelta(days=10)
    )
    in_window = make_status(doctor=eligible_doctor, code="31.08.36", awarded_on=day - timedelta(days=1700))
    client.force_login(eligible_doctor)
    page = client.get(reverse("statuses:mine")).content.decode()
    rows = {
        number: page.split(f'data-status="{number}"', 1)[1].split("</tr>", 1)[0]
        for number in (expired.number, in_window.number)
    }
    assert "data-renewal" not in rows[expired.number]
    assert "data-renewal" in rows[in_window.number]


def test_two_programmes_cannot_share_a_status_number_prefix(moscow_doctor_programme):
    with pytest.raises(IntegrityError):
        StatusProgramme.objects.create(name="Другая", slug="other", authority="Общество", number_prefix="МВ")


def test_an_administrator_who_may_only_view_statuses_cannot_revoke_one(db, client, django_capture_on_commit_callbacks):
    status = make_status()
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_status"))
    client.force_login(viewer)
    url = reverse("admin:statuses_status_changelist")
    listing = client.get(url).content.decode()
    assert 'value="revoke"' not in listing
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "revoke", "_selected_action": [status.pk], "apply": "1", "reason": "Проверка"})
    status.refresh_from_db()
    assert status.revoked_at is None
    assert not AuditEvent.objects.filter(action="status.revoke").exists()
    assert mail.outbox == []


def test_an_administrator_who_may_only_view_seats_cannot_retire_a_member(client, commission_member):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_commissionmember"))
    client.force_login(viewer)
    seat = CommissionMember.objects.get(user=commission_member)
    client.post(
        reverse("admin:statuses_commissionmember_changelist"), {"action": "retire", "_selected_action": [seat.pk]}
    )
    seat.refresh_from_db()
    assert seat.retired_at is None
