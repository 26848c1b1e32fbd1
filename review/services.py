"""Writes of the review workflow, shared by events and modules.

Every transition locks the activity row, checks that the step is legal from the current status, writes a
Transition and an audit row, and queues its e-mails for after the commit. A double click or two tabs
therefore meet a status that has already moved on and get a message, never a second transition.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.audit import audit_log
from accounts.models import Membership, Organization, ReviewerAppointment, Specialty, User
from accounts.selectors import is_org_member
from accounts.services import require_org_member, require_society_admin, require_society_specialty
from nmo_portal.calendar import today
from nmo_portal.celery import enqueue_on_commit
from nmo_portal.errors import PermissionDenied, PortalError

from . import kinds
from .models import OPEN, SUBMITTABLE, WITHDRAWABLE, Activity, PublicNumber, Status, Transition, format_public_number
from .tasks import send_assignment_email, send_decision_email

A = TypeVar("A", bound=Activity)


class IllegalTransition(PortalError):
    code = "illegal_transition"
    status = 409


class SubmissionRefused(PortalError):
    code = "submission_refused"


def _lock(activity: A) -> A:
    return type(activity).objects.select_for_update().get(pk=activity.pk)  # type: ignore[return-value]


def _transition(
    activity: Activity,
    *,
    actor: User | None,
    to: str,
    comment: str = "",
    credits: int | None = None,
) -> Transition:
    from_status = activity.status
    activity.status = to
    transition: Transition = activity.transitions.create(  # type: ignore[attr-defined]
        actor=actor,
        from_status=from_status,
        to_status=to,
        comment=comment,
        credits=credits,
        reviewer=activity.reviewer,
    )
    audit_log(
        actor=actor,
        action=f"{activity.kind}.{to}",
        obj=activity,
        from_status=from_status,
        comment=comment,
        credits=credits,
    )
    return transition


def submission_problems(activity: Activity) -> list[str]:
    """Every rule a submission breaks, so the provider can fix them all at once."""
    problems = []
    if not activity.specialties.exists():
        problems.append(_("Choose at least one specialty."))
    if activity.credits_requested > activity.hours:
        problems.append(
            _("Credits requested (%(credits)d) cannot exceed the academic hours (%(hours)d).")
            % {"credits": activity.credits_requested, "hours": activity.hours}
        )
    problems += kinds.get(activity.kind).submission_problems(activity)
    return problems


def reviewer_candidates(activity: Activity) -> list[User]:
    """Active experts appointed for one of the activity's specialties who are not members of its provider,
    least loaded first (open cases across events and modules), then by who was appointed first."""
    specialty_ids = list(activity.specialties.values_list("pk", flat=True))
    member_ids = Membership.objects.filter(organization_id=activity.organization_id).values("user_id")
    candidates = (
        User.objects.filter(
            is_active=True,
            reviewer_appointments__is_active=True,
            reviewer_appointments__specialty_id__in=specialty_ids,
        )
        .exclude(pk__in=member_ids)
        .distinct()
    )
    load: dict[int, int] = {}
    for kind in kinds.all_kinds():
        counts = (
            kind.model.objects.filter(status=Status.IN_REVIEW, reviewer__in=candidates)
            .values("reviewer_id")
            .annotate(n=Count("id"))
        )
        for row in counts:
            load[row["reviewer_id"]] = load.get(row["reviewer_id"], 0) + row["n"]
    return sorted(candidates, key=lambda user: (load.get(user.pk, 0), user.pk))


def _assign(activity: Activity, *, reviewer: User, actor: User | None, comment: str = "") -> None:
    now = timezone.now()
    activity.reviewer = reviewer
    activity.assigned_at = now
    activity.due_at = now + timedelta(days=settings.REVIEW_SLA_DAYS)
    _transition(activity, actor=actor, to=Status.IN_REVIEW, comment=comment)
    activity.save()
    enqueue_on_commit(send_assignment_email, kind=activity.kind, activity_id=activity.pk)


@transaction.atomic
def activity_submit(*, activity: A, actor: User) -> A:
    """Provider staff submit a draft (or a reworked or withdrawn activity) and it goes to an expert."""
    require_org_member(user=actor, organization=activity.organization, verified=True)
    activity = _lock(activity)
    if activity.status not in SUBMITTABLE:
        raise IllegalTransition(
            _("This activity cannot be submitted now: it is «%(status)s».") % {"status": activity.get_status_display()}
        )
    problems = submission_problems(activity)
    if problems:
        raise SubmissionRefused(" ".join(problems))
    previous_reviewer_id = activity.reviewer_id if activity.status == Status.CHANGES_REQUESTED else None
    activity.submitted_at = timezone.now()
    activity.reviewer = None
    activity.due_at = None
    activity.decided_at = None
    _transition(activity, actor=actor, to=Status.SUBMITTED)
    activity.save()
    candidates = reviewer_candidates(activity)
    # A reworked activity goes back to the expert who asked for the changes, while they are still eligible.
    same = [c for c in candidates if c.pk == previous_reviewer_id]
    if same:
        _assign(activity, reviewer=same[0], actor=None, comment=_("Returned to the expert who asked for changes."))
    elif candidates:
        _assign(activity, reviewer=candidates[0], actor=None, comment=_("Assigned automatically."))
    return activity


@transaction.atomic
def activity_save(*, activity: A, actor: User, specialties: Iterable[Specialty], creating: bool) -> A:
    """Create or update a draft for provider staff; content is frozen while the experts look at it."""
    require_org_member(user=actor, organization=activity.organization, verified=True)
    if not creating:
        current = _lock(activity)
        if not current.is_editable:
            raise IllegalTransition(
                _("This activity cannot be edited while it is «%(status)s».") % {"status": current.get_status_display()}
            )
        # Review fields are never taken from the caller.
        for field in (
            "status",
            "reviewer_id",
            "credits_granted",
            "submitted_at",
            "assigned_at",
            "due_at",
            "decided_at",
            "created_by_id",
            "organization_id",
        ):
            setattr(activity, field, getattr(current, field))
    else:
        activity.status = Status.DRAFT
        activity.created_by = actor
    specialties = list(specialties)
    if not specialties:
        raise ValidationError({"specialties": _("Choose at least one specialty.")})
    activity.full_clean(exclude=["specialties", "created_by"])
    activity.save()
    activity.specialties.set(specialties)
    audit_log(actor=actor, action=f"{activity.kind}.{'create' if creating else 'update'}", obj=activity)
    return activity


@transaction.atomic
def activity_withdraw(*, activity: A, actor: User) -> A:
    require_org_member(user=actor, organization=activity.organization, verified=True)
    activity = _lock(activity)
    if activity.status not in WITHDRAWABLE:
        raise IllegalTransition(
            _("Only an activity awaiting a decision can be withdrawn; this one is «%(status)s».")
            % {"status": activity.get_status_display()}
        )
    _transition(activity, actor=actor, to=Status.WITHDRAWN)
    activity.reviewer = None
    activity.due_at = None
    activity.save()
    return activity


@transaction.atomic
def activity_reassign(*, activity: A, reviewer: User, actor: User) -> A:
    """An administrator hands an open case to another eligible expert."""
    if not actor.is_staff:
        raise PermissionDenied(_("Only portal administrators reassign reviews."))
    activity = _lock(activity)
    if activity.status not in OPEN:
        raise IllegalTransition(_("Only an activity awaiting a decision can be reassigned."))
    if reviewer.pk not in {candidate.pk for candidate in reviewer_candidates(activity)}:
        raise PortalError(
            _(
                "%(reviewer)s cannot review this activity: an expert must be appointed for one of its "
                "specialties and must not be a member of the provider."
            )
            % {"reviewer": reviewer},
            code="reviewer_not_eligible",
        )
    _assign(activity, reviewer=reviewer, actor=actor, comment=_("Reassigned by an administrator."))
    return activity


@dataclass(frozen=True)
class HandOver:
    """What review_cases_hand_over did: the cases it moved, and those it left because the new expert is a member
    of their provider (an expert never reviews their own organization's activities)."""

    moved: int
    left: int


@transaction.atomic
def review_cases_hand_over(
    *, society: Organization, from_user: User, to_user: User, specialty: Specialty, actor: User
) -> HandOver:
    """A society's administrator hands an expert's open cases of one of the society's specialties to another
    active expert of that specialty: typically those of an expert the society has retired, who keeps them until
    then. An open case is one in review with `from_user` as its assigned expert (review assigns every case to
    one person, Activity.reviewer); a case of several specialties moves if `specialty` is one of them.

    Each case moves as an administrator's reassignment does: a transition with its audit row, a fresh deadline
    and the assignment e-mail to the new expert; one more audit row sums the hand-over up."""
    require_society_admin(society=society, user=actor)
    require_society_specialty(society=society, specialty_ids=[specialty.pk])
    if not ReviewerAppointment.objects.filter(user=from_user, specialty=specialty).exists():
        raise PortalError(
            _("%(user)s has never been an expert of %(specialty)s.") % {"user": from_user, "specialty": specialty.code},
            code="not_an_expert_of_specialty",
            status=404,
        )
    if to_user.pk == from_user.pk:
        raise PortalError(_("Choose another expert to hand the cases to."), code="hand_over_to_same_expert")
    # Locked, so that a retirement cannot slip in between this check and the cases reaching the expert.
    if not (
        to_user.is_active
        and ReviewerAppointment.objects.select_for_update()
        .filter(user=to_user, specialty=specialty, is_active=True)
        .exists()
    ):
        raise PortalError(
            _("%(user)s is not an active expert of %(specialty)s, so the cases cannot be handed to them.")
            % {"user": to_user, "specialty": specialty.code},
            code="hand_over_target_not_expert",
        )
    their_organizations = set(Membership.objects.filter(user=to_user).values_list("organization_id", flat=True))
    moved = left = 0
    comment = _("Handed over to another expert by %(society)s.") % {"society": society}
    for kind in kinds.all_kinds():
        cases = (
            kind.model.objects.select_for_update(of=("self",))
            .filter(reviewer=from_user, status=Status.IN_REVIEW, specialties=specialty)
            .order_by("pk")
        )
        for activity in cases:
            if activity.organization_id in their_organizations:
                left += 1
                continue
            _assign(activity, reviewer=to_user, actor=actor, comment=comment)
            moved += 1
    audit_log(
        actor=actor,
        action="review.hand_over",
        obj=society,
        specialty=specialty.code,
        from_user=from_user.pk,
        to_user=to_user.pk,
        moved=moved,
        left=left,
    )
    return HandOver(moved=moved, left=left)


@transaction.atomic(savepoint=False)
def public_number_issue(*, activity: Activity, actor: User | None) -> str:
    """Give an approved activity its public number, once; the same number ever after.

    The serial comes from the one PublicNumber sequence that events and modules share (see its docstring
    for the form); the year is that of approval in the register's zone. Called by `review_decide` on
    approval, and by `seed_demo` for the demo's approved activities, so every number is issued here.
    """
    if activity.public_number:
        return activity.public_number
    row = PublicNumber.objects.create(kind=activity.kind, activity_id=activity.pk)
    row.number = format_public_number(year=today().year, serial=row.pk)
    row.save(update_fields=["number"])
    activity.public_number = row.number
    type(activity).objects.filter(pk=activity.pk).update(public_number=row.number)
    audit_log(actor=actor, action=f"{activity.kind}.number", obj=activity, public_number=row.number)
    return row.number


class Decision:
    APPROVE = "approve"
    REJECT = "reject"
    CHANGES = "changes"
    CHOICES = (APPROVE, REJECT, CHANGES)


@transaction.atomic
def review_decide(*, activity: A, actor: User, decision: str, credits: int | None = None, comment: str = "") -> A:
    """The assigned expert approves (granting credits up to those requested), rejects, or asks for changes."""
    activity = _lock(activity)
    if activity.reviewer_id != actor.pk:
        raise PermissionDenied(_("This activity is not in your review queue."))
    if activity.status != Status.IN_REVIEW:
        raise IllegalTransition(
            _("A decision has already been made on this activity: it is «%(status)s».")
            % {"status": activity.get_status_display()}
        )
    if is_org_member(user=actor, organization=activity.organization):
        raise PermissionDenied(_("You are a member of the provider and cannot review its activities."))
    if not ReviewerAppointment.objects.filter(
        Q(specialty__in=activity.specialties.all()), user=actor, is_active=True
    ).exists():
        raise PermissionDenied(_("You are not appointed for any of this activity's specialties."))
    comment = comment.strip()
    if decision == Decision.APPROVE:
        if credits is None or credits < 1:
            raise PortalError(_("Grant at least one credit to approve."), code="credits_required")
        if credits > activity.credits_requested:
            raise PortalError(
                ngettext(
                    "You can grant at most the %(requested)d credit requested.",
                    "You can grant at most the %(requested)d credits requested.",
                    activity.credits_requested,
                )
                % {"requested": activity.credits_requested},
                code="credits_above_requested",
            )
        activity.credits_granted = credits
        public_number_issue(activity=activity, actor=actor)
        to = Status.APPROVED
    elif decision in (Decision.REJECT, Decision.CHANGES):
        if not comment:
            raise PortalError(_("Say why, so that the provider knows what to do."), code="comment_required")
        credits = None
        to = Status.REJECTED if decision == Decision.REJECT else Status.CHANGES_REQUESTED
    else:
        raise PortalError(_("Unknown decision."), code="invalid_decision")
    activity.decided_at = timezone.now()
    transition = _transition(activity, actor=actor, to=to, comment=comment, credits=credits)
    activity.save()
    enqueue_on_commit(send_decision_email, kind=activity.kind, activity_id=activity.pk, transition_id=transition.pk)
    return activity
