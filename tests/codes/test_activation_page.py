"""Activation and disputes on the pages, as a doctor meets them in Russian and in English."""

import pytest
from django.conf import settings
from django.urls import reverse

from codes.format import format_code
from codes.models import Dispute
from credits.models import CreditEntry
from learning_plan import services as plan_services

from ..factories import EventFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_activating_from_the_plan_returns_to_the_plan_with_the_credit_in_it(client, doctor, ended_event, make_codes):
    (code,) = make_codes(ended_event)
    client.force_login(doctor)
    plan = reverse("learning_plan:plan")
    assert f'name="next" value="{plan}"' in client.get(plan).content.decode()

    response = client.post(reverse("codes:activate"), {"code": code.code, "next": plan}, follow=True)

    assert response.redirect_chain == [(plan, 302)]
    assert CreditEntry.objects.filter(doctor=doctor).count() == 1
    page = response.content.decode()
    assert "Код активирован" in page
    assert ended_event.title in page


@pytest.mark.parametrize("next_url", ["https://evil.example.com/", "//evil.example.com/me/plan/", ""])
def test_activation_returns_to_my_credits_when_next_is_not_a_page_of_the_portal(
    client, doctor, ended_event, make_codes, next_url
):
    (code,) = make_codes(ended_event)
    client.force_login(doctor)

    response = client.post(reverse("codes:activate"), {"code": code.code, "next": next_url})

    assert response.status_code == 302
    assert response["Location"] == reverse("codes:activate")


def test_a_failed_activation_from_the_plan_keeps_the_way_back_to_the_plan(client, doctor):
    client.force_login(doctor)
    plan = reverse("learning_plan:plan")

    response = client.post(reverse("codes:activate"), {"code": "0000-00000000", "next": plan})

    assert response.status_code == 400
    assert f'name="next" value="{plan}"' in response.content.decode()


def test_a_mistyped_code_is_shown_with_its_dash_in_a_monospace_font(client, doctor, ended_event, make_codes):
    (code,) = make_codes(ended_event)
    typo = code.code[:11] + ("2" if code.code[11] != "2" else "3")
    client.force_login(doctor)

    response = client.post(reverse("codes:activate"), {"code": typo.lower()})

    shown = format_code(typo)
    assert f'<code class="code-shown">{shown}</code>' in response.content.decode()
    assert "опечатка" in response.content.decode()


def test_a_code_of_the_wrong_length_is_shown_with_a_dash_after_four_symbols(client, doctor):
    client.force_login(doctor)

    response = client.post(reverse("codes:activate"), {"code": "ABCD EFG"})

    assert '<code class="code-shown">ABCD-EFG</code>' in response.content.decode()


def test_the_unknown_code_message_is_russian_in_russian_and_english_in_english(client, doctor):
    client.force_login(doctor)
    ru = client.post(reverse("codes:activate"), {"code": "0000-00000000"}).content.decode()
    assert "Код не был активирован. Возможно код неверен или уже был активирован ранее." in ru

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    en = client.post(reverse("codes:activate"), {"code": "0000-00000000"}).content.decode()
    assert "The code was not activated. Perhaps the code is wrong or it was activated before." in en
    assert "Код не был" not in en


def test_the_dispute_form_takes_the_event_from_a_known_code(client, doctor, ended_event, make_codes):
    (code,) = make_codes(ended_event)
    client.force_login(doctor)
    url = reverse("codes:dispute_new") + f"?code={format_code(code.code)}&failure=code_taken"

    page = client.get(url).content.decode()

    assert ended_event.title in page
    assert 'name="event_name"' not in page
    assert 'name="event_date"' not in page
    response = client.post(url, {"code_text": format_code(code.code), "failure": "code_taken", "message": "Был там"})
    assert response.status_code == 302
    dispute = Dispute.objects.get()
    assert (dispute.event, dispute.event_name, dispute.event_date) == (
        ended_event,
        ended_event.title,
        ended_event.start_date,
    )
    assert dispute.event_place == (ended_event.venue or ended_event.link or ended_event.get_format_display())


def test_the_dispute_form_asks_for_the_event_when_the_code_is_unknown(english, doctor):
    english.force_login(doctor)
    url = reverse("codes:dispute_new") + "?code=0000-00000000&failure=code_not_found"

    page = english.get(url).content.decode()

    assert 'name="event_name"' in page
    assert "Tell us which event the certificate is from" in page
    response = english.post(url, {"code_text": "0000-00000000", "failure": "code_not_found"})
    assert response.status_code == 200
    assert not Dispute.objects.exists()


def test_the_catalogue_shows_that_an_activity_is_already_planned(client, doctor):
    planned, other = EventFactory(approved=True), EventFactory(approved=True)
    plan_services.plan_add(doctor=doctor, event=planned)
    client.force_login(doctor)

    detail = client.get(reverse("events:catalog_detail", args=[planned.pk])).content.decode()
    assert "Уже в вашем плане обучения." in detail
    assert "Добавить в мой план обучения" not in detail
    assert (
        "Добавить в мой план обучения" in client.get(reverse("events:catalog_detail", args=[other.pk])).content.decode()
    )
    catalogue = client.get(reverse("events:catalog")).content.decode()
    assert catalogue.count("data-planned") == 1


def test_the_catalogue_says_already_planned_in_english(english, doctor):
    planned = EventFactory(approved=True)
    plan_services.plan_add(doctor=doctor, event=planned)
    english.force_login(doctor)

    detail = english.get(reverse("events:catalog_detail", args=[planned.pk])).content.decode()

    assert "Already in your learning plan." in detail


def test_the_api_gives_a_mistyped_code_with_its_dash_too(client, doctor):
    client.force_login(doctor)

    body = client.post(reverse("api:api-codes:activate"), {"code": "abcd efg"}, content_type="application/json").json()[
        "error"
    ]

    assert (body["code"], body["normalized"], body["shown"]) == ("code_malformed", "ABCDEFG", "ABCD-EFG")
    assert "ABCD-EFG" in body["message"]
