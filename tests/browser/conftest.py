"""Browser tests: a real daphne serving the app with the demo model, driven through
Debian's Chromium by Playwright. Skipped where Chromium or Playwright is missing,
except under CI, where they must exist."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import need_service

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-results" / "browser"
USERNAME = "browser-user"
PASSWORD = "browser-pw-0123456789!"

# Records CSP violations as console errors, so one listener sees every problem.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`);
});
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _manage(*args: str, env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode:
        output = result.stdout + result.stderr
        pytest.fail(f"manage.py {' '.join(args)} failed:\n{output}")


def _wait_until_serving(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60  # a loaded CI machine starts slowly
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"daphne exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    pytest.fail(f"daphne did not answer {url} within 60 s:\n{log.read_text()}")


@contextmanager
def serve_app(
    workdir: Path, *, setup: str = "", **settings: str
) -> Iterator[tuple[str, str, str]]:
    """(base_url, username, password) of a real daphne serving the app on a fresh
    SQLite database in `workdir`, with `settings` as environment variables;
    `setup`: Python run by `manage.py shell` once migrated (rows a test needs)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "chatproject.settings",
        "DEBUG": "1",
        "CHAT_CREATE_LOCAL_USER": "0",
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
        "PYTHONUNBUFFERED": "1",
        **settings,
    }
    env.pop("REDIS_URL", None)  # the embedded default: everything in-process
    _manage("migrate", "--noinput", env=env)
    _manage(
        "createsuperuser",
        "--noinput",
        f"--username={USERNAME}",
        "--email=browser@example.invalid",
        env=env,
    )
    if setup:
        _manage("shell", "-c", setup, env=env)
    port = _free_port()
    log = workdir / "daphne.log"
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
    with log.open("w") as out:
        process = subprocess.Popen(
            [*command, "chatproject.asgi:application"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(f"{base_url}/healthz", process, log)
        yield base_url, USERNAME, PASSWORD
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The app with the demo model."""
    with serve_app(
        tmp_path_factory.mktemp("live_app"),
        LLM_BACKEND="demo",
        # Slow enough that Stop can be pressed mid-reply.
        CHAT_DEMO_DELAY_MS="30",
        # Small, so a refused message is quick to type (test_chat_page uses 3000).
        CHAT_MAX_MESSAGE_CHARS="2000",
    ) as app:
        yield app


@pytest.fixture(scope="session")
def page_app(tmp_path_factory):
    """The demo model for the page's feature, parity and accessibility tests: a user
    of its own (the chat page tests count this user's conversations), no rate limit
    between tests."""
    with serve_app(
        tmp_path_factory.mktemp("page_app"),
        LLM_BACKEND="demo",
        CHAT_DEMO_DELAY_MS="30",
        CHAT_MAX_MESSAGE_CHARS="2000",
        CHAT_RATE_LIMITS="1000/1m",
    ) as app:
        yield app


@contextmanager
def chromium():
    """Debian's Chromium, headless, through Playwright's sync API (which never
    downloads a browser here)."""
    if not Path(CHROMIUM).exists():
        need_service(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need_service("playwright is missing (pip install -r requirements-dev.txt)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="package")
def browser():
    with chromium() as browser:
        yield browser


def log_in(page, app: tuple[str, str, str], *, path: str = "/") -> None:
    """Open `path` on `app` (base_url, username, password), sign in on the login
    page it sends a visitor to (in any language), and land on it; the chat page
    once its socket is connected."""
    base_url, username, password = app
    page.goto(base_url + path)
    page.wait_for_url(re.compile(r"/accounts/login/\?next="))
    page.locator("input[name=login]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("main button[type=submit]").first.click()
    page.wait_for_url(base_url + path)
    if path == "/":
        # A fresh daphne's first socket can take a while on a loaded machine.
        page.wait_for_selector("#conn[data-state=connected]", timeout=15_000)


@pytest.fixture
def console_errors():
    """Console errors, uncaught exceptions and CSP violations seen by `page`."""
    return []


@pytest.fixture
def page(browser, console_errors):
    """A fresh browser context (no cookies); fails the test on any console error."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 860}, device_scale_factor=1
    )
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(15_000)

    def on_console(message):
        if message.type == "error":
            console_errors.append(f"console.error: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: console_errors.append(f"uncaught: {exc}"))
    yield page
    context.close()
    assert console_errors == [], "the page logged errors"


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    # Fresh shots each session: stale ones would hide a broken run.
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
