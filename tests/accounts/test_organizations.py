from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from accounts import services
from accounts.models import AuditEvent, Invitation, Membership, Organization
from nmo_portal.errors import PermissionDenied, PortalError

from ..factories import MembershipFactory, OrganizationFactory, UserFactory


def invite_link(message) -> str:
    return next(line.strip() for line in message.body.splitlines() if "/me/invitations/" in line)


@pytest.mark.django_db
def test_registering_an_organization_makes_the_user_its_admin_pending_verification(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        reverse("accounts:organization_register"),
        {
            "name": "Ассоциация кардиологов",
            "short_name": "АК",
            "kind": "society",
            "inn": "7712345678",
            "email": "info@cardio.example.org",
            "website": "",
            "address": "",
        },
    )
    organization = Organization.objects.get(inn="7712345678")
    assert response.status_code == 302
    assert organization.status == Organization.Status.PENDING
    assert Membership.objects.get(organization=organization, user=user).role == Membership.Role.ADMIN
    assert AuditEvent.objects.filter(
        action="organization.register", object_id=str(organization.pk), actor=user
    ).exists()
    page = client.get(reverse("accounts:organization_detail", args=[organization.pk])).content.decode()
    assert "Ожидает проверки" in page


@pytest.mark.django_db
def test_an_inn_of_wrong_length_is_refused_with_a_message(client):
    client.force_login(UserFactory())
    response = client.post(
        reverse("accounts:organization_register"),
        {
            "name": "Ассоциация",
            "kind": "society",
            "inn": "123",
            "email": "a@example.org",
        },
    )
    assert response.status_code == 200
    assert not Organization.objects.exists()
    assert "10 или 12 цифр" in response.content.decode()


@pytest.mark.django_db
def test_an_unverified_organization_cannot_invite(client):
    membership = MembershipFactory(organization__status=Organization.Status.PENDING)
    client.force_login(membership.user)
    response = client.post(
        reverse("accounts:invitation_create", args=[membership.organization.pk]),
        {"email": "colleague@example.org", "role": "member"},
        follow=True,
    )
    assert not Invitation.objects.exists()
    assert mail.outbox == []
    assert "не проверена" in response.content.decode()
    with pytest.raises(PortalError) as info:
        services.invitation_create(
            organization=membership.organization, actor=membership.user, email="x@example.org", role="member"
        )
    assert info.value.code == "organization_not_verified"


@pytest.mark.django_db
def test_staff_verification_lets_the_organization_act_and_emails_its_admins(staff, django_capture_on_commit_callbacks):
    membership = MembershipFactory(organization__status=Organization.Status.PENDING)
    with django_capture_on_commit_callbacks(execute=True):
        services.organization_decide(organization=membership.organization, actor=staff, verified=True)
    membership.organization.refresh_from_db()
    assert membership.organization.is_verified
    assert [m.to for m in mail.outbox] == [[membership.user.email]]
    assert AuditEvent.objects.filter(action="organization.verify", actor=staff).exists()
    services.invitation_create(
        organization=membership.organization, actor=membership.user, email="colleague@example.org", role="member"
    )
    assert Invitation.objects.filter(email="colleague@example.org").exists()


@pytest.mark.django_db
def test_only_staff_verify_and_a_rejection_needs_a_reason(staff, provider):
    organization = OrganizationFactory(status=Organization.Status.PENDING)
    with pytest.raises(PermissionDenied):
        services.organization_decide(organization=organization, actor=provider, verified=True)
    with pytest.raises(PortalError):
        services.organization_decide(organization=organization, actor=staff, verified=False, reason=" ")
    organization.refresh_from_db()
    assert organization.status == Organization.Status.PENDING


@pytest.mark.django_db
def test_invitation_by_email_is_accepted_by_the_invited_person(client, django_capture_on_commit_callbacks):
    admin_membership = MembershipFactory()
    organization = admin_membership.organization
    client.force_login(admin_membership.user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("accounts:invitation_create", args=[organization.pk]),
            {"email": "Colleague@Example.org", "role": "member"},
        )
    assert len(mail.outbox) == 1
    link = invite_link(mail.outbox[0])
    invitation = Invitation.objects.get()
    assert invitation.email == "colleague@example.org"
    assert link.split("/me/invitations/")[1].strip("/") not in invitation.token_hash  # only the hash is stored

    colleague = UserFactory(email="colleague@example.org")
    client.force_login(colleague)
    path = "/me/invitations/" + link.split("/me/invitations/")[1]
    assert organization.name in client.get(path).content.decode()
    response = client.post(path)
    assert response.status_code == 302
    assert Membership.objects.get(organization=organization, user=colleague).role == Membership.Role.MEMBER
    # the same link cannot be used twice
    client.force_login(UserFactory(email="someone.else@example.org"))
    client.post(path)
    assert Membership.objects.filter(organization=organization).count() == 2


@pytest.mark.django_db
def test_an_invitation_cannot_be_accepted_by_another_account(django_capture_on_commit_callbacks):
    admin = MembershipFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_create(
            organization=admin.organization, actor=admin.user, email="right@example.org", role="admin"
        )
    token = invite_link(mail.outbox[0]).rstrip("/").rsplit("/", 1)[1]
    intruder = UserFactory(email="intruder@example.org")
    with pytest.raises(PermissionDenied):
        services.invitation_accept(token=token, user=intruder)
    assert not Membership.objects.filter(user=intruder).exists()


@pytest.mark.django_db
def test_expired_and_withdrawn_invitations_are_refused(django_capture_on_commit_callbacks):
    admin = MembershipFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_create(
            organization=admin.organization, actor=admin.user, email="late@example.org", role="member"
        )
    token = invite_link(mail.outbox[0]).rstrip("/").rsplit("/", 1)[1]
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    late = UserFactory(email="late@example.org")
    with pytest.raises(PortalError) as info:
        services.invitation_accept(token=token, user=late)
    assert info.value.code == "invitation_expired"

    # a new invitation to the same e-mail replaces the expired one; withdrawing it closes it
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invitation_create(
            organization=admin.organization, actor=admin.user, email="late@example.org", role="member"
        )
    token = invite_link(mail.outbox[1]).rstrip("/").rsplit("/", 1)[1]
    services.invitation_revoke(invitation=invitation, actor=admin.user)
    with pytest.raises(PortalError) as info:
        services.invitation_accept(token=token, user=late)
    assert info.value.code == "invitation_revoked"
    assert not Membership.objects.filter(user=late).exists()


@pytest.mark.django_db
def test_inviting_twice_or_inviting_a_member_is_refused():
    admin = MembershipFactory()
    services.invitation_create(
        organization=admin.organization, actor=admin.user, email="twice@example.org", role="member"
    )
    with pytest.raises(PortalError) as info:
        services.invitation_create(
            organization=admin.organization, actor=admin.user, email="TWICE@example.org", role="member"
        )
    assert info.value.code == "already_invited"
    with pytest.raises(PortalError) as info:
        services.invitation_create(
            organization=admin.organization, actor=admin.user, email=admin.user.email, role="member"
        )
    assert info.value.code == "already_member"
    assert Invitation.objects.count() == 1


@pytest.mark.django_db
def test_a_plain_member_cannot_invite_or_withdraw(client):
    admin = MembershipFactory()
    member = MembershipFactory(organization=admin.organization, role=Membership.Role.MEMBER)
    invitation = services.invitation_create(
        organization=admin.organization, actor=admin.user, email="c@example.org", role="member"
    )
    client.force_login(member.user)
    response = client.post(
        reverse("accounts:invitation_create", args=[admin.organization.pk]), {"email": "d@example.org", "role": "admin"}
    )
    assert response.status_code == 403
    response = client.post(reverse("accounts:invitation_revoke", args=[admin.organization.pk, invitation.pk]))
    assert response.status_code == 403
    assert Invitation.objects.count() == 1
    assert Invitation.objects.get().revoked_at is None


@pytest.mark.django_db
def test_organization_page_is_hidden_from_non_members(client, doctor, staff):
    organization = MembershipFactory().organization
    url = reverse("accounts:organization_detail", args=[organization.pk])
    client.force_login(doctor)
    assert client.get(url).status_code == 404
    assert (
        client.post(
            reverse("accounts:invitation_create", args=[organization.pk]), {"email": "x@example.org", "role": "admin"}
        ).status_code
        == 404
    )
    client.force_login(staff)
    assert client.get(url).status_code == 200
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_the_last_admin_cannot_leave():
    admin = MembershipFactory()
    with pytest.raises(PortalError) as info:
        services.membership_remove(membership=admin, actor=admin.user)
    assert info.value.code == "last_admin"
    assert Membership.objects.filter(pk=admin.pk).exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_no_invitation_email_leaves_when_the_transaction_rolls_back():
    admin = MembershipFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.invitation_create(
            organization=admin.organization, actor=admin.user, email="ghost@example.org", role="member"
        )
        raise RuntimeError("something later in the same transaction failed")
    assert mail.outbox == []
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_require_org_member_refuses_outsiders_and_with_verified_an_unverified_organization():
    member, outsider = UserFactory(), UserFactory()
    pending = OrganizationFactory(status=Organization.Status.PENDING)
    membership = MembershipFactory(organization=pending, user=member)

    assert services.require_org_member(user=member, organization=pending, verified=False) == membership
    with pytest.raises(PortalError) as unverified:
        services.require_org_member(user=member, organization=pending, verified=True)
    assert (unverified.value.code, unverified.value.status) == ("organization_not_verified", 403)
    with (
        translation.override("en"),
        pytest.raises(PermissionDenied, match=r"You are not a member of this organization\."),
    ):
        services.require_org_member(user=outsider, organization=pending, verified=False)
    with pytest.raises(PermissionDenied, match="not a member of the event's provider"):
        services.require_org_member(
            user=outsider, organization=pending, verified=True, message="You are not a member of the event's provider."
        )


@pytest.mark.django_db
def test_is_org_member_answers_the_same_question_without_raising():
    from accounts.selectors import is_org_member

    member, outsider = UserFactory(), UserFactory()
    pending = OrganizationFactory(status=Organization.Status.PENDING)
    MembershipFactory(organization=pending, user=member)

    assert is_org_member(user=member, organization=pending)
    assert not is_org_member(user=member, organization=pending, verified=True)
    assert not is_org_member(user=outsider, organization=pending)
    pending.status = Organization.Status.VERIFIED
    assert is_org_member(user=member, organization=pending, verified=True)
