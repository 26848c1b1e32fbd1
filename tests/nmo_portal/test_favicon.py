import pytest
from django.contrib.staticfiles import finders


@pytest.mark.django_db
def test_every_page_names_the_portals_icon_and_the_icon_is_served(client):
    page = client.get("/").content.decode()

    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    assert finders.find("favicon.svg")
