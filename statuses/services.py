"""Writes of the status programmes. Every step goes through one function here, whichever door it comes by (the
doctor's pages and API, the commission's pages, the admin), checks its rule, leaves an audit row and e-mails the
applicant once the transaction commits."""

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.audit import audit_log
from accounts.models import Specialty, User
from accounts.work import validate_inn
from nmo_portal.calendar import local_date, today
from nmo_portal.celery import enqueue_on_commit
from nmo_portal.errors import NotFound, PermissionDenied, PortalError

from .commission import conflicted
from .models import CommissionMember, ProgrammeStage, StageResult, Status, StatusApplication, StatusProgramme
from .selectors import current_employer_inns, eligibility, portfolio_snapshot
from .tasks import send_application_email

TEXT_MAX = 2000
PLACE_MAX = 300


def _clean_text(value: str, *, field: str, limit: int = TEXT_MAX, required: bool = False) -> str:
    value = (value or "").strip()
    if "\x00" in value:
        raise PortalError(_("The text holds a character that cannot be saved."), code="text_invalid")
    if len(value) > limit:
        raise PortalError(
            ngettext(
                "%(field)s is longer than %(limit)s character.", "%(field)s is longer than %(limit)s characters.", limit
            )
            % {"field": field, "limit": limit},
            code="text_too_long",
        )
    if required and not value:
        raise PortalError(_("%(field)s is required.") % {"field": field}, code="text_required")
    return value


# Applications -----------------------------------------------------------------------------------------------


def _retake_from(doctor: User, programme: StatusProgramme, specialty: Specialty) -> date | None:
    """The first day a new attempt may be made after the last failed or refused one, if that day is to come."""
    last = (
        StatusApplication.objects.filter(
            doctor=doctor,
            programme=programme,
            specialty=specialty,
            state__in=StatusApplication.CLOSED_AFTER_ATTEMPT,
        )
        .order_by("-closed_at")
        .values_list("closed_at", flat=True)
        .first()
    )
    if last is None:
        return None
    return local_date(last) + timedelta(days=programme.retake_wait_days)


def application_submit(
    *,
    doctor: User,
    programme: StatusProgramme,
    specialty: Specialty,
    public_consent: bool = False,
    day: date | None = None,
) -> StatusApplication:
    """A doctor applies for `programme`'s status in `specialty`. Refused, in this order: the programme closed or
    the specialty not in it; an application already open (`application_open`); a retake inside the wait after a
    failed or refused attempt (`retake_too_soon`); a status held that cannot be renewed yet (`status_held`);
    and what eligibility finds missing (`not_eligible`, with `missing`). The portfolio is frozen into the
    application. A valid status within its renewal window makes this a renewal of it."""
    day = day or today()
    with transaction.atomic():
        # One doctor's applications are written one at a time: two clicks at once check and insert in turn.
        User.objects.select_for_update().filter(pk=doctor.pk).values_list("pk").get()
        if not programme.is_active:
            raise PortalError(_("The programme does not accept applications now."), code="programme_closed")
        if not programme.specialties.filter(pk=specialty.pk).exists():
            raise PortalError(
                _("The programme does not award a status in this specialty."), code="specialty_not_offered"
            )
        if StatusApplication.objects.filter(
            doctor=doctor, programme=programme, specialty=specialty, state=StatusApplication.State.OPEN
        ).exists():
            raise _application_open()
        retake_from = _retake_from(doctor, programme, specialty)
        if retake_from is not None and day < retake_from:
            raise PortalError(
                _("A new attempt in this specialty can be made from %(date)s.") % {"date": f"{retake_from:%d.%m.%Y}"},
                code="retake_too_soon",
                status=409,
                details={"retake_from": retake_from.isoformat()},
            )
        held = (
            Status.objects.valid_on(day)
            .filter(doctor=doctor, programme=programme, specialty=specialty)
            .order_by("-expires_on", "-pk")  # after a renewal, the newer status decides
            .first()
        )
        if held is not None and day < held.renewal_opens_on():
            raise PortalError(
                _("You hold this status until %(expires)s; its renewal opens on %(opens)s.")
                % {"expires": f"{held.expires_on:%d.%m.%Y}", "opens": f"{held.renewal_opens_on():%d.%m.%Y}"},
                code="status_held",
                status=409,
                details={"renewal_opens_on": held.renewal_opens_on().isoformat()},
            )
        gaps = eligibility(doctor=doctor, programme=programme, specialty=specialty, day=day)
        if gaps:
            raise PortalError(
                _("You cannot apply yet: %(missing)s") % {"missing": " ".join(gap.message for gap in gaps)},
                code="not_eligible",
                details={"missing": [gap.as_json() for gap in gaps]},
            )
        try:
            with transaction.atomic():
                application = StatusApplication.objects.create(
                    programme=programme,
                    specialty=specialty,
                    doctor=doctor,
                    renews=held,
                    public_consent=public_consent,
                    snapshot=portfolio_snapshot(doctor=doctor, programme=programme, specialty=specialty, day=day),
                    employer_inns=sorted(current_employer_inns(doctor, day)),
                )
        except IntegrityError:  # written by a path that skipped the lock
            raise _application_open() from None
        StageResult.objects.bulk_create(
            StageResult(application=application, stage=stage) for stage in programme.stages.order_by("position")
        )
        audit_log(
            actor=doctor,
            action="status_application.submit",
            obj=application,
            programme=programme.slug,
            specialty=specialty.code,
            renews=held.number if held else None,
        )
        enqueue_on_commit(send_application_email, application_id=application.pk, event="submitted")
    return application


def _application_open() -> PortalError:
    return PortalError(
        _("You already have an open application for this status in this specialty."),
        code="application_open",
        status=409,
    )


def _locked(application: StatusApplication) -> StatusApplication:
    return (
        StatusApplication.objects.select_for_update()
        .select_related("programme", "specialty", "doctor")
        .get(pk=application.pk)
    )


def _require_open(application: StatusApplication) -> None:
    if not application.is_open:
        raise PortalError(
            _("The application is closed: %(state)s.") % {"state": application.get_state_display()},
            code="application_closed",
            status=409,
        )


def application_withdraw(*, application: StatusApplication, doctor: User) -> StatusApplication:
    """The applicant withdraws before the decision; nothing waits for a retake after a withdrawal."""
    with transaction.atomic():
        application = _locked(application)
        if application.doctor_id != doctor.pk:
            raise NotFound(_("No such application."))
        _require_open(application)
        application.state = StatusApplication.State.WITHDRAWN
        application.closed_at = timezone.now()
        application.save(update_fields=["state", "closed_at"])
        audit_log(actor=doctor, action="status_application.withdraw", obj=application)
        enqueue_on_commit(send_application_email, application_id=application.pk, event="withdrawn")
    return application


# The commission ---------------------------------------------------------------------------------------------


def commission_member_appoint(
    *, programme: StatusProgramme, specialty: Specialty, user: User, employer_inn: str, actor: User
) -> CommissionMember:
    """An administrator seats `user` on the programme's commission for `specialty`."""
    if not actor.is_staff:
        raise PermissionDenied(_("Only administrators appoint commission members."))
    if not programme.specialties.filter(pk=specialty.pk).exists():
        raise PortalError(_("The programme does not award a status in this specialty."), code="specialty_not_offered")
    try:
        validate_inn(employer_inn)
    except DjangoValidationError:
        raise PortalError(_("Enter a valid ИНН of the member's employer."), code="inn_invalid") from None
    with transaction.atomic():
        try:
            with transaction.atomic():
                member = CommissionMember.objects.create(
                    programme=programme, specialty=specialty, user=user, employer_inn=employer_inn
                )
        except IntegrityError:
            raise PortalError(
                _("%(user)s already sits on this commission.") % {"user": user},
                code="member_already_appointed",
                status=409,
            ) from None
        audit_log(actor=actor, action="commission_member.appoint", obj=member, specialty=specialty.code)
    return member


def commission_member_retire(*, member: CommissionMember, actor: User) -> CommissionMember:
    if not actor.is_staff:
        raise PermissionDenied(_("Only administrators appoint commission members."))
    with transaction.atomic():
        member = CommissionMember.objects.select_for_update().get(pk=member.pk)
        if member.retired_at is None:
            member.retired_at = timezone.now()
            member.save(update_fields=["retired_at"])
            audit_log(actor=actor, action="commission_member.retire", obj=member)
    return member


def require_commission_member(*, user: User, application: StatusApplication) -> CommissionMember:
    """The seat from which `user` acts on `application`: on its programme's commission for its specialty, and
    not at the applicant's employer. Otherwise 403."""
    seat = CommissionMember.objects.filter(
        user=user,
        programme_id=application.programme_id,
        specialty_id=application.specialty_id,
        retired_at__isnull=True,
    ).first()
    if seat is None:
        raise PermissionDenied(_("You do not sit on this commission."), code="not_commission_member")
    if has_conflict(seat=seat, application=application):
        raise PermissionDenied(
            _("The applicant works for your own employer: another member of the commission decides."),
            code="conflict_of_interest",
        )
    return seat


def has_conflict(*, seat: CommissionMember, application: StatusApplication) -> bool:
    """True when the application is the member's own, or the applicant's current employer (by ИНН) is the
    member's own: the employer named on any of the member's seats, or where the member works now. One rule
    with the queue's marks: `commission.conflicted`, for one application."""
    seats = [seat, *CommissionMember.objects.filter(user_id=seat.user_id, retired_at__isnull=True)]
    return application.pk in conflicted(user=seat.user, seats=seats, applications=[application])


def _stage_result(application: StatusApplication, stage: ProgrammeStage) -> StageResult:
    if stage.programme_id != application.programme_id:
        raise NotFound(_("No such stage."))
    result, _created = StageResult.objects.select_for_update().get_or_create(application=application, stage=stage)
    return result


def stage_schedule(
    *, application: StatusApplication, stage: ProgrammeStage, user: User, scheduled_at: datetime, place: str
) -> StageResult:
    """A member sets (or moves) the date and place of a stage not yet held."""
    place = _clean_text(place, field=_("Place"), limit=PLACE_MAX, required=True)
    with transaction.atomic():
        application = _locked(application)
        require_commission_member(user=user, application=application)
        _require_open(application)
        result = _stage_result(application, stage)
        if result.is_recorded:
            raise PortalError(_("This stage's result is recorded already."), code="stage_already_recorded", status=409)
        if local_date(scheduled_at) < local_date(application.submitted_at):
            raise PortalError(
                _("The stage cannot be held before the application was submitted."), code="scheduled_at_invalid"
            )
        result.scheduled_at = scheduled_at
        result.place = place
        result.save(update_fields=["scheduled_at", "place"])
        audit_log(
            actor=user,
            action="status_application.schedule",
            obj=application,
            stage=stage.position,
            scheduled_at=scheduled_at.isoformat(),
            place=place,
        )
        # The letter says the date and place set now, even if they are moved again before it is sent.
        enqueue_on_commit(
            send_application_email,
            application_id=application.pk,
            event="scheduled",
            stage_id=stage.pk,
            scheduled_at=scheduled_at.isoformat(),
            place=place,
        )
    return result


SCORE_FORMAT = re.compile(r"[0-9]{1,3}(?:[.,][0-9]{1,2})?")


def _parse_score(raw: object) -> Decimal:
    """A score in per cent as people type it: 80, 79.5, 92,25. Nothing else (no exponents, signs or other
    scripts' digits), and at most 100."""
    if not SCORE_FORMAT.fullmatch(str(raw).strip()):
        raise PortalError(_("Enter the score in per cent, from 0 to 100."), code="score_invalid")
    try:
        score = Decimal(str(raw).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise PortalError(_("Enter the score in per cent, from 0 to 100."), code="score_invalid") from None
    if not score.is_finite() or not Decimal(0) <= score <= Decimal(100) or score != score.quantize(Decimal("0.01")):
        raise PortalError(_("Enter the score in per cent, from 0 to 100."), code="score_invalid")
    return score


def stage_result_record(
    *,
    application: StatusApplication,
    stage: ProgrammeStage,
    user: User,
    held_on: date,
    score: object = None,
    passed: bool | None = None,
    comment: str = "",
) -> StageResult:
    """A member records a stage's result, in order: every earlier stage passed (`stage_out_of_order`), this
    one not recorded yet. A scored stage takes a score in per cent and passes at its pass mark or above (79 fails
    at 80, 80 passes); another stage takes passed or not. A failed stage ends the attempt."""
    comment = _clean_text(comment, field=_("Comment"))
    with transaction.atomic():
        application = _locked(application)
        require_commission_member(user=user, application=application)
        _require_open(application)
        result = _stage_result(application, stage)
        if result.is_recorded:
            raise PortalError(_("This stage's result is recorded already."), code="stage_already_recorded", status=409)
        earlier = StageResult.objects.filter(application=application, stage__position__lt=stage.position)
        stages_before = application.programme.stages.filter(position__lt=stage.position).count()
        if earlier.filter(passed=True).count() < stages_before:
            raise PortalError(
                _("Record the results of the earlier stages first: %(stage)s follows them.")
                % {"stage": stage.display_name},
                code="stage_out_of_order",
                status=409,
            )
        if not isinstance(held_on, date) or held_on > today():
            raise PortalError(_("The stage's date cannot be in the future."), code="held_on_invalid")
        if held_on < local_date(application.submitted_at):
            raise PortalError(
                _("The stage cannot be held before the application was submitted."), code="held_on_invalid"
            )
        previous = earlier.order_by("-stage__position").values_list("held_on", flat=True).first()
        if previous is not None and held_on < previous:
            raise PortalError(
                _("The stage cannot be held before the stage that comes before it (%(date)s).")
                % {"date": f"{previous:%d.%m.%Y}"},
                code="held_on_invalid",
            )
        if stage.is_scored:
            if score is None or score == "":
                raise PortalError(_("Enter the score in per cent, from 0 to 100."), code="score_invalid")
            result.score = _parse_score(score)
            result.passed = result.score >= (stage.pass_mark or Decimal(0))
        else:
            if score not in (None, ""):
                raise PortalError(_("This stage is passed or not; it takes no score."), code="score_not_expected")
            if passed is None:
                raise PortalError(_("Say whether the stage was passed."), code="passed_required")
            result.passed = bool(passed)
        result.held_on = held_on
        result.comment = comment
        result.recorded_by = user
        result.recorded_at = timezone.now()
        result.save()
        if not result.passed:
            application.state = StatusApplication.State.FAILED
            application.closed_at = result.recorded_at
            application.save(update_fields=["state", "closed_at"])
        audit_log(
            actor=user,
            action="status_application.stage_result",
            obj=application,
            stage=stage.position,
            score=str(result.score) if result.score is not None else None,
            passed=result.passed,
        )
        enqueue_on_commit(send_application_email, application_id=application.pk, event="result", stage_id=stage.pk)
    return result


def _next_number(programme: StatusProgramme, year: int) -> str:
    """PREFIX-YEAR-NNNNNN, numbered per programme and year; the programme's row is locked by the caller."""
    prefix = f"{programme.number_prefix}-{year}-"  # the prefix is unique to the programme
    taken = Status.objects.filter(programme=programme, number__startswith=prefix).count()
    return f"{prefix}{taken + 1:06d}"


def application_decide(
    *, application: StatusApplication, user: User, award: bool, comment: str = ""
) -> StatusApplication:
    """The commission's decision once every stage is passed: the status awarded (with its number, dates and
    check token) or refused with a reason. One decision per application: a second, even at the same instant,
    finds it closed."""
    comment = _clean_text(comment, field=_("Comment"), required=not award)
    with transaction.atomic():
        application = _locked(application)
        require_commission_member(user=user, application=application)
        _require_open(application)
        stages = application.programme.stages.count()
        if application.stage_results.filter(passed=True).count() < stages:
            raise PortalError(
                _("The commission decides once every stage is passed."), code="stages_incomplete", status=409
            )
        application.state = StatusApplication.State.AWARDED if award else StatusApplication.State.REFUSED
        application.closed_at = timezone.now()
        application.decided_by = user
        application.decision_comment = comment
        application.save(update_fields=["state", "closed_at", "decided_by", "decision_comment"])
        status = None
        if award:
            programme = StatusProgramme.objects.select_for_update().get(pk=application.programme_id)
            awarded_on = today()
            status = Status.objects.create(
                programme=programme,
                specialty=application.specialty,
                doctor=application.doctor,
                application=application,
                number=_next_number(programme, awarded_on.year),
                awarded_on=awarded_on,
                # A renewal continues the term it renews: awarded early, it loses no days of the old one.
                expires_on=Status.expiry_of(
                    max(awarded_on, application.renews.expires_on) if application.renews else awarded_on,
                    programme.validity_years,
                ),
                public_consent=application.public_consent,
            )
        audit_log(
            actor=user,
            action="status_application.decide",
            obj=application,
            award=award,
            number=status.number if status else None,
        )
        enqueue_on_commit(send_application_email, application_id=application.pk, event="decided")
    return application


# The status -------------------------------------------------------------------------------------------------


def status_revoke(*, status: Status, actor: User, reason: str) -> Status:
    """An administrator revokes a status with a reason; its check page says so from then on."""
    if not actor.is_staff:
        raise PermissionDenied(_("Only administrators revoke a status."))
    reason = _clean_text(reason, field=_("Reason"), required=True)
    with transaction.atomic():
        status = Status.objects.select_for_update().get(pk=status.pk)
        if status.revoked_at is not None:
            raise PortalError(_("The status is revoked already."), code="status_already_revoked", status=409)
        status.revoked_at = timezone.now()
        status.revoked_by = actor
        status.revoke_reason = reason
        status.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        audit_log(actor=actor, action="status.revoke", obj=status, reason=reason)
        enqueue_on_commit(send_application_email, application_id=status.application_id, event="revoked")
    return status


def status_consent_set(*, status: Status, doctor: User, public: bool) -> Status:
    """The holder agrees (or no longer agrees) to be named on the check page and in the public register."""
    with transaction.atomic():
        status = Status.objects.select_for_update().get(pk=status.pk)
        if status.doctor_id != doctor.pk:
            raise NotFound(_("No such status."))
        if status.public_consent != public:
            status.public_consent = public
            status.save(update_fields=["public_consent"])
            audit_log(actor=doctor, action="status.consent", obj=status, public=public)
    return status
