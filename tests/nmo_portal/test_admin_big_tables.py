"""The admin on tables of millions of rows (issue 18): lists counted by estimate or up to a cap, searched by
what an index answers, and forms that never list a big table in a select."""

import pytest
from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect, ForeignKeyRawIdWidget, ManyToManyRawIdWidget
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape
from django.utils.http import urlencode

from accounts.audit import audit_log
from accounts.models import AuditEvent, Organization, User
from codes.models import IcpCode
from credits import services as credits_services
from credits.models import CreditEntry, OutboxRecord
from events.models import Event
from modules.models import Module, ModuleCompletion
from nmo_portal.admin_lists import EstimatedCountPaginator

from ..factories import DoctorProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

# Tables that grow with the country: a form never lists their rows in a <select>.
BIG = {User, Organization, IcpCode, CreditEntry, OutboxRecord, AuditEvent, Event, Module, ModuleCompletion}
# Fields of a big model whose admin offers only a few of its rows.
FEW_CHOICES = {"accounts.ReviewerAppointment.organization": "the professional societies only"}
SAFE_WIDGETS = (AutocompleteSelect, ForeignKeyRawIdWidget, ManyToManyRawIdWidget)


def credit(doctor, staff, specialty, n=1):
    return [
        credits_services.ledger_adjust(doctor=doctor, credits=1, reason="Перенос", actor=staff, specialty=specialty)
        for _ in range(n)
    ]


def listed(page, obj):
    """The list shows the row (its change link)."""
    return f"/admin/{obj._meta.app_label}/{obj._meta.model_name}/{obj.pk}/change/" in page


def counts_of(queries, table):
    return [q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and f'"{table}"' in q["sql"]]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite keeps no estimate: it counts up to the cap")
def test_the_unfiltered_ledger_is_counted_by_the_tables_estimate_not_by_count(
    client, staff, doctor, psychiatry, monkeypatch
):
    monkeypatch.setattr(EstimatedCountPaginator, "count_cap", 3)
    credit(doctor, staff, psychiatry, n=5)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE credits_creditentry")  # what autovacuum keeps up to date in production
    client.force_login(staff)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:credits_creditentry_changelist"))
    assert response.status_code == 200
    assert counts_of(queries, "credits_creditentry") == []
    assert "около 5" in response.content.decode()  # honest: an estimate


def test_a_searched_list_counts_up_to_the_cap_and_says_more_than(client, staff, doctor, psychiatry, monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "count_cap", 3)
    credit(doctor, staff, psychiatry, n=5)
    client.force_login(staff)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:credits_creditentry_changelist"), {"q": doctor.email[:6]})
    page = response.content.decode()
    assert "более 3" in page
    assert all(listed(page, entry) for entry in CreditEntry.objects.all())  # the rows of the one page
    counts = counts_of(queries, "credits_creditentry")
    assert counts
    assert all("LIMIT 4" in sql for sql in counts)


def test_the_ledger_search_by_an_email_prefix_finds_that_doctors_entries_only(client, staff, psychiatry):
    ivanov = DoctorProfileFactory(user__email="doctor123@example.org").user
    other = DoctorProfileFactory(user__email="doctor1234@example.org").user
    mine, theirs = credit(ivanov, staff, psychiatry)[0], credit(other, staff, psychiatry)[0]
    client.force_login(staff)
    response = client.get(reverse("admin:credits_creditentry_changelist"), {"q": "doctor123@"})
    page = response.content.decode()
    assert listed(page, mine)
    assert not listed(page, theirs)


def test_the_ledger_search_by_snils_finds_the_doctor(client, staff, psychiatry):
    profile = DoctorProfileFactory()
    entry = credit(profile.user, staff, psychiatry)[0]
    other = credit(DoctorProfileFactory().user, staff, psychiatry)[0]
    typed = f"{profile.snils[:3]}-{profile.snils[3:6]}-{profile.snils[6:9]} {profile.snils[9:]}"
    client.force_login(staff)
    page = client.get(reverse("admin:credits_creditentry_changelist"), {"q": typed}).content.decode()
    assert listed(page, entry)
    assert not listed(page, other)


def test_the_users_search_finds_by_surname_beginning_email_beginning_and_snils(client, staff):
    profile = DoctorProfileFactory(user__last_name="Соловьёва", user__email="s.solo@example.org")
    DoctorProfileFactory(user__last_name="Петрова", user__email="petrova@example.org")
    client.force_login(staff)
    changelist = reverse("admin:accounts_user_changelist")
    for term in ("Солов", "S.SOLO@", profile.snils):  # SQLite folds the case of ASCII only
        page = client.get(changelist, {"q": term}).content.decode()
        assert "s.solo@example.org" in page, term
        assert "petrova@example.org" not in page, term


def test_the_outbox_list_makes_the_same_queries_for_many_rows_as_for_one(client, staff, psychiatry):
    client.force_login(staff)
    changelist = reverse("admin:credits_outboxrecord_changelist")
    credit(DoctorProfileFactory().user, staff, psychiatry)
    with CaptureQueriesContext(connection) as one:
        client.get(changelist)
    for _ in range(6):
        credit(DoctorProfileFactory().user, staff, psychiatry)
    with CaptureQueriesContext(connection) as many:
        response = client.get(changelist)
    assert sum(listed(response.content.decode(), row) for row in OutboxRecord.objects.all()) == 7
    assert len(many) == len(one)


def test_the_outbox_search_by_idempotency_key_and_the_failed_filter(client, staff, psychiatry):
    entry = credit(DoctorProfileFactory().user, staff, psychiatry)[0]
    other = credit(DoctorProfileFactory().user, staff, psychiatry)[0]
    OutboxRecord.objects.filter(entry=other).update(state=OutboxRecord.State.FAILED)
    client.force_login(staff)
    changelist = reverse("admin:credits_outboxrecord_changelist")
    page = client.get(changelist, {"q": str(entry.outbox.idempotency_key)}).content.decode()
    assert listed(page, entry.outbox)
    assert not listed(page, other.outbox)
    page = client.get(changelist, {"state__exact": "failed"}).content.decode()
    assert listed(page, other.outbox)
    assert not listed(page, entry.outbox)


def test_the_audit_log_is_searched_by_action_actor_email_and_ip_and_filtered_by_object(client, staff, doctor):
    activation = audit_log(actor=doctor, action="code.activate", obj=doctor, ip="10.1.2.3")
    verification = audit_log(actor=staff, action="organization.verify", obj=staff, ip="10.9.9.9")
    client.force_login(staff)
    changelist = reverse("admin:accounts_auditevent_changelist")

    def found(**params):
        page = client.get(changelist, params).content.decode()
        return {row.action for row in (activation, verification) if listed(page, row)}

    assert found(q="code.activate") == {"code.activate"}
    assert found(q=doctor.email.split("@")[0] + "@") == {"code.activate"}
    assert found(q="10.9.9.9") == {"organization.verify"}
    assert found(object_q=f"accounts.user {staff.pk}") == {"organization.verify"}
    assert found(object_q="accounts.user") == {"code.activate", "organization.verify"}


def test_a_code_is_found_by_its_holders_name_within_the_event_chosen(client, staff, ended_event, make_codes):
    mine, other = make_codes(ended_event, 2)
    IcpCode.objects.filter(pk=mine.pk).update(holder_name="Соловьёва Анна")
    client.force_login(staff)
    changelist = reverse("admin:codes_icpcode_changelist")
    page = client.get(changelist, {"q": "Соловьёва", "event_q": ended_event.title}).content.decode()
    assert listed(page, mine)
    assert not listed(page, other)
    page = client.get(changelist, {"q": mine.display}).content.decode()
    assert listed(page, mine)
    assert not listed(page, other)


def test_no_admin_form_lists_a_big_table_in_a_select(staff):
    """Every add/change form and inline of every app: a foreign key or many-to-many to a big table is a raw id
    or an autocomplete (a <select> of 450,000 users would render them all)."""
    request = RequestFactory().get("/admin/")
    request.user = staff
    plain = []
    for model, model_admin in admin.site._registry.items():
        if model_admin.has_add_permission(request):
            form_classes = [model_admin.get_form(request)]
        elif model_admin.has_change_permission(request):
            form_classes = [model_admin.get_form(request, change=True)]
        else:
            continue  # read only: every field is shown as text, no widget
        form_classes = [(form_class, None) for form_class in form_classes]
        for inline in model_admin.get_inline_instances(request):
            if inline.has_add_permission(request, None) or inline.has_change_permission(request):
                formset = inline.get_formset(request)
                form_classes.append((formset.form, formset.fk.name))  # the key to the page's own object
        for form_class, parent in form_classes:
            for name, field in form_class.base_fields.items():
                if not isinstance(field, forms.ModelChoiceField) or field.queryset.model not in BIG or name == parent:
                    continue
                if f"{model._meta.label}.{name}" in FEW_CHOICES:
                    continue
                widget = getattr(field.widget, "widget", field.widget)  # inside the "add another" wrapper
                if not isinstance(widget, SAFE_WIDGETS):
                    plain.append(f"{model._meta.label}.{name}")
    assert plain == [], plain


def test_the_ledgers_adjustment_form_finds_the_doctor_by_autocomplete(client, staff):
    zakharova = UserFactory(email="adjust.me@example.org", last_name="Захарова")
    client.force_login(staff)
    response = client.get(
        reverse("admin:autocomplete"),
        {"term": "Захар", "app_label": "credits", "model_name": "creditentry", "field_name": "doctor"},
    )
    assert [row["text"] for row in response.json()["results"]] == [str(zakharova)]


def test_a_big_tables_list_shows_50_rows_a_page_and_the_rest_on_the_next(client, staff, doctor):
    rows = [audit_log(actor=doctor, action="code.activate", obj=doctor) for _ in range(51)]
    client.force_login(staff)
    changelist = reverse("admin:accounts_auditevent_changelist")
    first = client.get(changelist).content.decode()
    second = client.get(changelist, {"p": 2}).content.decode()
    assert [listed(first, row) for row in rows] == [False] + [True] * 50  # newest first
    assert [listed(second, row) for row in rows] == [True] + [False] * 50


def test_each_row_keeps_the_search_in_its_link_and_its_checkbox_runs_the_action(client, staff, psychiatry):
    entry = credit(DoctorProfileFactory().user, staff, psychiatry)[0]
    OutboxRecord.objects.filter(entry=entry).update(state=OutboxRecord.State.FAILED)
    record = entry.outbox
    client.force_login(staff)
    changelist = reverse("admin:credits_outboxrecord_changelist")
    shown = {"q": entry.doctor.email[:8], "state__exact": "failed"}
    page = client.get(changelist, shown).content.decode()
    link = reverse("admin:credits_outboxrecord_change", args=[record.pk])
    # saving the record's page returns to the same list: the search and the filter ride in the row's link
    assert f'href="{link}?{escape(urlencode({"_changelist_filters": urlencode(shown)}))}"' in page
    assert f'<input type="checkbox" name="_selected_action" value="{record.pk}" class="action-select"' in page

    response = client.post(changelist, {"action": "retry", "_selected_action": [record.pk]})

    assert response.status_code == 302
    record.refresh_from_db()
    assert record.state == OutboxRecord.State.PENDING


def test_the_users_list_draws_staff_and_active_as_icons_and_counts_a_common_surname_up_to_the_cap(
    client, staff, monkeypatch
):
    monkeypatch.setattr(EstimatedCountPaginator, "count_cap", 3)
    ivanovs = [DoctorProfileFactory(user__last_name="Иванова").user for _ in range(5)]
    User.objects.filter(pk=ivanovs[0].pk).update(is_active=False)
    client.force_login(staff)
    page = client.get(reverse("admin:accounts_user_changelist"), {"q": "Иванов"}).content.decode()
    assert "более 3" in page
    assert all(listed(page, user) for user in ivanovs)
    assert page.count('src="/static/admin/img/icon-yes.svg') >= 4  # the active ones
    assert page.count('src="/static/admin/img/icon-no.svg') >= 5 + 1  # nobody is staff; one is not active
