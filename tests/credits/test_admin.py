"""The ledger and disputes in the admin: nothing edited in place, every change through its service."""

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from credits import services
from credits.models import CreditEntry, OutboxRecord
from nmo_portal.errors import PermissionDenied, PortalError
from review.services import public_number_issue

from ..factories import UserFactory

pytestmark = pytest.mark.django_db

ADJUST = reverse("admin:credits_creditentry_adjust")


@pytest.fixture
def entry(doctor, staff, psychiatry):
    return services.ledger_adjust(
        doctor=doctor, credits=4, reason="Перенос из старой системы", actor=staff, specialty=psychiatry
    )


# The ledger ---------------------------------------------------------------------------------------------


def test_the_ledger_admin_refuses_add_change_and_delete_even_to_a_superuser(client, staff, entry):
    assert staff.is_superuser
    client.force_login(staff)
    assert client.get(reverse("admin:credits_creditentry_add")).status_code == 403
    change = reverse("admin:credits_creditentry_change", args=[entry.pk])
    assert client.post(change, {"credits": 40, "comment": "edited"}).status_code == 403
    assert client.post(reverse("admin:credits_creditentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    response = client.post(
        reverse("admin:credits_creditentry_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert response.status_code == 200  # no such action here: the list is shown again
    entry.refresh_from_db()
    assert (entry.credits, entry.comment) == (4, "Перенос из старой системы")
    assert client.get(change).status_code == 200  # it can be read


def test_an_adjustment_through_the_service_is_a_ledger_row_with_its_outbox_and_audit_rows(doctor, staff, ended_event):
    entry = services.ledger_adjust(
        doctor=doctor, credits=-3, reason="  Ошибочное зачисление ", actor=staff, activity=ended_event
    )
    assert (entry.kind, entry.source, entry.credits) == (CreditEntry.Kind.ADJUSTMENT, CreditEntry.Source.ADJUSTMENT, -3)
    assert (entry.comment, entry.actor, entry.activity_kind, entry.activity_id, entry.earned_on) == (
        "Ошибочное зачисление",
        staff,
        "event",
        ended_event.pk,
        ended_event.end_date,
    )
    assert OutboxRecord.objects.filter(entry=entry).exists()
    audit = AuditEvent.objects.get(action="ledger.adjust")
    assert (audit.actor, audit.object_id) == (staff, str(entry.pk))
    assert audit.details["credits"] == -3


@pytest.mark.parametrize(
    ("credits", "reason", "code"), [(0, "Исправление", "adjustment_zero"), (2, "   ", "reason_required")]
)
def test_an_adjustment_of_nothing_or_without_a_reason_is_refused_and_writes_nothing(
    doctor, staff, credits, reason, code, psychiatry
):
    with pytest.raises(PortalError) as refused:
        services.ledger_adjust(doctor=doctor, credits=credits, reason=reason, actor=staff, specialty=psychiatry)
    assert refused.value.code == code
    assert not CreditEntry.objects.exists()
    assert not OutboxRecord.objects.exists()
    assert not AuditEvent.objects.filter(action="ledger.adjust").exists()


def test_an_adjustment_without_an_activity_names_its_specialty_and_reaches_the_ministry_in_it(
    doctor, staff, psychiatry
):
    from ministry_sync.services import payload

    with pytest.raises(PortalError) as refused:
        services.ledger_adjust(doctor=doctor, credits=3, reason="Перенос", actor=staff)
    assert refused.value.code == "specialty_required"
    assert not CreditEntry.objects.exists()
    entry = services.ledger_adjust(doctor=doctor, credits=3, reason="Перенос", actor=staff, specialty=psychiatry)
    sent = payload(OutboxRecord.objects.get(entry=entry))
    assert (sent["specialty_code"], sent["zet"], sent["kind"]) == ("31.08.20", 3, "otherZet")


def test_credits_are_adjusted_for_doctors_only(staff, psychiatry):
    provider = UserFactory()  # no doctor profile
    with pytest.raises(PortalError) as refused:
        services.ledger_adjust(doctor=provider, credits=2, reason="Ошибка", actor=staff, specialty=psychiatry)
    assert refused.value.code == "not_a_doctor"
    assert not CreditEntry.objects.exists()


def test_only_the_portal_administrators_adjust_credits(doctor):
    with pytest.raises(PermissionDenied):
        services.ledger_adjust(doctor=doctor, credits=5, reason="Себе", actor=doctor)
    assert not CreditEntry.objects.exists()


def test_an_administrator_adjusts_credits_with_the_admin_form(client, staff, doctor, ended_event):
    client.force_login(staff)
    changelist = client.get(reverse("admin:credits_creditentry_changelist"))
    assert ADJUST in changelist.content.decode()  # the button on the ledger's page
    assert client.get(ADJUST, {"doctor": doctor.pk}).status_code == 200
    found = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "credits", "model_name": "creditentry", "field_name": "doctor", "term": doctor.last_name},
    )
    assert str(doctor.pk) in [row["id"] for row in found.json()["results"]]  # the form's doctor search
    number = public_number_issue(activity=ended_event, actor=None)
    unknown = client.post(ADJUST, {"doctor": doctor.pk, "credits": "5", "reason": "Зачёт", "activity": "2001-999999"})
    assert unknown.status_code == 200
    assert "Нет мероприятия или модуля с таким публичным номером." in unknown.content.decode()
    assert not CreditEntry.objects.exists()
    response = client.post(
        ADJUST, {"doctor": doctor.pk, "credits": "5", "reason": "Зачёт по решению комиссии", "activity": number}
    )
    assert response.status_code == 302
    entry = CreditEntry.objects.get()
    assert (entry.doctor, entry.kind, entry.credits, entry.activity_kind, entry.activity_id, entry.actor) == (
        doctor,
        CreditEntry.Kind.ADJUSTMENT,
        5,
        "event",
        ended_event.pk,
        staff,
    )
    assert OutboxRecord.objects.filter(entry=entry).exists()
    assert AuditEvent.objects.filter(action="ledger.adjust", actor=staff, object_id=str(entry.pk)).exists()
    assert "+5" in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    ("credits", "reason", "message"),
    [
        ("0", "Исправление", "Корректировка добавляет или снимает хотя бы один кредит."),
        ("2", "", "Укажите причину корректировки: врач её увидит."),
    ],
)
def test_the_admin_form_refuses_an_adjustment_of_nothing_or_without_a_reason(
    client, staff, doctor, credits, reason, message
):
    client.force_login(staff)
    response = client.post(ADJUST, {"doctor": doctor.pk, "credits": credits, "reason": reason})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not CreditEntry.objects.exists()
    assert not AuditEvent.objects.filter(action="ledger.adjust").exists()


def test_staff_without_the_ledger_permission_cannot_open_the_adjustment_form(client, doctor):
    clerk = UserFactory(is_staff=True)
    client.force_login(clerk)
    assert client.post(ADJUST, {"doctor": doctor.pk, "credits": "5", "reason": "x"}).status_code == 403
    assert not CreditEntry.objects.exists()


# Disputes -----------------------------------------------------------------------------------------------


def test_the_adjustment_form_opens_from_the_doctors_row_in_the_user_list(client, staff, doctor):
    client.force_login(staff)
    response = client.post(
        reverse("admin:accounts_user_changelist"), {"action": "adjust_credits", "_selected_action": [doctor.pk]}
    )
    assert response.status_code == 302
    form = client.get(response["Location"])
    assert form.status_code == 200
    assert form.context["form"].initial["doctor"] == str(doctor.pk)
