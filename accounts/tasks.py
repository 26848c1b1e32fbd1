from celery import shared_task
from django.urls import reverse

from nmo_portal.mail import send_templated_mail

from .models import Invitation, Membership, Organization, User


@shared_task
def send_invitation_email(*, invitation_id: int, token: str) -> None:
    invitation = Invitation.objects.select_related("organization", "invited_by").get(pk=invitation_id)
    invitee = User.objects.filter(email__iexact=invitation.email).first()
    send_templated_mail(
        to=[invitation.email],
        template="accounts/email/invitation",
        context={"invitation": invitation, "path": reverse("accounts:invitation_accept", args=[token])},
        language=invitee.language if invitee else None,
    )


@shared_task
def send_organization_decision_email(*, organization_id: int) -> None:
    organization = Organization.objects.get(pk=organization_id)
    admins = User.objects.filter(memberships__organization=organization, memberships__role=Membership.Role.ADMIN)
    for admin in admins:
        send_templated_mail(
            to=[admin.email],
            template="accounts/email/organization_decision",
            context={
                "organization": organization,
                "user": admin,
                "path": reverse("accounts:organization_detail", args=[organization.pk]),
            },
            language=admin.language,
        )
