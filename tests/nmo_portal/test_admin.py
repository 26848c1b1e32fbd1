"""The admin as a whole: every model has its page, and every page speaks Russian."""

import re
from datetime import date

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.utils import label_for_field
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.text import capfirst

from accounts.models import AuditEvent, Membership, OrganizationApiKey, User
from accounts.services import api_key_create, invitation_create
from codes.models import EventCertificatesFile
from codes.services import DisputeInput, dispute_open
from credits.services import ledger_adjust
from events.models import Event
from learning_plan.models import PlannedActivity
from ministry_mock.models import ReceivedRecord, Specialist
from ministry_sync.models import HeldRecord, MinistryLink
from modules.models import ModuleCompletion
from societies.models import DigestSent, Survey
from societies.report_prepared import prepared_report
from societies.services import digest_subscribe
from societies.surveys import invitations_send, survey_answer

from ..factories import MembershipFactory, ModuleFactory, WorkRecordFactory

PROJECT_APPS = {"accounts", "credits", "events", "modules", "review", "ministry_sync", "ministry_mock", "societies"}

# Models with no page of their own, and why.
NOT_REGISTERED = {
    "learning_plan.RuleComponent": "edited inline on its cycle rule's page (CycleRuleAdmin)",
}

# Column headers that read the same in Russian (the portal's Russian texts write «e-mail» too).
SAME_IN_RUSSIAN = {"ID", "e-mail"}


def test_every_model_of_the_portal_has_its_admin_page():
    missing = [
        model._meta.label
        for model in apps.get_models()
        if model._meta.app_label in PROJECT_APPS
        and model not in admin.site._registry
        and model._meta.label not in NOT_REGISTERED
    ]
    assert missing == [], missing
    registered = {model._meta.label for model in admin.site._registry}
    assert registered.isdisjoint(NOT_REGISTERED)  # an exclusion that is no longer needed goes away


def headers(model, model_admin):
    return [
        str(label_for_field(name, model, model_admin))
        for name in model_admin.list_display
        if name not in ("action_checkbox", "__str__")
    ]


@pytest.mark.django_db
def test_every_changelist_renders_in_russian_with_translated_column_headers(client, staff, settings):
    settings.DEBUG = True  # seed_demo runs only there
    call_command("seed_demo")  # a row in most tables, so that the columns are on the page
    fill_the_rest(staff)
    client.force_login(staff)  # language: Russian, the default
    empty, untranslated, missing = [], [], []
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        assert response.status_code == 200, opts.label
        page = response.content.decode()
        assert '<html lang="ru"' in page
        if opts.app_label not in PROJECT_APPS:
            continue  # third-party pages (Celery beat, allauth) bring their own translations
        with translation.override("ru"):
            names = headers(model, model_admin)
        untranslated += [f"{opts.label}: {name}" for name in names if not is_russian(name)]
        if 'id="result_list"' not in page:
            empty.append(opts.label)
            continue
        missing += [f"{opts.label}: {name}" for name in names if escape(capfirst(name)) not in page]
    assert untranslated == [], untranslated
    assert missing == [], missing
    assert empty == [], " ".join(empty)


def is_russian(text):
    return bool(re.search("[а-яА-ЯёЁ]", text)) or text in SAME_IN_RUSSIAN


def fill_the_rest(staff):
    """A row in each table the demo leaves empty."""
    doctor = User.objects.get(email="doctor@example.org")
    provider = User.objects.get(email="provider@example.org")
    organization = provider.memberships.get().organization
    invitation_create(organization=organization, actor=provider, email="new@example.org", role=Membership.Role.MEMBER)
    api_key_create(organization=organization, actor=provider, name="LMS")
    psychiatry = doctor.doctor_profile.specialties.get(code="31.08.20")
    ledger_adjust(  # + an outbox row
        doctor=doctor, credits=2, reason="Перенос из старой системы", actor=staff, specialty=psychiatry
    )
    dispute_open(
        doctor=doctor,
        data=DisputeInput(code_text="ABCD-EFGH", event_name="Съезд", event_date=date(2026, 1, 1), event_place="Москва"),
    )
    module = ModuleFactory(organization=organization, approved=True)
    PlannedActivity.objects.create(doctor=doctor, module=module)
    ModuleCompletion.objects.create(module=module, external_id="1", email=doctor.email, completed_at=timezone.now())
    MinistryLink.objects.create(doctor=doctor, login="doctor")
    survey = Survey.objects.get(status=Survey.Status.OPEN)  # the demo's, open to the demo doctor
    invitations_send(survey.pk)
    survey_answer(
        survey=survey,
        doctor=doctor,
        answers=[
            {"question": q.pk, "value": [q.options.first().pk] if q.kind == "multiple" else q.options.first().pk}
            for q in survey.questions.filter(required=True)
        ],
    )
    WorkRecordFactory(doctor=provider)  # the provider's: the demo doctor's own history is the demo's to fill
    EventCertificatesFile.objects.create(event=Event.objects.filter(status="approved").first())
    ReceivedRecord.objects.create(
        specialist=Specialist.objects.first(),
        idempotency_key="k",
        kind=ReceivedRecord._meta.get_field("kind").choices[0][0],
        zet=2,
        title="Съезд",
        earned_on=date(2026, 1, 1),
    )
    digest_subscribe(doctor=doctor)
    prepared_report(society=survey.society, year=timezone.localdate().year)  # prepared here: no worker in tests
    DigestSent.objects.create(doctor=doctor, week_start=date(2026, 1, 5), announcements=1)
    HeldRecord.objects.create(
        doctor=doctor,
        idempotency_key="held-in-admin",
        kind=HeldRecord.Kind.PROGRAMME,
        hours=36,
        title="Программа",
        earned_on=date(2026, 1, 1),
        specialty_code="31.08.20",
    )


@pytest.mark.django_db
def test_an_api_keys_hash_is_read_only_in_the_admin_and_revoking_goes_through_the_service(client, staff):
    provider = MembershipFactory(role=Membership.Role.ADMIN).user
    api_key, _secret = api_key_create(organization=provider.memberships.get().organization, actor=provider, name="LMS")
    client.force_login(staff)
    assert client.get(reverse("admin:accounts_organizationapikey_add")).status_code == 403
    change = reverse("admin:accounts_organizationapikey_change", args=[api_key.pk])
    page = client.get(change)
    assert page.status_code == 200
    assert 'name="key_hash"' not in page.content.decode()
    client.post(change, {"name": "LMS 2", "key_hash": "0" * 64, "prefix": "deadbeef"})
    saved = OrganizationApiKey.objects.get(pk=api_key.pk)
    assert (saved.name, saved.key_hash, saved.prefix) == ("LMS 2", api_key.key_hash, api_key.prefix)
    assert AuditEvent.objects.filter(action="accounts.organizationapikey.admin_change", actor=staff).exists()
    client.post(
        reverse("admin:accounts_organizationapikey_changelist"), {"action": "revoke", "_selected_action": [api_key.pk]}
    )
    saved.refresh_from_db()
    assert saved.revoked_at is not None
    assert AuditEvent.objects.filter(action="api_key.revoke", actor=staff, object_id=str(api_key.pk)).exists()
