import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_openapi_schema_describes_activities_reviews_and_api_keys(client):
    response = client.get(reverse("api:schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    assert set(paths["/api/v1/events/{id}/"]) == {"get", "put", "patch"}  # no DELETE
    assert "post" in paths["/api/v1/events/{id}/submit/"]
    assert "post" in paths["/api/v1/modules/{id}/withdraw/"]
    assert "post" in paths["/api/v1/reviews/{id}/decision/"]
    catalog_filters = {p["name"] for p in paths["/api/v1/catalog/events/"]["get"]["parameters"]}
    assert {"specialty", "date_from", "date_to", "q", "format", "provider", "page"} <= catalog_filters
    assert schema["components"]["securitySchemes"]["apiKeyAuth"]["name"] == "Authorization"
    assert paths["/api/v1/reviews/"]["get"]["security"] == [{"cookieAuth": []}]
