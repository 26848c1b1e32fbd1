import os
import shutil
from pathlib import Path

import pytest

from ..conftest import in_ci
from ..factories import PASSWORD

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", Path(__file__).resolve().parents[2] / "screenshots"))
# axe-core, installed from package-lock.json by `make install` (npm ci).
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# Impacts that fail a test; moderate and minor ones are left to review.
BLOCKING_IMPACTS = ("serious", "critical")
# axe's defaults, plus WCAG 2.5.3 "label in name" (experimental in axe, so off by default): the language
# buttons once read «Английский» for a visible «EN».
AXE_OPTIONS = {"rules": {"label-content-name-mismatch": {"enabled": True}}}

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


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        message = f"The accessibility check needs axe-core ({AXE} not found): make install (it runs npm ci)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


class Accessibility:
    """Runs axe-core on the page's current document and fails on serious or critical violations.

    axe is evaluated through the DevTools protocol (page.evaluate), which the page's Content-Security-Policy does
    not govern; page.add_script_tag would add an inline <script>, which that policy blocks. Every document the
    page loads is noted, so a page a test moved past without checking is reported at the end of the test.
    """

    def __init__(self, page, source: str) -> None:
        self.page = page
        self.source = source
        self.loaded: list[str] = []
        self.unchecked: list[str] = []
        page.on("load", lambda loaded: self.loaded.append(loaded.url))

    def check(self) -> None:
        # Once "load" is reached, the client has also noted the page's load event for this document.
        self.page.wait_for_load_state("load")
        url = self.page.url
        # A page that loaded again at the same address (a form sent back to it, a reload by its own script) is
        # checked as it is now; any other page the test moved past is reported.
        self.unchecked += [loaded for loaded in self.loaded[:-1] if loaded != url]
        self.loaded.clear()
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            self.page.evaluate(self.source)
        violations = self.page.evaluate(
            """options => axe.run(document, options).then(results => results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + ": " + n.failureSummary),
            })))""",
            AXE_OPTIONS,
        )
        blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
        assert not blocking, f"axe found serious or critical violations on {url}:\n" + "\n".join(
            f"- {v['impact']} {v['id']}: {v['help']}\n    " + "\n    ".join(v["nodes"]) for v in blocking
        )

    def finish(self) -> None:
        """The last page is checked here; pages a test left without checking fail it."""
        if self.loaded:
            self.check()
        assert not self.unchecked, (
            "Pages loaded and moved past without the accessibility check (call assert_accessible() once each "
            "has loaded): " + ", ".join(self.unchecked)
        )


@pytest.fixture
def _browser_page(browser, live_server, axe_source):
    context = browser.new_context(base_url=live_server.url, locale="ru-RU", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    accessibility = Accessibility(page, axe_source)
    yield page, accessibility
    try:
        accessibility.finish()
    finally:
        context.close()
    assert violations == [], "\n".join(violations)


@pytest.fixture
def page(_browser_page):
    """A page that fails the test if the Content-Security-Policy blocked anything on it (Chromium reports each
    violation on the console), or if axe finds a serious or critical violation on a page it loaded (see
    assert_accessible)."""
    return _browser_page[0]


@pytest.fixture
def assert_accessible(_browser_page):
    """Call once a page has loaded (screenshot and sign_in call it themselves): runs axe-core on it."""
    return _browser_page[1].check


@pytest.fixture
def screenshot(page, assert_accessible):
    """Saves a screenshot of the whole page, after checking the page with axe."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        assert_accessible()
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def at_both_widths(page, screenshot):
    """Screenshots the page as it is at 1280 px and at 375 px (`<name>-1280`, `<name>-375`), each checked by axe and
    with nothing to scroll sideways on the phone; the window is left at 1280 px."""

    def take(name: str) -> None:
        for width in (1280, 375):
            page.set_viewport_size({"width": width, "height": 900})
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (name, width)
            screenshot(f"{name}-{width}")
        page.set_viewport_size({"width": 1280, "height": 900})

    return take


@pytest.fixture
def sign_in(page, assert_accessible):
    """Signs in through the real form, as a person would; the form and the page after it pass the axe check."""

    def sign_in(email: str, password: str = PASSWORD) -> None:
        page.context.clear_cookies()
        page.goto("/accounts/login/")
        assert_accessible()
        page.fill("input[name=login]", email)
        page.fill("input[name=password]", password)
        page.locator("main form button[type=submit]").last.click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        assert_accessible()

    return sign_in
