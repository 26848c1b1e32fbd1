"""The long tables of the learning plan and of the portfolio, for a doctor with many records: every row with its
date, title, source and ИКП, hours and how far it went to the Ministry portal, titles escaped, in both languages;
and the activity report's PDF, whose rows run over many pages, read back."""

from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from codes.format import format_code, generate_codes
from codes.models import IcpCode
from credits.models import CreditEntry, OutboxRecord
from credits.services import ledger_append
from learning_plan import services
from learning_plan.models import ProgrammeEntry
from learning_plan.report import report_pdf
from learning_plan.selectors import learning_plan

from ..factories import EventFactory, ModuleFactory, OrganizationFactory
from ..pdf import page_count, pdf_text

pytestmark = pytest.mark.django_db

SCRIPT_TITLE = '<script>alert("x")</script> Школа «Тревога» & депрессия'
FIRST_DAY = date(2024, 2, 1)

# What each language calls things in these tables (the translations, as a reader sees them).
WORDS = {
    "ru": {
        "date": "Дата",
        "activity": "Мероприятие, модуль или программа",
        "source": "Источник",
        "hours": "Часы",
        "ministry": "Портал Минздрава",
        "code": "код ИКП",
        "completion": "Освоение модуля",
        "delivered": "передано",
        "pending": "ожидает",
        "failed": "ошибка",
        "event_or_module": "Мероприятие или модуль",
        "credits": "Кредиты",
        "why": "Причина",
        "other_specialty": "Специальность мероприятия не совпадает ни с одним из ваших циклов.",
        "kind": "Тип",
        "title": "Название",
        "organization": "Организация",
        "dates": "Даты",
        "reference": "Документ или ИКП",
        "event": "Образовательное мероприятие",
        "module": "Интерактивный образовательный модуль",
        "programme": "Программа",
        "register": "Реестр",
        "entered": "Внесено вами",
    },
    "en": {
        "date": "Date",
        "activity": "Event, module or programme",
        "source": "Source",
        "hours": "Hours",
        "ministry": "Ministry portal",
        "code": "ИКП code",
        "completion": "Module completion",
        "delivered": "passed on",
        "pending": "waiting",
        "failed": "failed",
        "event_or_module": "Event or module",
        "credits": "Credits",
        "why": "Why",
        "other_specialty": "The activity is not of the specialty of any of your cycles.",
        "kind": "Kind",
        "title": "Title",
        "organization": "Organization",
        "dates": "Dates",
        "reference": "Document or ИКП",
        "event": "Educational event",
        "module": "E-learning module",
        "programme": "Programme",
        "register": "The register",
        "entered": "Entered by you",
    },
}
BADGES = {"delivered": "badge-success", "pending": "badge-warning", "failed": "badge-danger"}


def shown(day: date, language: str) -> str:
    """A date as the portal writes it in each language (nmo_portal/formats)."""
    return f"{day:%d.%m.%Y}" if language == "ru" else f"{day.day} {day:%b %Y}"


class TableRows(HTMLParser):
    """The rows of a page's tables that carry `marker` (data-record, data-origin): the row's attributes, the id of
    the section it is in, and each cell's attributes, text fragments and CSS classes of its elements."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker = marker
        self.rows: list[dict] = []
        self.headers: dict[str, list[str]] = {}  # a section's id -> the headers of its table's columns
        self.section = ""
        self.row: dict | None = None
        self.cell: dict | None = None
        self.header: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "section":
            self.section = found.get("id") or ""
        elif tag == "th" and self.section not in self.headers:
            self.header = []
        elif tag == "tr" and self.marker in found:
            self.row = {"attrs": found, "section": self.section, "cells": []}
            self.rows.append(self.row)
        elif tag == "td" and self.row is not None:
            self.cell = {"attrs": found, "text": [], "classes": []}
            self.row["cells"].append(self.cell)
        elif self.cell is not None:
            self.cell["classes"].extend((found.get("class") or "").split())

    def handle_endtag(self, tag):
        if tag == "th" and self.header is not None:
            self.headers.setdefault(self.section + ":pending", []).append(" ".join(self.header))
            self.header = None
        elif tag == "thead":
            self.headers[self.section] = self.headers.pop(self.section + ":pending", [])
        elif tag == "td":
            self.cell = None
        elif tag == "tr":
            self.row = None

    def handle_data(self, data):
        if self.header is not None and data.strip():
            self.header.append(data.strip())
        if self.cell is not None and data.strip():
            self.cell["text"].append(data.strip())


def rows_of(page: str, marker: str) -> list[dict]:
    """The rows, each cell's data-label checked against its column's header (what a narrow screen shows beside
    the cell in place of the header)."""
    parser = TableRows(marker)
    parser.feed(page)
    for row in parser.rows:
        labels = [cell["attrs"]["data-label"] for cell in row["cells"]]
        assert labels == parser.headers[row["section"]]
    return parser.rows


def page(client, doctor, url: str, language: str) -> str:
    client.force_login(doctor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def records(doctor, psychiatry, cardiology):
    """A cycle from 15.01.2024 with 24 events (by ИКП codes, each a day later, in turn waiting, passed on and
    failed at the Ministry, one passed on long ago and its outbox row removed), 16 modules, and 3 events that
    count in no cycle (of cardiology); one title is an attempt at a script."""
    cycle = services.cycle_add(doctor=doctor, specialty=psychiatry, starts_on=date(2024, 1, 15))
    organization = OrganizationFactory(name="Российское общество психиатров", short_name="РОП")
    expected = []
    for n in range(24):
        event = EventFactory(
            approved=True,
            organization=organization,
            title=SCRIPT_TITLE if n == 7 else f"Клинический разбор № {n}",
            specialties=[psychiatry],
        )
        code = IcpCode.objects.create(
            code=generate_codes(1)[0],
            event=event,
            status=IcpCode.Status.ACTIVATED,
            activated_by=doctor,
            activated_at=timezone.now(),
        )
        entry = ledger_append(
            doctor=doctor,
            kind=CreditEntry.Kind.CREDIT,
            source=CreditEntry.Source.CODE,
            credits=1 + n % 6,
            earned_on=FIRST_DAY + timedelta(days=n),
            actor=doctor,
            source_id=code.pk,
            activity=event,
        )
        state = ("pending", "delivered", "failed")[n % 3]
        OutboxRecord.objects.filter(entry=entry).update(state=state)
        if n == 4:  # delivered long ago: its outbox row is gone, and it still reads as passed on
            OutboxRecord.objects.filter(entry=entry).delete()
        expected.append(
            {
                "key": f"event-{event.pk}",
                "kind": "event",
                "activity": event,
                "title": event.title,
                "day": entry.earned_on,
                "hours": entry.credits,
                "code": format_code(code.code),
                "state": state,
            }
        )
    for n in range(16):
        module = ModuleFactory(approved=True, organization=organization, specialties=[psychiatry])
        entry = ledger_append(
            doctor=doctor,
            kind=CreditEntry.Kind.CREDIT,
            source=CreditEntry.Source.MODULE_COMPLETION,
            credits=2,
            earned_on=FIRST_DAY + timedelta(days=40 + n),
            actor=None,
            activity=module,
        )
        OutboxRecord.objects.filter(entry=entry).update(state="delivered")
        expected.append(
            {
                "key": f"module-{module.pk}",
                "kind": "module",
                "activity": module,
                "title": module.title,
                "day": entry.earned_on,
                "hours": 2,
                "code": "",
                "state": "delivered",
            }
        )
    elsewhere = []
    for n in range(3):
        event = EventFactory(approved=True, title=f"Кардиологический форум № {n}", specialties=[cardiology])
        entry = ledger_append(
            doctor=doctor,
            kind=CreditEntry.Kind.CREDIT,
            source=CreditEntry.Source.CODE,
            credits=3,
            earned_on=FIRST_DAY + timedelta(days=n),
            actor=None,
            activity=event,
        )
        elsewhere.append({"key": f"event-{event.pk}", "title": event.title, "day": entry.earned_on, "hours": 3})
    return cycle, expected, elsewhere


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_plan_lists_every_counted_record_with_its_source_code_hours_and_ministry_state(
    client, doctor, records, language
):
    cycle, expected, _ = records
    words = WORDS[language]

    rows = rows_of(page(client, doctor, reverse("learning_plan:plan"), language), "data-record")
    counted = [row for row in rows if row["section"] == f"cycle-{cycle.pk}"]

    assert [row["attrs"]["data-record"] for row in counted] == [record["key"] for record in expected]
    for row, record in zip(counted, expected, strict=True):
        labels = [cell["attrs"]["data-label"] for cell in row["cells"]]
        assert labels == [words["date"], words["activity"], words["source"], words["hours"], words["ministry"]]
        day, title, source, hours, ministry = (cell["text"] for cell in row["cells"])
        assert day == [shown(record["day"], language)]
        assert title == [record["title"]]
        if record["code"]:
            assert source == [words["code"], record["code"]]
        else:
            assert source == [words["completion"]]
        assert hours == [str(record["hours"])]
        assert ministry == [words[record["state"]]]
        assert BADGES[record["state"]] in row["cells"][4]["classes"]


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_plan_lists_the_records_of_no_cycle_with_why(client, doctor, records, language):
    _, _, elsewhere = records
    words = WORDS[language]

    rows = rows_of(page(client, doctor, reverse("learning_plan:plan"), language), "data-record")
    not_counted = [row for row in rows if row["section"] == "not-counted"]

    assert [row["attrs"]["data-record"] for row in not_counted] == [record["key"] for record in elsewhere]
    for row, record in zip(not_counted, elsewhere, strict=True):
        labels = [cell["attrs"]["data-label"] for cell in row["cells"]]
        assert labels == [words["date"], words["event_or_module"], words["credits"], words["why"]]
        assert [cell["text"] for cell in row["cells"]] == [
            [shown(record["day"], language)],
            [record["title"]],
            [str(record["hours"])],
            [words["other_specialty"]],
        ]


def test_a_title_with_markup_is_shown_as_text_in_the_plan_and_the_portfolio(client, doctor, psychiatry, records):
    services.document_record(doctor=doctor, specialty=psychiatry, number="7722 0001", issued_on=date(2024, 1, 15))

    for url in (reverse("learning_plan:plan"), reverse("learning_plan:portfolio", args=[psychiatry.code])):
        html = page(client, doctor, url, "ru")

        assert "<script>" not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Школа «Тревога» &amp; депрессия" in html


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_portfolio_lists_each_record_and_programme_of_the_period(client, doctor, psychiatry, records, language):
    _, expected, _ = records
    words = WORDS[language]
    services.document_record(doctor=doctor, specialty=psychiatry, number="7722 0001", issued_on=date(2024, 1, 15))
    entered = ProgrammeEntry.objects.create(
        doctor=doctor,
        specialty=psychiatry,
        name="Психиатрия: актуальные вопросы",
        organization="РМАНПО",
        hours=36,
        starts_on=date(2024, 3, 4),
        ends_on=date(2024, 3, 29),
        document_number="ПК-0001",
    )

    url = reverse("learning_plan:portfolio", args=[psychiatry.code])
    rows = rows_of(page(client, doctor, url, language), "data-origin")

    wanted = [
        {
            "origin": "register",
            "kind": record["kind"],
            "cells": [
                [words[record["kind"]]],
                [record["title"]],
                ["РОП"],  # the organization's short name
                [
                    shown(record["activity"].start_date, language)
                    + (
                        f" — {shown(record['activity'].end_date, language)}"
                        if record["activity"].end_date != record["activity"].start_date
                        else ""
                    )
                ]
                if record["kind"] == "event"
                else [shown(record["day"], language)],
                [str(record["hours"])],
                [record["code"] or "—"],
                [words["register"]],
            ],
            "ends_on": record["activity"].end_date if record["kind"] == "event" else record["day"],
            "starts_on": record["activity"].start_date if record["kind"] == "event" else record["day"],
        }
        for record in expected
    ]
    wanted.append(
        {
            "origin": "programme",
            "kind": "programme",
            "cells": [
                [words["programme"]],
                [entered.name],
                ["РМАНПО"],
                [f"{shown(entered.starts_on, language)} — {shown(entered.ends_on, language)}"],
                ["36"],
                ["ПК-0001"],
                [words["entered"]],
            ],
            "ends_on": entered.ends_on,
            "starts_on": entered.starts_on,
        }
    )
    wanted.sort(key=lambda row: (row["ends_on"], row["starts_on"], row["cells"][1][0]))
    assert len(rows) == len(wanted) == 41
    for row, want in zip(rows, wanted, strict=True):
        assert (row["attrs"]["data-origin"], row["attrs"]["data-kind"]) == (want["origin"], want["kind"])
        labels = [cell["attrs"]["data-label"] for cell in row["cells"]]
        assert labels[:6] == [
            words["kind"],
            words["title"],
            words["organization"],
            words["dates"],
            words["hours"],
            words["reference"],
        ]
        assert [cell["text"] for cell in row["cells"]] == want["cells"]


def test_the_report_pdf_of_many_records_reads_back_every_row_on_pages_with_the_header(doctor, records, tmp_path):
    cycle, expected, elsewhere = records
    ProgrammeEntry.objects.create(
        doctor=doctor,
        specialty=cycle.specialty,
        name="Психиатрия: актуальные вопросы",
        organization="РМАНПО",
        hours=36,
        starts_on=date(2024, 3, 4),
        ends_on=date(2024, 3, 29),
        document_number="ПК-0001",
    )
    (plan,) = learning_plan(doctor=doctor).cycles

    pdf = report_pdf(plan, doctor=doctor)

    text = pdf_text(pdf, tmp_path, collapse_spaces=True)
    pages = page_count(pdf)
    assert pages >= 2
    assert text.count("Основание") == pages  # the header row again on every page the rows run over
    assert f"стр. {pages}" in text
    lines = [line.strip() for line in text.splitlines()]
    for record in expected:  # each on a day of its own: its row's first line starts with the date
        (row,) = [line for line in lines if line.startswith(f"{record['day']:%d.%m.%Y} ")]
        kind = "Мероприятие" if record["kind"] == "event" else "Интерактивный"
        assert row.startswith(f"{record['day']:%d.%m.%Y} {kind} ")
        assert row.endswith(f" {record['hours']}")
        if record["code"]:
            assert record["code"] in text
    (programme,) = [line for line in lines if line.startswith("29.03.2024 ")]
    assert programme.startswith("29.03.2024 Программа ")
    assert programme.endswith(" 36")
    assert "ПК-0001" in text
    assert '<script>alert("x")</script> Школа «Тревога» &' in text  # a PDF draws a title as it is: never markup
    for record in elsewhere:
        assert record["title"] not in text
    # The totals: 84 hours of events (16 needed), 32 of modules (20 needed), 36 of programmes (108 needed).
    assert "Программы образовательных организаций 108 36 —" in text
    assert "из них образовательные мероприятия 16 84 68" in text
    assert "из них интерактивные модули 20 32 12" in text
