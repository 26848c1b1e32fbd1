"""The society report: its figures equal hand-counted values on known data; only the society's staff and portal
administrators read it (page, PDF, CSV, API); a bad year is refused before anything is computed; the number of
queries does not grow with the rows."""

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from codes.models import IcpCode
from credits.models import CreditEntry
from events.models import EventTransition
from learning_plan.models import Cycle, CycleRule
from modules.models import ModuleCompletion, ModuleTransition
from nmo_portal.calendar import register_zone
from review.models import Status
from societies import report
from societies.models import PreparedReport

from ..factories import EventFactory, ModuleFactory, StaffFactory, UserFactory
from ..pdf import pdf_text

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year - 1


def at(month, day, hour=10, year=YEAR):
    return datetime(year, month, day, hour, tzinfo=register_zone())


def steps(activity, *moves):
    model, column = (EventTransition, "event") if activity.kind == "event" else (ModuleTransition, "module")
    for to_status, moment in moves:
        model.objects.create(**{column: activity}, to_status=to_status, created_at=moment)


def credit(doctor, activity, credits, earned_on, reverses=None):
    return CreditEntry.objects.create(
        doctor=doctor,
        kind=CreditEntry.Kind.REVERSAL if reverses else CreditEntry.Kind.CREDIT,
        source=CreditEntry.Source.CODE if activity.kind == "event" else CreditEntry.Source.MODULE_COMPLETION,
        activity_kind=activity.kind,
        activity_id=activity.pk,
        credits=credits,
        earned_on=earned_on,
        reverses=reverses,
    )


@pytest.fixture
def known(society, other_society, psychiatry, narcology, cardiology, make_codes):
    """Hand-counted: 4 submissions, 2 approvals, 1 rejection, 1 return; review days 4, 2, 10, 6 (median 5);
    credits 6 + 6 − 6 + 3 = 9 (6 in March, 3 in June); 4 codes, 1 activated (25%); 1 module completion;
    1 overdue review; 1 cycle running, under 25%."""
    first = EventFactory(approved=True, specialties=[psychiatry])
    steps(first, (Status.SUBMITTED, at(12, 1, year=YEAR - 1)))  # the year before: not counted
    steps(first, (Status.SUBMITTED, at(3, 1)), (Status.APPROVED, at(3, 5)))
    second = EventFactory(specialties=[narcology], status=Status.REJECTED)
    steps(
        second,
        (Status.SUBMITTED, at(4, 1)),
        (Status.CHANGES_REQUESTED, at(4, 3)),
        (Status.SUBMITTED, at(4, 10)),
        (Status.REJECTED, at(4, 20)),
    )
    module = ModuleFactory(approved=True, specialties=[psychiatry])
    steps(module, (Status.SUBMITTED, at(5, 1)), (Status.APPROVED, at(5, 7)))
    EventFactory(specialties=[psychiatry], status=Status.IN_REVIEW, due_at=timezone.now() - timedelta(days=1))
    # another society's activity: none of its figures count
    foreign = EventFactory(approved=True, specialties=[cardiology])
    steps(foreign, (Status.SUBMITTED, at(3, 1)), (Status.APPROVED, at(3, 30)))

    doctor, colleague = UserFactory(), UserFactory()
    credit(doctor, first, 6, date(YEAR, 3, 10))
    taken_back = credit(colleague, first, 6, date(YEAR, 3, 10))
    credit(colleague, first, -6, date(YEAR, 3, 20), reverses=taken_back)
    credit(colleague, module, 3, date(YEAR, 6, 1))
    credit(doctor, foreign, 5, date(YEAR, 3, 10))
    credit(UserFactory(), first, 6, date(YEAR - 1, 12, 30))  # the year before

    codes = make_codes(first, 4, created_at=at(3, 6))
    IcpCode.objects.filter(pk=codes[0].pk).update(
        status=IcpCode.Status.ACTIVATED, activated_by=doctor, activated_at=at(3, 10)
    )
    make_codes(foreign, 2, created_at=at(3, 6))
    ModuleCompletion.objects.create(module=module, external_id="c-1", email="a@example.org", completed_at=at(6, 1))

    rule = CycleRule.objects.get(is_default=True)
    Cycle.objects.create(
        doctor=doctor, specialty=psychiatry, rule=rule, starts_on=date(YEAR - 1, 1, 1), ends_on=date(YEAR + 3, 12, 31)
    )
    return society


def test_the_figures_equal_the_hand_counted_ones(known):
    figures = report.compute_report(society=known, year=YEAR)

    assert (figures.submitted, figures.approved, figures.rejected, figures.returned) == (4, 2, 1, 1)
    assert figures.credits == 9
    assert figures.credits_by_month[2] == 6
    assert figures.credits_by_month[5] == 3
    assert sum(figures.credits_by_month) == 9
    assert figures.median_review_days == pytest.approx(5.0)
    assert figures.decisions_timed == 4
    assert figures.overdue == 1
    assert (figures.codes_issued, figures.codes_activated, figures.codes_activated_share) == (4, 1, 0.25)
    assert figures.module_completions == 1
    assert (figures.cycles_running, figures.doctors_with_cycles) == (1, 1)
    assert figures.progress == {"lt25": 1, "25to50": 0, "50to75": 0, "ge75": 0}
    assert figures.survey_responses == 0  # no survey of the society opened in the year


def test_one_specialty_counts_only_its_activities(known, narcology):
    figures = report.compute_report(society=known, year=YEAR, specialty=narcology)

    assert (figures.submitted, figures.approved, figures.rejected, figures.returned) == (2, 0, 1, 1)
    assert figures.credits == 0
    assert figures.codes_issued == 0
    assert figures.cycles_running == 0
    assert figures.median_review_days == pytest.approx(6.0)


def test_the_queries_do_not_grow_with_the_rows(known, psychiatry, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        report.compute_report(society=known, year=YEAR)
    for _ in range(5):
        event = EventFactory(approved=True, specialties=[psychiatry])
        steps(event, (Status.SUBMITTED, at(7, 1)), (Status.APPROVED, at(7, 3)))
        credit(UserFactory(), event, 6, date(YEAR, 7, 5))
    with django_assert_max_num_queries(12):
        figures = report.compute_report(society=known, year=YEAR)
    assert figures.approved == 7
    assert figures.credits == 39


def test_each_running_cycle_falls_in_the_bucket_of_its_own_specialtys_credits(known, psychiatry, narcology):
    """Cycles by progress: each cycle counts only the credits of its specialty's activities earned within its
    dates, against its rule's total hours; a doctor with two cycles is one doctor."""
    rule = CycleRule.objects.get(is_default=True)
    quarter = rule.total_hours / 4
    psychiatric = EventFactory(approved=True, specialties=[psychiatry])
    narcological = EventFactory(approved=True, specialties=[narcology])
    halfway, nearly_done = UserFactory(), UserFactory()
    for doctor, specialty in ((halfway, psychiatry), (nearly_done, psychiatry), (nearly_done, narcology)):
        Cycle.objects.create(
            doctor=doctor, specialty=specialty, rule=rule, starts_on=date(YEAR, 1, 1), ends_on=date(YEAR + 4, 12, 31)
        )
    credit(halfway, psychiatric, int(quarter * 2), date(YEAR, 5, 1))  # 50%
    credit(halfway, narcological, int(quarter * 2), date(YEAR, 5, 1))  # another specialty's: not counted
    credit(nearly_done, psychiatric, int(quarter * 3) + 1, date(YEAR, 5, 1))  # over 75% of psychiatry
    credit(nearly_done, narcological, int(quarter) + 1, date(YEAR, 5, 1))  # 25–50% of narcology
    credit(nearly_done, narcological, int(quarter * 3), date(YEAR - 1, 5, 1))  # before the cycle: not counted

    figures = report.compute_report(society=known, year=YEAR)

    # the known doctor's cycle (under 25%) and the three above
    assert (figures.cycles_running, figures.doctors_with_cycles) == (4, 3)
    assert figures.progress == {"lt25": 1, "25to50": 1, "50to75": 1, "ge75": 1}


@pytest.fixture
def api():
    return APIClient()


def url(society):
    return f"/api/v1/societies/{society.pk}/report/"


def test_the_society_staff_read_the_report_as_json(known, society_staff, api):
    api.force_authenticate(society_staff)

    response = api.get(url(known), {"year": YEAR})

    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["year"], data["submitted"], data["approved"], data["credits"]) == (YEAR, 4, 2, 9)
    assert data["median_review_days"] == 5.0
    assert data["codes_activated_share"] == 0.25
    assert data["specialties"] == ["31.08.20", "31.08.21"]


def test_portal_administrators_read_any_society_report(known, api):
    api.force_authenticate(StaffFactory())
    assert api.get(url(known), {"year": YEAR}).status_code == 200


@pytest.mark.parametrize("who", ["other_staff", "doctor"])
def test_another_society_or_a_doctor_is_told_nothing_is_there(known, api, request, who):
    api.force_authenticate(request.getfixturevalue(who))

    response = api.get(url(known), {"year": YEAR})

    assert response.status_code == 404
    assert "submitted" not in response.json()


def test_anonymous_callers_are_refused(known, api):
    assert api.get(url(known)).status_code == 401


@pytest.mark.parametrize(
    ("year", "code"),
    [
        ("abc", "year_invalid"),
        ("20x6", "year_invalid"),
        ("１９９９", "year_invalid"),
        ("9" * 50, "year_invalid"),
        ("1999", "year_out_of_range"),
        (str(timezone.localdate().year + 1), "year_out_of_range"),
    ],
)
def test_a_bad_year_is_a_400_and_nothing_is_computed(known, society_staff, api, monkeypatch, year, code):
    monkeypatch.setattr(report, "compute_report", lambda **kw: pytest.fail("computed for a bad year"))
    api.force_authenticate(society_staff)

    response = api.get(url(known), {"year": year})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert not PreparedReport.objects.exists()


def test_a_specialty_outside_the_society_is_a_400(known, society_staff, api):
    api.force_authenticate(society_staff)
    response = api.get(url(known), {"year": YEAR, "specialty": "31.08.36"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "specialty_not_in_society"


def test_the_report_is_kept_and_renewed_once_older_than_its_age(known, society_staff, client, psychiatry, settings):
    client.force_login(society_staff)
    first = client.get(f"/societies/{known.pk}/report/", {"year": YEAR})
    assert first.status_code == 200
    assert "4" in dict(first.context["rows"]).values()
    EventFactory(approved=True, specialties=[psychiatry])  # not yet in the kept figures
    again = client.get(f"/societies/{known.pk}/report/", {"year": YEAR})
    assert again.context["report"].computed_at == first.context["report"].computed_at
    kept = PreparedReport.objects.get(society=known, year=YEAR, specialty=None)
    kept.computed_at -= timedelta(minutes=settings.SOCIETY_REPORT_MAX_AGE_MINUTES + 1)
    kept.save()
    assert client.get(f"/societies/{known.pk}/report/", {"year": YEAR}).context["report"].computed_at > (
        first.context["report"].computed_at
    )


def test_the_page_shows_figures_and_charts_to_staff(known, society_staff, client):
    client.force_login(society_staff)

    response = client.get(f"/societies/{known.pk}/report/", {"year": YEAR})

    content = response.content.decode()
    assert response.status_code == 200
    assert content.count('role="img"') == 3
    assert "Decisions by outcome" in content or "Решения по исходам" in content
    assert "25.0%" in content


def test_the_page_is_not_there_for_another_society_or_a_doctor(known, other_staff, doctor, client):
    for person in (other_staff, doctor):
        client.force_login(person)
        assert client.get(f"/societies/{known.pk}/report/").status_code == 404


def test_a_bad_year_on_the_page_is_a_400_with_the_reason(known, society_staff, client, monkeypatch):
    monkeypatch.setattr(report, "compute_report", lambda **kw: pytest.fail("computed for a bad year"))
    client.force_login(society_staff)
    response = client.get(f"/societies/{known.pk}/report/", {"year": "1999"})
    assert response.status_code == 400
    assert 'data-code="year_out_of_range"' in response.content.decode()


def test_the_announcements_page_links_the_report(known, society_staff, client):
    client.force_login(society_staff)
    content = client.get(f"/societies/{known.pk}/announcements/").content.decode()
    assert f"/societies/{known.pk}/report/" in content


def test_the_pdf_holds_the_figures(known, society_staff, client, tmp_path):
    client.force_login(society_staff)

    response = client.get(f"/societies/{known.pk}/report/", {"year": YEAR, "format": "pdf"})

    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content, tmp_path, collapse_spaces=True)
    assert known.name in text
    for figure in ("Подано активностей 4", "Начислено кредитов 9", "Медиана экспертизы, дней 5.0", "25.0%"):
        assert figure in text


def test_the_csv_has_its_header_and_rows(known, society_staff, client):
    client.force_login(society_staff)

    response = client.get(f"/societies/{known.pk}/report/", {"year": YEAR, "format": "csv"})

    lines = response.content.decode("utf-8-sig").splitlines()
    assert response["Content-Type"].startswith("text/csv")
    assert lines[0] == "Показатель,Значение"
    assert lines[1] == f"Год,{YEAR}"
    assert "Подано активностей,4" in lines
    assert "Начислено кредитов,9" in lines
    assert "Доля активированных кодов,25.0%" in lines
