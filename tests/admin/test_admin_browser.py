"""The admin's observability pages in a real browser (Debian's Chromium through
Playwright) over 100,000 generated ledger rows: each page renders, its charts draw,
nothing breaks the Content-Security-Policy, and the dashboard's totals are the
ledger's own. Screenshots go to test-results/admin/."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse
from pytest_django.live_server_helper import LiveServer

from chat.models import ModelCall
from chat.observability.dashboard import DateRange
from tests.browser.conftest import REPORT_CSP_VIOLATIONS, chromium, log_in
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
    with chromium() as browser:
        yield browser


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
    log_in(page, (site, "ops", PASSWORD), path=reverse("admin:index"))

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


# A list table against the screen: whether its last column shows, or else whether
# Django's `.results` box around it scrolls sideways with its scrollbar in view.
TABLE_FIT = """() => {
  const table = document.querySelector("#result_list");
  if (!table) return null;
  const box = table.closest(".results").getBoundingClientRect();
  const last = table.querySelector("thead th:last-child").getBoundingClientRect();
  const results = table.closest(".results");
  return {
    pageScrolls: document.documentElement.scrollWidth > window.innerWidth,
    fits: last.right <= box.right + 1 && box.right <= window.innerWidth,
    scrolls: results.scrollWidth > results.clientWidth
      && getComputedStyle(results).overflowX === "auto"
      && box.height <= window.innerHeight,
  };
}"""


@pytest.fixture
def small_data(site):
    """A few of every record, and a call whose cost is a millionth of a cent."""
    made = generate_usage(calls=300, users=12, errors=40)
    get_user_model().objects.create_superuser("ops", "ops@example.com", PASSWORD)
    ModelCall.objects.filter(pk=ModelCall.objects.latest("created").pk).update(
        cost=Decimal("0.00000012")
    )
    return made


@pytest.mark.parametrize("sidebar", ["open", "closed"])
def test_every_admin_list_fits_at_1440_px(site, small_data, browser, sidebar):
    """No list cuts off its last columns on a 1440 px screen, with the admin's
    navigation sidebar open or closed; tiny costs keep their digits."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    open_ = "true" if sidebar == "open" else "false"
    context.add_init_script(
        f"localStorage.setItem('django.admin.navSidebarIsOpen', '{open_}');"
    )
    page = context.new_page()
    log_in(page, (site, "ops", PASSWORD), path=reverse("admin:index"))
    cut, scrolled = {}, []
    for model in admin.site._registry:
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        page.goto(site + url)
        fit = page.evaluate(TABLE_FIT)
        if fit is None or fit["fits"] and not fit["pageScrolls"]:
            continue
        if fit["scrolls"] and not fit["pageScrolls"]:
            scrolled.append(meta.model_name)
        else:
            cut[url] = fit
        page.screenshot(path=SHOTS / f"list-{meta.model_name}-{sidebar}.png")
    assert cut == {}, "lists cut off at 1440 px"
    if sidebar == "closed":
        assert scrolled == [], "lists that scroll with the whole width to show them"
    page.goto(site + reverse("admin:chat_modelcall_changelist"))
    assert "$0.00000012" in page.inner_text("#result_list")
    context.close()
