"""One date format per language, unambiguous: 27.11.2026 in Russian, 27 Nov 2026 in English."""

import re
from datetime import date, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template
from django.utils import formats, translation

from ..factories import EventFactory

NAMED = {"DATE_FORMAT", "SHORT_DATE_FORMAT", "DATETIME_FORMAT", "SHORT_DATETIME_FORMAT"}


@pytest.mark.parametrize(
    ("language", "day", "moment"),
    [("ru", "27.11.2026", "27.11.2026 9:05"), ("en", "27 Nov 2026", "27 Nov 2026, 09:05")],
)
def test_every_named_format_shows_a_date_the_same_unambiguous_way(language, day, moment):
    with translation.override(language):
        for name in ("DATE_FORMAT", "SHORT_DATE_FORMAT"):
            assert formats.date_format(date(2026, 11, 27), name) == day
        for name in ("DATETIME_FORMAT", "SHORT_DATETIME_FORMAT"):
            assert formats.date_format(datetime(2026, 11, 27, 9, 5), name) == moment
        assert Template("{{ day }}").render(Context({"day": date(2026, 11, 27)})) == day


def test_templates_name_a_date_format_and_never_spell_one_out():
    spelt_out = [
        f"{path.relative_to(settings.BASE_DIR)}: {match.group(0)}"
        for path in sorted((Path(settings.BASE_DIR) / "templates").rglob("*.*"))
        for match in re.finditer(r"\|date(?::\s*[\"']([^\"']*)[\"'])?", path.read_text(encoding="utf-8"))
        if match.group(1) not in NAMED
    ]
    assert spelt_out == []


@pytest.mark.django_db
def test_the_catalogue_shows_event_dates_in_the_language_of_the_page(client):
    event = EventFactory(approved=True)
    ru = client.get("/catalog/events/").content.decode()
    assert formats.date_format(event.start_date, "d.m.Y") in ru
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    en = client.get("/catalog/events/").content.decode()
    assert f"{event.start_date.day} {event.start_date:%b} {event.start_date.year}" in en
