"""The society report prepared in the background: with a worker, a reader never waits for the figures — the first
one is told they are being prepared (page and API, 202), the preparation is queued once however many ask at once,
and the kept figures are shown as of when while newer ones are prepared; a lost or unqueued preparation is queued
again; the nightly run queues every society's reports; an administrator may queue one again."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditEvent, Organization
from credits.models import CreditEntry
from nmo_portal.celery import app as celery_app
from nmo_portal.errors import PortalError
from societies import report, report_prepared
from societies.models import PreparedReport

from ..factories import EventFactory, OrganizationFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year


@pytest.fixture
def worker(monkeypatch):
    """A broker and a worker stand behind the portal: tasks are queued, not run; `queued` lists what was."""
    queued: list[int] = []
    celery_app.conf.task_always_eager = False  # the autouse isolation fixture turns it back
    expiries: list[float] = []

    def apply_async(args, expires):
        queued.append(args[0])
        expiries.append(expires)

    monkeypatch.setattr(report_prepared.prepare_society_report, "apply_async", apply_async)
    yield queued
    # a message that waited longer than a claim's life is dropped, so that a claim given up is never doubled
    assert all(0 < expires <= report_prepared.REQUEUE_AFTER.total_seconds() for expires in expiries)


@pytest.fixture
def credited(society, psychiatry):
    """One approved psychiatry event with 6 credits earned this year."""
    event = EventFactory(approved=True, specialties=[psychiatry])
    CreditEntry.objects.create(
        doctor=UserFactory(),
        kind=CreditEntry.Kind.CREDIT,
        source=CreditEntry.Source.CODE,
        activity_kind=event.kind,
        activity_id=event.pk,
        credits=6,
        earned_on=date(YEAR, 1, 1),
    )
    return society


def page(society, **params):
    return f"/societies/{society.pk}/report/", {"year": YEAR, **params}


def test_with_a_worker_the_first_reader_is_told_it_is_being_prepared_and_nothing_is_computed_in_the_request(
    credited, society_staff, client, worker, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(report_prepared, "compute_report", lambda **kw: pytest.fail("computed in the request"))
    client.force_login(society_staff)

    with django_capture_on_commit_callbacks(execute=True):
        first = client.get(*page(credited))
        again = client.get(*page(credited))  # a second click before the worker is done
        as_file = client.get(*page(credited, format="pdf"))

    assert first.status_code == again.status_code == as_file.status_code == 202
    assert 'data-state="preparing"' in first.content.decode()
    assert as_file["Content-Type"].startswith("text/html")
    row = PreparedReport.objects.get(society=credited, year=YEAR, specialty=None)
    assert worker == [row.pk]  # queued once
    assert row.figures is None
    assert row.queued_at is not None


def test_the_worker_prepares_it_and_the_next_reader_gets_the_figures(
    credited, society_staff, client, worker, django_capture_on_commit_callbacks
):
    client.force_login(society_staff)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(*page(credited))

    assert report_prepared.prepare_society_report(worker[0]) is True  # what the worker runs

    response = client.get(*page(credited))
    assert response.status_code == 200
    assert ("Начислено кредитов", "6") in response.context["rows"]
    assert 'data-state="preparing"' not in response.content.decode()
    row = PreparedReport.objects.get(pk=worker[0])
    assert row.queued_at is None
    assert row.figures["credits"] == 6
    assert len(worker) == 1  # fresh figures queue nothing


def test_old_figures_are_shown_as_of_when_while_newer_ones_are_prepared(
    credited, society_staff, client, worker, settings, psychiatry, django_capture_on_commit_callbacks
):
    client.force_login(society_staff)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(*page(credited))
    report_prepared.report_prepare(worker[0])
    old = timezone.now() - timedelta(minutes=settings.SOCIETY_REPORT_MAX_AGE_MINUTES + 5)
    PreparedReport.objects.filter(pk=worker[0]).update(computed_at=old)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(*page(credited))

    assert response.status_code == 200
    assert response.context["report"].credits == 6
    assert response.context["preparing"] is True
    assert "Готовятся более новые цифры." in response.content.decode()
    assert worker == [worker[0], worker[0]]


def test_a_lost_preparation_is_queued_again_but_a_recent_one_is_not(
    credited, worker, django_capture_on_commit_callbacks
):
    row = PreparedReport.objects.create(society=credited, year=YEAR, queued_at=timezone.now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert report_prepared.prepared_report(society=credited, year=YEAR).preparing is True
    assert worker == []  # a worker has it

    PreparedReport.objects.filter(pk=row.pk).update(queued_at=timezone.now() - report_prepared.REQUEUE_AFTER)
    with django_capture_on_commit_callbacks(execute=True):
        report_prepared.prepared_report(society=credited, year=YEAR)
    assert worker == [row.pk]


def test_a_preparation_the_broker_refused_is_released_for_the_next_reader(
    credited, monkeypatch, django_capture_on_commit_callbacks
):
    celery_app.conf.task_always_eager = False

    def broker_down(args, expires):
        raise ConnectionError("broker down")

    monkeypatch.setattr(report_prepared.prepare_society_report, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        prepared = report_prepared.prepared_report(society=credited, year=YEAR)

    assert prepared.report is None
    assert PreparedReport.objects.get(society=credited, year=YEAR).queued_at is None


def test_figures_computed_earlier_do_not_overwrite_newer_ones(credited, monkeypatch):
    row = PreparedReport.objects.create(society=credited, year=YEAR)
    report_prepared.report_prepare(row.pk)
    newer = PreparedReport.objects.get(pk=row.pk)
    stale = report.compute_report(society=credited, year=YEAR)
    stale.computed_at = newer.computed_at - timedelta(minutes=1)
    stale.credits = 999
    monkeypatch.setattr(report_prepared, "compute_report", lambda **kw: stale)

    report_prepared.report_prepare(row.pk)

    kept = PreparedReport.objects.get(pk=row.pk)
    assert kept.computed_at == newer.computed_at
    assert kept.figures["credits"] == 6


def test_the_api_answers_202_with_retry_after_until_the_figures_are_there(
    credited, society_staff, worker, django_capture_on_commit_callbacks
):
    api = APIClient()
    api.force_authenticate(society_staff)
    url = f"/api/v1/societies/{credited.pk}/report/"

    with django_capture_on_commit_callbacks(execute=True):
        waiting = api.get(url, {"year": YEAR, "specialty": "31.08.20"})

    assert waiting.status_code == 202
    assert waiting["Retry-After"] == "60"
    assert waiting.json() == {"status": "preparing", "year": YEAR, "specialty": "31.08.20"}
    report_prepared.prepare_society_report(worker[0])
    ready = api.get(url, {"year": YEAR, "specialty": "31.08.20"})
    assert ready.status_code == 200
    assert (ready.json()["credits"], ready.json()["preparing"], ready.json()["specialties"]) == (6, False, ["31.08.20"])


def test_the_nightly_run_queues_this_and_last_years_reports_of_each_verified_society(
    society, other_society, worker, django_capture_on_commit_callbacks
):
    OrganizationFactory(status=Organization.Status.PENDING).specialties.set(society.specialties.all())
    OrganizationFactory(kind=Organization.Kind.CONGRESS).specialties.set(society.specialties.all())

    with django_capture_on_commit_callbacks(execute=True):
        queued = report_prepared.prepare_society_reports()

    rows = PreparedReport.objects.select_related("specialty")
    expected = {
        (society.pk, year, code)
        for year in (YEAR, YEAR - 1)
        for code in (None, "31.08.20", "31.08.21")  # all its specialties, and each
    } | {(other_society.pk, year, code) for year in (YEAR, YEAR - 1) for code in (None, "31.08.36")}
    assert {(r.society_id, r.year, r.specialty.code if r.specialty else None) for r in rows} == expected
    assert queued == len(worker) == 10
    with django_capture_on_commit_callbacks(execute=True):
        assert report_prepared.prepare_society_reports() == 0  # queued already: nothing twice
    assert len(worker) == 10


def test_without_a_worker_the_nightly_run_prepares_them_itself(society, other_society):
    assert report_prepared.prepare_society_reports() == 10
    assert not PreparedReport.objects.filter(figures__isnull=True).exists()
    assert not PreparedReport.objects.filter(queued_at__isnull=False).exists()


def test_an_administrator_queues_a_report_again_from_admin(
    credited, client, worker, django_capture_on_commit_callbacks
):
    row = PreparedReport.objects.create(society=credited, year=YEAR)
    report_prepared.report_prepare(row.pk)
    client.force_login(StaffFactory())
    changelist = reverse("admin:societies_preparedreport_changelist")
    assert client.get(changelist).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(changelist, {"action": "prepare_again", "_selected_action": [row.pk]}, follow=True)

    assert response.status_code == 200
    assert worker == [row.pk]
    audit = AuditEvent.objects.get(action="society_report.prepare")
    assert audit.object_id == str(row.pk)


def broken(**kwargs):
    raise RuntimeError("the database went away")


def test_a_failed_preparation_is_told_to_readers_and_tried_again_later_not_at_once(
    credited, society_staff, client, worker, monkeypatch, django_capture_on_commit_callbacks
):
    client.force_login(society_staff)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(*page(credited))
    monkeypatch.setattr(report_prepared, "compute_report", broken)

    assert report_prepared.prepare_society_report(worker[0]) is False  # what the worker runs: logged, not raised

    row = PreparedReport.objects.get(pk=worker[0])
    assert row.queued_at is None
    assert row.failed_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        failed = client.get(*page(credited))
    assert failed.status_code == 503
    assert 'data-state="failed"' in failed.content.decode()
    api = APIClient()
    api.force_authenticate(society_staff)
    answer = api.get(f"/api/v1/societies/{credited.pk}/report/", {"year": YEAR})
    assert (answer.status_code, answer.json()["error"]["code"]) == (503, "report_preparation_failed")
    assert answer["Retry-After"] == "60"
    assert worker == [row.pk]  # not queued again at once by every reader

    PreparedReport.objects.filter(pk=row.pk).update(failed_at=timezone.now() - report_prepared.REQUEUE_AFTER_FAILURE)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(*page(credited)).status_code == 202  # queued again: being prepared
    assert worker == [row.pk, row.pk]


def test_without_a_worker_a_failed_preparation_is_a_503_page_not_a_server_error(
    credited, society_staff, client, monkeypatch
):
    monkeypatch.setattr(report_prepared, "compute_report", broken)
    client.force_login(society_staff)

    response = client.get(*page(credited))

    assert response.status_code == 503
    assert "Отчёт не удалось подготовить" in response.content.decode()
    assert PreparedReport.objects.get(society=credited, year=YEAR).queued_at is None


def test_a_reader_who_saw_old_figures_queues_nothing_once_the_worker_has_written_new_ones(credited, worker):
    row = PreparedReport.objects.create(society=credited, year=YEAR)
    report_prepared.report_prepare(row.pk)
    seen = PreparedReport.objects.get(pk=row.pk)
    seen.computed_at -= timedelta(days=1)  # what the reader read, before the worker's write

    assert report_prepared._claim(seen, timezone.now(), only_stale=True) is False
    assert PreparedReport.objects.get(pk=row.pk).queued_at is None


def test_a_preparation_leaves_a_newer_claim_in_place(credited, worker, monkeypatch):
    row = PreparedReport.objects.create(society=credited, year=YEAR, queued_at=timezone.now() - timedelta(minutes=40))
    newer = timezone.now()

    def compute_while_a_reader_claims_again(**kwargs):
        PreparedReport.objects.filter(pk=row.pk).update(queued_at=newer)
        return report.compute_report(**kwargs)

    monkeypatch.setattr(report_prepared, "compute_report", compute_while_a_reader_claims_again)
    assert report_prepared.report_prepare(row.pk) is True
    assert PreparedReport.objects.get(pk=row.pk).queued_at == newer


def test_the_staff_of_a_society_not_yet_verified_are_refused_and_nothing_is_queued(society, society_staff, client):
    Organization.objects.filter(pk=society.pk).update(status=Organization.Status.PENDING)
    client.force_login(society_staff)
    api = APIClient()
    api.force_authenticate(society_staff)

    assert client.get(*page(society)).status_code == 403
    answer = api.get(f"/api/v1/societies/{society.pk}/report/")
    assert (answer.status_code, answer.json()["error"]["code"]) == (403, "organization_not_verified")
    society.refresh_from_db()
    with pytest.raises(PortalError) as refused:  # the rule is the service's: every door meets it
        report_prepared.prepared_report(society=society, year=YEAR)
    assert refused.value.code == "organization_not_verified"
    assert not PreparedReport.objects.exists()
