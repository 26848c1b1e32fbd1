"""The work history in the doctor's profile: the services every writer goes through, the profile's pages, the
admin, the reminders switch and GET /api/v1/me/."""

import re
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import AuditEvent, DoctorProfile, WorkRecord
from accounts.services import (
    accreditation_reminders_set,
    work_record_add,
    work_record_remove,
    work_record_update,
)
from nmo_portal.calendar import today
from nmo_portal.errors import PermissionDenied

from ..factories import DoctorProfileFactory, SpecialtyFactory, UserFactory, WorkRecordFactory

pytestmark = pytest.mark.django_db

FIELDS = {
    "employer": "ГБУЗ «ПКБ № 4 им. П. Б. Ганнушкина»",
    "employer_inn": "7707083893",
    "region": "77",
    "unit": "Отделение № 2",
    "position": "Врач-психиатр",
    "started_on": date(2016, 9, 1),
    "ended_on": None,
}


def form_data(psychiatry, **changes):
    data = {**FIELDS, "specialty": psychiatry.pk, **changes}
    return {
        name: ("" if value is None else value.isoformat() if isinstance(value, date) else value)
        for name, value in data.items()
    }


# Services.


def test_a_doctor_adds_a_current_place_of_work_with_an_audit_row(doctor, psychiatry):
    record = work_record_add(doctor=doctor, specialty=psychiatry, **{**FIELDS, "employer": "  ПКБ № 4  "})

    saved = WorkRecord.objects.get(doctor=doctor)
    assert saved.pk == record.pk
    assert saved.employer == "ПКБ № 4"  # trimmed
    assert saved.ended_on is None
    assert saved.is_current
    audit = AuditEvent.objects.get(action="work_record.add")
    assert (audit.actor, audit.object_id, audit.details["specialty"]) == (doctor, str(record.pk), "31.08.20")


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"employer": "x" * 301}, "employer", "max_length"),
        ({"position": "x" * 201}, "position", "max_length"),
        ({"unit": "x" * 201}, "unit", "max_length"),
        ({"employer": "ПКБ\x00"}, "employer", "null_characters_not_allowed"),
        ({"position": "\x00"}, "position", "null_characters_not_allowed"),
        ({"unit": "a\x00b"}, "unit", "null_characters_not_allowed"),
        ({"employer": "   "}, "employer", "blank"),
        ({"employer_inn": "7707083894"}, "employer_inn", "inn_invalid"),  # a wrong check digit
        ({"employer_inn": "12345"}, "employer_inn", "inn_invalid"),
        ({"region": "00"}, "region", "invalid_choice"),
        ({"started_on": date(1949, 12, 31)}, "started_on", "work_date_too_early"),
        ({"started_on": "future"}, "started_on", "work_date_in_future"),
        ({"ended_on": "future"}, "ended_on", "work_date_in_future"),
        ({"started_on": date(2020, 1, 2), "ended_on": date(2020, 1, 1)}, "ended_on", "work_dates_reversed"),
    ],
)
def test_a_record_out_of_bounds_is_refused_on_its_field_and_nothing_is_saved(doctor, psychiatry, changes, field, code):
    tomorrow = today() + timedelta(days=1)
    changes = {name: tomorrow if value == "future" else value for name, value in changes.items()}

    with pytest.raises(ValidationError) as refused:
        work_record_add(doctor=doctor, specialty=psychiatry, **{**FIELDS, **changes})

    assert code in [error.code for error in refused.value.error_dict[field]]
    assert not WorkRecord.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="work_record").exists()


def test_a_period_may_start_and_end_today(doctor, psychiatry):
    record = work_record_add(
        doctor=doctor, specialty=psychiatry, **{**FIELDS, "started_on": today(), "ended_on": today()}
    )

    assert (record.started_on, record.ended_on) == (today(), today())


def test_a_specialty_the_portal_no_longer_offers_is_refused_for_a_new_record_but_kept_on_an_old_one(doctor, psychiatry):
    retired = SpecialtyFactory(is_active=False)
    with pytest.raises(ValidationError) as refused:
        work_record_add(doctor=doctor, specialty=retired, **FIELDS)
    assert refused.value.error_dict["specialty"][0].code == "work_specialty_inactive"

    old = WorkRecordFactory(doctor=doctor, specialty=retired)
    work_record_update(record=old, doctor=doctor, position="Заведующий отделением")
    assert WorkRecord.objects.get(pk=old.pk).position == "Заведующий отделением"
    with pytest.raises(ValidationError):  # nor can another record be moved to it
        work_record_update(record=WorkRecordFactory(doctor=doctor), doctor=doctor, specialty=retired)


def test_a_work_history_is_bounded_in_length(doctor, psychiatry):
    WorkRecordFactory.create_batch(WorkRecord.MAX_PER_DOCTOR, doctor=doctor)

    with pytest.raises(ValidationError) as refused:
        work_record_add(doctor=doctor, specialty=psychiatry, **FIELDS)

    assert refused.value.error_dict["__all__"][0].code == "work_history_full"
    assert WorkRecord.objects.filter(doctor=doctor).count() == WorkRecord.MAX_PER_DOCTOR


def test_a_doctor_closes_a_period_and_the_change_is_audited(doctor):
    record = WorkRecordFactory(doctor=doctor, ended_on=None)

    work_record_update(record=record, doctor=doctor, ended_on=date(2024, 5, 31))

    assert WorkRecord.objects.get(pk=record.pk).ended_on == date(2024, 5, 31)
    assert AuditEvent.objects.get(action="work_record.update").details["fields"] == ["ended_on"]


def test_saving_a_record_unchanged_writes_no_audit_row(doctor):
    record = WorkRecordFactory(doctor=doctor)

    work_record_update(record=record, doctor=doctor, employer=record.employer, specialty=record.specialty)

    assert not AuditEvent.objects.filter(action="work_record.update").exists()


def test_an_update_out_of_bounds_changes_nothing(doctor):
    record = WorkRecordFactory(doctor=doctor)

    with pytest.raises(ValidationError):
        work_record_update(record=record, doctor=doctor, position="врач", ended_on=date(2000, 1, 1))

    saved = WorkRecord.objects.get(pk=record.pk)
    assert (saved.position, saved.ended_on) == ("Врач-психиатр", date(2019, 8, 31))


def test_another_doctors_record_cannot_be_changed_or_removed(doctor):
    theirs = WorkRecordFactory()

    with pytest.raises(PermissionDenied):
        work_record_update(record=theirs, doctor=doctor, position="Главный врач")
    with pytest.raises(PermissionDenied):
        work_record_remove(record=theirs, doctor=doctor)

    saved = WorkRecord.objects.get(pk=theirs.pk)
    assert saved.position == "Врач-психиатр"
    assert not AuditEvent.objects.filter(action__startswith="work_record").exists()


def test_a_doctor_removes_a_record_with_an_audit_row(doctor):
    record = WorkRecordFactory(doctor=doctor)

    work_record_remove(record=record, doctor=doctor)

    assert not WorkRecord.objects.filter(pk=record.pk).exists()
    audit = AuditEvent.objects.get(action="work_record.remove")
    assert (audit.actor, audit.object_id, audit.details["started_on"]) == (doctor, str(record.pk), "2015-09-01")


def test_the_admin_cannot_bypass_the_rules_either(doctor, psychiatry):
    """The admin's form saves through ModelAdmin, which runs the model's full_clean(): WorkRecord.clean()."""
    record = WorkRecord(doctor=doctor, specialty=psychiatry, **{**FIELDS, "ended_on": today() + timedelta(days=30)})

    with pytest.raises(ValidationError) as refused:
        record.full_clean()

    assert "ended_on" in refused.value.error_dict


# The reminders switch.


def test_a_doctor_turns_the_accreditation_reminders_off_and_on_with_audit_rows(doctor):
    accreditation_reminders_set(user=doctor, enabled=False)
    assert DoctorProfile.objects.get(user=doctor).accreditation_reminders is False
    accreditation_reminders_set(user=doctor, enabled=False)  # no change, no row
    accreditation_reminders_set(user=doctor, enabled=True)

    assert DoctorProfile.objects.get(user=doctor).accreditation_reminders is True
    rows = AuditEvent.objects.filter(action="doctor_profile.reminders").order_by("id")
    assert [row.details["enabled"] for row in rows] == [False, True]


def reminders_checked(page):
    return bool(re.search(r'<input type="checkbox" name="accreditation_reminders"[^>]* checked>', page))


PROFILE = {
    "last_name": "Иванова",
    "first_name": "Мария",
    "middle_name": "",
    "snils": "112-233-445 95",
    "language": "ru",
    "timezone_name": "Europe/Moscow",
}


def test_the_profile_form_switches_the_reminders_off_and_on(client, psychiatry):
    doctor = DoctorProfileFactory(specialties=[psychiatry]).user
    client.force_login(doctor)
    assert reminders_checked(client.get(reverse("accounts:profile")).content.decode())

    response = client.post(reverse("accounts:profile"), {**PROFILE, "specialties": [psychiatry.pk]})  # unticked

    assert response.status_code == 302
    assert DoctorProfile.objects.get(user=doctor).accreditation_reminders is False
    assert not reminders_checked(client.get(reverse("accounts:profile")).content.decode())
    assert AuditEvent.objects.get(action="doctor_profile.reminders").details == {"enabled": False}
    client.post(reverse("accounts:profile"), {**PROFILE, "accreditation_reminders": "on"})
    assert DoctorProfile.objects.get(user=doctor).accreditation_reminders is True


def test_a_refused_profile_keeps_the_reminders_as_they_were(client, psychiatry):
    DoctorProfileFactory(snils="11223344595", snils_confirmed_at=timezone.now())  # confirmed for someone else
    doctor = DoctorProfileFactory().user
    client.force_login(doctor)

    response = client.post(reverse("accounts:profile"), PROFILE)  # reminders unticked, СНИЛС taken

    assert response.status_code == 200
    assert "подтверждён порталом Минздрава для другой учётной записи" in response.content.decode()
    assert DoctorProfile.objects.get(user=doctor).accreditation_reminders is True
    assert not AuditEvent.objects.filter(action="doctor_profile.reminders").exists()


# Pages.


def test_the_profile_lists_the_work_history_and_the_years_of_practice_per_specialty(client, doctor, cardiology):
    WorkRecordFactory(doctor=doctor, started_on=date(2010, 1, 1), ended_on=date(2015, 12, 31))
    WorkRecordFactory(doctor=doctor, started_on=date(2014, 1, 1), ended_on=date(2016, 2, 29), unit="")  # overlaps
    WorkRecordFactory(doctor=doctor, specialty=cardiology, started_on=date(2020, 3, 1), ended_on=date(2020, 5, 31))
    WorkRecordFactory(employer="Чужая больница")  # someone else's
    client.force_login(doctor)

    page = client.get(reverse("accounts:profile")).content.decode()

    assert page.count("data-work-record=") == 3
    assert "Чужая больница" not in page
    assert 'class="stack"' in page
    assert 'data-label="Работодатель"' in page
    assert "01.01.2010" in page
    assert "29.02.2016" in page
    # 1.1.2010–29.2.2016, overlaps counted once: 6 years and 2 months
    assert '<li data-practice="31.08.20">31.08.20 Психиатрия: <strong>6 лет 2 мес.</strong></li>' in page
    assert "<strong>3 мес.</strong>" in page  # cardiology
    with translation.override("en"):
        client.cookies["django_language"] = "en"
        english = client.get(reverse("accounts:profile"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Work history" in english


def test_a_current_place_of_work_reads_as_now(client, doctor):
    WorkRecordFactory(doctor=doctor, ended_on=None)
    client.force_login(doctor)

    page = client.get(reverse("accounts:profile")).content.decode()

    assert "01.09.2015 – по настоящее время" in page


def test_the_profile_page_asks_the_same_queries_for_many_records_as_for_one(
    client, doctor, django_assert_max_num_queries
):
    WorkRecordFactory(doctor=doctor)
    client.force_login(doctor)
    with django_assert_max_num_queries(40) as few:
        client.get(reverse("accounts:profile"))
    WorkRecordFactory.create_batch(20, doctor=doctor)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("accounts:profile"))


def test_a_doctor_adds_a_place_of_work_on_its_page(client, doctor, psychiatry):
    client.force_login(doctor)
    form = client.get(reverse("accounts:work_record_add")).content.decode()
    assert 'name="region"' in form
    assert '<option value="77">Москва</option>' in form
    assert 'name="csrfmiddlewaretoken"' in form

    response = client.post(reverse("accounts:work_record_add"), form_data(psychiatry))

    assert response.status_code == 302
    assert response["Location"].endswith("#work-history")
    record = WorkRecord.objects.get(doctor=doctor)
    assert (record.employer, record.region, record.ended_on) == (FIELDS["employer"], "77", None)
    assert AuditEvent.objects.filter(action="work_record.add", actor=doctor).exists()


def test_the_add_page_shows_what_is_wrong_and_saves_nothing(client, doctor, psychiatry):
    client.force_login(doctor)
    tomorrow = today() + timedelta(days=1)

    response = client.post(
        reverse("accounts:work_record_add"),
        form_data(psychiatry, employer_inn="7707083894", ended_on=tomorrow, position="x" * 201),
    )

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"employer_inn", "ended_on", "position"}
    assert "Дата не может быть в будущем." in response.content.decode()
    assert not WorkRecord.objects.exists()


def test_the_add_page_refuses_nul_characters(client, doctor, psychiatry):
    client.force_login(doctor)

    response = client.post(reverse("accounts:work_record_add"), form_data(psychiatry, employer="ПКБ\x00"))

    assert response.status_code == 400
    assert response.context["form"].has_error("employer")
    assert not WorkRecord.objects.exists()


def test_a_doctor_edits_a_place_of_work(client, doctor, psychiatry):
    record = WorkRecordFactory(doctor=doctor, ended_on=None)
    client.force_login(doctor)
    page = client.get(reverse("accounts:work_record_edit", args=[record.pk])).content.decode()
    assert 'value="Врач-психиатр"' in page

    response = client.post(
        reverse("accounts:work_record_edit", args=[record.pk]),
        form_data(psychiatry, started_on=record.started_on, ended_on=date(2023, 12, 31), region="50"),
    )

    assert response.status_code == 302
    saved = WorkRecord.objects.get(pk=record.pk)
    assert (saved.ended_on, saved.region, saved.employer) == (date(2023, 12, 31), "50", FIELDS["employer"])
    assert AuditEvent.objects.filter(action="work_record.update", actor=doctor).exists()


def test_a_doctor_removes_a_place_of_work(client, doctor):
    record = WorkRecordFactory(doctor=doctor)
    client.force_login(doctor)

    response = client.post(reverse("accounts:work_record_remove", args=[record.pk]))

    assert response.status_code == 302
    assert not WorkRecord.objects.filter(pk=record.pk).exists()
    assert "удалено из ваших мест работы" in client.get(response["Location"]).content.decode()


def test_removing_needs_a_post(client, doctor):
    record = WorkRecordFactory(doctor=doctor)
    client.force_login(doctor)

    assert client.get(reverse("accounts:work_record_remove", args=[record.pk])).status_code == 405
    assert WorkRecord.objects.filter(pk=record.pk).exists()


def test_another_doctors_record_is_not_found_on_every_page(client, doctor, psychiatry):
    theirs = WorkRecordFactory(ended_on=None)
    client.force_login(doctor)

    assert client.get(reverse("accounts:work_record_edit", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("accounts:work_record_edit", args=[theirs.pk]), form_data(psychiatry)).status_code == 404
    assert client.post(reverse("accounts:work_record_remove", args=[theirs.pk])).status_code == 404

    saved = WorkRecord.objects.get(pk=theirs.pk)
    assert (saved.employer, saved.ended_on) == (WorkRecordFactory.employer, None)
    assert not AuditEvent.objects.filter(action__startswith="work_record").exists()


def test_anonymous_requests_go_to_sign_in_and_change_nothing(client, psychiatry):
    record = WorkRecordFactory()
    for response in (
        client.get(reverse("accounts:work_record_add")),
        client.post(reverse("accounts:work_record_add"), form_data(psychiatry)),
        client.post(reverse("accounts:work_record_edit", args=[record.pk]), form_data(psychiatry)),
        client.post(reverse("accounts:work_record_remove", args=[record.pk])),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    assert WorkRecord.objects.count() == 1
    assert WorkRecord.objects.get().employer == WorkRecordFactory.employer


# Admin.


def test_the_admin_lists_and_finds_work_records_by_email_employer_and_inn(client, staff):
    mine = WorkRecordFactory(doctor=UserFactory(email="ivanova@example.org"), employer="Больница им. Кащенко")
    WorkRecordFactory(employer="Другая клиника", employer_inn="500100732259", region="50")
    client.force_login(staff)
    url = reverse("admin:accounts_workrecord_changelist")

    def found(query):
        page = client.get(url, query).content.decode()
        return [name for name in ("Больница им. Кащенко", "Другая клиника") if name in page]

    assert found({"q": "ivanova@"}) == ["Больница им. Кащенко"]
    assert found({"q": "Кащенко"}) == ["Больница им. Кащенко"]
    assert found({"q": "500100732259"}) == ["Другая клиника"]
    assert found({"region__exact": "50"}) == ["Другая клиника"]
    change = client.get(reverse("admin:accounts_workrecord_change", args=[mine.pk])).content.decode()
    assert 'class="vForeignKeyRawIdAdminField"' in change  # the doctor by id, not a select of every user


def test_the_admins_form_refuses_a_period_in_the_future(client, staff, doctor, psychiatry):
    client.force_login(staff)
    data = form_data(psychiatry, ended_on=today() + timedelta(days=1))

    response = client.post(reverse("admin:accounts_workrecord_add"), {**data, "doctor": doctor.pk})

    assert response.status_code == 200  # the form again, with the error
    assert "Дата не может быть в будущем." in response.content.decode()
    assert not WorkRecord.objects.exists()


def test_the_admin_shows_and_filters_the_reminders_flag(client, staff):
    DoctorProfileFactory(accreditation_reminders=False, user__last_name="Тихонова")
    DoctorProfileFactory(user__last_name="Громова")
    client.force_login(staff)

    page = client.get(reverse("admin:accounts_doctorprofile_changelist"), {"accreditation_reminders__exact": "0"})

    text = page.content.decode()
    assert "Тихонова" in text
    assert "Громова" not in text
    assert "Напоминания об аккредитации" in text


# API.


def test_me_lists_the_doctors_work_history_current_first(client, doctor, cardiology):
    WorkRecordFactory(doctor=doctor, started_on=date(2010, 1, 1), ended_on=date(2012, 6, 30), unit="")
    WorkRecordFactory(doctor=doctor, specialty=cardiology, started_on=date(2012, 7, 1), ended_on=None)
    WorkRecordFactory(employer="Чужая больница")
    client.force_login(doctor)

    history = client.get(reverse("api:api-accounts:me")).json()["work_history"]

    assert history == [
        {
            "employer": WorkRecordFactory.employer,
            "employer_inn": "7724036928",
            "region": "77",
            "unit": "Отделение № 5",
            "position": "Врач-психиатр",
            "specialty": "31.08.36",
            "started_on": "2012-07-01",
            "ended_on": None,
        },
        {
            "employer": WorkRecordFactory.employer,
            "employer_inn": "7724036928",
            "region": "77",
            "unit": "",
            "position": "Врач-психиатр",
            "specialty": "31.08.20",
            "started_on": "2010-01-01",
            "ended_on": "2012-06-30",
        },
    ]


def test_me_gives_an_empty_work_history_to_a_person_without_one(client, user):
    client.force_login(user)

    assert client.get(reverse("api:api-accounts:me")).json()["work_history"] == []


def test_the_openapi_schema_describes_the_work_history(client):
    schema = client.get(reverse("api:schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    me = schema["components"]["schemas"]["Me"]
    assert "work_history" in me["required"]
    record = schema["components"]["schemas"]["WorkRecord"]
    assert set(record["properties"]) == {
        "employer",
        "employer_inn",
        "region",
        "unit",
        "position",
        "specialty",
        "started_on",
        "ended_on",
    }
    assert record["properties"]["ended_on"]["nullable"] is True
