"""The portal's e-mails: plain text that is not HTML-escaped, in the recipient's language, from and signed by the
portal's name rather than the host."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from codes.certificates import mail_certificates
from codes.format import generate_codes
from codes.models import IcpCode, IssuanceBatch

from ..factories import EventFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

TITLE = 'Школа «Тревога & депрессия»: "трудный" пациент <2025>'


@pytest.fixture
def ended_event():
    return EventFactory(
        approved=True,
        title=TITLE,
        starts_at=timezone.now() - timedelta(days=3),
        ends_at=timezone.now() - timedelta(days=2),
    )


def certificates_to(event, *holders):
    """Issue one code per (name, e-mail) of an attendee list and e-mail the certificates."""
    batch = IssuanceBatch.objects.create(event=event, kind=IssuanceBatch.Kind.ATTENDEES, requested=len(holders))
    for code, (name, email) in zip(generate_codes(len(holders)), holders, strict=True):
        IcpCode.objects.create(code=code, event=event, batch=batch, holder_name=name, holder_email=email)
    mail_certificates(batch_id=batch.pk)


def test_plain_text_emails_are_not_html_escaped(ended_event, mailoutbox):
    certificates_to(ended_event, ('O\'Brien "Jr" & <Sons>', "obrien@example.org"))

    [message] = mailoutbox
    assert TITLE in message.subject
    assert "\n" not in message.subject
    assert TITLE in message.body
    assert 'O\'Brien "Jr" & <Sons>' in message.body
    for entity in ("&quot;", "&amp;", "&lt;", "&#x27;", "&#39;"):
        assert entity not in message.subject
        assert entity not in message.body


def test_an_attendee_without_an_account_gets_the_portals_default_language_and_name(ended_event, mailoutbox):
    certificates_to(ended_event, ("Петрова Мария", "maria@example.org"))

    [message] = mailoutbox
    assert message.subject == f"[Портал НМО] Свидетельство НМО: {TITLE}"
    assert message.from_email == "Портал НМО <noreply@nmo-portal.local>"
    assert message.body.endswith("-- \nПортал НМО\nhttp://testserver/\n")


def test_an_attendee_with_an_english_account_gets_the_certificate_in_english(ended_event, mailoutbox):
    UserFactory(email="Oleg@Example.org", language="en")
    certificates_to(ended_event, ("Ivanov Oleg", "oleg@example.org"))

    [message] = mailoutbox
    assert message.subject == f"[НМО Portal] НМО certificate: {TITLE}"
    assert message.from_email == "НМО Portal <noreply@nmo-portal.local>"
    assert "Attached is your НМО certificate" in message.body
    assert message.body.endswith("-- \nНМО Portal\nhttp://testserver/\n")


def test_an_invitee_without_an_account_is_invited_in_russian_whatever_the_inviters_language(
    mailoutbox, django_capture_on_commit_callbacks
):
    admin = MembershipFactory().user  # the admin of a verified organization
    admin.language = "en"
    admin.save()
    with django_capture_on_commit_callbacks(execute=True):
        account_services.invitation_create(
            organization=admin.memberships.get().organization, actor=admin, email="new@example.org", role="staff"
        )

    [message] = mailoutbox
    assert message.subject.startswith("[Портал НМО] ")
    assert "приглашает" in message.body


def test_allauth_emails_name_the_portal_not_the_host_in_the_recipients_language(client, mailoutbox):
    UserFactory(email="doctor@example.org", language="en")

    client.post(reverse("account_reset_password"), {"email": "doctor@example.org"})

    [message] = mailoutbox
    assert message.subject.startswith("[НМО Portal] ")
    assert message.from_email == "НМО Portal <noreply@nmo-portal.local>"
    assert "НМО Portal" in message.body
    assert "testserver!" not in message.body  # allauth's "Hello from <host>!"
    assert "Hello from testserver" not in message.body
