"""What the Ministry portal mock does: link an account, receive records once per idempotency key, list them,
and misbehave on request.

The mock plays another organization's system, so its messages are in Russian whatever the portal's
language (the real edu.rosminzdrav.ru speaks only Russian) and are not part of the portal's translations.
"""

import random
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.dateparse import parse_date

from nmo_portal.errors import PortalError

from .models import (
    SNILS_PATTERN,
    SPECIALTY_CODE_PATTERN,
    Faults,
    ReceivedRecord,
    RecordKind,
    Specialist,
    SpecialistCycle,
)

IDEMPOTENCY_KEY_MAX_LENGTH = ReceivedRecord._meta.get_field("idempotency_key").max_length or 200
MAX_LATENCY_MS = 60_000
_SNILS_SEPARATORS = re.compile(r"[\s\-]+")


class MinistryError(PortalError):
    """A refusal as the Ministry portal answers it: a stable code, a Russian message, an HTTP status."""

    code = "ministry_error"

    def __init__(
        self, message: str, *, code: str | None = None, status: int | None = None, fields: dict[str, str] | None = None
    ) -> None:
        super().__init__(message, code=code, status=status)
        self.fields = fields or {}


class InvalidRequest(MinistryError):
    code = "invalid_request"
    status = 400


class SpecialistNotFound(MinistryError):
    code = "specialist_not_found"
    status = 404

    def __init__(self) -> None:
        super().__init__("Специалист с таким СНИЛС не зарегистрирован на портале.")


class Conflict(MinistryError):
    status = 409


class Unavailable(MinistryError):
    code = "unavailable"
    status = 503


class InternalError(MinistryError):
    code = "internal_error"
    status = 500


# Reading the request.


class _Fields:
    """Collects every problem of a request body so that the client hears them all at once."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.errors: dict[str, str] = {}

    def string(self, name: str, *, max_length: int, required: bool = True) -> str:
        raw = self.data.get(name, "")
        if not isinstance(raw, str):
            self.errors[name] = "Ожидается строка."
            return ""
        value: str = raw.strip()
        if required and not value:
            self.errors[name] = "Обязательное поле."
        elif len(value) > max_length:
            self.errors[name] = f"Не длиннее {max_length} символов."
        return value

    def snils(self, name: str = "snils") -> str:
        value = self.string(name, max_length=20)
        value = _SNILS_SEPARATORS.sub("", value)
        if name not in self.errors and not re.fullmatch(SNILS_PATTERN, value):
            self.errors[name] = "СНИЛС состоит из 11 цифр."
        return value

    def specialty_code(self, name: str = "specialty_code") -> str:
        value = self.string(name, max_length=8)
        if name not in self.errors and not re.fullmatch(SPECIALTY_CODE_PATTERN, value):
            self.errors[name] = "Код специальности имеет вид 31.08.20."
        return value

    def integer(self, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self.data.get(name)
        # bool is an int in Python, but `true` is not a number of ЗЕТ.
        if not isinstance(value, int) or isinstance(value, bool):
            self.errors[name] = "Ожидается целое число."
            return 0
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.errors[name] = f"Допустимо от {minimum} до {maximum}."
        return value

    def share(self, name: str) -> float:
        value = self.data.get(name)
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
            self.errors[name] = "Ожидается число от 0 до 1."
            return 0.0
        return float(value)

    def boolean(self, name: str) -> bool:
        value = self.data.get(name)
        if not isinstance(value, bool):
            self.errors[name] = "Ожидается true или false."
            return False
        return value

    def iso_date(self, name: str) -> date:
        raw = self.data.get(name)
        try:
            parsed = parse_date(raw) if isinstance(raw, str) else None
        except ValueError:
            parsed = None
        if parsed is None:
            self.errors[name] = "Ожидается дата в формате ГГГГ-ММ-ДД."
            return date.min
        return parsed

    def check(self) -> None:
        if self.errors:
            raise InvalidRequest("Запрос содержит ошибки.", code="validation_error", fields=self.errors)


@dataclass(frozen=True)
class RecordInput:
    snils: str
    specialty_code: str
    kind: str
    zet: int
    title: str
    earned_on: date
    source_ref: str


def record_input_parse(data: Mapping[str, Any]) -> RecordInput:
    fields = _Fields(data)
    snils = fields.snils()
    specialty_code = fields.specialty_code()
    kind = fields.string("kind", max_length=32)
    if "kind" not in fields.errors and kind not in RecordKind.values:
        fields.errors["kind"] = "Допустимые виды: " + ", ".join(RecordKind.values) + "."
    zet = fields.integer("zet", minimum=-1000, maximum=1000)
    title = fields.string("title", max_length=500)
    earned_on = fields.iso_date("earned_on")
    source_ref = fields.string("source_ref", max_length=200, required=False)
    fields.check()
    return RecordInput(snils, specialty_code, kind, zet, title, earned_on, source_ref)


# Faults.


def faults_apply() -> None:
    """Misbehave as told, before the request does anything: down, then slow, then failing a share of requests."""
    faults = Faults.current()
    if faults.down:
        raise Unavailable("Портал временно недоступен. Повторите запрос позже.")
    if faults.latency_ms:
        time.sleep(faults.latency_ms / 1000)
    # Decided before anything is stored: a failed request must leave no trace, as a crashed request would.
    if faults.failure_rate and random.random() < faults.failure_rate:  # noqa: S311 - a simulation, not a secret
        raise InternalError("Внутренняя ошибка портала.")


def faults_update(*, data: Mapping[str, Any]) -> Faults:
    """Set any of latency_ms, failure_rate and down; the fields not given keep their values."""
    known = {"latency_ms", "failure_rate", "down"}
    fields = _Fields(data)
    for name in sorted(set(data) - known):
        fields.errors[name] = "Неизвестное поле."
    changes: dict[str, Any] = {}
    if "latency_ms" in data:
        changes["latency_ms"] = fields.integer("latency_ms", minimum=0, maximum=MAX_LATENCY_MS)
    if "failure_rate" in data:
        changes["failure_rate"] = fields.share("failure_rate")
    if "down" in data:
        changes["down"] = fields.boolean("down")
    fields.check()
    with transaction.atomic():
        faults = Faults.current()
        for name, value in changes.items():
            setattr(faults, name, value)
        faults.save()
    return faults


# Specialists.


def _specialist_by_snils(snils: str) -> Specialist:
    specialist = Specialist.objects.filter(snils=snils).first()
    if specialist is None:
        raise SpecialistNotFound
    return specialist


def _snils_valid(snils: str) -> bool:
    """The control sum of a СНИЛС (the mock shares no code with the portal: the same rule, written again).
    Numbers up to 001-001-998 predate the control sum."""
    if int(snils[:9]) <= 1_001_998:
        return True
    total = sum(int(digit) * weight for digit, weight in zip(snils[:9], range(9, 0, -1), strict=True)) % 101
    return snils[9:] == f"{0 if total == 100 else total:02d}"


def registers_newcomers() -> bool:
    """Whether the mock registers an unknown specialist on the first link: in the demo only (DEBUG on)."""
    return bool(settings.DEBUG and getattr(settings, "MINISTRY_MOCK_REGISTERS_NEWCOMERS", False))


def _newcomer_register(*, snils: str, login: str) -> tuple[Specialist, bool]:
    if not registers_newcomers() or not _snils_valid(snils):
        raise SpecialistNotFound
    with transaction.atomic():
        if Specialist.objects.filter(login__iexact=login).exists():
            raise Conflict("Этот логин уже принадлежит другому специалисту.", code="login_taken")
        try:
            with transaction.atomic():
                return Specialist.objects.create(snils=snils, login=login, full_name=""), True
        except IntegrityError:  # a concurrent link of the same СНИЛС registered it first
            return _specialist_by_snils(snils), False


def account_link(*, data: Mapping[str, Any]) -> tuple[Specialist, bool]:
    """The portal proves that a doctor is this specialist: the СНИЛС is known and the login is theirs. Returns
    the specialist and whether the mock registered them just now (`registers_newcomers`)."""
    fields = _Fields(data)
    snils = fields.snils()
    login = fields.string("login", max_length=150)
    fields.check()
    registered = False
    specialist = Specialist.objects.filter(snils=snils).first()
    if specialist is None:
        specialist, registered = _newcomer_register(snils=snils, login=login)
    if specialist.login.casefold() != login.casefold():
        raise Conflict(
            "Логин не совпадает с логином специалиста с этим СНИЛС на портале.",
            code="login_mismatch",
        )
    return specialist, registered


@dataclass(frozen=True)
class CycleInput:
    specialty_code: str
    starts_on: date
    ends_on: date


def specialist_upsert(*, data: Mapping[str, Any]) -> tuple[Specialist, bool]:
    """Create a specialist (or bring an existing one up to date, so that seeding can run twice) with cycles.

    Cycles are matched by specialty; cycles not mentioned are kept, as records may be filed under them.
    """
    fields = _Fields(data)
    snils = fields.snils()
    login = fields.string("login", max_length=150)
    full_name = fields.string("full_name", max_length=300)
    cycles = _cycles_parse(fields, data.get("cycles", []))
    fields.check()
    with transaction.atomic():
        if Specialist.objects.filter(Q(login__iexact=login) & ~Q(snils=snils)).exists():
            raise Conflict("Этот логин уже принадлежит другому специалисту.", code="login_taken")
        specialist, created = Specialist.objects.update_or_create(
            snils=snils, defaults={"login": login, "full_name": full_name}
        )
        for cycle in cycles:
            SpecialistCycle.objects.update_or_create(
                specialist=specialist,
                specialty_code=cycle.specialty_code,
                defaults={"starts_on": cycle.starts_on, "ends_on": cycle.ends_on},
            )
    return specialist, created


def _cycles_parse(fields: _Fields, raw: Any) -> list[CycleInput]:
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        fields.errors["cycles"] = "Ожидается список циклов."
        return []
    cycles: list[CycleInput] = []
    for index, item in enumerate(raw):
        cycle_fields = _Fields(item)
        code = cycle_fields.specialty_code()
        starts_on = cycle_fields.iso_date("starts_on")
        ends_on = cycle_fields.iso_date("ends_on")
        if not cycle_fields.errors:
            if code in {cycle.specialty_code for cycle in cycles}:
                cycle_fields.errors["specialty_code"] = "По одной специальности — один цикл."
            elif ends_on < starts_on:
                cycle_fields.errors["ends_on"] = "Цикл не может закончиться раньше, чем начался."
        fields.errors.update({f"cycles[{index}].{name}": error for name, error in cycle_fields.errors.items()})
        cycles.append(CycleInput(code, starts_on, ends_on))
    return cycles


# Records.


def _cycle_for(*, specialist: Specialist, specialty_code: str, earned_on: date) -> SpecialistCycle | None:
    return SpecialistCycle.objects.filter(
        specialist=specialist, specialty_code=specialty_code, starts_on__lte=earned_on, ends_on__gte=earned_on
    ).first()


def _stored_record(key: str) -> ReceivedRecord | None:
    return ReceivedRecord.objects.filter(idempotency_key=key).first()


def idempotency_key_clean(raw: str | None) -> str:
    key = (raw or "").strip()
    if not key:
        raise InvalidRequest("Нужен заголовок Idempotency-Key.", code="idempotency_key_missing")
    if len(key) > IDEMPOTENCY_KEY_MAX_LENGTH:
        raise InvalidRequest(
            f"Idempotency-Key не длиннее {IDEMPOTENCY_KEY_MAX_LENGTH} символов.", code="idempotency_key_invalid"
        )
    return key


def record_receive(*, idempotency_key: str, data: Mapping[str, Any]) -> tuple[ReceivedRecord, bool]:
    """Store a record once per key. Returns the record and whether it is new; a repeated key returns what was
    stored the first time, whatever the body says now."""
    key = idempotency_key_clean(idempotency_key)
    stored = _stored_record(key)
    if stored is not None:
        return stored, False
    record = record_input_parse(data)
    specialist = _specialist_by_snils(record.snils)
    cycle = _cycle_for(specialist=specialist, specialty_code=record.specialty_code, earned_on=record.earned_on)
    try:
        # A savepoint of its own, so that losing the race leaves the connection usable for the read below.
        with transaction.atomic():
            return (
                ReceivedRecord.objects.create(
                    specialist=specialist,
                    cycle=cycle,
                    idempotency_key=key,
                    kind=record.kind,
                    zet=record.zet,
                    title=record.title,
                    earned_on=record.earned_on,
                    source_ref=record.source_ref,
                    payload=dict(data),
                ),
                True,
            )
    except IntegrityError:
        # Another request with the same key committed between our read and our insert.
        stored = _stored_record(key)
        if stored is None:
            raise
        return stored, False


def records_reset() -> int:
    deleted, _per_model = ReceivedRecord.objects.all().delete()
    return deleted


# Reads.


@dataclass(frozen=True)
class SpecialistRecords:
    specialist: Specialist
    records: Sequence[ReceivedRecord]

    @property
    def progress(self) -> dict[str, int]:
        """ЗЕТ per kind, every kind present; reversals (negative ЗЕТ) subtract."""
        totals = dict.fromkeys(RecordKind.values, 0)
        for record in self.records:
            totals[record.kind] += record.zet
        return totals


def specialist_records(*, snils: str) -> SpecialistRecords:
    fields = _Fields({"snils": snils})
    snils = fields.snils()
    fields.check()
    specialist = _specialist_by_snils(snils)
    records = list(specialist.records.select_related("cycle").order_by("received_at", "id"))
    return SpecialistRecords(specialist=specialist, records=records)
