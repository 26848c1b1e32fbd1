"""ИКП codes and what belongs to them: issuance batches, disputes, and an event's certificates file."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .format import format_code


class IssuanceBatch(models.Model):
    """One issuance of codes for an event: a list of attendees or a number of blank codes."""

    class Kind(models.TextChoices):
        ATTENDEES = "attendees", _("Attendee list")
        BLANK = "blank", _("Blank codes")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Issuing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    event = models.ForeignKey("events.Event", on_delete=models.PROTECT, related_name="batches", verbose_name=_("event"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.QUEUED)
    requested = models.PositiveIntegerField(_("codes requested"))
    issued = models.PositiveIntegerField(_("codes issued"), default=0)
    source_name = models.CharField(_("file"), max_length=255, blank=True)
    attendees = models.JSONField(default=list, blank=True, help_text="Validated attendees waiting to be issued")
    # Attendees of the list left out because they already held a code of the event: {"full_name", "email"}.
    skipped = models.JSONField(_("skipped attendees"), default=list, blank=True)
    # When every certificate of an attendee list has been e-mailed; they go out once the event has ended.
    mailed_at = models.DateTimeField(_("certificates e-mailed"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("issued by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("issuance")
        verbose_name_plural = _("issuances")
        indexes = [
            # the periodic mailing reads only the lists whose certificates are still to be sent
            models.Index(
                fields=["event"], condition=Q(kind="attendees", mailed_at__isnull=True), name="batch_mail_pending_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} · {self.requested}"

    @property
    def skipped_count(self) -> int:
        return len(self.skipped)

    @property
    def progress(self) -> int:
        return (
            100 if self.state == self.State.DONE else int(100 * self.issued / self.requested) if self.requested else 0
        )


def new_verify_token() -> str:
    return secrets.token_urlsafe(18)


class IcpCode(models.Model):
    """An individual confirmation code (ИКП) printed on one certificate of one event."""

    class Status(models.TextChoices):
        ISSUED = "issued", _("Issued")
        ACTIVATED = "activated", _("Activated")
        REVOKED = "revoked", _("Revoked")

    code = models.CharField(_("code"), max_length=12, unique=True)
    # Indexed by icp_event_idx (event, id), which serves the foreign key too.
    event = models.ForeignKey(
        "events.Event", on_delete=models.PROTECT, related_name="codes", verbose_name=_("event"), db_index=False
    )
    batch = models.ForeignKey(
        IssuanceBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="codes", verbose_name=_("issuance")
    )
    holder_name = models.CharField(_("holder"), max_length=300, blank=True)
    holder_email = models.EmailField(_("holder's e-mail"), blank=True)
    holder_snils = models.CharField(_("holder's СНИЛС"), max_length=11, blank=True)
    verify_token = models.CharField(max_length=32, unique=True, default=new_verify_token, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ISSUED)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activated_codes",
        verbose_name=_("activated by"),
    )
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)
    show_holder_name = models.BooleanField(
        _("show the holder's name on the check page"),
        default=False,
        help_text=_("Set by the doctor who activated the code."),
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    revoke_reason = models.TextField(_("reason for revocation"), blank=True)
    mailed_at = models.DateTimeField(_("certificate e-mailed"), null=True, blank=True)
    created_at = models.DateTimeField(_("issued"), default=timezone.now)

    class Meta:
        ordering = ["event", "id"]
        verbose_name = _("ИКП code")
        verbose_name_plural = _("ИКП codes")
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="activated") | Q(activated_by__isnull=False, activated_at__isnull=False),
                name="icp_activated_has_holder",
            ),
            models.CheckConstraint(
                condition=~Q(status="revoked") | Q(revoked_at__isnull=False), name="icp_revoked_has_time"
            ),
            # One doctor, one credited code per event, whatever the number of codes they hold.
            models.UniqueConstraint(
                fields=["activated_by", "event"],
                condition=Q(status="activated"),
                name="icp_one_activation_per_doctor_event",
            ),
        ]
        # An event's codes in the order of the provider's page (and its status filter), read a page at a time
        # from an event of 200,000 codes instead of sorting them all; the status counts read the second alone.
        indexes = [
            models.Index(fields=["event", "id"], name="icp_event_idx"),
            models.Index(fields=["event", "status", "id"], name="icp_event_status_id_idx"),
            # the society report counts a year's codes of its events, and the activated ones, from this index alone
            models.Index(fields=["event", "created_at"], include=["status"], name="icp_event_created_idx"),
        ]

    def __str__(self) -> str:
        return format_code(self.code)

    @property
    def display(self) -> str:
        return format_code(self.code)

    def verify_url(self) -> str:
        """The public check page of the certificate, as printed in its QR code and sent in e-mails, the API
        and the export: addressed by its token, never by the code itself, so the address activates nothing."""
        return settings.SITE_URL + reverse("codes:verify", kwargs={"token": self.verify_token})

    @property
    def public_holder_name(self) -> str:
        """The name the public check page may show: only the doctor who activated the code, only with their
        consent, and never the name on the provider's list."""
        if self.status == self.Status.ACTIVATED and self.show_holder_name and self.activated_by is not None:
            return self.activated_by.full_name
        return ""

    @property
    def activated_by_email(self) -> str | None:
        """The e-mail of the account that activated the code (read with `select_related("activated_by")`)."""
        return self.activated_by.email if self.activated_by is not None else None

    @property
    def email_mismatch(self) -> bool:
        """Activated by an account whose e-mail is not the one the provider's list gave for the holder."""
        email = self.activated_by_email
        return bool(email and self.holder_email and email.lower() != self.holder_email.lower())


class Dispute(models.Model):
    """A doctor's claim that a code is theirs although activation failed; the provider or staff resolve it."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")
        REJECTED = "rejected", _("Rejected")

    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="disputes", verbose_name=_("doctor")
    )
    code_text = models.CharField(_("code as typed"), max_length=40)
    code = models.ForeignKey(IcpCode, on_delete=models.PROTECT, null=True, blank=True, related_name="disputes")
    event = models.ForeignKey(
        "events.Event",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="disputes",
        verbose_name=_("event"),
    )
    event_name = models.CharField(_("event name"), max_length=300)
    event_date = models.DateField(_("event date"))
    event_place = models.CharField(_("place"), max_length=300)
    failure = models.CharField(_("what the portal said"), max_length=40, blank=True)
    message = models.TextField(_("message"), blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OPEN)
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    created_at = models.DateTimeField(_("opened"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")

    def __str__(self) -> str:
        return f"{self.code_text} — {self.doctor}"


class EventCertificatesFile(models.Model):
    """The file with every certificate of an event, kept in the private storage (STORAGES["private"]).

    It holds every unused code of the event, so its name has a random part and it is served only through a
    view that checks who asks. It is stale when a code was issued or revoked after it was built: the codes it
    was built from are remembered as their number and the highest code id (issuing raises the id, revoking
    lowers the number; activation changes nothing printed on a certificate).
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        BUILDING = "building", _("Being built")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    event = models.OneToOneField(
        "events.Event", on_delete=models.CASCADE, related_name="certificates_file", verbose_name=_("event")
    )
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.QUEUED)
    # The name in the private storage of the last file built; kept while a new one is built.
    file_name = models.CharField(_("file"), max_length=255, blank=True)
    requested_at = models.DateTimeField(_("requested"), null=True, blank=True)
    started_at = models.DateTimeField(_("build started"), null=True, blank=True)
    built_at = models.DateTimeField(_("built"), null=True, blank=True)
    codes_count = models.PositiveIntegerField(_("codes in the file"), default=0)
    last_code_id = models.BigIntegerField(_("last code in the file"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("event certificates file")
        verbose_name_plural = _("event certificates files")

    def __str__(self) -> str:
        return f"{self.event_id} · {self.state}"
