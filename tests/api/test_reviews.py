"""The expert's queue and decisions through the API."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from events.models import Event
from modules.models import Module
from review.models import Status
from review.services import activity_submit

from ..factories import EventFactory, ModuleFactory, ReviewerAppointmentFactory, UserFactory
from .conftest import key_client, key_for

QUEUE = reverse("api:api-review:review-list")
CATALOG = reverse("api:api-events:catalog-event-list")


def decision_url(activity):
    return reverse("api:api-review:review-decision", args=[f"{activity.kind}-{activity.pk}"])


def submitted(factory, provider, organization, **fields):
    activity = factory(organization=organization, created_by=provider, **fields)
    return activity_submit(activity=activity, actor=provider)


@pytest.fixture
def reviewer_api(api, reviewer):
    api.force_login(reviewer)
    return api


@pytest.mark.django_db
def test_reviewer_lists_own_open_cases_of_both_kinds(reviewer_api, reviewer, provider, organization, cardiology):
    event = submitted(EventFactory, provider, organization, title="Школа психиатра", hours=8, credits_requested=6)
    module = submitted(ModuleFactory, provider, organization, title="Модуль о тревоге")
    late = submitted(EventFactory, provider, organization, title="Просроченный разбор")
    Event.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(days=1))
    ReviewerAppointmentFactory(specialty=cardiology)
    submitted(EventFactory, provider, organization, title="Кардиология", specialties=[cardiology])  # someone else's
    EventFactory(organization=organization, title="Черновик")

    data = reviewer_api.get(QUEUE).json()

    cases = {case["id"]: case for case in data["results"]}
    assert set(cases) == {f"event-{event.pk}", f"module-{module.pk}", f"event-{late.pk}"}
    assert data["results"][0]["id"] == f"event-{late.pk}"  # the nearest deadline first
    first = cases[f"event-{event.pk}"]
    assert first["kind"] == "event"
    assert first["title"] == "Школа психиатра"
    assert first["organization"]["name"] == organization.name
    assert first["specialties"] == [{"code": "31.08.20", "name": "Психиатрия"}]
    assert (first["hours"], first["credits_requested"]) == (8, 6)
    assert first["due_at"]
    assert first["overdue"] is False
    assert cases[f"event-{late.pk}"]["overdue"] is True
    assert cases[f"module-{module.pk}"]["kind"] == "module"


@pytest.mark.django_db
def test_reviewer_approves_with_credits_and_the_event_reaches_the_catalogue(
    reviewer_api, provider, organization, django_capture_on_commit_callbacks
):
    event = submitted(EventFactory, provider, organization, hours=8, credits_requested=6)

    with django_capture_on_commit_callbacks(execute=True):
        response = reviewer_api.post(
            decision_url(event), {"decision": "approve", "credits": 5, "comment": "Хорошая программа."}, format="json"
        )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "approved"
    assert body["credits_granted"] == 5
    assert body["transitions"][-1]["to_status"] == "approved"
    assert body["transitions"][-1]["comment"] == "Хорошая программа."
    assert body["content"]["programme"] == event.programme
    event.refresh_from_db()
    assert (event.status, event.credits_granted) == (Status.APPROVED, 5)
    assert [m.to for m in mail.outbox] == [[provider.email]]
    catalog = reviewer_api.get(CATALOG).json()["results"]
    assert [(item["id"], item["credits"]) for item in catalog] == [(event.pk, 5)]
    assert reviewer_api.get(QUEUE).json()["results"] == []


@pytest.mark.django_db
def test_reviewer_cannot_grant_more_credits_than_requested(reviewer_api, provider, organization):
    event = submitted(EventFactory, provider, organization, hours=6, credits_requested=4)

    response = reviewer_api.post(decision_url(event), {"decision": "approve", "credits": 5}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "credits_above_requested"
    event.refresh_from_db()
    assert event.status == Status.IN_REVIEW
    assert event.credits_granted is None


@pytest.mark.django_db
def test_reviewer_asks_for_changes_with_a_comment_and_a_rejection_needs_one(reviewer_api, provider, organization):
    module = submitted(ModuleFactory, provider, organization)
    silent = reviewer_api.post(decision_url(module), {"decision": "reject"}, format="json")
    assert silent.status_code == 400
    assert silent.json()["error"]["code"] == "comment_required"

    changes = reviewer_api.post(
        decision_url(module), {"decision": "changes", "comment": "Уточните аннотацию."}, format="json"
    )
    assert changes.json()["status"] == "changes_requested"
    module.refresh_from_db()
    assert module.status == Status.CHANGES_REQUESTED

    again = reviewer_api.post(decision_url(module), {"decision": "approve", "credits": 1}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "illegal_transition"


@pytest.mark.django_db
def test_an_unknown_decision_is_a_400(reviewer_api, provider, organization):
    event = submitted(EventFactory, provider, organization)
    response = reviewer_api.post(decision_url(event), {"decision": "maybe"}, format="json")
    assert response.status_code == 400
    assert "decision" in response.json()["error"]["fields"]
    event.refresh_from_db()
    assert event.status == Status.IN_REVIEW


@pytest.mark.django_db
def test_someone_elses_case_is_a_404_for_another_expert(api, provider, organization, psychiatry, reviewer):
    event = submitted(EventFactory, provider, organization)
    assert event.reviewer == reviewer
    other_expert = ReviewerAppointmentFactory(specialty=psychiatry).user
    api.force_login(other_expert)

    response = api.post(decision_url(event), {"decision": "approve", "credits": 1}, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert api.get(reverse("api:api-review:review-detail", args=[f"event-{event.pk}"])).status_code == 404
    assert api.get(QUEUE).json()["results"] == []
    event.refresh_from_db()
    assert event.status == Status.IN_REVIEW


@pytest.mark.django_db
def test_reviewer_reads_a_case_before_deciding(reviewer_api, provider, organization):
    module = submitted(ModuleFactory, provider, organization, annotation="Задачи по тревожным расстройствам.")
    case = reviewer_api.get(reverse("api:api-review:review-detail", args=[f"module-{module.pk}"])).json()
    assert case["content"]["annotation"] == "Задачи по тревожным расстройствам."
    assert case["content"]["link"] == module.link
    assert [t["to_status"] for t in case["transitions"]] == ["submitted", "in_review"]


@pytest.mark.django_db
def test_only_appointed_experts_in_person_reach_the_queue(api, provider, organization, reviewer):
    assert api.get(QUEUE).status_code == 401

    api.force_login(UserFactory())
    refused = api.get(QUEUE)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"

    event = submitted(EventFactory, provider, organization)
    key = key_client(key_for(organization, provider))
    assert key.get(QUEUE).status_code == 403
    assert key.post(decision_url(event), {"decision": "approve", "credits": 1}, format="json").status_code == 403
    event.refresh_from_db()
    assert event.status == Status.IN_REVIEW


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [5, 25])
def test_the_queue_takes_the_same_queries_for_few_and_many_cases(
    reviewer_api, provider, organization, rows, django_assert_max_num_queries
):
    for _ in range(rows):
        submitted(EventFactory, provider, organization)
        submitted(ModuleFactory, provider, organization)
    # session, user, appointment check, then per kind: cases and their specialties
    with django_assert_max_num_queries(7):
        response = reviewer_api.get(QUEUE)
    assert response.json()["count"] == 2 * rows
    assert Module.objects.filter(status=Status.IN_REVIEW).count() == rows
