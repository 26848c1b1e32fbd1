"""Module completions uploaded by providers as CSV/XLSX: the page, and the file reader."""

import io
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook

from credits.models import CreditEntry
from modules.completions_csv import parse_completed_at, read_completions
from modules.models import ModuleCompletion
from modules.services import completion_report
from review.models import Status

from ..factories import ModuleFactory, UserFactory, make_snils
from .conftest import (
    ANOTHER_UNREGISTERED_SNILS,
    MOSCOW,
    UNREGISTERED_SNILS,
    completions_url,
    doctor_snils,
    page_url,
    payload,
    upload,
    wrong_control,
    yesterday,
)

# The browser.


@pytest.mark.django_db
def test_the_module_page_links_to_completion_reports_once_approved(member_client, module, membership):
    draft = ModuleFactory(organization=membership.organization)

    assert page_url(module) in member_client.get(reverse("modules:detail", args=[module.pk])).content.decode()
    assert page_url(draft) not in member_client.get(reverse("modules:detail", args=[draft.pk])).content.decode()


@pytest.mark.django_db
def test_a_bad_csv_is_reported_row_by_row_and_writes_nothing(member_client, module, doctor):
    day = yesterday().strftime("%d.%m.%Y %H:%M")
    text = (
        "ID;СНИЛС;E-mail;Дата освоения\r\n"
        f"c-1;{wrong_control(UNREGISTERED_SNILS)};;{day}\r\n"
        f";{ANOTHER_UNREGISTERED_SNILS};;{day}\r\n"
        f"c-3;{doctor_snils(doctor)};;32.13.2025\r\n"
        f"c-4;{doctor_snils(doctor)};;{day}\r\n"
    )

    response = upload(member_client, module, text.encode("cp1251"))

    assert response.status_code == 400
    errors = [(e.row, e.column) for e in response.context["report"].errors]
    assert errors == [(2, "СНИЛС"), (3, "ID"), (4, "Дата освоения")]
    html = response.content.decode()
    assert "Nothing was recorded from report.csv" in html
    assert "wrong control sum" in html
    assert not ModuleCompletion.objects.exists()
    assert not CreditEntry.objects.exists()
    assert not mail.outbox


@pytest.mark.django_db
def test_a_good_csv_credits_the_registered_and_counts_what_was_reported_before(
    member_client, module, membership, doctor, django_capture_on_commit_callbacks
):
    completion_report(
        module=module, actor=membership.user, external_id="c-0", completed_at=yesterday(), snils=UNREGISTERED_SNILS
    )
    day = yesterday().strftime("%d.%m.%Y %H:%M")
    text = (
        "external_id,snils,email,completed_at\n"
        f"c-0,{UNREGISTERED_SNILS},,{day}\n"
        f"c-1,{doctor_snils(doctor)},,{day}\n"
        f"c-2,,somebody.new@example.org,{yesterday().date().isoformat()}\n"
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(member_client, module, text.encode())

    assert response.status_code == 302
    page = member_client.get(response["Location"]).content.decode()
    assert "Accepted: 2, already reported: 1." in page
    assert "c-1" in page
    assert doctor.last_name not in page
    assert CreditEntry.objects.get().doctor == doctor
    assert set(ModuleCompletion.objects.values_list("external_id", flat=True)) == {"c-0", "c-1", "c-2"}
    assert [m.to for m in mail.outbox] == [[doctor.email]]


@pytest.mark.django_db
def test_an_xlsx_report_with_date_and_number_cells_is_read(member_client, module, doctor):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["ID освоения", "СНИЛС", "Дата освоения"])
    sheet.append(["x-1", int(doctor_snils(doctor)), yesterday().replace(tzinfo=None)])
    data = io.BytesIO()
    workbook.save(data)

    response = upload(member_client, module, data.getvalue(), name="report.xlsx")

    assert response.status_code == 302
    completion = ModuleCompletion.objects.get()
    assert completion.completed_at == yesterday()
    assert completion.credited_at is not None


@pytest.mark.django_db
def test_uploading_for_a_module_not_approved_records_nothing(member_client, membership, doctor):
    draft = ModuleFactory(organization=membership.organization, status=Status.DRAFT)
    text = f"external_id;СНИЛС;completed_at\r\nc-1;{doctor_snils(doctor)};{yesterday():%d.%m.%Y}\r\n"

    page = member_client.get(page_url(draft)).content.decode()
    response = upload(member_client, draft, text.encode("cp1251"))

    assert "Completions are reported only for approved modules." in page
    assert 'type="file"' not in page
    assert response.status_code == 400
    assert "Completions are reported only for approved modules." in response.content.decode()
    assert not ModuleCompletion.objects.exists()


@pytest.mark.django_db
def test_staff_may_look_but_not_upload_and_strangers_get_404(client, module, staff, doctor):
    text = f"external_id;СНИЛС;completed_at\r\nc-1;{doctor_snils(doctor)};{yesterday():%d.%m.%Y}\r\n"
    client.force_login(staff)

    assert client.get(page_url(module)).status_code == 200
    assert upload(client, module, text.encode("cp1251")).status_code == 403

    client.force_login(UserFactory())
    assert client.get(page_url(module)).status_code == 404
    assert upload(client, module, text.encode("cp1251")).status_code == 404
    assert not ModuleCompletion.objects.exists()


@pytest.mark.django_db
def test_the_upload_needs_the_csrf_token(membership, module, doctor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(membership.user)
    text = f"external_id;СНИЛС;completed_at\r\nc-1;{doctor_snils(doctor)};{yesterday():%d.%m.%Y}\r\n"

    assert upload(client, module, text.encode("cp1251")).status_code == 403
    assert not ModuleCompletion.objects.exists()


@pytest.mark.django_db
def test_the_page_lists_completions_without_doctors_in_a_fixed_number_of_queries(
    member_client, module, membership, doctor, django_assert_max_num_queries
):
    completion_report(
        module=module, actor=membership.user, external_id="mine", completed_at=yesterday(), snils=doctor_snils(doctor)
    )
    for n in range(40):
        completion_report(
            module=module, actor=membership.user, external_id=f"w{n}", completed_at=yesterday(),
            snils=make_snils(820_000 + n),
        )  # fmt: skip

    with django_assert_max_num_queries(12):
        response = member_client.get(page_url(module))

    html = response.content.decode()
    assert response.status_code == 200
    assert "w39" in html
    assert "Reported in all: 41" in html
    assert doctor.last_name not in html
    assert doctor.first_name not in html


# The file reader.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("31.12.2024 14:30", datetime(2024, 12, 31, 14, 30, tzinfo=MOSCOW)),
        ("31.12.2024 9:05:07", datetime(2024, 12, 31, 9, 5, 7, tzinfo=MOSCOW)),
        ("31.12.2024", datetime(2024, 12, 31, tzinfo=MOSCOW)),
        ("2024-12-31T14:30:00", datetime(2024, 12, 31, 14, 30, tzinfo=MOSCOW)),
        ("2024-12-31T14:30:00Z", datetime(2024, 12, 31, 14, 30, tzinfo=UTC)),
        ("2024-12-31", datetime(2024, 12, 31, tzinfo=MOSCOW)),
        ("31/12/2024", None),
        ("вчера", None),
    ],
)
def test_completion_times_are_read_in_the_formats_providers_write(text, expected):
    assert parse_completed_at(text) == expected


def test_a_file_without_a_snils_or_email_column_is_refused_as_a_whole():
    report = read_completions("external_id;completed_at\r\nc-1;31.12.2024\r\n".encode("cp1251"), "r.csv")

    assert not report.ok
    assert report.file_error is not None
    assert not report.completions


def test_every_missing_column_is_named_at_once():
    from django.utils import translation

    with translation.override("en"):
        report = read_completions("completed_at;ФИО\r\n31.12.2024;Иванов\r\n".encode("cp1251"), "r.csv")
    assert report.file_error == (
        "The header row must name the columns; missing: completion id (external_id), СНИЛС or e-mail."
    )


@pytest.mark.django_db
def test_the_same_completion_id_twice_in_a_file_is_an_error():
    text = "id,email,completed_at\nc-1,a@example.org,31.12.2024\nc-1,b@example.org,31.12.2024\n"

    report = read_completions(text.encode(), "r.csv")

    assert [(e.row, e.column) for e in report.errors] == [(3, "id")]


@pytest.mark.django_db
def test_a_row_refused_by_the_service_midway_undoes_the_rows_before_it(
    member_client, module, doctor, monkeypatch, django_capture_on_commit_callbacks
):
    import modules.views
    from nmo_portal.errors import PortalError

    real = modules.views.completion_report

    def refuse_the_second(**kwargs):
        if kwargs["external_id"] == "c-2":
            raise PortalError("Отказ сервиса", code="refused")
        return real(**kwargs)

    monkeypatch.setattr(modules.views, "completion_report", refuse_the_second)
    day = yesterday().strftime("%d.%m.%Y %H:%M")
    text = f"external_id;СНИЛС;completed_at\r\nc-1;{doctor_snils(doctor)};{day}\r\nc-2;{UNREGISTERED_SNILS};{day}\r\n"

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(member_client, module, text.encode("cp1251"))

    assert response.status_code == 400
    assert "Row 3: Отказ сервиса" in response.content.decode()
    assert not ModuleCompletion.objects.exists()
    assert not CreditEntry.objects.exists()
    assert not mail.outbox


def test_a_file_over_the_row_limit_is_refused_before_it_is_read_to_the_end():
    text = "id,email,completed_at\n" + "".join(f"c-{n},d{n}@example.org,31.12.2024\n" for n in range(3))

    report = read_completions(text.encode(), "r.csv", max_rows=2)

    assert report.file_error is not None
    assert "2" in report.file_error
    assert not report.completions


@pytest.mark.django_db
def test_the_credit_email_names_the_module(key_api, module, doctor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        key_api.post(completions_url(module), payload(snils=doctor_snils(doctor)), format="json")

    assert module.title in mail.outbox[0].subject
    assert module.title in mail.outbox[0].body
