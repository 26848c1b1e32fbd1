"""Status programmes in the admin: seats and revocations go through the services (audited, the holder told);
applications, statuses and results are read, never edited in place."""

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import AuditEvent
from statuses.models import CommissionMember, Status

from ..factories import UserFactory, specialty
from .awarded import award, make_status

pytestmark = pytest.mark.django_db

STATUSES = reverse("admin:statuses_status_changelist")


def test_an_administrator_revokes_a_status_with_a_reason_the_holder_is_told(
    client, staff, django_capture_on_commit_callbacks
):
    status = make_status()
    client.force_login(staff)
    form = client.post(STATUSES, {"action": "revoke", "_selected_action": [status.pk]})
    assert form.status_code == 200
    assert "Причина" in form.content.decode()  # the reason is asked for first
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            STATUSES,
            {"action": "revoke", "_selected_action": [status.pk], "apply": "1", "reason": "Подложный диплом"},
        )
    assert done.status_code == 302
    status.refresh_from_db()
    assert status.revoked_at is not None
    assert (status.revoked_by, status.revoke_reason) == (staff, "Подложный диплом")
    assert AuditEvent.objects.filter(action="status.revoke", object_id=str(status.pk), actor=staff).exists()
    (message,) = mail.outbox
    assert message.to == [status.doctor.email]
    assert "Подложный диплом" in message.body
    check = client.get(reverse("statuses:check", args=[status.check_token])).content.decode()
    assert 'data-verdict="revoked"' in check


@pytest.mark.parametrize("reason", ["", "   "])
def test_revoking_without_a_reason_changes_nothing(client, staff, reason, django_capture_on_commit_callbacks):
    status = make_status()
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(
            STATUSES, {"action": "revoke", "_selected_action": [status.pk], "apply": "1", "reason": reason}
        )
    assert page.status_code == 200  # the form again, with its error
    assert "errorlist" in page.content.decode()
    status.refresh_from_db()
    assert status.revoked_at is None
    assert not AuditEvent.objects.filter(action="status.revoke").exists()
    assert mail.outbox == []


def test_a_status_cannot_be_edited_in_place(client, staff):
    status = make_status(public_consent=False)
    client.force_login(staff)
    change = reverse("admin:statuses_status_change", args=[status.pk])
    page = client.get(change)
    assert page.status_code == 200
    assert status.check_token not in page.content.decode()
    client.post(change, {"number": "МВ-2000-000001", "public_consent": "on", "expires_on": "2099-01-01"})
    unchanged = Status.objects.get(pk=status.pk)
    assert (unchanged.number, unchanged.public_consent, unchanged.expires_on) == (
        status.number,
        False,
        status.expires_on,
    )


def test_the_status_list_shows_each_state_and_finds_by_number(client, staff):
    valid = make_status(last_name="Действующая")
    client.force_login(staff)
    body = client.get(STATUSES, {"q": valid.number}).content.decode()
    assert "Действующая" in body
    assert "действует" in body
    assert client.get(STATUSES, {"state": "revoked"}).content.decode().count(valid.number) == 0


def test_an_administrator_seats_a_commission_member_through_the_service(client, staff, moscow_doctor_programme):
    member = UserFactory()
    client.force_login(staff)
    response = client.post(
        reverse("admin:statuses_commissionmember_add"),
        {
            "programme": moscow_doctor_programme.pk,
            "specialty": specialty("31.08.20").pk,
            "user": member.pk,
            "employer_inn": "7701551231",
        },
    )
    assert response.status_code == 302
    seat = CommissionMember.objects.get(user=member)
    assert seat.retired_at is None
    assert AuditEvent.objects.filter(action="commission_member.appoint", object_id=str(seat.pk), actor=staff).exists()


def test_a_seat_the_service_refuses_is_a_form_error_and_nothing_is_saved(client, staff, moscow_doctor_programme):
    member = UserFactory()
    client.force_login(staff)
    page = client.post(
        reverse("admin:statuses_commissionmember_add"),
        {
            "programme": moscow_doctor_programme.pk,
            "specialty": specialty("31.08.01").pk,  # not one of the programme's specialties
            "user": member.pk,
            "employer_inn": "7701551231",
        },
    )
    assert page.status_code == 200
    assert "Программа не присваивает статус по этой специальности" in page.content.decode()
    assert not CommissionMember.objects.filter(user=member).exists()
    assert not AuditEvent.objects.filter(action="commission_member.appoint").exists()


def test_a_member_seated_twice_is_refused(client, staff, commission_member, moscow_doctor_programme):
    client.force_login(staff)
    page = client.post(
        reverse("admin:statuses_commissionmember_add"),
        {
            "programme": moscow_doctor_programme.pk,
            "specialty": specialty("31.08.20").pk,
            "user": commission_member.pk,
            "employer_inn": "7701551231",
        },
    )
    assert page.status_code == 200
    assert "уже входит в эту комиссию" in page.content.decode()
    assert CommissionMember.objects.filter(user=commission_member).count() == 1


def test_retiring_a_member_goes_through_the_service(client, staff, commission_member):
    seat = CommissionMember.objects.get(user=commission_member)
    client.force_login(staff)
    client.post(
        reverse("admin:statuses_commissionmember_changelist"), {"action": "retire", "_selected_action": [seat.pk]}
    )
    seat.refresh_from_db()
    assert seat.retired_at is not None
    assert AuditEvent.objects.filter(action="commission_member.retire", object_id=str(seat.pk)).exists()


def test_the_application_page_shows_the_frozen_portfolio_read_only(
    client, staff, eligible_doctor, commission_member, moscow_doctor_programme
):
    status = award(doctor=eligible_doctor, member=commission_member, programme=moscow_doctor_programme)
    client.force_login(staff)
    change = reverse("admin:statuses_statusapplication_change", args=[status.application_id])
    body = client.get(change).content.decode()
    assert "taken_on" in body
    assert "&quot;31.08.20&quot;" in body or '"31.08.20"' in body
    client.post(change, {"state": "refused", "decision_comment": "Подмена"})
    status.application.refresh_from_db()
    assert status.application.state == "awarded"


def test_every_statuses_admin_page_opens(client, staff, eligible_doctor, commission_member, moscow_doctor_programme):
    status = award(doctor=eligible_doctor, member=commission_member, programme=moscow_doctor_programme)
    client.force_login(staff)
    for name in (
        "statusprogramme",
        "commissionmember",
        "statusapplication",
        "status",
        "stageresult",
        "statusreminder",
    ):
        assert client.get(reverse(f"admin:statuses_{name}_changelist")).status_code == 200, name
    programme = client.get(reverse("admin:statuses_statusprogramme_change", args=[moscow_doctor_programme.pk]))
    assert programme.status_code == 200
    assert "stages-0-name" in programme.content.decode()  # the stages inline
    assert "selectfilter" in programme.content.decode()  # specialties, two lists side by side
    assert client.get(reverse("admin:statuses_commissionmember_add")).status_code == 200
    assert client.get(reverse("admin:statuses_status_change", args=[status.pk])).status_code == 200
