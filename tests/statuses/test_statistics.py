"""A programme's statistics: figures counted by hand on a small set of applications made through the services,
who may read them, the year filter, the CSV and its formula guard."""

import csv
import io
import re
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from statuses import services
from statuses.models import StatusApplication, StatusProgramme
from statuses.statistics import pass_rate
from tests.factories import (
    AccreditationDocumentFactory,
    CommissionMemberFactory,
    StaffFactory,
    UserFactory,
    WorkRecordFactory,
    specialty,
)

PSYCHIATRY, CARDIOLOGY = "31.08.20", "31.08.36"


def make_eligible(code, doctor=None):
    """A doctor (a new one unless given) eligible for «Московский врач» in `code`: a valid accreditation and six
    years of work in it in Moscow, at an employer no commission member works for."""
    found = specialty(code)
    if doctor is None:
        doctor = AccreditationDocumentFactory(specialty=found).doctor
    else:
        AccreditationDocumentFactory(doctor=doctor, specialty=found)
    WorkRecordFactory(
        doctor=doctor, specialty=found, started_on=timezone.localdate() - timedelta(days=365 * 6 + 2), ended_on=None
    )
    return doctor


class Applications:
    """Runs applications of «Московский врач» through the services, as the commission would."""

    def __init__(self, programme):
        self.programme = programme
        self.stages = list(programme.stages.order_by("position"))
        self.members = {
            code: CommissionMemberFactory(programme=programme, specialty=specialty(code)).user
            for code in (PSYCHIATRY, CARDIOLOGY)
        }

    def run(self, code, *results, doctor=None, decision=None, withdraw=False):
        """Apply, then record `results` stage by stage (a score for the test, True/False after it), then decide."""
        doctor = make_eligible(code, doctor)
        application = services.application_submit(doctor=doctor, programme=self.programme, specialty=specialty(code))
        if code not in self.members:
            self.members[code] = CommissionMemberFactory(programme=self.programme, specialty=specialty(code)).user
        member, day = self.members[code], timezone.localdate()
        for stage, result in zip(self.stages, results, strict=False):
            if stage.is_scored:
                services.stage_result_record(
                    application=application, stage=stage, user=member, held_on=day, score=result
                )
            else:
                services.stage_result_record(
                    application=application, stage=stage, user=member, held_on=day, passed=result
                )
        if decision is not None:
            services.application_decide(
                application=application, user=member, award=decision, comment="" if decision else "Не рекомендован"
            )
        if withdraw:
            services.application_withdraw(application=application, doctor=doctor)
        return application


@pytest.fixture
def data(moscow_doctor_programme):
    """Psychiatry: awarded; failed the test (72); failed the practical; open after the test (80, the pass mark);
    withdrawn before any stage. Cardiology: the awarded psychiatrist failing its test (79); passed every stage
    and refused; open with no result yet."""
    runs = Applications(moscow_doctor_programme)
    both = runs.run(PSYCHIATRY, "90", True, True, decision=True).doctor
    runs.run(PSYCHIATRY, "72")
    runs.run(PSYCHIATRY, "85", False)
    runs.run(PSYCHIATRY, "80")
    runs.run(PSYCHIATRY, withdraw=True)
    runs.run(CARDIOLOGY, "79", doctor=both)
    runs.run(CARDIOLOGY, "95", True, True, decision=False)
    runs.run(CARDIOLOGY)
    return runs


def row_cells(page, **attributes):
    """The cells' text of the table row marked with these data- attributes."""
    marks = "".join(f' data-{name}="{value}"' for name, value in attributes.items())
    found = re.search(rf"<tr{marks}>(.*?)</tr>", page, re.S)
    assert found, f"no row {marks}"
    cells = re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), re.S)
    return [" ".join(unescape(re.sub(r"<[^>]+>", "", cell)).split()) for cell in cells]


def statistics_page(client, programme, **query):
    return client.get(reverse("statuses:statistics", args=[programme.slug]), query)


def test_the_figures_per_specialty_and_stage_are_those_counted_by_hand(client, data, moscow_doctor_programme):
    client.force_login(StaffFactory())
    response = statistics_page(client, moscow_doctor_programme)
    assert response.status_code == 200
    page = response.content.decode()
    # doctors, applications, open, withdrawn, failed, awarded, refused, valid statuses now
    assert row_cells(page, specialty=PSYCHIATRY)[1:] == ["5", "5", "1", "1", "2", "1", "0", "1"]
    assert row_cells(page, specialty=CARDIOLOGY)[1:] == ["3", "3", "1", "0", "1", "0", "1", "0"]
    # the psychiatrist who also applied in cardiology counts once among the doctors
    assert row_cells(page, specialty="total")[1:] == ["7", "8", "2", "1", "3", "1", "1", "1"]
    # reached, passed, failed, pass rate
    assert row_cells(page, stage=1, specialty=PSYCHIATRY)[2:] == ["4", "3", "1", "75%"]
    assert row_cells(page, stage=1, specialty=CARDIOLOGY)[2:] == ["2", "1", "1", "50%"]
    assert row_cells(page, stage=1, specialty="total")[2:] == ["6", "4", "2", "67%"]
    assert row_cells(page, stage=2, specialty=PSYCHIATRY)[2:] == ["2", "1", "1", "50%"]
    assert row_cells(page, stage=2, specialty=CARDIOLOGY)[2:] == ["1", "1", "0", "100%"]
    assert row_cells(page, stage=2, specialty="total")[2:] == ["3", "2", "1", "67%"]
    assert row_cells(page, stage=3, specialty="total")[2:] == ["2", "2", "0", "100%"]
    # specialties of the programme nobody applied in are listed with noughts, and left out of the stages
    assert row_cells(page, specialty="31.08.42")[1:] == ["0"] * 8
    assert 'data-stage="1" data-specialty="31.08.42"' not in page


def test_the_chart_draws_each_stages_pass_rate_against_a_hundred_per_cent(client, data, moscow_doctor_programme):
    client.force_login(StaffFactory())
    page = statistics_page(client, moscow_doctor_programme).content.decode()
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    assert "<script" not in svg
    assert "style=" not in svg
    label = re.search(r'aria-label="([^"]*)"', svg).group(1)
    # the text alternative names each stage whole, though a bar's label is cut to fit
    assert unescape(label).endswith(
        ": 1. Тестирование (теоретический этап) — 67%; 2. Оценка практических навыков — 67%; "
        "3. Собеседование и защита профессионального портфолио — 100%"
    )
    assert "3. Собеседование и защита…</text>" in svg
    heights = [float(h) for h in re.findall(r'<rect class="bar-chart-bar"[^>]*height="([\d.]+)"', svg)]
    assert heights[0] == heights[1] < heights[2]
    assert heights[0] == pytest.approx(heights[2] * 0.67, abs=0.2)


def test_a_programme_without_results_shows_noughts_and_no_chart(client, moscow_doctor_programme):
    client.force_login(StaffFactory())
    response = statistics_page(client, moscow_doctor_programme)
    page = response.content.decode()
    assert response.status_code == 200
    assert row_cells(page, specialty="total")[1:] == ["0"] * 8
    assert row_cells(page, stage=1, specialty="total")[2:] == ["0", "0", "0", "—"]
    assert "<svg" not in page
    assert "data-empty" in page


@pytest.mark.parametrize(
    ("passed", "recorded", "rate"),
    [(2, 3, 67), (1, 3, 33), (1, 8, 13), (3, 8, 38), (1, 200, 1), (0, 5, 0), (5, 5, 100), (0, 0, None)],
)
def test_a_pass_rate_is_whole_per_cent_rounded_half_up(passed, recorded, rate):
    assert pass_rate(passed, recorded) == rate


def test_the_page_takes_the_same_queries_however_many_applications(
    client, data, moscow_doctor_programme, django_assert_max_num_queries
):
    member = data.members[PSYCHIATRY]
    client.force_login(member)
    # the session and the user, the programme and the seat, six aggregates, and base.html's three (one is the
    # seat behind the «Комиссия» link)
    with django_assert_max_num_queries(13) as before:
        assert statistics_page(client, moscow_doctor_programme).status_code == 200
    for _ in range(3):
        data.run(CARDIOLOGY, "99", True, True, decision=True)
        data.run("31.08.42", "50")
    with django_assert_max_num_queries(13) as after:
        page = statistics_page(client, moscow_doctor_programme).content.decode()
    assert row_cells(page, specialty="31.08.42")[1:3] == ["3", "3"]
    assert len(after) == len(before)


def test_anyone_on_the_commission_reads_it_and_others_are_refused(client, data, moscow_doctor_programme):
    url = reverse("statuses:statistics", args=[moscow_doctor_programme.slug])
    csv_url = reverse("statuses:statistics_csv", args=[moscow_doctor_programme.slug])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert client.get(csv_url).status_code == 302

    client.force_login(data.members[CARDIOLOGY])  # a seat in another of its specialties is enough
    assert client.get(url).status_code == 200

    other = StatusProgramme.objects.create(
        name="Врач года", slug="doctor-of-the-year", authority="Общество", number_prefix="ВГ"
    )
    other.specialties.add(specialty(PSYCHIATRY))
    elsewhere = CommissionMemberFactory(programme=other).user
    retired = CommissionMemberFactory(programme=moscow_doctor_programme, specialty=specialty(CARDIOLOGY))
    services.commission_member_retire(member=retired, actor=StaffFactory())
    applicant = StatusApplication.objects.filter(specialty__code=PSYCHIATRY).first().doctor
    for refused in (UserFactory(), applicant, elsewhere, retired.user):
        client.force_login(refused)
        response = client.get(url)
        assert response.status_code == 403
        assert "75%" not in response.content.decode()
        assert client.get(csv_url).status_code == 403
    client.force_login(elsewhere)
    assert client.get(reverse("statuses:statistics", args=[other.slug])).status_code == 200
    assert client.get(reverse("statuses:statistics", args=["no-such-programme"])).status_code == 404


def test_the_year_filter_counts_the_applications_submitted_that_year(client, data, moscow_doctor_programme):
    this_year = timezone.localdate().year
    failed_test = StatusApplication.objects.get(specialty__code=PSYCHIATRY, stage_results__score=72)
    StatusApplication.objects.filter(pk=failed_test.pk).update(
        submitted_at=timezone.now().replace(year=this_year - 1, month=6, day=15)
    )
    client.force_login(StaffFactory())

    page = statistics_page(client, moscow_doctor_programme, year=this_year).content.decode()
    assert row_cells(page, specialty=PSYCHIATRY)[1:] == ["4", "4", "1", "1", "1", "1", "0", "1"]
    assert row_cells(page, stage=1, specialty=PSYCHIATRY)[2:] == ["3", "3", "0", "100%"]

    page = statistics_page(client, moscow_doctor_programme, year=this_year - 1).content.decode()
    assert row_cells(page, specialty=PSYCHIATRY)[1:] == ["1", "1", "0", "0", "1", "0", "0", "0"]
    assert row_cells(page, specialty=CARDIOLOGY)[1:] == ["0"] * 8
    assert row_cells(page, stage=1, specialty="total")[2:] == ["1", "0", "1", "0%"]

    # every year again when the filter is empty
    page = statistics_page(client, moscow_doctor_programme, year="").content.decode()
    assert row_cells(page, specialty="total")[1:3] == ["7", "8"]


@pytest.mark.parametrize("junk", ["20x5", "１９９９", "99999", "-2024", "1999", "3000"])
def test_a_year_that_is_not_one_is_refused_with_a_message(client, data, moscow_doctor_programme, junk):
    client.force_login(StaffFactory())
    for name in ("statuses:statistics", "statuses:statistics_csv"):
        response = client.get(reverse(name, args=[moscow_doctor_programme.slug]), {"year": junk})
        assert response.status_code == 400
        page = response.content.decode()
        assert re.search(r'role="alert" data-code="year_(invalid|out_of_range)">[^<]*\d{4}', page)
        assert 'data-specialty="total"' not in page  # no figures for a year nobody asked for


def read_csv(response):
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_the_csv_holds_the_pages_figures(client, data, moscow_doctor_programme):
    client.force_login(data.members[PSYCHIATRY])
    this_year = timezone.localdate().year
    response = client.get(reverse("statuses:statistics_csv", args=[moscow_doctor_programme.slug]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="status-programme-moscow-doctor-statistics.csv"'
    rows = read_csv(response)
    assert rows[0][1] == moscow_doctor_programme.display_name
    by_specialty = {row[0]: row[2:] for row in rows if len(row) == 10}
    assert by_specialty[PSYCHIATRY] == ["5", "5", "1", "1", "2", "1", "0", "1"]
    assert by_specialty[""] == ["7", "8", "2", "1", "3", "1", "1", "1"]
    stage_rows = {(row[0][:1], row[1]): row for row in rows if len(row) == 7}
    assert stage_rows["1", ""][0] == "1. Тестирование (теоретический этап)"
    assert stage_rows["1", ""][3:] == ["6", "4", "2", "67%"]
    assert stage_rows["2", PSYCHIATRY][3:] == ["2", "1", "1", "50%"]

    response = client.get(reverse("statuses:statistics_csv", args=[moscow_doctor_programme.slug]), {"year": this_year})
    assert response["Content-Disposition"].endswith(f'statistics-{this_year}.csv"')
    assert read_csv(response)[1][1] == str(this_year)


def test_the_csv_defuses_a_programme_name_that_is_a_formula(client, db):
    programme = StatusProgramme.objects.create(
        name='=HYPERLINK("http://evil.example","Московский врач")', slug="formula", authority="=1+1", number_prefix="Ф"
    )
    programme.specialties.add(specialty(PSYCHIATRY))
    programme.stages.create(position=1, kind="interview", name="-2+3 собеседование")
    client.force_login(StaffFactory())
    rows = read_csv(client.get(reverse("statuses:statistics_csv", args=[programme.slug])))
    cells = [cell for row in rows for cell in row]
    assert '\'=HYPERLINK("http://evil.example","Московский врач")' in cells
    assert "1. -2+3 собеседование" in cells  # the stage's number leads its name: not a formula
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
