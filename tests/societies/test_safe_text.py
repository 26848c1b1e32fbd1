"""An announcement's text with a `<script>`, `javascript:` links and raw HTML is inert wherever it is shown: on its
page, in the Atom feed, in the API and in the digest's e-mail."""

import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from nmo_portal.calendar import today
from societies.digest import digests_send, week_of
from societies.services import digest_subscribe

from ..factories import AnnouncementFactory, DoctorProfileFactory

pytestmark = pytest.mark.django_db

HOSTILE = """Обычный абзац со **ссылкой** на [сайт общества](https://psychiatr.example.org/news).

<script>alert("script")</script>

[нажмите здесь](javascript:alert(1)) и [ещё](JaVaScRiPt:alert(2)) и [третья](java&#x09;script:alert(3))

<img src=x onerror=alert(4)> <a href="javascript:alert(5)">сырая ссылка</a> <b onclick="alert(6)">жирный</b>

<iframe src="https://evil.example/"></iframe>

![картинка](https://evil.example/pixel.png) [протокол](//evil.example/x)
[данные](data:text/html,<script>alert(7)</script>)
"""
ALLOWED_TAGS = {"p", "br", "hr", "h3", "h4", "h5", "h6", "strong", "em", "s", "code", "pre", "blockquote", "ul", "ol"}
ALLOWED_TAGS |= {"li", "a"}


class Elements(HTMLParser):
    """Every element of an HTML fragment with its attributes, and its text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def assert_inert(html: str) -> None:
    found = Elements(html)
    tags = {tag for tag, _attrs in found.elements}
    assert tags <= ALLOWED_TAGS, tags - ALLOWED_TAGS  # no script, img, iframe, b
    for tag, attrs in found.elements:
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        assert set(attrs) <= {"href", "title", "rel", "start"}, (tag, attrs)
        if tag == "a":
            assert attrs["rel"] == "nofollow noopener"
            href = attrs.get("href")
            assert href is None or re.match(r"^(https?:|mailto:)", href), href
    links = [attrs.get("href") for tag, attrs in found.elements if tag == "a" and attrs.get("href")]
    # the good link stays a link; the picture is a link to it, not a picture that loads
    assert links == ["https://psychiatr.example.org/news", "https://evil.example/pixel.png"]
    # what was typed as HTML is shown as the characters it was typed as
    assert '<script>alert("script")</script>' in "".join(found.text)


@pytest.fixture
def announcement(doctor):
    return AnnouncementFactory(title="Объявление с подвохом", body=HOSTILE)


def body_of(page: str) -> str:
    match = re.search(r'<div class="card prose announcement-body">(.*?)</div>', page, re.DOTALL)
    assert match
    return match.group(1)


def test_the_page_shows_the_text_inert(client, announcement):
    page = client.get(reverse("societies:announcement", args=[announcement.pk])).content.decode()

    assert_inert(body_of(page))
    elements = Elements(page).elements
    assert not [attrs for tag, attrs in elements if tag == "script" and "src" not in attrs]
    assert not [attrs for _tag, attrs in elements if (attrs.get("href") or "").lower().startswith("javascript")]
    assert "<strong>ссылкой</strong>" in page


def test_the_feed_carries_the_text_inert(client, announcement):
    response = client.get(reverse("societies:feed", args=["31.08.20"]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    ns = {"atom": "http://www.w3.org/2005/Atom"}
    feed = ET.fromstring(response.content)  # noqa: S314 - the portal's own feed
    [entry] = feed.findall("atom:entry", ns)
    assert entry.findtext("atom:title", namespaces=ns) == "Объявление с подвохом"
    summary = entry.find("atom:summary", ns)
    assert summary.get("type") == "html"
    assert_inert(summary.text)  # the HTML a feed reader shows
    assert entry.find("atom:link", ns).get("href").endswith(reverse("societies:announcement", args=[announcement.pk]))


def test_the_api_gives_the_markdown_and_its_inert_html(client, announcement):
    [item] = client.get("/api/v1/announcements/").json()["results"]

    assert item["body"] == HOSTILE  # as written (the factory does not trim it as the service does)
    assert_inert(item["body_html"])


def test_the_home_page_excerpt_is_plain_words(client, announcement, doctor):
    client.force_login(doctor)
    page = client.get(reverse("home")).content.decode()
    block = page[page.index('id="announcements"') :]
    excerpt = re.search(r'<p class="announcement-excerpt">(.*?)</p>', block, re.DOTALL).group(1)
    assert "<" not in excerpt
    assert "javascript" not in excerpt.lower()
    assert "нажмите здесь" in excerpt  # a link's words stay, its target goes
    assert "alert" not in excerpt  # raw HTML goes with what a script tag holds


def test_the_digest_email_is_plain_text_with_only_the_words(mailoutbox):
    doctor = DoctorProfileFactory(specialties=[]).user
    announcement = AnnouncementFactory(title="Объявление с подвохом", body=HOSTILE)
    doctor.doctor_profile.specialties.set(announcement.specialties.all())
    digest_subscribe(doctor=doctor)
    announcement.published_at = timezone.now() - timedelta(days=7)
    announcement.save()

    assert digests_send(week_of(today())) == 1

    [message] = mailoutbox
    mime = message.message()
    assert (mime.get_content_type(), mime.is_multipart()) == ("text/plain", False)  # nothing to render as HTML
    assert "Объявление с подвохом" in message.body
    assert "нажмите здесь" in message.body
    for inert in ("<script", "<img", "<iframe", "<a ", "onerror", "onclick", "javascript", "alert("):
        assert inert not in message.body.lower(), inert
