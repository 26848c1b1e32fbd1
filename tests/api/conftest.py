import pytest
from rest_framework.test import APIClient

from accounts.services import api_key_create


@pytest.fixture
def api():
    """A DRF client: JSON bodies by default, no session."""
    return APIClient()


@pytest.fixture
def provider_api(api, provider):
    api.force_login(provider)
    return api


@pytest.fixture
def organization(provider):
    return provider.memberships.get().organization


def key_for(organization, admin, name="LMS"):
    """The full key of a fresh API key of `organization`, created by its administrator `admin`."""
    _api_key, key = api_key_create(organization=organization, actor=admin, name=name)
    return key


def key_client(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


@pytest.fixture
def key_api(organization, provider):
    return key_client(key_for(organization, provider))
