"""The admin's observability pages in a real browser (Debian's Chromium through
Playwright) over 100,000 generated ledger rows: each page renders, its charts draw,
nothing breaks the Content-Security-Policy, and the dashboard's totals are the
ledger's own. Screenshots go to test-results/admin/."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from pytest_django.live_server_helper import LiveServer

from chat.observability.dashboard import DateRange
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, REPORT_CSP_VIOLATIONS
from tests.conftest import need_service
from tests.factories import generate_usage, ledger_totals

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "admin"
PASSWORD = "ops-pw-0123456789!"
COST = Decimal("0.00000001")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser():
    """Chromium for this test only. Not tests/browser's package-wide one: Playwright's
    sync API runs an event loop in this thread while a browser is open, and the ORM
    refuses to work there, so the data must be made before it starts."""
    if not Path(CHROMIUM).exists():
        need_service(f"Chromium is missing at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need_service("playwright is missing (pip install -r requirements-dev.txt)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def site(settings, transactional_db):
    """pytest-django's live server over plain HTTP on loopback. Started here rather
    than through the session-wide `live_server` fixture, whose middleware was built
    before any test could turn SECURE_SSL_REDIRECT off."""
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    server = LiveServer("localhost")
    yield server.url
    server.stop()


@pytest.fixture
def data(site):
    """The generated ledger and what a direct aggregate says about the dashboard's
    default range, made before the browser starts (Playwright's sync API runs an
    event loop in this thread, where the ORM refuses to work)."""
    made = generate_usage()
    get_user_model().objects.create_superuser("ops", "ops@example.com", PASSWORD)
    made["span"] = span = DateRange.last_days(30)
    made["ledger"] = ledger_totals(span)
    return made


def test_admin_pages_render_with_generated_data(site, data, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1440, "height": 1100})
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    # The admin's navigation sidebar collapsed, as an operator on a laptop keeps it.
    context.add_init_script(
        "localStorage.setItem('django.admin.navSidebarIsOpen', 'false');"
    )
    page = context.new_page()
    problems: list[str] = []

    def on_console(message) -> None:
        # A failed load is reported below with its URL.
        if message.type == "error" and "Failed to load resource" not in message.text:
            problems.append(f"console: {message.text}")

    def on_response(response) -> None:
        # Browsers ask for /favicon.ico, which the app does not serve.
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            problems.append(f"HTTP {response.status} {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    page.on("pageerror", lambda exc: problems.append(f"uncaught: {exc}"))

    def visit(path: str, shot: str, *, whole: bool = True) -> None:
        """Open a page and photograph it (lists of 100 rows: the first screen)."""
        response = page.goto(site + path)
        assert response.status == 200, f"{path} answered {response.status}"
        page.screenshot(path=SHOTS / f"{shot}.png", full_page=whole)

    # The admin's login page hands over to the site's (throttled, second factor).
    page.goto(site + reverse("admin:login") + "?next=" + reverse("admin:index"))
    page.fill("#id_login", "ops")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(site + reverse("admin:index"))

    # The usage dashboard, and its figures against the ledger.
    visit(reverse("admin:chat_modelcall_dashboard"), "01-dashboard")
    ledger, span = data["ledger"], data["span"]

    def shown(metric: str) -> str:
        return page.get_attribute(f'[data-metric="{metric}"]', "data-value")

    # At the ledger's precision: SQLite sums decimals as floats.
    assert Decimal(shown("cost")) == ledger["cost"].quantize(COST)
    assert int(shown("calls")) == ledger["calls"]
    assert int(shown("input_tokens")) == ledger["input_tokens"]
    assert int(shown("output_tokens")) == ledger["output_tokens"]
    assert int(shown("tokens")) == ledger["input_tokens"] + ledger["output_tokens"]
    bars = page.locator("svg.chat-svg rect[class^=s]")
    assert bars.count() > 60
    box = bars.first.bounding_box()
    assert box and box["width"] > 2 and box["height"] > 0

    week = f"?start={span.last - timedelta(6)}&end={span.last}"
    visit(reverse("admin:chat_modelcall_dashboard") + week, "02-dashboard-range")
    assert page.input_value("#id_start") == str(span.last - timedelta(6))
    visit(reverse("admin:chat_modelcall_changelist"), "03-model-calls", whole=False)
    visit(reverse("admin:chat_errorrecord_changelist"), "04-errors", whole=False)
    assert page.locator(".chat-errors-summary svg.chat-svg rect").count() > 10
    visit(
        reverse("admin:chat_errorrecord_changelist") + "?kind=admission",
        "05-errors-filtered",
        whole=False,
    )
    visit(reverse("admin:auth_user_changelist") + "?o=-6", "06-users", whole=False)
    user_id = data["conversation"].user_id
    visit(reverse("admin:auth_user_change", args=[user_id]), "07-user")
    conversation = data["conversation"].pk
    visit(
        reverse("admin:chat_conversation_change", args=[conversation]),
        "08-conversation",
    )
    visit(
        reverse("admin:chat_conversation_investigate", args=[conversation]),
        "09-investigate-ask",
    )
    page.fill("#id_reason", "Support ticket #4521: wrong answer about keys")
    page.click("input[type=submit]")
    page.wait_for_selector(".chat-transcript")
    assert "How do I rotate my API key?" in page.inner_text(".chat-transcript")
    page.screenshot(path=SHOTS / "10-investigate-read.png", full_page=True)

    assert problems == []
    context.close()
