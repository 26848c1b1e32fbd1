"""Long work on the `make run` shape: a real Celery worker on kombu's filesystem broker (message files in a folder,
nothing installed), the page answering at once and following the work to its end by itself."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from playwright.sync_api import expect

from codes.models import IcpCode, IssuanceBatch
from nmo_portal.celery import app as celery_app

from ..conftest import in_ci
from ..factories import EventFactory, MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ROOT = Path(__file__).resolve().parents[2]
ATTENDEES = 5000
# As `make run` starts it, without beat: the sweeps are not what these tests look at.
WORKER_OPTIONS = [
    "--loglevel=INFO",
    "--pool=threads",
    "--concurrency=2",
    "--without-gossip",
    "--without-mingle",
    "--without-heartbeat",
]


def broker_options(folder: Path) -> dict[str, str]:
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "control_folder": str(folder / "control"),
    }


@pytest.fixture(scope="module")
def local_worker(django_db_setup, tmp_path_factory):
    """`celery worker` as `make run` starts it (LOCAL_WORKER=1, no Redis), on the test database; generated files
    go to a folder this process reads too."""
    if connection.vendor != "postgresql":
        message = "needs PostgreSQL (DATABASE_URL): the worker process cannot reach an in-memory SQLite database"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    broker = tmp_path_factory.mktemp("broker")
    files = tmp_path_factory.mktemp("private-files")
    database = connection.settings_dict
    env = {
        **os.environ,
        "DEBUG": "1",
        "LOCAL_WORKER": "1",
        "LOCAL_BROKER_DIR": str(broker),
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
        "DATABASE_URL": (
            f"postgres://{database['USER']}:{database.get('PASSWORD') or ''}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
        "PRIVATE_FILES_ROOT": str(files),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "nmo_portal", "worker", *WORKER_OPTIONS],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while b"ready" not in log.read_bytes() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    if process.poll() is not None or b"ready" not in log.read_bytes():
        process.kill()
        raise RuntimeError("the Celery worker did not start:\n" + log.read_text(errors="replace"))
    yield broker, files
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def in_worker(local_worker, settings):
    """This process sends tasks to the worker's folder instead of running them itself."""
    broker, files = local_worker
    conf = celery_app.conf
    saved = conf.broker_url, conf.broker_transport_options, conf.task_always_eager
    conf.broker_url, conf.broker_transport_options = "filesystem://", broker_options(broker)
    conf.task_always_eager = False
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(files)}},
    }
    yield
    conf.broker_url, conf.broker_transport_options, conf.task_always_eager = saved
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def test_a_5000_row_list_is_issued_by_the_worker_and_the_page_follows_it_to_done(
    in_worker, page, screenshot, at_both_widths, sign_in, psychiatry, tmp_path
):
    provider = MembershipFactory().user
    event = EventFactory(organization=provider.memberships.get().organization, approved=True, specialties=[psychiatry])
    attendees = tmp_path / "участники.csv"
    rows = "".join(f"Участник Номер {n};attendee{n}@example.org\r\n" for n in range(ATTENDEES))
    attendees.write_text("ФИО;E-mail\r\n" + rows, encoding="utf-8")

    sign_in(provider.email)
    page.goto(f"/provider/events/{event.pk}/codes/")
    page.set_input_files("input[name=file]", str(attendees))
    page.locator("form[action$='/codes/upload/'] button[type=submit]").click()
    page.wait_for_load_state()
    # Whatever the worker has done by now, the message says only what is true at any point of the issuance.
    assert "Выпуск 5000 кодов принят" in page.locator(".messages").inner_text()
    line = page.locator("[data-batch]").first
    screenshot("background-issuance-accepted")

    expect(line.locator(".batch-state")).to_have_text("Готово", timeout=120_000)
    expect(page.locator("tbody tr")).to_have_count(100)  # the page loaded again by itself: the codes are listed
    assert line.locator(".batch-count").inner_text() == str(ATTENDEES)
    assert line.locator("progress").get_attribute("value") == "100"
    assert "Коды выдаются" not in page.locator("main").inner_text()
    at_both_widths("background-issuance-done-ru")
    with page.expect_navigation():
        page.locator("button.lang[value=en]").click()
    expect(page.locator("[data-batch]").first.locator(".batch-state")).to_have_text("Done")
    at_both_widths("background-issuance-done-en")
    batch = IssuanceBatch.objects.get(event=event)
    assert (batch.state, batch.issued) == (IssuanceBatch.State.DONE, ATTENDEES)
    assert IcpCode.objects.filter(event=event).count() == ATTENDEES


def test_the_certificates_file_is_built_by_the_worker_and_its_link_appears_by_itself(
    in_worker, page, screenshot, sign_in, psychiatry, make_codes
):
    provider = MembershipFactory().user
    event = EventFactory(organization=provider.memberships.get().organization, approved=True, specialties=[psychiatry])
    make_codes(event, 3)

    sign_in(provider.email)
    page.goto(f"/provider/events/{event.pk}/codes/")
    expect(page.get_by_role("link", name="Все свидетельства (PDF)")).to_have_count(0)
    page.get_by_role("button", name="Подготовить все свидетельства (PDF)").click()
    page.wait_for_load_state()
    message = page.locator(".messages").inner_text()
    assert "ссылка на него появится здесь" in message or "Файл со всеми свидетельствами готов" in message

    link = page.get_by_role("link", name="Все свидетельства (PDF)")
    expect(link).to_be_visible(timeout=60_000)
    assert "Готовится новый файл" not in page.locator(".certificates-file").inner_text()
    screenshot("background-certificates-ready")
    with page.expect_download() as download:
        link.click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
