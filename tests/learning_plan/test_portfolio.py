"""The accreditation portfolio as the doctor reads it: the document's window, readiness under the alternatives
of what accreditation needs, and the education table of the period."""

from datetime import date

import pytest
from django.urls import reverse

from accounts.models import WorkRecord
from credits import services as credits_services
from learning_plan import services
from learning_plan.models import AccreditationDocument, Cycle, Portfolio, ProgrammeEntry, ReportSection
from learning_plan.portfolio import (
    Missing,
    Window,
    expiry_of,
    specialty_portfolio,
    window_opens_on,
    window_state,
)
from learning_plan.selectors import learning_plan
from nmo_portal.calendar import add_months
from nmo_portal.errors import PortalError

from ..factories import DoctorProfileFactory, EventFactory, ModuleFactory

pytestmark = pytest.mark.django_db

ISSUED = date(2022, 3, 10)  # expires 10.03.2027; with a 12-month window, it opens 10.03.2026


def credit(doctor, activity, hours, on):
    return credits_services.ledger_append(
        doctor=doctor,
        kind="credit",
        source="code" if activity.kind == "event" else "module_completion",
        credits=hours,
        earned_on=on,
        actor=None,
        activity=activity,
    )


def programme(doctor, specialty, hours, on, name="Программа"):
    return ProgrammeEntry.objects.create(
        doctor=doctor,
        specialty=specialty,
        name=name,
        organization="РМАНПО",
        hours=hours,
        starts_on=on,
        ends_on=on,
        document_number=f"ПК {hours}-{on:%Y%m%d}",
    )


def work(doctor, specialty, start=date(2015, 1, 1), end=None):
    return WorkRecord.objects.create(
        doctor=doctor,
        employer="ГБУЗ ПКБ № 1",
        employer_inn="7701551231",
        region="77",
        position="Врач-психиатр",
        specialty=specialty,
        started_on=start,
        ended_on=end,
    )


@pytest.fixture
def document(doctor, psychiatry):
    return services.document_record(doctor=doctor, specialty=psychiatry, number="7722 0001", issued_on=ISSUED)


def complete_everything_but_hours(doctor, psychiatry, document):
    work(doctor, psychiatry)
    for section in ReportSection.Section.values:
        services.report_section_save(portfolio=document.portfolio, doctor=doctor, section=section, text="Текст")
    services.agreement_record(portfolio=document.portfolio, doctor=doctor, state="agreed")


def readiness(doctor, psychiatry, day=date(2026, 6, 1)):
    return specialty_portfolio(doctor=doctor, specialty=psychiatry, day=day)


# The document and its window ------------------------------------------------------------------------------


def test_a_document_expires_five_years_after_issue_and_its_window_opens_twelve_months_before(document):
    assert document.expires_on == date(2027, 3, 10)
    assert window_opens_on(document.expires_on) == date(2026, 3, 10)
    assert window_state(document, date(2026, 3, 9)) == Window.NOT_OPEN  # the day before it opens
    assert window_state(document, date(2026, 3, 10)) == Window.OPEN  # the day it opens
    assert window_state(document, date(2027, 3, 9)) == Window.OPEN  # the last day before expiry
    assert window_state(document, date(2027, 3, 10)) == Window.EXPIRED  # expiry closes it


def test_a_leap_day_issue_expires_on_28_february_as_the_civil_code_counts_years():
    assert expiry_of(date(2024, 2, 29)) == date(2029, 2, 28)
    # an anniversary that falls on a leap year keeps the day; a window counted back to February keeps the 28th
    assert expiry_of(date(2023, 2, 28)) == date(2028, 2, 28)
    assert window_opens_on(date(2029, 2, 28)) == date(2028, 2, 28)
    assert add_months(date(2027, 3, 31), -1) == date(2027, 2, 28)
    assert add_months(date(2028, 3, 31), -1) == date(2028, 2, 29)


def test_the_window_length_is_a_setting(settings, document):
    settings.ACCREDITATION_WINDOW_MONTHS = 3
    assert window_opens_on(document.expires_on) == date(2026, 12, 10)
    assert window_state(document, date(2026, 12, 9)) == Window.NOT_OPEN


def test_recording_a_document_opens_the_cycle_of_its_five_years(doctor, psychiatry, document):
    cycle = Cycle.objects.get(doctor=doctor, specialty=psychiatry)
    assert (cycle.starts_on, cycle.ends_on, cycle.document) == (ISSUED, date(2027, 3, 9), document)
    assert Portfolio.objects.get(document=document).doctor == doctor


def test_a_document_joins_the_cycle_that_holds_its_date_of_issue(doctor, psychiatry):
    cycle = services.cycle_add(doctor=doctor, specialty=psychiatry, starts_on=date(2022, 1, 1))
    document = services.document_record(doctor=doctor, specialty=psychiatry, number="1", issued_on=date(2022, 2, 1))
    cycle.refresh_from_db()
    assert cycle.document == document
    assert Cycle.objects.filter(doctor=doctor).count() == 1


def test_a_document_issued_in_the_future_or_twice_is_refused_and_nothing_is_written(doctor, psychiatry, document):
    with pytest.raises(PortalError) as refused:
        services.document_record(doctor=doctor, specialty=psychiatry, number="2", issued_on=date(2099, 1, 1))
    assert refused.value.code == "document_in_future"
    with pytest.raises(PortalError) as refused:
        services.document_record(doctor=doctor, specialty=psychiatry, number="3", issued_on=ISSUED)
    assert refused.value.code == "document_exists"
    assert AccreditationDocument.objects.filter(doctor=doctor).count() == 1


def test_a_doctor_without_a_document_is_told_exactly_what_to_add(doctor, psychiatry):
    found = readiness(doctor, psychiatry)
    codes = [gap.code for gap in found.missing]
    assert codes[:4] == [Missing.DOCUMENT, Missing.WORK_RECORD, Missing.REPORT, Missing.AGREEMENT]
    assert "номер и дату выдачи" in found.missing[0].message
    assert found.window is None
    assert not found.ready


# Readiness under the alternatives ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("programme_hours", "nmo_hours", "ready", "gaps"),
    [
        (144, 0, True, []),
        (74, 70, True, []),
        (70, 74, False, [("programme", 4)]),
        (100, 44, False, [("nmo", 26)]),
    ],
)
def test_readiness_under_the_alternatives(doctor, psychiatry, document, programme_hours, nmo_hours, ready, gaps):
    complete_everything_but_hours(doctor, psychiatry, document)
    programme(doctor, psychiatry, programme_hours, date(2023, 5, 1))
    if nmo_hours:
        credit(
            doctor,
            EventFactory(approved=True, hours=nmo_hours, credits_requested=nmo_hours),
            nmo_hours,
            date(2024, 1, 1),
        )
    found = readiness(doctor, psychiatry)
    assert found.ready is ready
    assert [(gap.component, gap.hours) for gap in found.missing if gap.code == Missing.HOURS] == gaps
    assert [gap.code for gap in found.missing] == [Missing.HOURS] * len(gaps)


def test_the_plan_keeps_the_cycle_rule_while_the_portfolio_judges_by_the_alternatives(doctor, psychiatry, document):
    complete_everything_but_hours(doctor, psychiatry, document)
    programme(doctor, psychiatry, 74, date(2023, 5, 1))
    credit(doctor, EventFactory(approved=True, hours=70, credits_requested=70), 70, date(2024, 1, 1))
    assert readiness(doctor, psychiatry).ready
    (cycle,) = learning_plan(doctor=doctor).cycles
    parts = {c.component.counts: c for c in cycle.components}
    # the default rule caps each block at its own requirement: 74 of 108 programme hours, 36 of 36 НМО
    assert (parts["programme"].earned, parts["programme"].required) == (74, 108)
    assert (parts["nmo"].counted, cycle.counted, cycle.remaining) == (36, 110, 34)


def test_the_report_counts_once_every_section_has_text_and_drafts_keep_it_missing(doctor, psychiatry, document):
    work(doctor, psychiatry)
    services.report_section_save(portfolio=document.portfolio, doctor=doctor, section="duties", text="Черновик")
    assert Missing.REPORT in [gap.code for gap in readiness(doctor, psychiatry).missing]
    for section in ReportSection.Section.values:
        services.report_section_save(portfolio=document.portfolio, doctor=doctor, section=section, text="Готово")
    assert Missing.REPORT not in [gap.code for gap in readiness(doctor, psychiatry).missing]


@pytest.mark.parametrize(
    ("state", "extra", "counts"),
    [
        ("requested", {}, False),
        ("refused", {"reason": "Не согласен с цифрами"}, False),
        ("agreed", {}, True),
        ("not_needed", {"not_needed": "self_employed"}, True),
    ],
)
def test_the_employer_agreement_counts_when_agreed_or_not_needed(doctor, psychiatry, document, state, extra, counts):
    services.agreement_record(portfolio=document.portfolio, doctor=doctor, state=state, **extra)
    missing = [gap.code for gap in readiness(doctor, psychiatry).missing]
    assert (Missing.AGREEMENT not in missing) is counts


@pytest.mark.parametrize(
    ("state", "extra", "code"),
    [
        ("refused", {}, "agreement_reason_missing"),
        ("not_needed", {}, "agreement_not_needed_reason_missing"),
        ("not_needed", {"not_needed": "retired"}, "agreement_not_needed_reason_missing"),
        ("not_recorded", {}, "agreement_state_unknown"),
        ("refused", {"reason": "x" * 2001}, "agreement_reason_invalid"),
    ],
)
def test_an_agreement_without_its_reason_is_refused_and_changes_nothing(doctor, document, state, extra, code):
    with pytest.raises(PortalError) as refused:
        services.agreement_record(portfolio=document.portfolio, doctor=doctor, state=state, **extra)
    assert refused.value.code == code
    document.portfolio.refresh_from_db()
    assert document.portfolio.agreement == "not_recorded"


def test_report_sections_are_bounded_and_belong_to_their_doctor(doctor, document):
    with pytest.raises(PortalError) as refused:
        services.report_section_save(portfolio=document.portfolio, doctor=doctor, section="work", text="x" * 20_001)
    assert refused.value.code == "report_section_too_long"
    with pytest.raises(PortalError) as refused:
        services.report_section_save(portfolio=document.portfolio, doctor=doctor, section="work", text="a\x00b")
    assert refused.value.code == "report_section_invalid"
    with pytest.raises(PortalError) as refused:
        services.report_section_save(portfolio=document.portfolio, doctor=doctor, section="poem", text="a")
    assert refused.value.code == "report_section_unknown"
    other = DoctorProfileFactory().user
    with pytest.raises(PortalError):
        services.report_section_save(portfolio=document.portfolio, doctor=other, section="work", text="чужое")
    assert not ReportSection.objects.exists()


# The education table -------------------------------------------------------------------------------------


def test_the_table_holds_every_standing_credit_of_the_period_and_nothing_else(doctor, psychiatry, cardiology, document):
    inside = EventFactory(approved=True, hours=6, credits_requested=6, title="Школа психиатра")
    module = ModuleFactory(approved=True, hours=4, credits_requested=4, title="Модуль по депрессии")
    both = EventFactory(approved=True, hours=3, credits_requested=3, title="Смежная конференция")
    both.specialties.add(cardiology)
    other = EventFactory(approved=True, hours=5, credits_requested=5, title="Кардиология сегодня")
    other.specialties.set([cardiology])
    before = EventFactory(approved=True, hours=2, credits_requested=2, title="До периода")
    reversed_event = EventFactory(approved=True, hours=7, credits_requested=7, title="Отозванный код")

    credit(doctor, inside, 6, date(2023, 4, 1))
    credit(doctor, module, 4, date(2024, 4, 1))
    credit(doctor, both, 3, date(2024, 5, 1))
    credit(doctor, other, 5, date(2024, 6, 1))
    credit(doctor, before, 2, date(2022, 3, 9))  # the day before the document's date of issue
    taken_back = credit(doctor, reversed_event, 7, date(2024, 7, 1))
    credits_services.ledger_reverse(credit=taken_back, doctor=doctor, actor=None, comment="revoked")
    programme(doctor, psychiatry, 36, date(2025, 1, 20), name="ПК по психиатрии")
    programme(doctor, cardiology, 36, date(2025, 1, 20), name="ПК по кардиологии")

    titles = {item.title: item for item in readiness(doctor, psychiatry).items}
    assert set(titles) == {"Школа психиатра", "Модуль по депрессии", "Смежная конференция", "ПК по психиатрии"}
    assert (titles["Школа психиатра"].origin, titles["Школа психиатра"].kind) == ("register", "event")
    assert titles["ПК по психиатрии"].origin == "programme"
    assert titles["ПК по психиатрии"].reference.startswith("ПК 36")
    assert titles["Школа психиатра"].organization == str(inside.organization)
    # an activity of several specialties counts in each of them
    cardiology_titles = {item.title for item in readiness(doctor, cardiology).items}
    assert cardiology_titles == set()  # no cardiology document: no period, no table
    services.document_record(doctor=doctor, specialty=cardiology, number="К-1", issued_on=ISSUED)
    cardiology_titles = {item.title for item in readiness(doctor, cardiology).items}
    assert cardiology_titles == {"Смежная конференция", "Кардиология сегодня", "ПК по кардиологии"}


# Pages and the API ---------------------------------------------------------------------------------------


def test_the_portfolio_page_shows_window_readiness_and_table(client, doctor, psychiatry, document):
    credit(
        doctor, EventFactory(approved=True, hours=6, credits_requested=6, title="Школа психиатра"), 6, date(2023, 4, 1)
    )
    client.force_login(doctor)
    page = client.get(reverse("learning_plan:portfolio", args=[psychiatry.code]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-missing="work_record_missing"' in html
    assert 'data-missing="hours_short"' in html
    assert "Школа психиатра" in html
    assert "7722 0001" in html
    # the list of specialties leads straight to the only one
    assert client.get(reverse("learning_plan:portfolio_list")).url == reverse(
        "learning_plan:portfolio", args=[psychiatry.code]
    )


def test_writing_a_report_section_and_the_agreement_through_the_page(client, doctor, psychiatry, document):
    client.force_login(doctor)
    portfolio = document.portfolio
    answer = client.post(
        reverse("learning_plan:report_section", args=[portfolio.pk, "duties"]), {"duties-text": "Веду приём"}
    )
    assert answer.status_code == 302
    assert ReportSection.objects.get(portfolio=portfolio, section="duties").text == "Веду приём"
    answer = client.post(reverse("learning_plan:agreement", args=[portfolio.pk]), {"state": "refused", "reason": ""})
    assert answer.status_code == 302
    portfolio.refresh_from_db()
    assert portfolio.agreement == "not_recorded"  # refused without a reason: told, and nothing changed
    client.post(reverse("learning_plan:agreement", args=[portfolio.pk]), {"state": "not_needed", "not_needed": "head"})
    portfolio.refresh_from_db()
    assert (portfolio.agreement, portfolio.agreement_not_needed) == ("not_needed", "head")


def test_recording_the_document_through_the_page(client, doctor, psychiatry):
    client.force_login(doctor)
    url = reverse("learning_plan:document_add", args=[psychiatry.code])
    bad = client.post(url, {"kind": "accreditation", "number": "", "issued_on": "2022-03-10"})
    assert bad.status_code == 400
    assert not AccreditationDocument.objects.exists()
    good = client.post(url, {"kind": "accreditation", "number": "7722 0001", "issued_on": "2022-03-10"})
    assert good.status_code == 302
    assert AccreditationDocument.objects.get(doctor=doctor).expires_on == date(2027, 3, 10)


def test_another_doctors_portfolio_is_not_found_and_anonymous_requests_are_refused(client, psychiatry, document):
    stranger = DoctorProfileFactory(specialties=[]).user
    portfolio = document.portfolio
    client.force_login(stranger)
    assert client.get(reverse("learning_plan:portfolio", args=[psychiatry.code])).status_code == 404
    for url, data in [
        (reverse("learning_plan:report_section", args=[portfolio.pk, "duties"]), {"duties-text": "чужое"}),
        (reverse("learning_plan:agreement", args=[portfolio.pk]), {"state": "agreed"}),
    ]:
        assert client.post(url, data).status_code == 404
    assert not ReportSection.objects.exists()
    portfolio.refresh_from_db()
    assert portfolio.agreement == "not_recorded"
    client.logout()
    answer = client.get(reverse("learning_plan:portfolio", args=[psychiatry.code]))
    assert answer.status_code == 302
    assert "login" in answer.url
    assert client.get("/api/v1/me/portfolio/").status_code in (401, 403)


def test_the_api_gives_each_specialty_with_stable_codes(client, doctor, psychiatry, document):
    programme(doctor, psychiatry, 70, date(2023, 5, 1))
    credit(doctor, EventFactory(approved=True, hours=74, credits_requested=74), 74, date(2024, 1, 1))
    client.force_login(doctor)
    body = client.get("/api/v1/me/portfolio/").json()
    (entry,) = body["portfolios"]
    assert entry["specialty"] == psychiatry.code
    assert (entry["expires_on"], entry["window_opens_on"]) == ("2027-03-10", "2026-03-10")
    assert entry["ready"] is False
    assert {"code": "hours_short", "component": "programme", "hours": 4} in entry["missing"]
    assert {"code": "work_record_missing"} in entry["missing"]
    assert {"component": "programme", "required": 74, "earned": 70} in entry["hours"]
    assert {item["origin"] for item in entry["items"]} == {"register", "programme"}


# What review found -----------------------------------------------------------------------------------------


def test_a_programme_entered_and_held_by_the_ministry_counts_once(doctor, psychiatry, document):
    from ministry_sync.models import HeldRecord

    programme(doctor, psychiatry, 36, date(2024, 5, 1), name="ПК по психиатрии")
    for key, ref in [("elsewhere-1", "ПК 36-20240501"), ("elsewhere-2", "")]:
        HeldRecord.objects.create(
            doctor=doctor,
            idempotency_key=key,
            kind=HeldRecord.Kind.PROGRAMME,
            hours=36,
            title="Психиатрия (ПК)",
            earned_on=date(2024, 5, 1),
            specialty_code=psychiatry.code,
            source_ref=ref,
        )
    HeldRecord.objects.create(
        doctor=doctor,
        idempotency_key="elsewhere-3",
        kind=HeldRecord.Kind.PROGRAMME,
        hours=18,
        title="Другая программа",
        earned_on=date(2024, 9, 1),
        specialty_code=psychiatry.code,
    )
    items = readiness(doctor, psychiatry).items
    assert sorted((item.origin, item.hours) for item in items) == [("ministry", 18), ("programme", 36)]


def test_an_alternative_without_components_or_none_in_force_makes_nobody_ready(doctor, psychiatry, document):
    from learning_plan.models import AccreditationAlternative

    complete_everything_but_hours(doctor, psychiatry, document)
    AccreditationAlternative.objects.create(name="Пустой вариант", order=0)
    found = readiness(doctor, psychiatry)
    assert not found.ready
    assert found.closest.alternative.name != "Пустой вариант"
    AccreditationAlternative.objects.update(is_active=False)
    found = readiness(doctor, psychiatry)
    assert [(gap.code, gap.component) for gap in found.missing] == [(Missing.HOURS, None)]
    assert not found.ready


def test_the_period_ends_the_day_before_expiry_as_the_cycle_does(doctor, psychiatry, document):
    programme(doctor, psychiatry, 10, date(2027, 3, 9), name="Накануне")
    programme(doctor, psychiatry, 20, date(2027, 3, 10), name="В день истечения")
    found = readiness(doctor, psychiatry)
    assert [item.title for item in found.items] == ["Накануне"]
    assert found.period_ends_on == date(2027, 3, 9) == Cycle.objects.get(document=document).ends_on


def test_a_mistyped_document_is_corrected_with_its_cycle_until_it_is_filed(client, doctor, psychiatry, document):
    from learning_plan.filing import filing_record

    client.force_login(doctor)
    url = reverse("learning_plan:document_correct", args=[document.portfolio.pk])
    answer = client.post(
        url, {"correct-kind": "certificate", "correct-number": "7722 0002", "correct-issued_on": "2021-12-01"}
    )
    assert answer.status_code == 302
    document.refresh_from_db()
    assert (document.kind, document.number, document.expires_on) == ("certificate", "7722 0002", date(2026, 12, 1))
    cycle = Cycle.objects.get(document=document)
    assert (cycle.starts_on, cycle.ends_on) == (date(2021, 12, 1), date(2026, 11, 30))

    filing_record(portfolio=document.portfolio, doctor=doctor, filed_on=date(2026, 2, 1))
    client.post(url, {"correct-kind": "accreditation", "correct-number": "X", "correct-issued_on": "2021-11-01"})
    document.refresh_from_db()
    assert (document.number, document.issued_on) == ("7722 0002", date(2021, 12, 1))  # filed: nothing changed

    stranger = DoctorProfileFactory(specialties=[psychiatry]).user
    client.force_login(stranger)
    assert client.post(url, {"correct-kind": "accreditation", "correct-number": "Y"}).status_code == 404


def test_a_report_saved_from_a_page_loaded_before_the_filing_is_refused(doctor, psychiatry, document):
    from learning_plan.filing import filing_record

    stale = Portfolio.objects.get(pk=document.portfolio.pk)
    filing_record(portfolio=document.portfolio, doctor=doctor, filed_on=date(2026, 4, 1))
    with pytest.raises(PortalError) as refused:
        services.report_section_save(portfolio=stale, doctor=doctor, section="duties", text="поздно")
    assert refused.value.code == "portfolio_filed"
    with pytest.raises(PortalError):
        services.agreement_record(portfolio=stale, doctor=doctor, state="agreed")
    assert not ReportSection.objects.exists()
    assert Portfolio.objects.get(pk=stale.pk).agreement == "not_recorded"
