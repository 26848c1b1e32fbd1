"""Filing the accreditation portfolio and its outcome, and the stages after filing with their estimated dates."""

from datetime import date, timedelta

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from accounts.models import AuditEvent
from learning_plan import filing, services
from learning_plan.models import AccreditationDocument, Cycle, FilingStage, Portfolio
from learning_plan.portfolio import current_document, specialty_portfolio
from nmo_portal.calendar import today
from nmo_portal.errors import PermissionDenied, PortalError

from ..factories import PASSWORD, AccreditationDocumentFactory, DoctorProfileFactory

pytestmark = pytest.mark.django_db

Filing = Portfolio.Filing


def dates(estimates):
    return [day for _stage, day in estimates]


# The stages' estimated dates ----------------------------------------------------------------------------------


def test_the_production_calendar_is_russias_with_its_moved_days():
    """What the stages rely on from the library: the New Year holidays of 1–8 January, a Saturday made a working
    day by a decree (20 February 2027) and the Monday off it pays for (22 February), 31 December 2026 off."""
    calendar = filing.production_calendar(date(2026, 12, 25))
    assert not any(calendar.is_working_day(date(2027, 1, day)) for day in range(1, 9))
    assert calendar.is_working_day(date(2027, 1, 11))
    assert calendar.is_working_day(date(2027, 2, 20))  # a Saturday
    assert not calendar.is_working_day(date(2027, 2, 22))  # a Monday
    assert not calendar.is_working_day(date(2027, 2, 23))  # a Tuesday, Defender of the Fatherland Day
    assert not calendar.is_working_day(date(2026, 12, 31))  # a Thursday


def test_a_filing_before_the_new_year_holidays_is_estimated_over_them():
    """Filed on Friday 25 December 2026: 20 working days are 28–30 December and 17 days from 11 January, so the
    check ends on 2 February 2027; the commission's last Tuesday of February is the 23rd, a holiday, so it sits on
    the 16th; the extract's 5 working days count the working Saturday of the 20th and skip the 22nd and 23rd."""
    estimates = filing.stage_estimates(date(2026, 12, 25))

    assert [stage.rule for stage, _day in estimates] == ["working_days", "last_weekday", "working_days"]
    assert dates(estimates) == [date(2027, 2, 2), date(2027, 2, 16), date(2027, 2, 24)]


def test_the_commission_sits_on_the_last_tuesday_on_or_after_the_check_else_the_next_months():
    calendar = filing.production_calendar(date(2026, 3, 1))
    assert filing.last_working_weekday(date(2026, 3, 2), 1, calendar) == date(2026, 3, 31)
    assert filing.last_working_weekday(date(2026, 3, 31), 1, calendar) == date(2026, 3, 31)  # that very day
    assert filing.last_working_weekday(date(2026, 4, 1), 1, calendar) == date(2026, 4, 28)
    assert filing.last_working_weekday(date(2027, 2, 17), 1, calendar) == date(2027, 3, 30)  # the 16th has passed


def test_the_stages_durations_are_data():
    FilingStage.objects.filter(rule=FilingStage.Rule.WORKING_DAYS, order=0).update(days=30)
    FilingStage.objects.filter(rule=FilingStage.Rule.LAST_WEEKDAY).update(weekday=3)  # the last Thursday

    first, commission, _extract = dates(filing.stage_estimates(date(2026, 12, 25)))

    assert first == date(2027, 2, 16)  # ten working days later than 2 February
    assert commission == date(2027, 2, 25)
    assert commission.weekday() == 3


# Filing -------------------------------------------------------------------------------------------------------


def _filed(portfolio, days_ago=10):
    return filing.filing_record(portfolio=portfolio, doctor=portfolio.doctor, filed_on=today() - timedelta(days_ago))


def test_filing_makes_the_portfolio_filed_and_read_only():
    document = AccreditationDocumentFactory()
    portfolio = document.portfolio

    filing.filing_record(portfolio=portfolio, doctor=document.doctor, filed_on=today())

    portfolio.refresh_from_db()
    assert (portfolio.filing, portfolio.filed_on) == (Filing.FILED, today())
    assert AuditEvent.objects.filter(action="portfolio.file", object_id=str(portfolio.pk)).exists()
    with pytest.raises(PortalError) as refused:
        services.report_section_save(portfolio=portfolio, doctor=document.doctor, section="duties", text="Лечение")
    assert refused.value.code == "portfolio_filed"


@pytest.mark.parametrize(
    ("filed_on", "code"),
    [
        (lambda document: today() + timedelta(days=1), "filing_in_future"),
        (lambda document: document.issued_on - timedelta(days=1), "filing_before_issue"),
    ],
    ids=["tomorrow", "before-the-document"],
)
def test_filing_on_an_impossible_date_is_refused_and_changes_nothing(filed_on, code):
    document = AccreditationDocumentFactory()

    with pytest.raises(PortalError) as refused:
        filing.filing_record(portfolio=document.portfolio, doctor=document.doctor, filed_on=filed_on(document))

    assert refused.value.code == code
    document.portfolio.refresh_from_db()
    assert (document.portfolio.filing, document.portfolio.filed_on) == (Filing.PREPARING, None)
    assert not AuditEvent.objects.filter(action="portfolio.file").exists()


def test_a_filing_before_the_window_opens_is_recorded_as_the_doctor_says():
    document = AccreditationDocumentFactory(issued_on=today() - timedelta(days=400))

    filing.filing_record(portfolio=document.portfolio, doctor=document.doctor, filed_on=today())

    document.portfolio.refresh_from_db()
    assert document.portfolio.filing == Filing.FILED


def test_a_portfolio_is_filed_once_and_an_outcome_needs_a_filing():
    document = AccreditationDocumentFactory()
    with pytest.raises(PortalError) as not_filed:
        filing.outcome_record(
            portfolio=document.portfolio, doctor=document.doctor, accredited=False, outcome_on=today(), note="Нет"
        )
    assert not_filed.value.code == "portfolio_not_filed"

    _filed(document.portfolio)
    with pytest.raises(PortalError) as again:
        _filed(document.portfolio, days_ago=1)
    assert again.value.code == "portfolio_already_filed"
    document.portfolio.refresh_from_db()
    assert document.portfolio.filed_on == today() - timedelta(days=10)


def test_the_same_filing_sent_twice_is_recorded_once_and_answered_as_done(client):
    document = AccreditationDocumentFactory()
    client.force_login(document.doctor)
    url = reverse("learning_plan:portfolio_file", args=[document.portfolio.pk])
    day = (today() - timedelta(days=3)).isoformat()
    answers = [client.post(url, {"filed_on": day}) for _ in range(2)]
    assert [answer.status_code for answer in answers] == [302, 302]
    assert AuditEvent.objects.filter(action="portfolio.file").count() == 1


def test_the_portfolio_of_a_superseded_document_cannot_be_filed():
    old = AccreditationDocumentFactory(issued_on=today() - timedelta(days=365 * 4 + 200))
    AccreditationDocumentFactory(doctor=old.doctor, issued_on=today() - timedelta(days=30))

    with pytest.raises(PortalError) as refused:
        _filed(old.portfolio)

    assert refused.value.code == "portfolio_superseded"


def test_another_doctors_portfolio_is_refused_by_the_services():
    document = AccreditationDocumentFactory()
    stranger = DoctorProfileFactory().user

    with pytest.raises(PermissionDenied):
        filing.filing_record(portfolio=document.portfolio, doctor=stranger, filed_on=today())
    _filed(document.portfolio)
    with pytest.raises(PermissionDenied):
        filing.outcome_record(
            portfolio=document.portfolio, doctor=stranger, accredited=True, outcome_on=today(), new_number="1"
        )
    document.portfolio.refresh_from_db()
    assert document.portfolio.filing == Filing.FILED
    assert AccreditationDocument.objects.filter(doctor=stranger).count() == 0


# The outcome --------------------------------------------------------------------------------------------------


def test_a_refusal_reopens_the_portfolio_and_it_may_be_filed_again():
    document = AccreditationDocumentFactory()
    portfolio = _filed(document.portfolio, days_ago=40)

    filing.outcome_record(
        portfolio=portfolio,
        doctor=document.doctor,
        accredited=False,
        outcome_on=today() - timedelta(days=5),
        note="Не хватает часов программ",
    )

    portfolio.refresh_from_db()
    assert (portfolio.filing, portfolio.outcome_note) == (Filing.REFUSED, "Не хватает часов программ")
    services.report_section_save(portfolio=portfolio, doctor=document.doctor, section="duties", text="Лечение")
    with pytest.raises(PortalError) as before_refusal:
        _filed(portfolio, days_ago=6)
    assert before_refusal.value.code == "filing_before_refusal"

    _filed(portfolio, days_ago=1)

    portfolio.refresh_from_db()
    assert (portfolio.filing, portfolio.filed_on) == (Filing.FILED, today() - timedelta(days=1))
    assert (portfolio.outcome_on, portfolio.outcome_note) == (None, "")  # the refusal's note is in the audit
    assert AuditEvent.objects.filter(action="portfolio.file", details__again=True).count() == 1
    assert AccreditationDocument.objects.filter(doctor=document.doctor).count() == 1


def test_a_refusal_needs_its_reason():
    document = AccreditationDocumentFactory()
    portfolio = _filed(document.portfolio)

    with pytest.raises(PortalError) as refused:
        filing.outcome_record(portfolio=portfolio, doctor=document.doctor, accredited=False, outcome_on=today())

    assert refused.value.code == "outcome_note_missing"
    portfolio.refresh_from_db()
    assert portfolio.filing == Filing.FILED


def test_an_outcome_before_the_filing_or_in_the_future_is_refused():
    document = AccreditationDocumentFactory()
    portfolio = _filed(document.portfolio)
    for outcome_on, code in [
        (today() - timedelta(days=11), "outcome_before_filing"),
        (today() + timedelta(days=1), "outcome_in_future"),
    ]:
        with pytest.raises(PortalError) as refused:
            filing.outcome_record(
                portfolio=portfolio, doctor=document.doctor, accredited=True, outcome_on=outcome_on, new_number="1"
            )
        assert refused.value.code == code
    portfolio.refresh_from_db()
    assert portfolio.filing == Filing.FILED
    assert AccreditationDocument.objects.filter(doctor=document.doctor).count() == 1


def test_a_positive_outcome_records_the_new_accreditation_and_opens_the_next_cycle(psychiatry):
    doctor = DoctorProfileFactory(specialties=[psychiatry]).user
    issued_on = today() - timedelta(days=365 * 4 + 200)
    old = services.document_record(doctor=doctor, specialty=psychiatry, number="7724 000001", issued_on=issued_on)
    (old_cycle,) = Cycle.objects.filter(doctor=doctor)
    assert (old_cycle.starts_on, old_cycle.document) == (issued_on, old)
    portfolio = _filed(old.portfolio, days_ago=30)
    accredited_on = today() - timedelta(days=2)

    filing.outcome_record(
        portfolio=portfolio, doctor=doctor, accredited=True, outcome_on=accredited_on, new_number=" 7724 000777 "
    )

    portfolio.refresh_from_db()
    assert (portfolio.filing, portfolio.outcome_on) == (Filing.ACCREDITED, accredited_on)
    new = current_document(doctor, psychiatry)
    assert (new.number, new.issued_on, new.kind) == ("7724 000777", accredited_on, "accreditation")
    assert new.portfolio.filing == Filing.PREPARING
    old_cycle.refresh_from_db()
    assert old_cycle.ends_on == accredited_on - timedelta(days=1)
    next_cycle = Cycle.objects.get(doctor=doctor, document=new)
    assert next_cycle.starts_on == accredited_on
    assert AuditEvent.objects.filter(action="portfolio.outcome", details__new_document=new.pk).exists()
    assert AuditEvent.objects.filter(action="cycle.end", object_id=str(old_cycle.pk)).exists()
    with pytest.raises(PortalError) as read_only:
        services.report_section_save(portfolio=portfolio, doctor=doctor, section="duties", text="Лечение")
    assert read_only.value.code == "portfolio_filed"


def test_a_positive_outcome_takes_the_next_cycle_the_doctor_had_already_added(psychiatry):
    doctor = DoctorProfileFactory(specialties=[psychiatry]).user
    old = services.document_record(
        doctor=doctor, specialty=psychiatry, number="1", issued_on=today() - timedelta(days=365 * 4 + 200)
    )
    old_cycle = Cycle.objects.get(doctor=doctor)
    planned = services.cycle_add(doctor=doctor, specialty=psychiatry, starts_on=old_cycle.ends_on + timedelta(days=1))
    portfolio = _filed(old.portfolio, days_ago=30)

    filing.outcome_record(portfolio=portfolio, doctor=doctor, accredited=True, outcome_on=today(), new_number="2")

    planned.refresh_from_db()
    assert planned.document == current_document(doctor, psychiatry)
    assert Cycle.objects.filter(doctor=doctor).count() == 2


def test_a_positive_outcome_without_the_new_number_records_nothing():
    document = AccreditationDocumentFactory()
    portfolio = _filed(document.portfolio)

    with pytest.raises(PortalError) as refused:
        filing.outcome_record(portfolio=portfolio, doctor=document.doctor, accredited=True, outcome_on=today())

    assert refused.value.code == "new_document_number_missing"
    portfolio.refresh_from_db()
    assert portfolio.filing == Filing.FILED
    assert AccreditationDocument.objects.filter(doctor=document.doctor).count() == 1


def test_an_accredited_portfolio_is_not_filed_again():
    document = AccreditationDocumentFactory()
    portfolio = _filed(document.portfolio)
    filing.outcome_record(
        portfolio=portfolio, doctor=document.doctor, accredited=True, outcome_on=today(), new_number="9"
    )

    with pytest.raises(PortalError) as refused:
        filing.filing_record(portfolio=portfolio, doctor=document.doctor, filed_on=today())
    with pytest.raises(PortalError) as recorded:
        filing.outcome_record(
            portfolio=portfolio, doctor=document.doctor, accredited=False, outcome_on=today(), note="x"
        )

    assert (refused.value.code, recorded.value.code) == ("portfolio_accredited", "outcome_already_recorded")
    portfolio.refresh_from_db()
    assert portfolio.filing == Filing.ACCREDITED


# The pages ----------------------------------------------------------------------------------------------------


@pytest.fixture
def signed_in(client):
    document = AccreditationDocumentFactory()
    client.login(username=document.doctor.email, password=PASSWORD)
    return client, document


def test_the_filing_form_records_the_filing_and_leads_back_to_the_portfolio(signed_in):
    client, document = signed_in
    url = reverse("learning_plan:portfolio_file", args=[document.portfolio.pk])

    response = client.post(url, {"filed_on": today().isoformat()})

    assert response.status_code == 302
    assert response["Location"] == filing.portfolio_path("31.08.20")
    assert response["Location"].startswith("/me/portfolio/31.08.20")
    document.portfolio.refresh_from_db()
    assert document.portfolio.filing == Filing.FILED


@pytest.mark.parametrize(
    "data",
    [{"filed_on": "2126-01-01"}, {"filed_on": "вчера"}, {"filed_on": "2026-01-01\x00"}, {}],
    ids=["future", "not-a-date", "nul", "empty"],
)
def test_a_bad_filing_date_answers_400_with_the_form_and_records_nothing(signed_in, data):
    client, document = signed_in

    response = client.post(reverse("learning_plan:portfolio_file", args=[document.portfolio.pk]), data)

    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode()
    document.portfolio.refresh_from_db()
    assert document.portfolio.filing == Filing.PREPARING


def test_the_outcome_form_records_an_accreditation(signed_in):
    client, document = signed_in
    _filed(document.portfolio)

    response = client.post(
        reverse("learning_plan:portfolio_outcome", args=[document.portfolio.pk]),
        {"outcome": "accredited", "outcome_on": today().isoformat(), "new_number": "7724 123456"},
    )

    assert response.status_code == 302
    assert current_document(document.doctor, document.specialty).number == "7724 123456"


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        ({"outcome": "refused", "note": "   "}, "Say why the accreditation was refused."),
        ({"outcome": "accredited", "new_number": "x" * 61}, "at most 60 characters"),
        ({"outcome": "maybe"}, "Select a valid choice"),
    ],
    ids=["refusal-without-reason", "number-too-long", "unknown-outcome"],
)
def test_a_bad_outcome_answers_400_with_what_is_wrong_and_records_nothing(signed_in, data, shown):
    client, document = signed_in
    document.doctor.language = "en"
    document.doctor.save(update_fields=["language"])
    _filed(document.portfolio)

    response = client.post(
        reverse("learning_plan:portfolio_outcome", args=[document.portfolio.pk]),
        {"outcome_on": today().isoformat(), **data},
    )

    assert response.status_code == 400
    assert shown in response.content.decode()
    document.portfolio.refresh_from_db()
    assert document.portfolio.filing == Filing.FILED
    assert AccreditationDocument.objects.filter(doctor=document.doctor).count() == 1


def test_another_doctors_portfolio_is_404_and_an_anonymous_request_goes_to_sign_in(client):
    document = AccreditationDocumentFactory()
    stranger = DoctorProfileFactory().user
    urls = [
        reverse("learning_plan:portfolio_file", args=[document.portfolio.pk]),
        reverse("learning_plan:portfolio_outcome", args=[document.portfolio.pk]),
    ]
    data = {"filed_on": today().isoformat(), "outcome": "refused", "outcome_on": today().isoformat(), "note": "x"}

    for url in urls:
        anonymous = client.post(url, data)
        assert anonymous.status_code == 302
        assert reverse("account_login") in anonymous["Location"]
    client.login(username=stranger.email, password=PASSWORD)
    for url in urls:
        assert client.post(url, data).status_code == 404
        assert client.get(url).status_code == 405
    document.portfolio.refresh_from_db()
    assert document.portfolio.filing == Filing.PREPARING


def test_the_forms_need_the_csrf_token(signed_in):
    from django.test import Client

    _client, document = signed_in
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(document.doctor)

    response = strict.post(
        reverse("learning_plan:portfolio_file", args=[document.portfolio.pk]), {"filed_on": today().isoformat()}
    )

    assert response.status_code == 403
    document.portfolio.refresh_from_db()
    assert document.portfolio.filing == Filing.PREPARING


def _panel(document, language):
    request = RequestFactory().get("/")
    request.user = document.doctor
    found = specialty_portfolio(doctor=document.doctor, specialty=document.specialty)
    with translation.override(language):
        return render_to_string("learning_plan/portfolio/_filing.html", {"p": found}, request=request)


@pytest.mark.parametrize(
    ("language", "words"),
    [("ru", ["Подача", "ориентировочно", "Отметить подачу"]), ("en", ["Filing", "estimated", "Record the filing"])],
)
def test_the_filing_panel_shows_the_stages_as_estimates_in_both_languages(language, words):
    document = AccreditationDocumentFactory()

    page = _panel(document, language)

    for word in words:
        assert word in page
    assert page.count("data-estimate=") == FilingStage.objects.count()
    assert f'action="{reverse("learning_plan:portfolio_file", args=[document.portfolio.pk])}"' in page


def test_the_filing_panel_of_a_filed_portfolio_estimates_from_the_filing_and_offers_the_outcome():
    document = AccreditationDocumentFactory()
    portfolio = _filed(document.portfolio, days_ago=3)

    page = _panel(document, "en")

    first = dates(filing.stage_estimates(portfolio.filed_on))[0]
    assert f'data-estimate="{first.isoformat()}"' in page
    assert reverse("learning_plan:portfolio_outcome", args=[portfolio.pk]) in page
    assert reverse("learning_plan:portfolio_file", args=[portfolio.pk]) not in page


def test_the_filing_panel_of_a_refused_portfolio_shows_the_reason_and_offers_filing_again():
    document = AccreditationDocumentFactory()
    portfolio = _filed(document.portfolio)
    filing.outcome_record(
        portfolio=portfolio, doctor=document.doctor, accredited=False, outcome_on=today(), note="Нет отзыва <b>"
    )

    page = _panel(document, "ru")

    assert "Нет отзыва &lt;b&gt;" in page
    assert reverse("learning_plan:portfolio_file", args=[portfolio.pk]) in page
