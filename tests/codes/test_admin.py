"""The ledger and disputes in the admin: nothing edited in place, every change through its service."""

from datetime import date

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from codes import services as codes_services
from codes.models import Dispute

from ..factories import EventFactory, MembershipFactory

pytestmark = pytest.mark.django_db


# Disputes -----------------------------------------------------------------------------------------------


@pytest.fixture
def dispute(doctor):
    return codes_services.dispute_open(
        doctor=doctor,
        data=codes_services.DisputeInput(
            code_text="ABCD-EFGH1234", event_name="Съезд психиатров", event_date=date(2026, 3, 1), event_place="Москва"
        ),
    )


def test_the_dispute_change_form_cannot_change_its_state(client, staff, dispute):
    client.force_login(staff)
    change = reverse("admin:codes_dispute_change", args=[dispute.pk])
    assert client.get(change).status_code == 200  # read-only view
    client.post(change, {"state": "resolved", "resolution": "Решено", "event_name": "Другое"})
    dispute.refresh_from_db()
    assert (dispute.state, dispute.resolution, dispute.event_name) == (Dispute.State.OPEN, "", "Съезд психиатров")
    assert not AuditEvent.objects.filter(action="dispute.resolve").exists()


def test_an_administrator_resolves_a_dispute_through_the_service_and_it_is_audited(client, staff, dispute):
    client.force_login(staff)
    changelist = reverse("admin:codes_dispute_changelist")
    form = client.post(changelist, {"action": "accept", "_selected_action": [dispute.pk]})
    assert "Ответ врачу" in form.content.decode()  # the answer is asked for first
    empty = client.post(changelist, {"action": "accept", "_selected_action": [dispute.pk], "apply": "1"})
    assert empty.status_code == 302
    dispute.refresh_from_db()
    assert dispute.state == Dispute.State.OPEN  # the service asks for an answer the doctor will read
    client.post(
        changelist,
        {"action": "accept", "_selected_action": [dispute.pk], "apply": "1", "resolution": "Код перевыпущен"},
    )
    dispute.refresh_from_db()
    assert (dispute.state, dispute.resolution, dispute.resolved_by) == (
        Dispute.State.RESOLVED,
        "Код перевыпущен",
        staff,
    )
    assert AuditEvent.objects.filter(action="dispute.resolve", object_id=str(dispute.pk), actor=staff).exists()


def test_a_codes_holder_cannot_be_rewritten_in_the_admin(client, staff, ended_event, make_codes):
    (code,) = make_codes(ended_event, holder_name="Иванов Иван", holder_snils="11223344595")
    client.force_login(staff)
    change = reverse("admin:codes_icpcode_change", args=[code.pk])
    assert client.get(change).status_code == 200  # read-only view
    client.post(change, {"holder_name": "Петров Пётр", "holder_snils": "00000000000", "show_holder_name": "on"})
    code.refresh_from_db()
    assert (code.holder_name, code.holder_snils, code.show_holder_name) == ("Иванов Иван", "11223344595", False)


# Codes ---------------------------------------------------------------------------------------------------


def test_the_codes_list_filters_by_an_event_and_an_organization_typed_not_listed(client, staff, make_codes):
    congress = EventFactory(
        organization=MembershipFactory().organization,
        approved=True,
        title="Съезд психиатров",
        public_number="2026-000123",
    )
    school = EventFactory(organization=MembershipFactory().organization, approved=True, title="Школа кардиолога")
    (in_congress,) = make_codes(congress)
    (in_school,) = make_codes(school)
    client.force_login(staff)
    changelist = reverse("admin:codes_icpcode_changelist")

    page = client.get(changelist).content.decode()
    assert 'name="event_q"' in page
    assert 'name="organization_q"' in page
    assert school.organization.name not in page.split('id="changelist-filter"')[1].split("</nav>")[0]

    by_number = client.get(changelist, {"event_q": "№ 2026-123"}).content.decode()
    assert in_congress.display in by_number
    assert in_school.display not in by_number
    by_title = client.get(changelist, {"event_q": "кардиолог", "status__exact": "issued"}).content.decode()
    assert in_school.display in by_title
    assert in_congress.display not in by_title
    assert 'name="status__exact" value="issued"' in by_title  # the other filters are kept
    by_inn = client.get(changelist, {"organization_q": school.organization.inn}).content.decode()
    assert in_school.display in by_inn
    assert in_congress.display not in by_inn


def test_the_codes_list_filters_speak_english_in_english(client, staff, settings):
    client.force_login(staff)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    page = client.get(reverse("admin:codes_icpcode_changelist")).content.decode()

    assert "By event (public number or title)" in page
    assert "By organization (name or ИНН)" in page
