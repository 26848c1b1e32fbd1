"""Both ways an activation is written: one PostgreSQL statement (`codes.activation_sql`), and the ORM path that
SQLite (`make run`) runs and that words every refusal. The same request must leave the same rows, the same
answer and the same refusals whichever path runs; on PostgreSQL the ORM path is forced here by emptying
`ONE_STATEMENT_VENDORS`."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from codes import services
from codes.format import format_code
from codes.models import IcpCode
from credits.models import CreditEntry, OutboxRecord
from learning_plan.selectors import _plan_version_key

from ..factories import DoctorProfileFactory, EventFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["one_statement", "orm"])
def path(request, monkeypatch):
    if request.param == "one_statement" and connection.vendor != "postgresql":
        pytest.skip("the one statement is PostgreSQL's")
    if request.param == "orm":
        monkeypatch.setattr(services, "ONE_STATEMENT_VENDORS", frozenset())
    return request.param


def activate(client, code, **extra):
    return client.post(reverse("api:api-codes:activate"), {"code": code}, content_type="application/json", **extra)


def test_both_paths_write_the_same_rows_answer_alike_and_mail_the_doctor(
    path, client, doctor, ended_event, make_codes, mailoutbox, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    (code,) = make_codes(ended_event)
    client.force_login(doctor)
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        response = activate(client, format_code(code.code).lower(), REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 201, response.json()
    entry = CreditEntry.objects.get()
    assert response.json() == {
        "id": entry.pk,
        "kind": "credit",
        "source": "code",
        "credits": 12,
        "earned_on": ended_event.end_date.isoformat(),
        "event": {"id": ended_event.pk, "title": ended_event.title},
        "code": format_code(code.code),
        "created_at": response.json()["created_at"],
    }
    code.refresh_from_db()
    assert (code.status, code.activated_by, code.activated_at >= before) == ("activated", doctor, True)
    assert (entry.doctor, entry.actor, entry.kind, entry.source, entry.source_id, entry.credit_number) == (
        doctor,
        doctor,
        "credit",
        "code",
        code.pk,
        1,
    )
    assert (entry.activity_kind, entry.activity_id, entry.credits, entry.earned_on, entry.comment) == (
        "event",
        ended_event.pk,
        12,
        ended_event.end_date,
        "",
    )
    assert entry.created_at >= before
    record = OutboxRecord.objects.get()
    assert (record.entry, record.doctor, record.state, record.attempts) == (entry, doctor, "pending", 0)
    assert record.idempotency_key is not None
    assert record.next_attempt_at >= before
    assert record.announced_at is not None  # the e-mail went out after commit (tasks run in-process here)
    audit = AuditEvent.objects.get(action="code.activate")
    assert (audit.actor, audit.object_type, audit.object_id, audit.object_repr, audit.ip) == (
        doctor,
        "codes.icpcode",
        str(code.pk),
        format_code(code.code),
        "10.1.2.3",
    )
    assert audit.details == {"event": ended_event.pk, "credits": 12}
    assert [m.to for m in mailoutbox] == [[doctor.email]]
    assert cache.get(_plan_version_key(doctor.pk)) is not None  # the cached plan is stale


def test_both_paths_leave_the_outbox_row_for_the_sweep_after_the_grace_period(path, doctor, ended_event, make_codes):
    (code,) = make_codes(ended_event)
    services.code_activate(user=doctor, raw=code.code, ip=None)  # no commit here: nothing announced
    record = OutboxRecord.objects.get()
    assert (record.announce_attempts, record.announced_at) == (0, None)
    assert record.announce_due_at > timezone.now() + timedelta(seconds=250)  # ANNOUNCE_GRACE_SECONDS = 300


@pytest.mark.parametrize(
    ("case", "status", "error"),
    [
        ("no_snils", 403, "profile_incomplete"),
        ("no_snils_and_malformed", 403, "profile_incomplete"),
        ("malformed", 400, "code_malformed"),
        ("unknown", 400, "code_not_found"),
        ("not_approved", 400, "code_not_found"),
        ("not_ended", 400, "event_not_finished"),
        ("revoked", 400, "code_revoked"),
        ("another_snils", 400, "code_issued_to_another"),
        ("taken", 400, "code_taken"),
        ("mine", 400, "code_already_yours"),
        ("second_of_event", 400, "event_already_credited"),
    ],
)
def test_both_paths_refuse_alike_and_write_nothing(path, case, status, error, client, doctor, ended_event, make_codes):
    (code, other) = make_codes(ended_event, 2)
    typed = code.code
    if case == "no_snils":
        doctor.doctor_profile.snils = None
        doctor.doctor_profile.save()
    elif case == "no_snils_and_malformed":
        doctor.doctor_profile.snils = None
        doctor.doctor_profile.save()
        typed = "ZZZ"
    elif case == "malformed":
        typed = code.code[:-1] + ("A" if code.code[-1] != "A" else "B")
    elif case == "unknown":
        IcpCode.objects.filter(pk=code.pk).delete()
    elif case == "not_approved":
        draft = EventFactory(
            organization=MembershipFactory().organization,
            starts_at=ended_event.starts_at,
            ends_at=ended_event.ends_at,
            hours=8,
            credits_requested=6,
        )
        IcpCode.objects.filter(pk=code.pk).update(event=draft)
    elif case == "not_ended":
        ends = timezone.now() + timedelta(days=1)
        later = EventFactory(
            organization=MembershipFactory().organization,
            approved=True,
            starts_at=ends - timedelta(hours=8),
            ends_at=ends,
            hours=8,
            credits_requested=6,
        )
        IcpCode.objects.filter(pk=code.pk).update(event=later)
    elif case == "revoked":
        IcpCode.objects.filter(pk=code.pk).update(status="revoked", revoked_at=timezone.now())
    elif case == "another_snils":
        IcpCode.objects.filter(pk=code.pk).update(holder_snils="11223344595")
    elif case == "taken":
        services.code_activate(user=DoctorProfileFactory().user, raw=code.code, ip=None)
    elif case == "mine":
        services.code_activate(user=doctor, raw=code.code, ip=None)
    elif case == "second_of_event":
        services.code_activate(user=doctor, raw=other.code, ip=None)
    entries, audits = CreditEntry.objects.count(), AuditEvent.objects.count()
    client.force_login(doctor)
    response = activate(client, typed)
    assert (response.status_code, response.json()["error"]["code"]) == (status, error)
    assert (CreditEntry.objects.count(), OutboxRecord.objects.count()) == (entries, entries)
    assert AuditEvent.objects.count() == audits
    if case not in ("taken", "mine", "unknown"):
        assert IcpCode.objects.get(pk=code.pk).status != "activated"


def test_a_code_issued_to_the_doctors_own_snils_is_activated(path, client, doctor, ended_event, make_codes):
    (code,) = make_codes(ended_event, holder_snils=doctor.doctor_profile.snils)
    client.force_login(doctor)
    assert activate(client, code.code).status_code == 201


def test_the_statements_of_one_activation(path, client, doctor, ended_event_factory, django_assert_num_queries):
    """Before this issue an activation ran 10 statements in the test's transaction (session, user, profile
    check, code with its event; SAVEPOINT, UPDATE, 3 INSERTs, RELEASE). On PostgreSQL it now runs the session,
    the user and one statement (in a savepoint here); the ORM path, SQLite's, still runs the ten."""
    client.force_login(doctor)
    (_event, code) = ended_event_factory()
    with django_assert_num_queries(5 if path == "one_statement" else 10):
        assert activate(client, code.code).status_code == 201


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_outside_a_transaction_the_one_statement_is_the_whole_write(client, doctor, ended_event_factory, monkeypatch):
    """In production (autocommit, no ATOMIC_REQUESTS, a worker) the statement is its own transaction: three
    statements in all (session, user, the activation), no SAVEPOINT, BEGIN or COMMIT, and no message to the
    worker, which finds the row itself."""
    if connection.vendor != "postgresql":
        pytest.skip("the one statement is PostgreSQL's")
    from credits import tasks
    from nmo_portal.celery import app as celery_app

    sent = []
    monkeypatch.setattr(tasks.announce_credit_entry, "delay", lambda **kwargs: sent.append(kwargs))
    client.force_login(doctor)
    (_event, code) = ended_event_factory()
    celery_app.conf.task_always_eager = False  # a worker runs the tasks (the autouse fixture turns it back)
    try:
        with CaptureQueriesContext(connection) as queries:
            assert activate(client, code.code).status_code == 201
    finally:
        celery_app.conf.task_always_eager = True
    assert len(queries) == 3, [q["sql"][:60] for q in queries]
    assert "WITH doctor AS" in queries[2]["sql"]
    assert CreditEntry.objects.count() == OutboxRecord.objects.count() == 1
    assert sent == []
