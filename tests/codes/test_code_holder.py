"""A code issued to a named person is theirs: activation by СНИЛС, the provider's view of who activated, the
public check page, and certificates e-mailed once the event has ended."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from codes import issuance, services
from codes.attendees import Attendee
from codes.certificates import mail_due_certificates
from codes.models import IcpCode, IssuanceBatch
from credits.models import CreditEntry

from ..factories import DoctorProfileFactory, EventFactory, MembershipFactory, make_snils

pytestmark = pytest.mark.django_db


def activate(client, code):
    return client.post(reverse("api:api-codes:activate"), {"code": code}, content_type="application/json")


def provider_of(event):
    return event.organization.memberships.get().user


def test_activation_refuses_code_issued_to_another_snils_on_the_page_and_in_the_api(
    client, doctor, ended_event, make_codes
):
    holder_snils = make_snils(7001)
    (code,) = make_codes(ended_event, holder_snils=holder_snils, holder_email=doctor.email)
    client.force_login(doctor)
    response = activate(client, code.code)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "code_issued_to_another"
    assert error["dispute"] is True
    page = client.post(reverse("codes:activate"), {"code": code.code})
    html = page.content.decode()
    assert page.status_code == 400
    assert 'data-error="code_issued_to_another"' in html
    assert error["message"] in html.replace("&#x27;", "'").replace("&quot;", '"')
    assert reverse("codes:dispute_new") in html
    code.refresh_from_db()
    assert code.status == IcpCode.Status.ISSUED
    assert not CreditEntry.objects.exists()


def test_a_code_named_by_snils_activates_for_the_doctor_with_that_snils(client, ended_event, make_codes, psychiatry):
    owner = DoctorProfileFactory(specialties=[psychiatry]).user
    (code,) = make_codes(ended_event, holder_snils=owner.doctor_profile.snils)
    client.force_login(owner)
    assert activate(client, code.code).status_code == 201
    code.refresh_from_db()
    assert code.activated_by == owner


def test_a_code_issued_to_another_counts_as_a_failed_attempt(client, doctor, ended_event, make_codes, settings):
    settings.ICP_FAILED_ATTEMPTS_PER_ACCOUNT = 2
    (code,) = make_codes(ended_event, holder_snils=make_snils(7002))
    client.force_login(doctor)
    assert activate(client, code.code).json()["error"]["code"] == "code_issued_to_another"
    assert activate(client, code.code).json()["error"]["code"] == "code_issued_to_another"
    assert activate(client, code.code).json()["error"]["code"] == "too_many_attempts"


def test_a_code_known_only_by_email_activates_for_anyone_and_the_provider_sees_the_mismatch(
    client, doctor, ended_event, make_codes, psychiatry
):
    (mismatched,) = make_codes(ended_event, holder_name="Кузнецова Анна", holder_email="anna@example.org")
    owner = DoctorProfileFactory(specialties=[psychiatry], user__email="boris@example.org").user
    (matching,) = make_codes(ended_event, holder_name="Борисов Борис", holder_email="Boris@Example.org")
    services.code_activate(user=doctor, raw=mismatched.code, ip=None)
    services.code_activate(user=owner, raw=matching.code, ip=None)

    client.force_login(provider_of(ended_event))
    page = client.get(reverse("codes:event_codes", args=[ended_event.pk])).getvalue().decode()
    assert page.count('data-mark="email-mismatch"') == 1
    assert doctor.email in page

    listing = client.get(reverse("api:api-codes:event-codes", args=[ended_event.pk])).json()["results"]
    rows = {row["holder_email"]: row for row in listing}
    assert rows["anna@example.org"]["email_mismatch"] is True
    assert rows["anna@example.org"]["activated_by_email"] == doctor.email
    assert rows["Boris@Example.org"]["email_mismatch"] is False

    export = client.get(reverse("codes:codes_export", args=[ended_event.pk])).getvalue().decode("utf-8-sig")
    header, *lines = [line.split(";") for line in export.strip().splitlines()]
    csv_rows = {line[header.index("E-mail владельца")]: line for line in lines}
    assert csv_rows["anna@example.org"][header.index("Активирован под другим e-mail")] == "да"
    assert csv_rows["anna@example.org"][header.index("Кем активирован (e-mail)")] == doctor.email
    assert csv_rows["Boris@Example.org"][header.index("Активирован под другим e-mail")] == ""


def test_the_check_page_names_nobody_for_a_code_not_activated(client, ended_event, make_codes):
    (code,) = make_codes(ended_event, holder_name="Кузнецова Анна Петровна", show_holder_name=True)
    page = client.get(reverse("codes:verify", args=[code.verify_token])).content.decode()
    assert "Кузнецова" not in page


def test_the_check_page_of_an_event_not_ended_says_when_the_code_opens(client, make_codes, ended_event):
    event = EventFactory(
        approved=True, starts_at=timezone.now() + timedelta(days=40), ends_at=timezone.now() + timedelta(days=41)
    )
    (code,) = make_codes(event)
    page = client.get(reverse("codes:verify", args=[code.verify_token])).content.decode()
    assert 'data-notice="event-not-ended"' in page
    assert "Мероприятие ещё не завершилось: код можно будет активировать с" in page
    ended = client.get(reverse("codes:verify", args=[make_codes(ended_event)[0].verify_token]))
    assert 'data-notice="event-not-ended"' not in ended.content.decode()


def test_no_email_before_the_event_ends_and_one_per_holder_after_the_periodic_task(
    mailoutbox, psychiatry, django_capture_on_commit_callbacks
):
    ends = timezone.now() + timedelta(days=40)
    event = EventFactory(
        organization=MembershipFactory().organization,
        approved=True,
        starts_at=ends - timedelta(hours=8),
        ends_at=ends,
        specialties=[psychiatry],
    )
    attendees = [
        Attendee(full_name=f"Участник {i}", email=f"person{i}@example.org", snils=None, row=i + 2) for i in range(3)
    ]
    with django_capture_on_commit_callbacks(execute=True) as queued:
        issuance.codes_issue(event=event, actor=provider_of(event), attendees=attendees)
    assert queued == []  # nothing is queued at issuance
    assert mailoutbox == []
    assert mail_due_certificates() == 0  # the event has not ended
    assert mailoutbox == []

    event.starts_at, event.ends_at = timezone.now() - timedelta(hours=9), timezone.now() - timedelta(hours=1)
    event.save(update_fields=["starts_at", "ends_at"])
    assert mail_due_certificates() == 3
    assert sorted(m.to[0] for m in mailoutbox) == [f"person{i}@example.org" for i in range(3)]
    assert IssuanceBatch.objects.get().mailed_at is not None
    assert mail_due_certificates() == 0
    assert len(mailoutbox) == 3


def test_issuance_after_the_event_ended_mails_at_once(ended_event, mailoutbox, django_capture_on_commit_callbacks):
    attendees = [Attendee(full_name="Иванова Мария", email="maria@example.org", snils=None, row=2)]
    with django_capture_on_commit_callbacks(execute=True):
        issuance.codes_issue(event=ended_event, actor=provider_of(ended_event), attendees=attendees)
    assert [m.to for m in mailoutbox] == [["maria@example.org"]]
    assert mail_due_certificates() == 0
    assert len(mailoutbox) == 1
