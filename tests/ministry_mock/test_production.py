"""The mock's own guard: the development token, public in the README, opens nothing with DEBUG off."""

import pytest

from ministry_mock.views import DEFAULT_TOKEN

from .conftest import Ministry

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("urls", "prefix"), [("nmo_portal.urls", "/ministry-mock/api/v1/"), ("ministry_mock.urls", "/api/v1/")]
)
def test_with_debug_off_the_mock_refuses_its_development_token(client, specialist, settings, urls, prefix):
    # as if the settings had been made to accept it: the mock refuses it on its own
    settings.MINISTRY_API_TOKEN = DEFAULT_TOKEN
    settings.DEBUG = False
    settings.ROOT_URLCONF = urls
    ministry = Ministry(client, token=DEFAULT_TOKEN, prefix=prefix)

    records = ministry.get(f"specialists/{specialist.snils}/records")
    assert records.status_code == 401
    assert records.json()["error"]["code"] == "unauthorized"
    assert ministry.put("_faults", {"down": True}).status_code == 401
    assert ministry.post("_reset").status_code == 401


def test_in_development_the_development_token_still_works(client, specialist, settings):
    settings.MINISTRY_API_TOKEN = DEFAULT_TOKEN
    settings.DEBUG = True
    ministry = Ministry(client, token=DEFAULT_TOKEN)
    assert ministry.get(f"specialists/{specialist.snils}/records").status_code == 200
