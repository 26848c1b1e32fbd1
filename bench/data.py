"""Rows the benches create through the ORM, in bulk where there are thousands.

Nothing here deletes: each run works in a throwaway copy of the bench database (`harness.bench_database`).
"""

import itertools
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.crypto import get_random_string

from accounts.models import DoctorProfile, Membership, Organization, Specialty, User
from accounts.snils import snils_control
from codes.format import generate_codes
from codes.models import IcpCode
from credits.models import CreditEntry, OutboxRecord
from events.models import Event
from modules.models import Module
from review.models import Status

from .harness import EMAIL_DOMAIN

BACKEND = "django.contrib.auth.backends.ModelBackend"
_snils_blocks = itertools.count(200)  # СНИЛС 200-000-000 on carry control sums


def run_tag() -> str:
    return secrets.token_hex(4)


def provider(tag: str) -> tuple[Organization, User]:
    """A verified organization and its administrator."""
    organization = Organization.objects.create(
        name=f"Bench provider {tag}",
        short_name=f"Bench {tag}",
        kind=Organization.Kind.SOCIETY,
        inn=f"{secrets.randbelow(9 * 10**9) + 10**9}",
        email=f"org-{tag}{EMAIL_DOMAIN}",
        status=Organization.Status.VERIFIED,
        status_changed_at=timezone.now(),
    )
    member = User.objects.create_user(f"provider-{tag}{EMAIL_DOMAIN}", None, last_name="Бенчев")
    EmailAddress.objects.create(user=member, email=member.email, verified=True, primary=True)
    Membership.objects.create(organization=organization, user=member, role=Membership.Role.ADMIN)
    return organization, member


def approved_event(organization: Organization, *, title: str, ended: bool) -> Event:
    """An approved two-day event, 12 credits; `ended` puts it in the past so its codes can be activated."""
    ends = timezone.now() + (timedelta(days=-1) if ended else timedelta(days=40))
    return Event.objects.create(
        organization=organization,
        title=title,
        programme="Лекции и клинические разборы.",
        format=Event.Format.IN_PERSON,
        venue="Москва, ул. Примерная, 1",
        starts_at=ends - timedelta(days=1, hours=8),
        ends_at=ends,
        hours=16,
        credits_requested=12,
        credits_granted=12,
        status=Status.APPROVED,
    )


def approved_events(
    organization: Organization, *, n: int, tag: str, specialties: list[Specialty], ended_days_ago: list[int]
) -> list[Event]:
    """`n` approved one-day events of the given specialties, 4 credits each, the i-th ended
    `ended_days_ago[i % len(ended_days_ago)]` days ago (so their codes can be activated)."""
    now = timezone.now()
    events = [
        Event(
            organization=organization,
            title=f"Школа психиатра {tag} №{i + 1}: клинические разборы",
            programme="Лекции и клинические разборы.",
            format=Event.Format.IN_PERSON,
            venue="Москва, ул. Примерная, 1",
            starts_at=now - timedelta(days=ended_days_ago[i % len(ended_days_ago)], hours=8),
            ends_at=now - timedelta(days=ended_days_ago[i % len(ended_days_ago)]),
            hours=6,
            credits_requested=4,
            credits_granted=4,
            status=Status.APPROVED,
        )
        for i in range(n)
    ]
    for event in events:
        event.set_local_dates()  # bulk_create does not call save(), which derives them
    events = Event.objects.bulk_create(events, batch_size=2000)
    _add_specialties(Event, events, specialties)
    return events


def approved_modules(organization: Organization, *, n: int, tag: str, specialties: list[Specialty]) -> list[Module]:
    """`n` approved e-learning modules of the given specialties, 2 credits each, open for the last six years."""
    today = timezone.localdate()
    modules = Module.objects.bulk_create(
        [
            Module(
                organization=organization,
                title=f"Интерактивный модуль {tag} №{i + 1}: психофармакотерапия",
                annotation="Клинические рекомендации и задачи.",
                link=f"https://example.invalid/modules/{tag}/{i + 1}",
                available_from=today - timedelta(days=6 * 365),
                available_until=today + timedelta(days=365),
                hours=3,
                credits_requested=2,
                credits_granted=2,
                status=Status.APPROVED,
            )
            for i in range(n)
        ],
        batch_size=2000,
    )
    _add_specialties(Module, modules, specialties)
    return modules


def _add_specialties(model: type[Event] | type[Module], activities: list[Any], specialties: list[Specialty]) -> None:
    through: Any = model.specialties.through
    field = model.__name__.lower()
    through.objects.bulk_create(
        [through(**{f"{field}_id": a.pk, "specialty_id": s.pk}) for a in activities for s in specialties],
        batch_size=5000,
    )


def activated_codes(pairs: list[tuple[Event, int]]) -> list[IcpCode]:
    """One activated code per (event, doctor id), as `code_activate` leaves it."""
    now = timezone.now()
    values = generate_codes(len(pairs))
    return IcpCode.objects.bulk_create(
        [
            IcpCode(
                code=value,
                event=event,
                status=IcpCode.Status.ACTIVATED,
                activated_by_id=doctor_id,
                activated_at=now,
            )
            for value, (event, doctor_id) in zip(values, pairs, strict=True)
        ],
        batch_size=5000,
    )


def ledger_with_outbox(
    entries: list[CreditEntry], *, state: str = OutboxRecord.State.PENDING, delivered_share: float = 0.0
) -> tuple[list[CreditEntry], list[OutboxRecord]]:
    """The ledger rows and their outbox rows in bulk, as `ledger_append` writes them one by one; the first
    `delivered_share` of the outbox rows delivered, the others in `state`; all announced to the doctor."""
    entries = CreditEntry.objects.bulk_create(entries, batch_size=5000)
    now = timezone.now()
    delivered = round(len(entries) * delivered_share)
    records = OutboxRecord.objects.bulk_create(
        [
            OutboxRecord(
                entry=entry,
                doctor_id=entry.doctor_id,
                state=OutboxRecord.State.DELIVERED if i < delivered else state,
                attempts=1 if i < delivered else 0,
                delivered_at=now if i < delivered else None,
                ministry_record_id=str(100_000 + i) if i < delivered else "",
                announced_at=now,
            )
            for i, entry in enumerate(entries)
        ],
        batch_size=5000,
    )
    return entries, records


def codes(event: Event, n: int) -> list[str]:
    """`n` issued codes of the event, in stored form."""
    values = generate_codes(n)
    IcpCode.objects.bulk_create([IcpCode(code=value, event=event) for value in values], batch_size=2000)
    return values


@dataclass(frozen=True)
class SignedInDoctor:
    user_id: int
    session_key: str


def signed_in_doctors(n: int, tag: str) -> list[SignedInDoctor]:
    """`n` doctors ready to activate: confirmed e-mail, a valid СНИЛС, and a session as `login()` writes it."""
    now = timezone.now()
    users = User.objects.bulk_create(
        [
            User(
                email=f"doctor-{tag}-{i}{EMAIL_DOMAIN}",
                last_name="Иванов",
                first_name=f"Бенч{i}",
                password=make_password(None),  # unusable: the bench signs in through the session table
            )
            for i in range(n)
        ],
        batch_size=2000,
    )
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in users], batch_size=2000
    )
    first = next(_snils_blocks) * 1_000_000  # the run's database is fresh: blocks of numbers never collide
    assert n <= 1_000_000
    DoctorProfile.objects.bulk_create(
        [
            DoctorProfile(user=user, snils=f"{first + i:09d}" + snils_control(f"{first + i:09d}"))
            for i, user in enumerate(users)
        ],
        batch_size=2000,
    )
    store = SessionStore()
    sessions = [
        Session(
            session_key=get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789"),
            session_data=store.encode(
                {
                    SESSION_KEY: str(user.pk),
                    BACKEND_SESSION_KEY: BACKEND,
                    HASH_SESSION_KEY: user.get_session_auth_hash(),
                }
            ),
            expire_date=now + timedelta(hours=2),
        )
        for user in users
    ]
    Session.objects.bulk_create(sessions, batch_size=2000)
    return [SignedInDoctor(user.pk, session.session_key) for user, session in zip(users, sessions, strict=True)]
