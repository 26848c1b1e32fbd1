"""In the demo (DEBUG on) the mock registers a newcomer the first time the portal links a valid СНИЛС, so that
a doctor who has just signed up can try «Синхронизировать аккаунт»; with DEBUG off it never does."""

import pytest

from ministry_mock.models import Specialist

pytestmark = pytest.mark.django_db

NEWCOMER_SNILS = "98765432183"  # a valid control sum, unknown to the mock


@pytest.fixture
def demo(settings):
    settings.DEBUG = True
    settings.MINISTRY_MOCK_REGISTERS_NEWCOMERS = True


def test_in_the_demo_an_unknown_valid_snils_is_registered_on_its_first_link_and_the_answer_says_so(ministry, demo):
    first = ministry.post("accounts/link", {"snils": "987-654-321 83", "login": "novikova.ea"})

    assert first.status_code == 200
    assert first.json()["registered"] is True
    specialist = Specialist.objects.get(snils=NEWCOMER_SNILS)
    assert (first.json()["specialist_id"], specialist.login) == (specialist.pk, "novikova.ea")
    again = ministry.post("accounts/link", {"snils": NEWCOMER_SNILS, "login": "Novikova.EA"})
    assert again.status_code == 200
    assert "registered" not in again.json()
    assert Specialist.objects.filter(snils=NEWCOMER_SNILS).count() == 1


def test_the_demo_specialist_is_linked_as_before_and_not_registered_again(ministry, demo, specialist):
    response = ministry.post("accounts/link", {"snils": specialist.snils, "login": specialist.login})

    assert response.status_code == 200
    assert "registered" not in response.json()


def test_in_the_demo_a_snils_with_a_wrong_control_sum_is_still_not_found(ministry, demo):
    response = ministry.post("accounts/link", {"snils": "98765432184", "login": "novikova.ea"})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "specialist_not_found"
    assert not Specialist.objects.filter(snils__in=[NEWCOMER_SNILS, "98765432184"]).exists()


def test_in_the_demo_a_newcomer_cannot_take_the_login_of_another_specialist(ministry, demo, specialist):
    response = ministry.post("accounts/link", {"snils": NEWCOMER_SNILS, "login": specialist.login.upper()})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "login_taken"
    assert not Specialist.objects.filter(snils=NEWCOMER_SNILS).exists()


@pytest.mark.parametrize("registers", [True, False])
def test_with_debug_off_no_newcomer_is_ever_registered(ministry, settings, registers):
    settings.DEBUG = False
    settings.MINISTRY_MOCK_REGISTERS_NEWCOMERS = registers  # even if a setting asked for it

    response = ministry.post("accounts/link", {"snils": NEWCOMER_SNILS, "login": "novikova.ea"})

    assert response.status_code == 404
    assert not Specialist.objects.filter(snils__in=[NEWCOMER_SNILS, "98765432184"]).exists()


def test_in_the_demo_it_can_be_turned_off(ministry, settings):
    settings.DEBUG = True
    settings.MINISTRY_MOCK_REGISTERS_NEWCOMERS = False

    assert ministry.post("accounts/link", {"snils": NEWCOMER_SNILS, "login": "novikova.ea"}).status_code == 404
