import pytest
from django.contrib import admin
from django.urls import reverse

from accounts.models import AuditEvent, Organization

from ..factories import MembershipFactory, OrganizationFactory

MODELS = list(admin.site._registry)


def model_id(model):
    return model._meta.label


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=model_id)
def test_admin_pages_of_every_model_load_for_staff(client, staff, model):
    MembershipFactory()  # something to list
    client.force_login(staff)
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    assert client.get(changelist).status_code == 200
    assert client.get(changelist, {"q": "иван"}).status_code == 200
    model_admin = admin.site._registry[model]
    if model_admin.has_add_permission(type("R", (), {"user": staff})()):
        assert client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code == 200
    first = model.objects.first()
    if first is not None:
        assert (
            client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk])).status_code == 200
        )


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["doctor", "provider", "reviewer"])
def test_admin_is_refused_to_people_who_are_not_staff(client, request, who):
    client.force_login(request.getfixturevalue(who))
    for model in MODELS:
        opts = model._meta
        response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        assert response.status_code == 302, opts.label
        assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.django_db
def test_admin_verify_action_verifies_and_audits(client, staff):
    organization = OrganizationFactory(status=Organization.Status.PENDING)
    client.force_login(staff)
    client.post(
        reverse("admin:accounts_organization_changelist"), {"action": "verify", "_selected_action": [organization.pk]}
    )
    organization.refresh_from_db()
    assert organization.is_verified
    assert AuditEvent.objects.filter(action="organization.verify", object_id=str(organization.pk)).exists()


@pytest.mark.django_db
def test_the_audit_log_is_read_only_in_admin(client, staff):
    event = AuditEvent.objects.create(action="test.event", object_repr="x")
    client.force_login(staff)
    assert client.post(reverse("admin:accounts_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    assert (
        client.post(reverse("admin:accounts_auditevent_change", args=[event.pk]), {"action": "forged"}).status_code
        == 403
    )
    event.refresh_from_db()
    assert event.action == "test.event"


@pytest.mark.django_db
def test_a_snils_cannot_be_rewritten_or_confirmed_in_the_admin(client, staff):
    from ..factories import DoctorProfileFactory, make_snils

    profile = DoctorProfileFactory()
    before = profile.snils
    client.force_login(staff)
    change = reverse("admin:accounts_doctorprofile_change", args=[profile.pk])
    response = client.post(
        change,
        {
            "user": profile.user_id,
            "snils": make_snils(990_001),
            "snils_confirmed_at_0": "2026-01-01",
            "snils_confirmed_at_1": "10:00:00",
            "specialties": [],
        },
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.snils, profile.snils_confirmed_at) == (before, None)
