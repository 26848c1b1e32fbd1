import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User


def sign_up(client, email="new.doctor@example.org", password="Strong-pass-2026!"):
    return client.post(
        reverse("account_signup"),
        {
            "email": email,
            "password1": password,
            "password2": password,
            "last_name": "Кузнецова",
            "first_name": "Анна",
            "middle_name": "Игоревна",
        },
    )


@pytest.mark.django_db
def test_sign_up_sends_a_confirmation_email_in_russian_and_keeps_the_name(client):
    response = sign_up(client)
    assert response.status_code == 302
    user = User.objects.get(email="new.doctor@example.org")
    assert user.full_name == "Кузнецова Анна Игоревна"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.doctor@example.org"]
    assert "Подтвердите" in mail.outbox[0].subject or "подтвер" in mail.outbox[0].body.lower()


@pytest.mark.django_db
def test_sign_in_is_refused_until_the_email_is_confirmed(client):
    sign_up(client)
    client.logout()
    response = client.post(
        reverse("account_login"), {"login": "new.doctor@example.org", "password": "Strong-pass-2026!"}
    )
    # allauth sends a new confirmation and shows the "confirm your e-mail" page instead of signing in
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session

    link = re.search(r"https?://\S+/accounts/confirm-email/(\S+)/", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    confirm_url = reverse("account_confirm_email", args=[link.group(1)])
    assert client.post(confirm_url).status_code == 302
    response = client.post(
        reverse("account_login"), {"login": "new.doctor@example.org", "password": "Strong-pass-2026!"}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get(email="new.doctor@example.org").pk)


@pytest.mark.django_db
def test_the_same_email_in_another_case_cannot_sign_up_twice(client):
    sign_up(client, email="Twice@Example.org")
    client.logout()
    # allauth does not tell a stranger that the address is taken, and creates nothing
    sign_up(client, email="twice@example.org")
    assert User.objects.filter(email__iexact="twice@example.org").count() == 1


@pytest.mark.django_db
def test_the_sign_in_page_puts_the_cursor_in_the_email_field(client):
    page = client.get(reverse("account_login")).content.decode()

    field = page[page.index('name="login"') - 300 : page.index('name="login"') + 300]
    assert "autofocus" in field
    assert page.count("autofocus") == 1
