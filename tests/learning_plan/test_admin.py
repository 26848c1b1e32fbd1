"""The ledger and disputes in the admin: nothing edited in place, every change through its service."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from learning_plan import services as learning_plan_services
from learning_plan.models import CycleRule

pytestmark = pytest.mark.django_db


# Disputes -----------------------------------------------------------------------------------------------


# Cycle rules --------------------------------------------------------------------------------------------


def test_editing_a_cycle_rule_in_the_admin_leaves_an_audit_row(client, staff):
    rule = CycleRule.objects.get(is_default=True)
    client.force_login(staff)
    page = client.get(reverse("admin:learning_plan_cyclerule_change", args=[rule.pk]))
    assert page.status_code == 200
    components = list(rule.components.all())
    data = {
        "name": rule.name,
        "name_en": rule.name_en,
        "slug": rule.slug,
        "years": rule.years,
        "total_hours": rule.total_hours,
        "yearly_recommended": 50,
        "is_default": "on",
        "components-TOTAL_FORMS": len(components),
        "components-INITIAL_FORMS": len(components),
    }
    for n, component in enumerate(components):
        data |= {
            f"components-{n}-id": component.pk,
            f"components-{n}-rule": rule.pk,
            f"components-{n}-counts": component.counts,
            f"components-{n}-name": component.name,
            f"components-{n}-name_en": component.name_en,
            f"components-{n}-required_hours": component.required_hours + (1 if n == 0 else 0),
            f"components-{n}-is_minimum": "on" if component.is_minimum else "",
            f"components-{n}-order": component.order,
        }
    response = client.post(reverse("admin:learning_plan_cyclerule_change", args=[rule.pk]), data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    rule.refresh_from_db()
    assert rule.yearly_recommended == 50
    audits = AuditEvent.objects.filter(
        action="learning_plan.cyclerule.admin_change", object_id=str(rule.pk), actor=staff
    )
    assert [a.details.get("fields") for a in audits if "fields" in a.details] == [["yearly_recommended"]]
    assert any(a.details.get("changed") for a in audits)  # the component's hours, on the rule's row


def test_a_doctors_cycles_plan_and_completions_are_read_only_in_the_admin(client, staff, doctor, psychiatry):
    cycle = learning_plan_services.cycle_add(doctor=doctor, specialty=psychiatry, starts_on=timezone.localdate())
    client.force_login(staff)
    change = reverse("admin:learning_plan_cycle_change", args=[cycle.pk])
    assert client.get(change).status_code == 200
    client.post(change, {"starts_on": "2020-01-01"})
    cycle.refresh_from_db()
    assert cycle.starts_on == timezone.localdate()
    assert client.post(reverse("admin:learning_plan_cycle_delete", args=[cycle.pk]), {"post": "yes"}).status_code == 403
    for name in (
        "learning_plan_cycle",
        "learning_plan_programmeentry",
        "learning_plan_plannedactivity",
        "modules_modulecompletion",
    ):
        assert client.get(reverse(f"admin:{name}_add")).status_code == 403, name
