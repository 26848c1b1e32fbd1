"""Reminders before a status expires (180 and 30 days by default), once each, never for a status that is revoked,
expired or being renewed; and renewal itself: an application inside the window renews the status, one before it
is refused."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from nmo_portal.celery import app as celery_app
from nmo_portal.errors import PortalError
from statuses import reminders, services
from statuses.models import Status, StatusApplication, StatusReminder

from .awarded import award, make_status

pytestmark = pytest.mark.django_db


def _expiring_in(days: int, **fields) -> Status:
    day = timezone.localdate()
    return make_status(awarded_on=day - timedelta(days=400), expires_on=day + timedelta(days=days), **fields)


def _send(day=None) -> int:
    return reminders.reminders_send(day or timezone.localdate())


def test_the_reminder_180_days_before_expiry_says_when_and_from_when_renewal_opens(moscow_doctor_programme):
    moscow_doctor_programme.renewal_window_months = 3
    moscow_doctor_programme.save()
    status = _expiring_in(180)
    assert _send() == 1
    (message,) = mail.outbox
    assert message.to == [status.doctor.email]
    assert status.number in message.subject
    assert f"{status.expires_on:%d.%m.%Y}" in message.body
    assert "180 дней" in message.body
    assert f"Продление откроется {status.renewal_opens_on():%d.%m.%Y}" in message.body
    assert f"{settings.SITE_URL}/status-programmes/moscow-doctor/" in message.body
    assert list(StatusReminder.objects.values_list("status", "days")) == [(status.pk, 180)]


def test_a_run_repeated_on_the_same_day_sends_nothing_twice():
    _expiring_in(180)
    assert _send() == 1
    assert _send() == 0
    assert reminders.send_status_reminders() == 0
    assert len(mail.outbox) == 1


def test_each_lead_is_sent_once_as_the_days_pass():
    status = _expiring_in(181)
    day = timezone.localdate()
    assert _send(day) == 0  # 181 days: not yet
    assert _send(day + timedelta(days=1)) == 1  # 180 days
    assert _send(day + timedelta(days=2)) == 0  # 179 days: the 180-day reminder went already
    assert _send(day + timedelta(days=151)) == 1  # 30 days
    assert _send(day + timedelta(days=160)) == 0
    assert sorted(StatusReminder.objects.filter(status=status).values_list("days", flat=True)) == [30, 180]
    assert len(mail.outbox) == 2
    assert "Продление уже открыто" in mail.outbox[1].body


def test_a_status_first_found_near_expiry_gets_the_nearest_reminder_only():
    status = _expiring_in(25)
    assert _send() == 1
    assert list(StatusReminder.objects.filter(status=status).values_list("days", flat=True)) == [30]


def test_no_reminder_for_a_revoked_or_expired_status(staff):
    revoked = _expiring_in(30)
    services.status_revoke(status=revoked, actor=staff, reason="Решение комиссии")
    mail.outbox.clear()
    day = timezone.localdate()
    make_status(awarded_on=day - timedelta(days=2000), expires_on=day)  # expires today
    assert _send() == 0
    assert mail.outbox == []
    assert not StatusReminder.objects.exists()


@pytest.mark.parametrize("state", [StatusApplication.State.OPEN, StatusApplication.State.AWARDED])
def test_no_reminder_once_the_holder_applied_to_renew(state):
    status = _expiring_in(30)
    StatusApplication.objects.create(
        programme=status.programme,
        specialty=status.specialty,
        doctor=status.doctor,
        renews=status,
        state=state,
        closed_at=None if state == StatusApplication.State.OPEN else timezone.now(),
    )
    assert _send() == 0
    assert mail.outbox == []


def test_a_renewal_that_failed_does_not_silence_the_reminder():
    status = _expiring_in(30)
    StatusApplication.objects.create(
        programme=status.programme,
        specialty=status.specialty,
        doctor=status.doctor,
        renews=status,
        state=StatusApplication.State.FAILED,
        closed_at=timezone.now(),
    )
    assert _send() == 1


def test_a_failing_send_does_not_stop_the_others_and_is_tried_again_the_next_day(monkeypatch):
    failing = _expiring_in(30, email="broken@example.org")
    fine = _expiring_in(30)
    real = reminders.send_templated_mail

    def send(*, to, **kwargs):
        if to == ["broken@example.org"]:
            raise ConnectionError("SMTP down")
        return real(to=to, **kwargs)

    monkeypatch.setattr(reminders, "send_templated_mail", send)
    assert _send() == 1
    assert [m.to for m in mail.outbox] == [[fine.doctor.email]]
    assert not StatusReminder.objects.filter(status=failing).exists()  # rolled back with the failed send
    monkeypatch.setattr(reminders, "send_templated_mail", real)
    assert _send(timezone.localdate() + timedelta(days=1)) == 1
    assert mail.outbox[-1].to == ["broken@example.org"]


def test_the_reminders_run_daily_from_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["send-status-reminders"]
    assert entry["task"] == "statuses.reminders.send_status_reminders"
    assert entry["task"] in celery_app.tasks
    assert settings.STATUS_REMINDER_DAYS == (180, 30)


# Renewal -------------------------------------------------------------------------------------------------


def test_applying_before_the_renewal_window_is_refused_and_creates_nothing(
    eligible_doctor, commission_member, moscow_doctor_programme, psychiatry
):
    status = award(doctor=eligible_doctor, member=commission_member, programme=moscow_doctor_programme)
    with pytest.raises(PortalError) as refused:
        services.application_submit(doctor=eligible_doctor, programme=moscow_doctor_programme, specialty=psychiatry)
    assert refused.value.code == "status_held"
    assert refused.value.status == 409
    assert refused.value.details == {"renewal_opens_on": status.renewal_opens_on().isoformat()}
    assert StatusApplication.objects.filter(doctor=eligible_doctor).count() == 1  # the awarded one only


def test_applying_inside_the_renewal_window_renews_the_status_and_stops_its_reminders(
    eligible_doctor, commission_member, moscow_doctor_programme, psychiatry
):
    status = award(doctor=eligible_doctor, member=commission_member, programme=moscow_doctor_programme)
    Status.objects.filter(pk=status.pk).update(expires_on=timezone.localdate() + timedelta(days=30))
    status.refresh_from_db()
    assert status.renewal_opens_on() <= timezone.localdate()
    renewal = services.application_submit(
        doctor=eligible_doctor, programme=moscow_doctor_programme, specialty=psychiatry
    )
    assert renewal.renews == status
    assert renewal.state == StatusApplication.State.OPEN
    mail.outbox.clear()
    assert _send() == 0
    assert mail.outbox == []
