"""Module completions reported by providers: matched to doctors by confirmed СНИЛС or e-mail, credited once,
and reversed when the СНИЛС that brought them leaves the profile."""

from datetime import datetime, timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit_log
from accounts.models import DoctorProfile, Membership, User
from accounts.services import require_org_member, snils_lock
from accounts.snils import normalize_snils, validate_snils
from credits.models import CreditEntry
from credits.services import ledger_append, ledger_reverse
from modules.models import Module
from nmo_portal.calendar import EARLIEST_YEAR, LATEST_YEAR, local_date, within_register_years
from nmo_portal.errors import PortalError
from review.models import Status

from .models import ModuleCompletion

# Module completions -----------------------------------------------------------------------------------


def _staff_of(module: Module) -> Any:  # a subquery of user ids
    return Membership.objects.filter(organization_id=module.organization_id).values("user")


def _doctor_for(*, module: Module, snils: str, email: str) -> tuple[User, str] | None:
    """The doctor a completion names, and how: by a СНИЛС the Ministry link has confirmed, then by a confirmed
    e-mail. A typed, unconfirmed СНИЛС names nobody (anyone may type anyone's number), and neither does the
    e-mail of a member of the module's own provider (staff do not credit themselves)."""
    if snils:
        profile = (
            DoctorProfile.objects.select_related("user").filter(snils=snils, snils_confirmed_at__isnull=False).first()
        )
        if profile is not None:
            return profile.user, ModuleCompletion.MatchedBy.SNILS
    if email:
        address = (
            EmailAddress.objects.select_related("user")
            .filter(email__iexact=email, verified=True)
            .exclude(user__in=_staff_of(module))
            .first()
        )
        if address is not None:
            return address.user, ModuleCompletion.MatchedBy.EMAIL
    return None


def _credit_completion(completion: ModuleCompletion, doctor: User, matched_by: str) -> CreditEntry:
    completion.doctor = doctor
    completion.credited_at = timezone.now()
    completion.matched_by = matched_by
    completion.save(update_fields=["doctor", "credited_at", "matched_by"])
    module = completion.module
    entry = ledger_append(
        doctor=doctor,
        kind=CreditEntry.Kind.CREDIT,
        source=CreditEntry.Source.MODULE_COMPLETION,
        credits=module.credits_granted or 0,
        earned_on=local_date(completion.completed_at),  # the register's (Moscow) day, whoever reported it
        actor=completion.reported_by,
        source_id=completion.pk,
        activity=module,
    )
    return entry


def completion_report(
    *, module: Module, actor: User, external_id: str, completed_at: datetime, snils: str = "", email: str = ""
) -> tuple[ModuleCompletion, bool]:
    """Record a provider's report of a completed module; (completion, created). The same external id
    again changes nothing. A doctor not registered yet (or whose СНИЛС is not confirmed yet) is credited
    later. What the provider gets back never depends on whether the doctor exists."""
    external_id = external_id.strip()
    snils = normalize_snils(snils)
    email = email.strip().lower()
    if not external_id:
        raise PortalError(_("Give the provider's completion id."), code="external_id_required")
    if not snils and not email:
        raise PortalError(_("Give the doctor's СНИЛС or e-mail."), code="doctor_required")
    if snils:
        try:
            validate_snils(snils)
        except ValidationError as exc:
            raise PortalError(exc.messages[0], code="snils_invalid") from exc
    if completed_at > timezone.now() + timedelta(minutes=5):
        raise PortalError(_("The completion time is in the future."), code="completed_in_future")
    if not within_register_years(local_date(completed_at)):  # the upload and the API alike
        raise PortalError(
            _("Give a date from %(earliest)s to %(latest)s.")
            % {"earliest": f"{EARLIEST_YEAR}-01-01", "latest": f"{LATEST_YEAR}-12-31"},
            code="out_of_range",
        )
    with transaction.atomic():
        require_org_member(
            user=actor,
            organization=module.organization,
            verified=False,
            message=_("You are not a member of the module's provider."),
        )
        if module.status != Status.APPROVED:
            raise PortalError(_("Completions are reported only for approved modules."), code="module_not_approved")
        existing = ModuleCompletion.objects.filter(module=module, external_id=external_id).first()
        if existing is not None:
            return existing, False
        if snils:
            snils_lock(snils)  # a confirmation of this СНИЛС either sees this report or is seen by it
        try:
            with transaction.atomic():
                completion = ModuleCompletion.objects.create(
                    module=module,
                    external_id=external_id,
                    snils=snils,
                    email=email,
                    completed_at=completed_at,
                    reported_by=actor,
                )
        except IntegrityError:  # the same report arriving twice at the same instant
            return ModuleCompletion.objects.get(module=module, external_id=external_id), False
        audit_log(actor=actor, action="completion.report", obj=completion, module=module.pk)
        found = _doctor_for(module=module, snils=snils, email=email)
        if found is not None:
            doctor, matched_by = found
            if not ModuleCompletion.objects.filter(module=module, doctor=doctor).exists():
                _credit_completion(completion, doctor, matched_by)
        return completion, True


def completions_claim(*, user: User) -> int:
    """Credit the completions held for this doctor: those naming their confirmed СНИЛС, and those naming one
    of their confirmed e-mails (except for modules of the doctor's own organizations). Returns how many."""
    profile = DoctorProfile.objects.filter(user=user).first()
    confirmed_snils = profile.snils if profile is not None and profile.snils_confirmed else None
    emails = [e.lower() for e in EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)]
    own_organizations = Membership.objects.filter(user=user).values("organization")
    condition = Q(pk__in=[])
    if emails:
        condition |= Q(email__in=emails) & ~Q(module__organization__in=own_organizations)
    if confirmed_snils is not None:
        condition |= Q(snils=confirmed_snils)
    credited = 0
    with transaction.atomic():
        pending = (
            ModuleCompletion.objects.select_for_update().select_related("module").filter(condition, doctor__isnull=True)
        )
        for completion in pending.order_by("completed_at", "pk"):
            if ModuleCompletion.objects.filter(module=completion.module, doctor=user).exists():
                continue  # the module is credited once, whatever the number of reports
            by_snils = confirmed_snils is not None and completion.snils == confirmed_snils
            _credit_completion(
                completion, user, ModuleCompletion.MatchedBy.SNILS if by_snils else ModuleCompletion.MatchedBy.EMAIL
            )
            credited += 1
    return credited


def completions_release(*, user: User, snils: str, actor: User | None) -> int:
    """A СНИЛС left `user`'s profile (changed, removed, or confirmed for another account): reverse the module
    credits it brought and let those completions wait for their owner again. A completion that also names
    one of the account's confirmed e-mails keeps its credit, standing on the e-mail now. Runs inside the
    caller's transaction; returns how many credits were reversed."""
    emails = {e.lower() for e in EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)}
    own_organizations = set(Membership.objects.filter(user=user).values_list("organization_id", flat=True))
    reversed_count = 0
    with transaction.atomic(savepoint=False):
        brought = (
            ModuleCompletion.objects.select_for_update()
            .select_related("module")
            .filter(doctor=user, snils=snils, matched_by=ModuleCompletion.MatchedBy.SNILS)
            .order_by("pk")
        )
        for completion in brought:
            if completion.email in emails and completion.module.organization_id not in own_organizations:
                completion.matched_by = ModuleCompletion.MatchedBy.EMAIL
                completion.save(update_fields=["matched_by"])
                continue
            credit = CreditEntry.objects.filter(
                source=CreditEntry.Source.MODULE_COMPLETION,
                source_id=completion.pk,
                doctor=user,
                kind=CreditEntry.Kind.CREDIT,
                reversed_by__isnull=True,
            ).first()
            if credit is not None:
                ledger_reverse(
                    credit=credit,
                    doctor=user,
                    actor=actor,
                    comment=_("The СНИЛС that identified the doctor left the profile."),
                )
                reversed_count += 1
            completion.doctor = None
            completion.credited_at = None
            completion.matched_by = ""
            completion.save(update_fields=["doctor", "credited_at", "matched_by"])
            audit_log(
                actor=actor, action="completion.release", obj=completion, doctor=user.pk, reversed=credit is not None
            )
    return reversed_count
