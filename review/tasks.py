from celery import shared_task
from django.urls import reverse

from accounts.models import Membership, User
from nmo_portal.mail import send_templated_mail

from . import kinds
from .models import Activity, Transition


def activity_by_kind(kind: str, activity_id: int) -> Activity:
    activity: Activity = kinds.get(kind).model.objects.select_related("organization", "reviewer").get(pk=activity_id)
    return activity


@shared_task
def send_assignment_email(*, kind: str, activity_id: int) -> None:
    """Tell the expert a case is waiting, in the expert's language."""
    activity = activity_by_kind(kind, activity_id)
    reviewer = activity.reviewer
    if reviewer is None:
        return
    send_templated_mail(
        to=[reviewer.email],
        template="review/email/assigned",
        context={"activity": activity, "reviewer": reviewer, "path": reverse("review:case", args=[kind, activity.pk])},
        language=reviewer.language,
    )


@shared_task
def send_decision_email(*, kind: str, activity_id: int, transition_id: int) -> None:
    """Tell the provider's administrators and the activity's author what the expert decided."""
    activity = activity_by_kind(kind, activity_id)
    transition: Transition = activity.transitions.get(pk=transition_id)  # type: ignore[attr-defined]
    recipients = User.objects.filter(
        memberships__organization=activity.organization, memberships__role=Membership.Role.ADMIN, is_active=True
    )
    people = {user.pk: user for user in recipients}
    if activity.created_by_id and activity.created_by_id not in people:
        author = User.objects.filter(pk=activity.created_by_id, is_active=True).first()
        if author:
            people[author.pk] = author
    path = reverse(f"{kind}s:detail", args=[activity.pk])
    for person in people.values():
        send_templated_mail(
            to=[person.email],
            template="review/email/decided",
            context={"activity": activity, "transition": transition, "person": person, "path": path},
            language=person.language,
        )
