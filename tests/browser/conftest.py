import os
import shutil
from pathlib import Path

import pytest

from ..conftest import in_ci
from ..factories import PASSWORD

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", Path(__file__).resolve().parents[2] / "screenshots"))

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make here are still
# plain synchronous calls, so Django's async-safety guard is lifted for browser tests only.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if in_ci():
            pytest.fail(f"Chromium is required in CI for browser tests and was not found at {CHROMIUM}")
        pytest.skip(f"Browser tests need Debian's chromium ({CHROMIUM} not found): apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A page that fails the test if the Content-Security-Policy blocked anything on it (Chromium reports each
    violation on the console)."""
    context = browser.new_context(base_url=live_server.url, locale="ru-RU", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    yield page
    context.close()
    assert violations == [], "\n".join(violations)


@pytest.fixture
def screenshot(page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def sign_in(page):
    """Signs in through the real form, as a person would."""

    def sign_in(email: str, password: str = PASSWORD) -> None:
        page.context.clear_cookies()
        page.goto("/accounts/login/")
        page.fill("input[name=login]", email)
        page.fill("input[name=password]", password)
        page.locator("main form button[type=submit]").last.click()
        page.wait_for_load_state()

    return sign_in
