"""The demo doctor prepares the accreditation portfolio in a real browser: opens it from the header, writes a
section of the report, attaches a scan and downloads the ZIP of the files for filing, in Russian and English."""

import io
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from PIL import Image

from learning_plan.models import PortfolioScan, ReportSection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def scan_file(folder: Path) -> Path:
    """A small photo of a diploma, as a phone takes one."""
    path = folder / "diploma.jpg"
    Image.new("RGB", (800, 600), (235, 230, 210)).save(path, "JPEG", quality=85)
    return path


def test_the_demo_doctor_prepares_the_portfolio_in_russian_and_english(
    page, at_both_widths, sign_in, assert_accessible, settings, tmp_path
):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    settings.DEBUG = False

    sign_in("doctor@example.org", "demo-password-1")
    page.click("[data-nav=portfolio]")
    page.wait_for_url("**/me/portfolio/31.08.20/")
    assert page.locator("#window").get_attribute("data-window") == "open"
    assert "Окно открыто" in page.locator("#window").inner_text()
    missing = page.locator("#readiness [data-missing]")
    assert "report_missing" in [missing.nth(i).get_attribute("data-missing") for i in range(missing.count())]
    at_both_widths("portfolio-ru")

    # a section of the report, saved as a draft
    page.fill("#id_duties-text", "Веду амбулаторный приём, консультирую стационарных больных.")
    page.locator("#section-duties button[type=submit]").click()
    page.wait_for_load_state()
    assert "сохранён" in page.locator(".messages").inner_text()
    assert page.locator("#id_duties-text").input_value().startswith("Веду амбулаторный приём")
    assert ReportSection.objects.get(section="duties").text.startswith("Веду")
    assert_accessible()

    # a scan
    form = page.locator("form.scan-upload")
    form.locator("select[name=kind]").select_option("diploma")
    form.locator("input[name=title]").fill("Диплом о высшем образовании")
    form.locator("input[type=file]").set_input_files(str(scan_file(tmp_path)))
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "Диплом о высшем образовании" in page.locator(".portfolio-scans table").inner_text()
    assert PortfolioScan.objects.count() == 1
    assert_accessible()

    # the files for filing, built (in-process in the tests) and downloaded
    page.locator(".portfolio-export form button[type=submit]").click()
    page.wait_for_load_state()
    link = page.locator("[data-export-ready] a")
    link.wait_for()
    with page.expect_download() as caught:
        link.click()
    archive = zipfile.ZipFile(io.BytesIO(Path(caught.value.path()).read_bytes()))
    names = archive.namelist()
    assert "Иванова М.С. сведения об образовании.pdf" in names
    assert "Иванова М.С. отчёт о профессиональной деятельности.pdf" in names
    assert "Иванова М.С. диплом.pdf" in names
    at_both_widths("portfolio-files-ru")

    # the same page in English
    page.locator("button.lang[value=en]").click()
    page.wait_for_load_state()
    assert "The window is open" in page.locator("#window").inner_text()
    assert "Report on professional activity" in page.locator("#report").inner_text()
    assert "Download the ZIP" in page.locator("[data-export-ready]").inner_text()
    at_both_widths("portfolio-en")
