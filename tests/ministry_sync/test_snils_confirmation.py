"""A СНИЛС typed into a profile is the doctor's word; the Ministry link confirms it (SPEC, the ledger section).

The link task runs eagerly here, and the portal's client reaches the Ministry mock in this process through the
test client, so that the mock decides the link by СНИЛС and login as the real portal would.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import AuditEvent, DoctorProfile
from accounts.services import doctor_profile_update
from codes.format import generate_codes
from codes.models import IcpCode
from credits.models import CreditEntry, OutboxRecord
from ministry_mock.models import ReceivedRecord, Specialist
from ministry_sync import services
from ministry_sync.models import MinistryLink
from modules.models import ModuleCompletion
from modules.services import _credit_completion, completion_report
from nmo_portal.errors import PortalError

from ..factories import (
    DoctorProfileFactory,
    EventFactory,
    MembershipFactory,
    ModuleFactory,
    StaffFactory,
    UserFactory,
    make_snils,
)

pytestmark = pytest.mark.django_db

OWNER_SNILS = make_snils(830_001)
OTHER_SNILS = make_snils(830_002)


@pytest.fixture(autouse=True)
def ministry(ministry_in_process):
    """The Ministry mock answering the portal's client in this process."""


@pytest.fixture
def membership(db):
    return MembershipFactory()


def approved_module(membership, psychiatry, title):
    return ModuleFactory(
        organization=membership.organization,
        approved=True,
        hours=8,
        credits_requested=6,
        specialties=[psychiatry],
        title=title,
    )


def report(module, membership, external_id, **who):
    completion, _created = completion_report(
        module=module,
        actor=membership.user,
        external_id=external_id,
        completed_at=timezone.now() - timedelta(days=1),
        **who,
    )
    return completion


def type_snils(user, snils, psychiatry):
    return doctor_profile_update(
        user=user, last_name="Петров", first_name="Андрей", middle_name="", snils=snils, specialties=[psychiatry]
    )


def link(user, login, capture):
    with capture(execute=True):
        services.link_request(doctor=user, login=login)
    return MinistryLink.objects.get(doctor=user)


def balance(user):
    return sum(CreditEntry.objects.filter(doctor=user).values_list("credits", flat=True))


def test_the_squatter_loses_the_snils_and_what_it_brought_and_the_held_credits_reach_the_confirmed_owner(
    membership, psychiatry, django_capture_on_commit_callbacks
):
    first = approved_module(membership, psychiatry, "Психофармакология")
    second = approved_module(membership, psychiatry, "Суицидология")
    held = report(first, membership, "lms-1", snils=OWNER_SNILS)
    squatter = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        type_snils(squatter, OWNER_SNILS, psychiatry)
    assert not CreditEntry.objects.filter(doctor=squatter).exists()  # a typed СНИЛС proves nothing
    # A credit the number brought the squatter under the old rules (recorded as matched by СНИЛС).
    brought = report(second, membership, "lms-2", snils=OWNER_SNILS)
    _credit_completion(brought, squatter, ModuleCompletion.MatchedBy.SNILS)

    owner = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        type_snils(owner, OWNER_SNILS, psychiatry)  # the squatter does not lock the owner out
    Specialist.objects.create(snils=OWNER_SNILS, login="petrov.ap", full_name="Петров Андрей")
    owner_link = link(owner, "petrov.ap", django_capture_on_commit_callbacks)

    assert owner_link.state == MinistryLink.State.LINKED
    assert DoctorProfile.objects.get(user=owner).snils_confirmed_at is not None
    assert DoctorProfile.objects.get(user=squatter).snils is None
    external_id = dict(ModuleCompletion.objects.values_list("pk", "external_id"))
    owner_rows = CreditEntry.objects.filter(doctor=owner, source="module_completion")
    assert sorted(
        (kind, external_id[source_id]) for kind, source_id in owner_rows.values_list("kind", "source_id")
    ) == [
        ("credit", "lms-1"),
        ("credit", "lms-2"),
    ]
    assert list(CreditEntry.objects.filter(doctor=squatter).values_list("kind", "credits")) == [
        ("credit", 6),
        ("reversal", -6),
    ]
    assert balance(squatter) == 0
    assert {c.doctor for c in ModuleCompletion.objects.filter(pk__in=[held.pk, brought.pk])} == {owner}
    told = [m for m in mail.outbox if m.to == [squatter.email] and "отменены" in m.subject]
    assert len(told) == 1
    assert "Суицидология" in told[0].subject
    assert "СНИЛС" in told[0].body
    lost = AuditEvent.objects.get(action="doctor_profile.snils_lost")
    assert lost.object_id == str(squatter.doctor_profile.pk)
    # The Ministry received the owner's records under the owner's СНИЛС, and nothing of the squatter's.
    assert sorted(ReceivedRecord.objects.values_list("specialist__snils", "zet")) == [
        (OWNER_SNILS, 6),
        (OWNER_SNILS, 6),
    ]


def test_a_typed_snils_that_is_not_confirmed_gets_no_held_completion(
    membership, psychiatry, django_capture_on_commit_callbacks
):
    module = approved_module(membership, psychiatry, "Психофармакология")
    report(module, membership, "lms-1", snils=OWNER_SNILS)
    doctor = UserFactory()

    with django_capture_on_commit_callbacks(execute=True):
        type_snils(doctor, OWNER_SNILS, psychiatry)
    report(module, membership, "lms-2", snils=OWNER_SNILS)  # and none reported after it either

    assert not CreditEntry.objects.exists()
    assert not ModuleCompletion.objects.filter(doctor__isnull=False).exists()


def test_a_snils_typed_into_another_unconfirmed_account_may_be_typed_but_a_confirmed_one_may_not(psychiatry):
    type_snils(UserFactory(), OWNER_SNILS, psychiatry)
    second = UserFactory()

    type_snils(second, OWNER_SNILS, psychiatry)
    DoctorProfile.objects.filter(user=second).update(snils_confirmed_at=timezone.now())
    with pytest.raises(PortalError) as refused:
        type_snils(UserFactory(), OWNER_SNILS, psychiatry)

    assert refused.value.code == "snils_taken"
    assert DoctorProfile.objects.filter(snils=OWNER_SNILS).count() == 2


def test_changing_the_snils_reverses_the_credits_it_brought_and_the_completion_waits_for_its_owner(
    membership, psychiatry, django_capture_on_commit_callbacks
):
    module = approved_module(membership, psychiatry, "Психофармакология")
    completion = report(module, membership, "lms-1", snils=OWNER_SNILS)
    doctor = UserFactory()
    type_snils(doctor, OWNER_SNILS, psychiatry)
    Specialist.objects.create(snils=OWNER_SNILS, login="petrov.ap", full_name="Петров Андрей")
    doctor_link = link(doctor, "petrov.ap", django_capture_on_commit_callbacks)
    assert balance(doctor) == 6
    # The number was wrong after all: administrators reset the link, and the doctor corrects it.
    services.link_reset(link=doctor_link, actor=StaffFactory())

    with django_capture_on_commit_callbacks(execute=True):
        type_snils(doctor, OTHER_SNILS, psychiatry)

    assert list(CreditEntry.objects.filter(doctor=doctor).values_list("kind", "credits")) == [
        ("credit", 6),
        ("reversal", -6),
    ]
    reversal = CreditEntry.objects.get(kind="reversal")
    assert reversal.reverses == CreditEntry.objects.get(kind="credit")
    assert (reversal.source, reversal.source_id) == ("module_completion", completion.pk)
    assert reversal.outbox is not None  # written through the ledger, with its Ministry outbox row
    completion.refresh_from_db()
    assert (completion.doctor, completion.credited_at, completion.matched_by) == (None, None, "")
    assert AuditEvent.objects.filter(action="completion.release", object_id=str(completion.pk)).exists()

    owner = DoctorProfileFactory(snils=OWNER_SNILS, snils_confirmed_at=None).user
    with django_capture_on_commit_callbacks(execute=True):
        from accounts.services import snils_confirm

        snils_confirm(user=owner, snils=OWNER_SNILS)
    assert balance(owner) == 6  # the same completion, credited a second time, to its owner


def test_removing_the_snils_reverses_what_it_brought(membership, psychiatry, django_capture_on_commit_callbacks):
    module = approved_module(membership, psychiatry, "Психофармакология")
    completion = report(module, membership, "lms-1", snils=OWNER_SNILS)
    doctor = UserFactory()
    type_snils(doctor, OWNER_SNILS, psychiatry)
    _credit_completion(completion, doctor, ModuleCompletion.MatchedBy.SNILS)  # credited under the old rules

    with django_capture_on_commit_callbacks(execute=True):
        type_snils(doctor, "", psychiatry)

    assert balance(doctor) == 0
    assert ModuleCompletion.objects.get().doctor is None


def test_a_confirmed_snils_is_not_changed_by_the_doctor(psychiatry):
    doctor = DoctorProfileFactory(snils=OWNER_SNILS, snils_confirmed_at=timezone.now()).user

    with pytest.raises(PortalError) as refused:
        type_snils(doctor, OTHER_SNILS, psychiatry)

    assert refused.value.code == "snils_confirmed"
    assert DoctorProfile.objects.get(user=doctor).snils == OWNER_SNILS


def test_a_link_whose_snils_was_taken_by_a_confirmed_owner_meanwhile_fails_with_a_reason(
    psychiatry, django_capture_on_commit_callbacks
):
    squatter = UserFactory()
    type_snils(squatter, OWNER_SNILS, psychiatry)
    Specialist.objects.create(snils=OWNER_SNILS, login="petrov.ap", full_name="Петров Андрей")
    with django_capture_on_commit_callbacks(execute=False):  # the squatter's link waits in the queue
        pending = services.link_request(doctor=squatter, login="petrov.ap")
    owner = UserFactory()
    type_snils(owner, OWNER_SNILS, psychiatry)
    link(owner, "petrov.ap", django_capture_on_commit_callbacks)

    services.link_perform(pending.pk)

    pending.refresh_from_db()
    assert pending.state == MinistryLink.State.FAILED
    assert pending.reason
    assert DoctorProfile.objects.get(user=owner).snils_confirmed_at is not None
    assert DoctorProfile.objects.get(user=squatter).snils is None


def test_the_account_that_loses_a_snils_keeps_what_its_own_confirmed_email_names(
    membership, psychiatry, django_capture_on_commit_callbacks
):
    module = approved_module(membership, psychiatry, "Психофармакология")
    squatter = UserFactory()
    type_snils(squatter, OWNER_SNILS, psychiatry)
    by_snils = report(module, membership, "lms-1", snils=OWNER_SNILS)
    _credit_completion(by_snils, squatter, ModuleCompletion.MatchedBy.SNILS)  # credited under the old rules
    by_email = report(module, membership, "lms-2", email=squatter.email)  # held: the module was credited
    owner = UserFactory()
    type_snils(owner, OWNER_SNILS, psychiatry)
    Specialist.objects.create(snils=OWNER_SNILS, login="petrov.ap", full_name="Петров Андрей")

    link(owner, "petrov.ap", django_capture_on_commit_callbacks)

    by_snils.refresh_from_db()
    by_email.refresh_from_db()
    assert (by_snils.doctor, by_email.doctor) == (owner, squatter)
    assert balance(owner) == 6
    assert balance(squatter) == 6  # reversed for lms-1, credited for lms-2


def activate(client, user, code):
    client.force_login(user)
    return client.post("/api/v1/codes/activate/", {"code": code.code}, content_type="application/json")


@pytest.fixture
def named_code(psychiatry):
    """A code of an ended event, issued to the owner of OWNER_SNILS."""
    ends = timezone.now() - timedelta(days=1)
    event = EventFactory(
        organization=MembershipFactory().organization,
        approved=True,
        starts_at=ends - timedelta(hours=8),
        ends_at=ends,
        hours=8,
        credits_requested=6,
        specialties=[psychiatry],
    )
    return IcpCode.objects.create(code=generate_codes(1)[0], event=event, holder_snils=OWNER_SNILS)


def test_a_code_a_squatter_activated_with_a_typed_snils_goes_back_to_its_holder_once_the_owner_confirms(
    client, psychiatry, named_code, mailoutbox, django_capture_on_commit_callbacks
):
    squatter = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        type_snils(squatter, OWNER_SNILS, psychiatry)
        assert activate(client, squatter, named_code).status_code == 201  # a typed СНИЛС is the doctor's word
    owner = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        type_snils(owner, OWNER_SNILS, psychiatry)
    Specialist.objects.create(snils=OWNER_SNILS, login="petrov.ap", full_name="Петров Андрей")
    mailoutbox.clear()

    assert link(owner, "petrov.ap", django_capture_on_commit_callbacks).state == MinistryLink.State.LINKED

    named_code.refresh_from_db()
    assert (named_code.status, named_code.activated_by) == (IcpCode.Status.ISSUED, None)
    assert list(CreditEntry.objects.filter(doctor=squatter).values_list("kind", "credits")) == [
        ("credit", 6),
        ("reversal", -6),
    ]
    assert AuditEvent.objects.filter(action="code.release", object_id=str(named_code.pk)).exists()
    told = [m for m in mailoutbox if squatter.email in m.to]
    assert len(told) == 1
    assert "no longer in your profile" in told[0].body or "больше нет в вашем профиле" in told[0].body

    # The holder activates the code of their certificate: credited once, and only them.
    with django_capture_on_commit_callbacks(execute=True):
        assert activate(client, owner, named_code).status_code == 201
    assert balance(owner) == 6
    assert balance(squatter) == 0
    with pytest.raises(PortalError) as refused:
        type_snils(squatter, OWNER_SNILS, psychiatry)  # confirmed for the owner now: not the squatter's to type
    assert refused.value.code == "snils_taken"


def test_changing_the_snils_gives_back_the_codes_issued_to_the_old_one(
    client, psychiatry, named_code, django_capture_on_commit_callbacks
):
    doctor = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        type_snils(doctor, OWNER_SNILS, psychiatry)
        assert activate(client, doctor, named_code).status_code == 201
        type_snils(doctor, OTHER_SNILS, psychiatry)
    named_code.refresh_from_db()
    assert named_code.status == IcpCode.Status.ISSUED
    assert balance(doctor) == 0


def test_a_code_released_and_activated_again_by_the_same_doctor_reaches_the_ministry_again(
    client, psychiatry, named_code, django_capture_on_commit_callbacks
):
    doctor = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        type_snils(doctor, OWNER_SNILS, psychiatry)
        assert activate(client, doctor, named_code).status_code == 201
        type_snils(doctor, OTHER_SNILS, psychiatry)  # released: the credit is reversed
        type_snils(doctor, OWNER_SNILS, psychiatry)  # the number was right after all

        response = activate(client, doctor, named_code)

    assert response.status_code == 201, response.json()
    assert balance(doctor) == 6
    Specialist.objects.create(snils=OWNER_SNILS, login="petrov.ap", full_name="Петров Андрей")
    assert link(doctor, "petrov.ap", django_capture_on_commit_callbacks).state == MinistryLink.State.LINKED
    # the Ministry has the credit, its reversal and the new credit, each once, under keys of their own
    received = ReceivedRecord.objects.order_by("id")
    assert [(r.specialist.snils, r.zet, r.source_ref) for r in received] == [
        (OWNER_SNILS, 6, named_code.code),
        (OWNER_SNILS, -6, named_code.code),
        (OWNER_SNILS, 6, named_code.code),
    ]
    assert set(received.values_list("idempotency_key", flat=True)) == {
        str(key) for key in OutboxRecord.objects.filter(doctor=doctor).values_list("idempotency_key", flat=True)
    }
    assert not OutboxRecord.objects.exclude(state=OutboxRecord.State.DELIVERED).exists()
