"""Sign-in limits (accounts/signin.py): failures counted per address and per (address, account), on the site's
sign-in and the admin's alike, so that guessing is slow and the owner, from their own address, still gets in."""

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import formats, timezone, translation

from tests.factories import PASSWORD, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.9"
OWNER = "198.51.100.7"
REFUSED = "Слишком много неудачных попыток входа с вашего адреса. Повторите попытку после"
ADMIN_WRONG = "Пожалуйста, введите корректные"  # Django's own "enter a correct e-mail and password"
SITE_WRONG = "адрес электронной почты и/или пароль неверны"  # allauth's


def admin_sign_in(email, password, ip):
    client = Client()
    response = client.post(
        reverse("admin:login"), {"username": email, "password": password, "next": "/admin/"}, REMOTE_ADDR=ip
    )
    return response, client


def site_sign_in(email, password, ip):
    client = Client()
    response = client.post(reverse("account_login"), {"login": email, "password": password}, REMOTE_ADDR=ip)
    return response, client


def signed_in(response, client, user):
    return response.status_code == 302 and client.session.get("_auth_user_id") == str(user.pk)


def outcome(sign_in, email, password, ip):
    """What the page said: "refused" (the limit), "wrong" (the password was checked and was wrong), or the
    page's status when neither."""
    response, _client = sign_in(email, password, ip)
    text = response.content.decode()
    if REFUSED in text:
        return "refused"
    if ADMIN_WRONG in text or SITE_WRONG in text:
        return "wrong"
    return response.status_code


def window_ends(before, after):
    """The times the refusal can name: the end of the window the request fell in, read in Moscow time."""
    size = 900
    ends = {datetime.fromtimestamp((int(moment.timestamp()) // size + 1) * size, tz=UTC) for moment in (before, after)}
    with translation.override("ru"):
        return {formats.date_format(timezone.localtime(end), "DATETIME_FORMAT") for end in ends}


def test_sixty_guesses_at_the_admin_sign_in_are_refused_after_five_and_the_owner_still_gets_in():
    staff = StaffFactory()
    before = timezone.now()
    outcomes = [outcome(admin_sign_in, staff.email, f"guess-{n}", ATTACKER) for n in range(60)]
    assert outcomes == ["wrong"] * 5 + ["refused"] * 55

    # the right password from the attacking address is refused too, unchecked, within the window
    response, client = admin_sign_in(staff.email, PASSWORD, ATTACKER)
    assert REFUSED in response.content.decode()
    assert not signed_in(response, client, staff)
    assert any(when in response.content.decode() for when in window_ends(before, timezone.now()))

    # the owner, from their own address, signs in while the attack goes on
    response, client = admin_sign_in(staff.email, PASSWORD, OWNER)
    assert signed_in(response, client, staff)
    assert outcome(admin_sign_in, staff.email, "guess-61", ATTACKER) == "refused"
    response, client = admin_sign_in(staff.email, PASSWORD, OWNER)
    assert signed_in(response, client, staff)


def test_the_site_sign_in_lets_the_owner_in_from_their_own_address_while_the_account_is_attacked():
    doctor = UserFactory()
    outcomes = [outcome(site_sign_in, doctor.email, f"guess-{n}", ATTACKER) for n in range(8)]
    assert outcomes == ["wrong"] * 5 + ["refused"] * 3
    response, client = site_sign_in(doctor.email, PASSWORD, ATTACKER)
    assert REFUSED in response.content.decode()
    assert not signed_in(response, client, doctor)

    response, client = site_sign_in(doctor.email, PASSWORD, OWNER)
    assert signed_in(response, client, doctor)
    # a stranger cannot lock the owner out: the account has no limit of its own, only each address has
    assert outcome(site_sign_in, doctor.email, "guess-9", ATTACKER) == "refused"
    response, client = site_sign_in(doctor.email.upper(), PASSWORD, OWNER)
    assert signed_in(response, client, doctor)


def test_the_account_is_the_same_whatever_the_case_it_is_typed_in():
    staff = StaffFactory()
    typed = [staff.email, staff.email.upper(), f"  {staff.email.title()} "]
    outcomes = [outcome(admin_sign_in, typed[n % 3], "guess", ATTACKER) for n in range(6)]
    assert outcomes == ["wrong"] * 5 + ["refused"]


@pytest.mark.parametrize("sign_in", [admin_sign_in, site_sign_in], ids=["admin", "site"])
def test_one_address_trying_many_accounts_is_refused_past_the_per_address_limit(sign_in, settings):
    staff = StaffFactory()
    outcomes = [outcome(sign_in, f"someone{n}@example.org", "guess", ATTACKER) for n in range(32)]
    assert outcomes == ["wrong"] * 30 + ["refused"] * 2

    # any account from that address, even with its right password, until the window ends
    response, client = sign_in(staff.email, PASSWORD, ATTACKER)
    assert REFUSED in response.content.decode()
    assert not signed_in(response, client, staff)
    # every other address is untouched
    response, client = sign_in(staff.email, PASSWORD, OWNER)
    assert signed_in(response, client, staff)


def test_the_per_address_limit_applies_across_the_admin_and_the_site(settings):
    settings.SIGNIN_FAILURES_PER_IP = 4
    for n in range(2):
        assert outcome(admin_sign_in, f"a{n}@example.org", "guess", ATTACKER) == "wrong"
        assert outcome(site_sign_in, f"s{n}@example.org", "guess", ATTACKER) == "wrong"
    assert outcome(site_sign_in, "s9@example.org", "guess", ATTACKER) == "refused"
    assert outcome(admin_sign_in, "a9@example.org", "guess", ATTACKER) == "refused"


def test_a_right_password_counts_for_nothing_and_resets_nothing(settings):
    """An attacker who owns an account gains nothing by signing in to it between guesses (a reset on success,
    as django-axes does by default, would give them a fresh allowance), and the owner's own right passwords
    do not use up the address's allowance."""
    settings.SIGNIN_FAILURES_PER_IP = 6
    victim = UserFactory()
    own = UserFactory()
    for n in range(4):
        assert outcome(site_sign_in, victim.email, f"guess-{n}", ATTACKER) == "wrong"
    for _ in range(5):  # more right passwords than the allowance left: none of them is counted
        response, client = site_sign_in(own.email, PASSWORD, ATTACKER)
        assert signed_in(response, client, own)
    assert outcome(site_sign_in, victim.email, "guess-4", ATTACKER) == "wrong"  # the pair's fifth failure
    assert outcome(site_sign_in, victim.email, "guess-5", ATTACKER) == "refused"  # not reset by the sign-ins
    assert outcome(site_sign_in, "other@example.org", "guess", ATTACKER) == "wrong"  # the address's sixth
    assert outcome(site_sign_in, "other@example.org", "guess", ATTACKER) == "refused"


def test_the_limit_ends_with_its_window(settings, monkeypatch):
    staff = StaffFactory()
    for n in range(6):
        outcome(admin_sign_in, staff.email, f"guess-{n}", ATTACKER)
    assert outcome(admin_sign_in, staff.email, "guess", ATTACKER) == "refused"
    later = timezone.now() + timedelta(seconds=settings.SIGNIN_WINDOW_SECONDS)
    monkeypatch.setattr("accounts.signin.timezone.now", lambda: later)
    response, client = admin_sign_in(staff.email, PASSWORD, ATTACKER)
    assert signed_in(response, client, staff)


def test_the_refusal_is_translated(settings):
    staff = StaffFactory()
    for n in range(5):
        outcome(admin_sign_in, staff.email, f"guess-{n}", ATTACKER)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(
        reverse("admin:login"), {"username": staff.email, "password": PASSWORD, "next": "/admin/"}, REMOTE_ADDR=ATTACKER
    )
    page = response.content.decode()
    assert "Too many failed sign-in attempts from your address. Try again after" in page
    assert "(Europe/Moscow)." in page  # the zone is named, and the sentence does not end in «p.m..»


@pytest.mark.parametrize("sign_in", [admin_sign_in, site_sign_in], ids=["admin", "site"])
def test_sign_in_goes_on_while_the_cache_is_down(sign_in, settings, caplog):
    """Fail open: without Redis nothing is counted, every password is still checked, and that is logged."""
    settings.CACHES = {
        "default": {
            "BACKEND": "nmo_portal.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }
    staff = StaffFactory()
    outcomes = [outcome(sign_in, staff.email, f"guess-{n}", ATTACKER) for n in range(7)]
    assert outcomes == ["wrong"] * 7
    response, client = sign_in(staff.email, PASSWORD, ATTACKER)
    assert signed_in(response, client, staff)
    assert "Sign-in limits not applied" in caplog.text


def test_an_ipv6_subscriber_block_counts_as_one_address(settings):
    """One subscriber is given a whole /64: hopping between its addresses gives no fresh allowance."""
    settings.SIGNIN_FAILURES_PER_IP = 3
    staff = StaffFactory()
    outcomes = [outcome(admin_sign_in, f"s{n}@example.org", "guess", f"2001:db8:1:2::{n + 1:x}") for n in range(5)]
    assert outcomes == ["wrong"] * 3 + ["refused"] * 2
    response, client = admin_sign_in(staff.email, PASSWORD, "2001:db8:1:3::1")  # the next block: someone else
    assert signed_in(response, client, staff)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="threads need PostgreSQL; CI runs this on it")
def test_a_burst_of_guesses_at_the_same_instant_gets_exactly_the_allowance():
    """Increment, then compare: 20 guesses sent together are not all let through before the first failure is
    counted."""
    staff = StaffFactory()
    barrier = threading.Barrier(20)
    outcomes = []

    def guess(n):
        try:
            barrier.wait()
            outcomes.append(outcome(admin_sign_in, staff.email, f"guess-{n}", ATTACKER))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert Counter(outcomes) == {"wrong": 5, "refused": 15}
