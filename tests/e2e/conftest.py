"""Browser fixtures: one Chromium per session, a fresh context and page per test.

Debian's Chromium at /usr/bin/chromium is driven through Playwright's sync API; no browser is
ever downloaded. The live server runs on a transactional database that is flushed after each
test, so every page fixture first makes sure the published PNET pathway is loaded.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.conftest import ensure_pnet_published

# Playwright's sync API keeps an event loop running in this thread; the ORM calls made by the
# fixtures (loading the pathway after a flush) are plain synchronous ones.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
TIMEOUT_MS = 15_000

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"

Screenshot = Callable[[Page, str], Path]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder ``e2e``, so ``-m "not e2e"`` (``make test-fast``) leaves out
    each browser test, even one whose module forgot its ``pytestmark``."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` (sudo apt-get install -y chromium).")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def site_url(live_server: Any) -> str:
    """The live server's base URL, with the published PNET pathway loaded."""
    ensure_pnet_published()
    return str(live_server.url)


@pytest.fixture
def new_context(browser: Browser, site_url: str) -> Iterator[Callable[..., BrowserContext]]:
    """Open browser contexts on the live server (closed after the test); keyword arguments
    go to ``browser.new_context`` (e.g. ``viewport=PHONE``, ``java_script_enabled=False``)."""
    opened: list[BrowserContext] = []

    def open_context(**options: Any) -> BrowserContext:
        options.setdefault("viewport", DESKTOP)
        context = browser.new_context(base_url=site_url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        context.close()


@pytest.fixture
def context(new_context: Callable[..., BrowserContext]) -> BrowserContext:
    return new_context()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    page = context.new_page()
    errors = _collect_script_errors(page)
    yield page
    assert not errors, f"script errors in the page: {errors}"


@pytest.fixture
def js_disabled_page(new_context: Callable[..., BrowserContext]) -> Page:
    return new_context(java_script_enabled=False).new_page()


@pytest.fixture(scope="session")
def screenshot() -> Screenshot:
    """Save a full-page screenshot as test-artifacts/screenshots/<name>.png and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page: Page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


def _collect_script_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep a screenshot of every page still open when a browser test fails."""
    report = yield
    if report.when == "call" and report.failed:
        funcargs = getattr(item, "funcargs", {})
        pages = [value for value in funcargs.values() if isinstance(value, Page)]
        for index, failed_page in enumerate(pages):
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid)[-150:]
            path = ARTIFACTS / "failures" / f"{name}-{index}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            # A page closed by the test must not hide the real failure.
            with contextlib.suppress(Exception):
                failed_page.screenshot(path=str(path), full_page=True)
    return report
