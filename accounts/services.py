"""Writes about users, doctors, organizations and reviewers. Each runs in one transaction and audits."""

from collections.abc import Iterable
from datetime import date, timedelta
from functools import partial
from typing import TypedDict, Unpack

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nmo_portal.celery import enqueue_on_commit
from nmo_portal.errors import NotFound, PermissionDenied, PortalError

from .audit import audit_log
from .models import (
    DoctorProfile,
    Invitation,
    Membership,
    Organization,
    OrganizationApiKey,
    ReviewerAppointment,
    Specialty,
    User,
    WorkRecord,
    hash_token,
)
from .selectors import organization_membership
from .signals import doctor_identified, snils_released
from .snils import normalize_snils, validate_snils
from .tasks import send_invitation_email, send_organization_decision_email

SNILS_TAKEN = gettext_lazy(
    "This СНИЛС is confirmed by the Ministry portal for another account. If it is yours, write to support."
)


def snils_lock(number: str) -> None:
    """Serialize, until the end of the transaction, every write that gives, confirms or reports one СНИЛС
    (PostgreSQL; SQLite serializes writers anyway): no account can type a number at the instant another
    account's link confirms it, and no completion naming it slips in between a confirmation and the credit
    of what was held for it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int(number)])


def doctor_profile_update(
    *,
    user: User,
    last_name: str,
    first_name: str,
    middle_name: str,
    snils: str,
    specialties: Iterable[Specialty],
    language: str | None = None,
    timezone_name: str | None = None,
    accreditation_reminders: bool | None = None,
) -> DoctorProfile:
    """Save ФИО, СНИЛС and specialties. A typed СНИЛС is the doctor's word: it may also be typed into another
    unconfirmed account, but not into one where the Ministry link has confirmed it. A confirmed СНИЛС is
    changed only after administrators reset the link. Whatever a СНИЛС that leaves the profile brought
    (module completions credited by it) is reversed in the same transaction."""
    number = normalize_snils(snils) or None
    if number is not None:
        try:
            validate_snils(number)
        except ValidationError as exc:
            raise PortalError(exc.messages[0], code="snils_invalid") from exc
    with transaction.atomic():
        if number is not None:
            snils_lock(number)
            if DoctorProfile.objects.filter(snils=number, snils_confirmed_at__isnull=False).exclude(user=user).exists():
                raise PortalError(SNILS_TAKEN, code="snils_taken")
        profile, _created = DoctorProfile.objects.select_for_update().get_or_create(user=user)
        old_snils = profile.snils
        if old_snils != number and profile.snils_confirmed_at is not None:
            raise PortalError(
                _(
                    "Your СНИЛС has been confirmed by the Ministry portal and cannot be changed here. "
                    "If it is wrong, write to support."
                ),
                code="snils_confirmed",
            )
        user.last_name, user.first_name, user.middle_name = (
            last_name.strip(),
            first_name.strip(),
            middle_name.strip(),
        )
        update_fields = ["last_name", "first_name", "middle_name"]
        if language:
            user.language = language
            update_fields.append("language")
        if timezone_name:
            user.timezone = timezone_name
            update_fields.append("timezone")
        user.save(update_fields=update_fields)
        profile.snils = number
        if accreditation_reminders is not None:
            profile.accreditation_reminders = accreditation_reminders
        profile.save()
        profile.specialties.set(specialties)
        if old_snils is not None and old_snils != number:
            snils_released.send(sender=DoctorProfile, user=user, snils=old_snils, actor=user)
        transaction.on_commit(lambda: doctor_identified.send(sender=DoctorProfile, user=user))
        audit_log(
            actor=user,
            action="doctor_profile.update",
            obj=profile,
            snils_changed=old_snils != number,
            specialties=sorted(s.code for s in profile.specialties.all()),
            accreditation_reminders=profile.accreditation_reminders,
        )
    return profile


@transaction.atomic
def snils_confirm(*, user: User, snils: str) -> DoctorProfile:
    """The Ministry portal has linked `user` as the specialist with this СНИЛС (ministry_sync's link task).

    The confirmed number wins over the same number typed into other accounts: they lose it, and what it
    brought them is reversed, each with an audit row. Once committed, the completions held for this
    СНИЛС are credited to `user` (doctor_identified)."""
    snils_lock(snils)
    profile = DoctorProfile.objects.select_for_update().get(user=user)
    if profile.snils != snils:
        raise PortalError(
            _("The СНИЛС in your profile changed while the account was being linked; link it again."),
            code="snils_changed",
        )
    if DoctorProfile.objects.filter(snils=snils, snils_confirmed_at__isnull=False).exclude(user=user).exists():
        raise PortalError(SNILS_TAKEN, code="snils_taken")
    if profile.snils_confirmed_at is None:
        profile.snils_confirmed_at = timezone.now()
        profile.save(update_fields=["snils_confirmed_at", "updated_at"])
    squatters = DoctorProfile.objects.select_for_update().select_related("user").filter(snils=snils).exclude(user=user)
    for other in squatters:
        other.snils = None
        other.save(update_fields=["snils", "updated_at"])
        snils_released.send(sender=DoctorProfile, user=other.user, snils=snils, actor=None)
        audit_log(actor=None, action="doctor_profile.snils_lost", obj=other, confirmed_by=user.pk)
        # What still names that account (a confirmed e-mail) may now be credited to it instead.
        transaction.on_commit(partial(doctor_identified.send, sender=DoctorProfile, user=other.user))
    audit_log(actor=user, action="doctor_profile.snils_confirm", obj=profile)
    transaction.on_commit(lambda: doctor_identified.send(sender=DoctorProfile, user=user))
    return profile


def snils_unconfirm(*, user: User, actor: User) -> None:
    """Administrators reset the Ministry link (another login, a corrected СНИЛС): the СНИЛС is the doctor's
    word again until the next link confirms it. Called inside the caller's transaction."""
    updated = DoctorProfile.objects.filter(user=user, snils_confirmed_at__isnull=False).update(
        snils_confirmed_at=None, updated_at=timezone.now()
    )
    if updated:
        audit_log(actor=actor, action="doctor_profile.snils_unconfirm", obj=user)


@transaction.atomic
def organization_register(
    *,
    user: User,
    name: str,
    short_name: str,
    kind: str,
    inn: str,
    email: str,
    website: str = "",
    address: str = "",
) -> Organization:
    """A user registers a provider organization and becomes its first administrator; staff verify it."""
    if Organization.objects.filter(inn=inn).exists():
        raise PortalError(_("An organization with this ИНН is already registered."), code="inn_taken")
    organization = Organization.objects.create(
        name=name,
        short_name=short_name,
        kind=kind,
        inn=inn,
        email=email,
        website=website,
        address=address,
        created_by=user,
    )
    Membership.objects.create(organization=organization, user=user, role=Membership.Role.ADMIN)
    audit_log(actor=user, action="organization.register", obj=organization, inn=inn)
    return organization


@transaction.atomic
def organization_decide(*, organization: Organization, actor: User, verified: bool, reason: str = "") -> Organization:
    """An administrator verifies or rejects an organization; its administrators are told by e-mail."""
    if not actor.is_staff:
        raise PermissionDenied(_("Only portal administrators verify organizations."))
    if not verified and not reason.strip():
        raise PortalError(_("Say why the organization is rejected."), code="reason_required")
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    organization.status = Organization.Status.VERIFIED if verified else Organization.Status.REJECTED
    organization.status_reason = reason.strip()
    organization.status_changed_at = timezone.now()
    organization.status_changed_by = actor
    organization.save(update_fields=["status", "status_reason", "status_changed_at", "status_changed_by"])
    audit_log(
        actor=actor,
        action="organization.verify" if verified else "organization.reject",
        obj=organization,
        reason=organization.status_reason,
    )
    enqueue_on_commit(send_organization_decision_email, organization_id=organization.pk)
    return organization


def require_organization_admin(*, organization: Organization, user: User) -> Membership:
    membership = organization_membership(organization=organization, user=user)
    if membership is None or not membership.is_admin:
        raise PermissionDenied(_("Only administrators of the organization can do this."))
    return membership


def require_org_member(
    *, user: User, organization: Organization, verified: bool, message: str | Promise | None = None
) -> Membership:
    """Provider staff act only for organizations they belong to and, with `verified`, only once the portal
    administrators have verified the organization. A non-member is refused with `message` (the caller may
    name the organization as its page knows it: "the event's provider"), an unverified organization with
    require_verified's refusal."""
    membership = organization_membership(organization=organization, user=user)
    if membership is None:
        raise PermissionDenied(message or _("You are not a member of this organization."))
    if verified:
        require_verified(organization)
    return membership


def require_verified(organization: Organization) -> None:
    """Everything a provider does on the portal waits until an administrator has verified the organization."""
    if not organization.is_verified:
        raise PortalError(
            _("The organization has not been verified by the portal administrators yet, so it cannot act."),
            code="organization_not_verified",
            status=403,
        )


@transaction.atomic
def invitation_create(*, organization: Organization, actor: User, email: str, role: str) -> Invitation:
    require_organization_admin(organization=organization, user=actor)
    require_verified(organization)
    email = email.strip().lower()
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise PortalError(_("This person is already a member of the organization."), code="already_member")
    pending = Invitation.objects.select_for_update().filter(
        organization=organization, email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
    )
    for old in pending:
        if old.state == "pending":
            raise PortalError(
                _("An invitation to this e-mail is already waiting for an answer."), code="already_invited"
            )
        old.revoked_at = timezone.now()  # an expired one makes way for the new one
        old.save(update_fields=["revoked_at"])
    token = Invitation.new_token()
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        role=role,
        token_hash=hash_token(token),
        invited_by=actor,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS),
    )
    audit_log(actor=actor, action="invitation.create", obj=invitation, email=email, role=role)
    enqueue_on_commit(send_invitation_email, invitation_id=invitation.pk, token=token)
    return invitation


def invitation_by_token(token: str) -> Invitation:
    invitation = (
        Invitation.objects.select_related("organization", "invited_by").filter(token_hash=hash_token(token)).first()
    )
    if invitation is None:
        raise PortalError(_("This invitation link is not valid."), code="invitation_not_found", status=404)
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Membership:
    invitation = invitation_by_token(token)
    invitation = Invitation.objects.select_for_update().select_related("organization").get(pk=invitation.pk)
    state = invitation.state
    if state == "accepted":
        raise PortalError(_("This invitation has already been accepted."), code="invitation_used")
    if state == "revoked":
        raise PortalError(_("This invitation has been withdrawn by the organization."), code="invitation_revoked")
    if state == "expired":
        raise PortalError(
            _("This invitation has expired: ask the organization for a new one."), code="invitation_expired"
        )
    if invitation.email.lower() != user.email.lower():
        raise PermissionDenied(
            _("This invitation was sent to %(email)s. Sign in with that e-mail to accept it.")
            % {"email": invitation.email}
        )
    membership, created = Membership.objects.get_or_create(
        organization=invitation.organization, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_log(actor=user, action="invitation.accept", obj=invitation, new_member=created)
    return membership


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: User) -> Invitation:
    require_organization_admin(organization=invitation.organization, user=actor)
    if invitation.state != "pending":
        raise PortalError(_("Only a pending invitation can be withdrawn."), code="invitation_not_pending")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_log(actor=actor, action="invitation.revoke", obj=invitation)
    return invitation


@transaction.atomic
def membership_remove(*, membership: Membership, actor: User) -> None:
    organization = membership.organization
    if membership.user_id != actor.pk:
        require_organization_admin(organization=organization, user=actor)
    admins = Membership.objects.select_for_update().filter(organization=organization, role=Membership.Role.ADMIN)
    if membership.is_admin and admins.count() == 1:
        raise PortalError(
            _("An organization keeps at least one administrator: appoint another one first."), code="last_admin"
        )
    audit_log(actor=actor, action="membership.remove", obj=organization, user=membership.user.email)
    membership.delete()


@transaction.atomic
def reviewer_appoint(
    *, user: User, specialties: Iterable[Specialty], actor: User, society: str = ""
) -> list[ReviewerAppointment]:
    """An administrator appoints an expert for one or more specialties (reactivating earlier ones)."""
    if not actor.is_staff:
        raise PermissionDenied(_("Only portal administrators appoint reviewers."))
    appointments = []
    for specialty in specialties:
        appointment, _created = ReviewerAppointment.objects.update_or_create(
            user=user,
            specialty=specialty,
            defaults={"is_active": True, "society": society, "appointed_by": actor, "appointed_at": timezone.now()},
        )
        appointments.append(appointment)
        audit_log(actor=actor, action="reviewer.appoint", obj=appointment, specialty=specialty.code)
    return appointments


# The society's experts ------------------------------------------------------------------------------------------


def require_society_admin(*, society: Organization, user: User) -> Membership | None:
    """Who manages a professional society's experts: an administrator of the society once the portal has verified
    it, or a portal administrator, who keeps every power (None: no membership). A society's scope is its
    `specialties`, which only portal administrators set."""
    if society.kind != Organization.Kind.SOCIETY:
        raise NotFound(_("This organization is not a professional society."), code="not_a_society")
    if user.is_staff:
        return None
    membership = require_organization_admin(organization=society, user=user)
    require_verified(society)
    return membership


def require_society_specialty(*, society: Organization, specialty_ids: Iterable[int]) -> None:
    """A society acts only for the specialties it is responsible for; one outside them refuses the whole request."""
    own = set(society.specialties.values_list("pk", flat=True))
    outside = sorted(set(specialty_ids) - own)
    if outside:
        codes = ", ".join(Specialty.objects.filter(pk__in=outside).order_by("code").values_list("code", flat=True))
        raise PortalError(
            _("%(society)s is not responsible for the specialty %(codes)s.") % {"society": society, "codes": codes},
            code="specialty_not_in_society",
            status=403,
        )


@transaction.atomic
def society_expert_appoint(
    *, society: Organization, user: User, specialties: Iterable[Specialty], actor: User
) -> list[ReviewerAppointment]:
    """An administrator of the society appoints an expert for some of the society's specialties, reactivating an
    earlier appointment of that person and specialty (whoever made it): the appointment then names the society.
    Every specialty must be the society's, or nothing is written."""
    require_society_admin(society=society, user=actor)
    specialties = list(specialties)
    if not specialties:
        raise PortalError(_("Choose at least one specialty."), code="specialties_required")
    require_society_specialty(society=society, specialty_ids=[s.pk for s in specialties])
    if not user.is_active:
        raise PortalError(
            _("The account of %(user)s is blocked, so it cannot be appointed.") % {"user": user}, code="user_inactive"
        )
    appointments = []
    for specialty in specialties:
        earlier = ReviewerAppointment.objects.select_for_update().filter(user=user, specialty=specialty).first()
        appointment, _created = ReviewerAppointment.objects.update_or_create(
            user=user,
            specialty=specialty,
            defaults={
                "is_active": True,
                "organization": society,
                "society": society.name[:200],  # the legacy text, as long as its column
                "appointed_by": actor,
                "appointed_at": timezone.now(),
            },
        )
        appointments.append(appointment)
        audit_log(
            actor=actor,
            action="reviewer.appoint",
            obj=appointment,
            specialty=specialty.code,
            society=society.pk,
            reactivated=earlier is not None and not earlier.is_active,
            was_active=earlier is not None and earlier.is_active,
            previous_society=earlier.organization_id if earlier is not None else None,
        )
    return appointments


@transaction.atomic
def society_expert_retire(
    *, society: Organization, appointment: ReviewerAppointment, actor: User
) -> ReviewerAppointment:
    """An administrator of the society retires an expert of one of its specialties, whoever appointed them (the
    society, another society sharing the specialty, or the portal administrators): the society answers for who
    reviews its specialties. The expert gets no new cases; the open ones stay with them until the society hands
    them over (review.services.review_cases_hand_over), so none is lost or silently moved."""
    require_society_admin(society=society, user=actor)
    require_society_specialty(society=society, specialty_ids=[appointment.specialty_id])
    appointment = (
        ReviewerAppointment.objects.select_for_update().select_related("user", "specialty").get(pk=appointment.pk)
    )
    if not appointment.is_active:
        raise PortalError(
            _("%(user)s is already retired from %(specialty)s.")
            % {"user": appointment.user, "specialty": appointment.specialty.code},
            code="expert_already_retired",
            status=409,
        )
    appointment.is_active = False
    appointment.save(update_fields=["is_active"])
    audit_log(
        actor=actor,
        action="reviewer.retire",
        obj=appointment,
        specialty=appointment.specialty.code,
        society=society.pk,
        appointed_by_society=appointment.organization_id,
    )
    return appointment


@transaction.atomic
def api_key_create(*, organization: Organization, actor: User, name: str) -> tuple[OrganizationApiKey, str]:
    """Create a key for the organization's systems; the full key is returned once and never stored."""
    require_organization_admin(organization=organization, user=actor)
    require_verified(organization)
    prefix, key = OrganizationApiKey.new_secret()
    api_key = OrganizationApiKey.objects.create(
        organization=organization, name=name.strip(), prefix=prefix, key_hash=hash_token(key), created_by=actor
    )
    audit_log(actor=actor, action="api_key.create", obj=api_key, prefix=prefix)
    return api_key, key


@transaction.atomic
def api_key_revoke(*, api_key: OrganizationApiKey, actor: User) -> OrganizationApiKey:
    """An administrator of the organization, or of the portal (the admin's action), revokes a key."""
    if not actor.is_staff:
        require_organization_admin(organization=api_key.organization, user=actor)
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit_log(actor=actor, action="api_key.revoke", obj=api_key, prefix=api_key.prefix)
    return api_key


# The work history and the reminders ----------------------------------------------------------------------------


class WorkRecordFields(TypedDict, total=False):
    employer: str
    employer_inn: str
    region: str
    unit: str
    position: str
    specialty: Specialty
    started_on: date
    ended_on: date | None


def _work_record_fill(record: WorkRecord, fields: WorkRecordFields) -> list[str]:
    """Set the fields given (text trimmed) and check the record as the model does (WorkRecord.clean: bounds, NUL
    characters, dates, an active specialty); a ValidationError names the field. Returns the fields that changed."""
    changed = []
    for name, value in fields.items():
        if name not in WorkRecordFields.__annotations__:
            raise TypeError(f"WorkRecord has no field {name!r} the doctor may set")
        if isinstance(value, str):
            value = value.strip()
        if name == "specialty":  # a new record has no specialty to read yet: compare the keys
            if record.specialty_id != getattr(value, "pk", None):
                changed.append(name)
        elif getattr(record, name) != value:
            changed.append(name)
        setattr(record, name, value)
    record.full_clean()
    return changed


def _own_work_record(record: WorkRecord, doctor: User) -> WorkRecord:
    """The doctor's own record, locked until the end of the transaction."""
    if record.doctor_id != doctor.pk:
        raise PermissionDenied(_("This is not your work record."))
    locked = WorkRecord.objects.select_for_update().filter(pk=record.pk, doctor=doctor).first()
    if locked is None:
        raise NotFound(_("This work record has been removed."), code="work_record_gone")
    return locked


@transaction.atomic
def work_record_add(*, doctor: User, **fields: Unpack[WorkRecordFields]) -> WorkRecord:
    """A period of work in the doctor's work history; "to" stays empty while the doctor works there."""
    # One writer at a time per doctor, so that two requests cannot both slip under MAX_PER_DOCTOR.
    User.objects.select_for_update().filter(pk=doctor.pk).values_list("pk").get()
    record = WorkRecord(doctor=doctor)
    _work_record_fill(record, fields)
    record.save()
    audit_log(
        actor=doctor,
        action="work_record.add",
        obj=record,
        specialty=record.specialty.code,
        region=record.region,
        employer_inn=record.employer_inn,
    )
    return record


@transaction.atomic
def work_record_update(*, record: WorkRecord, doctor: User, **fields: Unpack[WorkRecordFields]) -> WorkRecord:
    """Change a record of the doctor's own work history; another doctor's is refused."""
    record = _own_work_record(record, doctor)
    changed = _work_record_fill(record, fields)
    if changed:
        record.save()
        audit_log(actor=doctor, action="work_record.update", obj=record, fields=changed)
    return record


@transaction.atomic
def work_record_remove(*, record: WorkRecord, doctor: User) -> None:
    record = _own_work_record(record, doctor)
    audit_log(
        actor=doctor,
        action="work_record.remove",
        obj=record,
        specialty=record.specialty.code,
        started_on=record.started_on.isoformat(),
        ended_on=record.ended_on.isoformat() if record.ended_on else None,
    )
    record.delete()


@transaction.atomic
def accreditation_reminders_set(*, user: User, enabled: bool) -> DoctorProfile:
    """Turn the e-mail reminders about accreditation (the window opens, 90 days left, hours short) on or off."""
    profile, _created = DoctorProfile.objects.select_for_update().get_or_create(user=user)
    if profile.accreditation_reminders != enabled:
        profile.accreditation_reminders = enabled
        profile.save(update_fields=["accreditation_reminders", "updated_at"])
        audit_log(actor=user, action="doctor_profile.reminders", obj=profile, enabled=enabled)
    return profile
