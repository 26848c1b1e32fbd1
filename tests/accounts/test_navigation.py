import pytest
from django.urls import reverse


def nav_items(client):
    html = client.get(reverse("home")).content.decode()
    return {
        item for item in ("plan", "credits", "profile", "provider", "reviewer", "admin") if f'data-nav="{item}"' in html
    }


@pytest.mark.django_db
def test_anonymous_visitor_sees_sign_in_and_no_role_navigation(client):
    html = client.get(reverse("home")).content.decode()
    assert nav_items(client) == set()
    assert reverse("account_login") in html
    assert reverse("account_signup") in html


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("doctor", {"plan", "credits", "profile"}),
        ("provider", {"plan", "credits", "profile", "provider"}),
        ("reviewer", {"plan", "credits", "profile", "reviewer"}),
        ("staff", {"plan", "credits", "profile", "admin"}),
    ],
)
@pytest.mark.django_db
def test_navigation_shows_what_each_role_does(client, request, who, expected):
    client.force_login(request.getfixturevalue(who))
    assert nav_items(client) == expected


def test_home_page_is_in_russian_by_default_and_english_on_request(client, db):
    assert "Непрерывное медицинское образование" in client.get(reverse("home")).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Continuing medical education" in client.get(reverse("home")).content.decode()


def test_reviewer_page_lists_appointed_specialties_and_is_refused_to_others(client, reviewer, doctor):
    client.force_login(reviewer)
    response = client.get(reverse("review:queue"))
    assert response.status_code == 200
    assert "31.08.20" in response.content.decode()
    client.force_login(doctor)
    assert client.get(reverse("review:queue")).status_code == 403


def test_pages_of_the_cabinet_send_anonymous_visitors_to_sign_in(client, db):
    for name in ("accounts:profile", "accounts:organizations", "review:queue"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_russian_is_the_default_whatever_the_browser_asks_for(client, db):
    page = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "Непрерывное медицинское образование" in page


def test_a_signed_in_user_gets_the_language_of_the_profile(client, user):
    user.language = "en"
    user.save()
    client.force_login(user)
    assert "Continuing medical education" in client.get(reverse("home")).content.decode()
