"""Submission and decision rules of SPEC.md, as a provider and an expert would meet them."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Membership
from events.models import EventTransition
from modules.models import ModuleTransition
from review import services
from review.models import Status

from ..factories import EventFactory, MembershipFactory, ModuleFactory, ReviewerAppointmentFactory, moscow

pytestmark = pytest.mark.django_db


@pytest.fixture
def member():
    return MembershipFactory(role=Membership.Role.MEMBER)


def congress(member, credits, days=4):
    """A national psychiatrists' congress: `days` consecutive days, 8 academic hours each."""
    start = moscow(60, 9)
    return EventFactory(
        organization=member.organization,
        starts_at=start,
        ends_at=start + timedelta(days=days - 1, hours=9),
        hours=8 * days,
        credits_requested=credits,
    )


def test_a_four_day_congress_may_request_24_credits(member, reviewer):
    event = services.activity_submit(activity=congress(member, 24), actor=member.user)
    assert event.status == Status.IN_REVIEW
    assert event.reviewer == reviewer


def test_a_four_day_congress_may_not_request_25_credits(member, reviewer):
    event = congress(member, 25)
    with pytest.raises(services.SubmissionRefused) as info:
        services.activity_submit(activity=event, actor=member.user)
    assert "24" in str(info.value.message)
    event.refresh_from_db()
    assert event.status == Status.DRAFT
    assert not EventTransition.objects.exists()
    assert not ModuleTransition.objects.exists()


@pytest.mark.parametrize("factory", [EventFactory, ModuleFactory])
def test_credits_above_the_academic_hours_are_refused(member, factory):
    activity = factory(organization=member.organization, hours=6, credits_requested=6)
    activity.credits_requested = 7
    with pytest.raises(ValidationError) as info:
        services.activity_save(
            activity=activity, actor=member.user, specialties=activity.specialties.all(), creating=False
        )
    assert "credits_requested" in info.value.message_dict
    # and the database itself refuses such a row, whatever writes it
    with pytest.raises(IntegrityError), transaction.atomic():
        type(activity).objects.filter(pk=activity.pk).update(credits_requested=7)
    activity.refresh_from_db()
    assert activity.credits_requested == 6


def test_a_submission_inside_the_lead_time_is_refused(member, settings):
    settings.EVENT_SUBMISSION_LEAD_DAYS = 30
    event = EventFactory(organization=member.organization, starts_at=moscow(29), ends_at=moscow(29, 18))
    with pytest.raises(services.SubmissionRefused) as info:
        services.activity_submit(activity=event, actor=member.user)
    assert "30" in str(info.value.message)
    on_time = EventFactory(organization=member.organization, starts_at=moscow(30), ends_at=moscow(30, 18))
    assert services.activity_submit(activity=on_time, actor=member.user).status in (Status.SUBMITTED, Status.IN_REVIEW)


def test_modules_have_no_lead_time(member, reviewer):
    module = ModuleFactory(organization=member.organization)
    assert services.activity_submit(activity=module, actor=member.user).status == Status.IN_REVIEW


def test_an_event_of_another_specialty_never_reaches_a_reviewer_not_appointed_for_it(member, reviewer, cardiology):
    event = EventFactory(organization=member.organization, specialties=[cardiology])
    event = services.activity_submit(activity=event, actor=member.user)
    assert event.status == Status.SUBMITTED  # waits for an administrator: nobody is appointed for cardiology
    assert event.reviewer is None
    cardiologist = ReviewerAppointmentFactory(specialty=cardiology).user
    event.status = Status.DRAFT
    event.save()
    event = services.activity_submit(activity=event, actor=member.user)
    assert event.reviewer == cardiologist


def test_a_reviewer_who_is_a_member_of_the_provider_is_never_assigned(member, psychiatry):
    insider = ReviewerAppointmentFactory(specialty=psychiatry).user
    Membership.objects.create(organization=member.organization, user=insider, role=Membership.Role.MEMBER)
    outsider = ReviewerAppointmentFactory(specialty=psychiatry).user
    for _ in range(3):
        event = services.activity_submit(activity=EventFactory(organization=member.organization), actor=member.user)
        assert event.reviewer == outsider


def test_assignment_goes_to_the_least_loaded_reviewer(member, psychiatry):
    first = ReviewerAppointmentFactory(specialty=psychiatry).user
    second = ReviewerAppointmentFactory(specialty=psychiatry).user
    assigned = [
        services.activity_submit(activity=EventFactory(organization=member.organization), actor=member.user).reviewer
        for _ in range(4)
    ]
    assert assigned == [first, second, first, second]


@pytest.fixture
def in_review(member, reviewer):
    return services.activity_submit(
        activity=EventFactory(organization=member.organization, hours=8, credits_requested=6), actor=member.user
    )


def test_the_reviewer_grants_at_most_the_credits_requested(in_review, reviewer):
    with pytest.raises(services.PortalError) as info:
        services.review_decide(activity=in_review, actor=reviewer, decision="approve", credits=7)
    assert info.value.code == "credits_above_requested"
    in_review.refresh_from_db()
    assert in_review.status == Status.IN_REVIEW
    approved = services.review_decide(activity=in_review, actor=reviewer, decision="approve", credits=5, comment="ОК")
    assert approved.status == Status.APPROVED
    assert approved.credits_granted == 5


def test_reject_and_changes_need_a_comment(in_review, reviewer):
    for decision in ("reject", "changes"):
        with pytest.raises(services.PortalError) as info:
            services.review_decide(activity=in_review, actor=reviewer, decision=decision, comment="  ")
        assert info.value.code == "comment_required"
    in_review.refresh_from_db()
    assert in_review.status == Status.IN_REVIEW


def test_only_the_assigned_reviewer_decides(in_review, psychiatry, staff):
    other = ReviewerAppointmentFactory(specialty=psychiatry).user
    for intruder in (other, staff):
        with pytest.raises(services.PermissionDenied):
            services.review_decide(activity=in_review, actor=intruder, decision="approve", credits=1)
    in_review.refresh_from_db()
    assert in_review.status == Status.IN_REVIEW


def test_changes_requested_goes_back_to_the_provider_and_returns_to_the_same_expert(
    in_review, reviewer, member, psychiatry
):
    ReviewerAppointmentFactory(specialty=psychiatry)  # a less loaded colleague appears meanwhile
    services.review_decide(activity=in_review, actor=reviewer, decision="changes", comment="Уточните программу")
    in_review.refresh_from_db()
    assert in_review.status == Status.CHANGES_REQUESTED
    assert in_review.is_editable
    again = services.activity_submit(activity=in_review, actor=member.user)
    assert again.status == Status.IN_REVIEW
    assert again.reviewer == reviewer
    steps = list(EventTransition.objects.filter(event=again).values_list("from_status", "to_status"))
    assert steps == [
        ("draft", "submitted"),
        ("submitted", "in_review"),
        ("in_review", "changes_requested"),
        ("changes_requested", "submitted"),
        ("submitted", "in_review"),
    ]


def test_withdraw_before_a_decision_and_never_after(in_review, reviewer, member):
    withdrawn = services.activity_withdraw(activity=in_review, actor=member.user)
    assert withdrawn.status == Status.WITHDRAWN
    assert withdrawn.reviewer is None
    resubmitted = services.activity_submit(activity=withdrawn, actor=member.user)
    services.review_decide(activity=resubmitted, actor=reviewer, decision="approve", credits=6)
    with pytest.raises(services.IllegalTransition):
        services.activity_withdraw(activity=resubmitted, actor=member.user)
    resubmitted.refresh_from_db()
    assert resubmitted.status == Status.APPROVED


def test_a_double_submit_makes_one_transition(member, reviewer):
    event = EventFactory(organization=member.organization)
    services.activity_submit(activity=event, actor=member.user)
    with pytest.raises(services.IllegalTransition):
        services.activity_submit(activity=event, actor=member.user)
    assert EventTransition.objects.filter(event=event, to_status="submitted").count() == 1


def test_a_decided_activity_cannot_be_edited(in_review, reviewer, member):
    services.review_decide(activity=in_review, actor=reviewer, decision="approve", credits=6)
    in_review.refresh_from_db()
    in_review.title = "Подменённое название"
    with pytest.raises(services.IllegalTransition):
        services.activity_save(
            activity=in_review, actor=member.user, specialties=in_review.specialties.all(), creating=False
        )
    in_review.refresh_from_db()
    assert in_review.title != "Подменённое название"


def test_staff_reassign_only_to_an_eligible_reviewer(in_review, staff, psychiatry, cardiology, member):
    cardiologist = ReviewerAppointmentFactory(specialty=cardiology).user
    with pytest.raises(services.PortalError) as info:
        services.activity_reassign(activity=in_review, reviewer=cardiologist, actor=staff)
    assert info.value.code == "reviewer_not_eligible"
    colleague = ReviewerAppointmentFactory(specialty=psychiatry).user
    moved = services.activity_reassign(activity=in_review, reviewer=colleague, actor=staff)
    assert moved.reviewer == colleague
    with pytest.raises(services.PermissionDenied):
        services.activity_reassign(activity=in_review, reviewer=colleague, actor=member.user)


def test_an_unverified_organization_cannot_submit(reviewer):
    pending = MembershipFactory(organization__status="pending")
    event = EventFactory(organization=pending.organization)
    with pytest.raises(services.PortalError) as info:
        services.activity_submit(activity=event, actor=pending.user)
    assert info.value.code == "organization_not_verified"
    event.refresh_from_db()
    assert event.status == Status.DRAFT


def test_emails_go_to_the_reviewer_on_assignment_and_to_the_provider_on_decision(
    member, reviewer, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        event = services.activity_submit(activity=EventFactory(organization=member.organization), actor=member.user)
    assert [m.to for m in mailoutbox] == [[reviewer.email]]
    assert event.title in mailoutbox[0].subject
    admin = MembershipFactory(organization=member.organization, role=Membership.Role.ADMIN).user
    admin.language = "en"
    admin.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.review_decide(activity=event, actor=reviewer, decision="approve", credits=4)
    decision_mail = {m.to[0]: m for m in mailoutbox[1:]}
    assert set(decision_mail) == {admin.email}  # the author is a plain member: not created_by here
    assert "Approved" in decision_mail[admin.email].subject  # in the recipient's language
