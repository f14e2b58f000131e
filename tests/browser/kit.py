"""Browser journeys in Debian's Chromium, driven by Playwright against Django's live server.

A pytest plugin (registered in tests/conftest.py) so any test module can use `page`. Tests marked
`browser` are skipped, with a clear notice, where Chromium is not installed. Each test fails on any
JavaScript error or failed request for a static file, and leaves a full-page screenshot in artifacts/.
"""

import os
import re
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

# Playwright's sync API runs an event loop in this thread; the ORM calls that set up test data
# are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    if CHROMIUM:
        return
    skip = pytest.mark.skip(
        reason="Chromium not installed: browser journeys skipped (apt-get install chromium)"
    )
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def _migrated_contents(django_db_setup, django_db_blocker):
    """The rows migrations leave behind (role groups, permissions, catalogues), serialized once."""
    from django.db import connection

    contents = getattr(connection, "_test_serialized_contents", None)
    if contents is None:
        with django_db_blocker.unblock():
            contents = connection.creation.serialize_db_to_string()
    return contents


@pytest.fixture(scope="session")
def live_server(live_server, browser, _migrated_contents):
    """Django's live server, with serialized rollback kept working beside Playwright.

    Once Playwright's sync API is running, Django's context-local connection handler hands this
    thread a new connection object, which lacks the serialized copy of the migrated rows that
    `serialized_rollback` restores after each flush; without it the second browser test would find
    no role groups. Give the new connection the copy taken before Playwright started.
    """
    from django.db import connections

    for connection in connections.all():
        if not hasattr(connection, "_test_serialized_contents"):
            connection._test_serialized_contents = _migrated_contents
    if live_server.thread.connections_override:
        _one_request_at_a_time(live_server.thread.httpd)
    return live_server


def _one_request_at_a_time(httpd):
    """Serve one request at a time when the server threads share the test's in-memory SQLite connection.

    A page that fetches several JSON endpoints at once (the outcomes dashboard draws a dozen charts) would
    otherwise run their report transactions concurrently on that single connection, which hangs. A real
    server has a connection per thread; PostgreSQL test runs keep the concurrency.
    """
    import threading

    application, lock = httpd.get_app(), threading.Lock()

    def serialized(environ, start_response):
        with lock:
            response = application(environ, start_response)
            try:
                return list(response)  # streamed bodies read the database too
            finally:
                if hasattr(response, "close"):
                    response.close()

    httpd.set_app(serialized)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, _migrated_contents):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1366, "height": 900}, "accept_downloads": True}


@pytest.fixture
def problems():
    return []


@pytest.fixture
def page(page, problems, request, live_server):
    """A page that records JavaScript errors and failed static requests, and screenshots its end."""
    page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"console.{message.type}: {message.text}") if message.type == "error" else None
        ),
    )
    # A request cut short because the page moved on (net::ERR_ABORTED, often the favicon) is not a broken
    # file; a missing one still arrives as a 404 and is caught below.
    page.on(
        "requestfailed",
        lambda req: (
            problems.append(f"request failed: {req.url} ({req.failure})")
            if "/static/" in req.url and req.failure != "net::ERR_ABORTED"
            else None
        ),
    )
    page.on(
        "response",
        lambda resp: (
            problems.append(f"{resp.status} for {resp.url}")
            if "/static/" in resp.url and resp.status >= 400
            else None
        ),
    )
    page.set_default_timeout(10_000)
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    page.screenshot(path=str(ARTIFACTS / f"{name}{'-FAILED' if failed else ''}.png"), full_page=True)
    assert not problems, "\n".join(problems)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def sign_in(page, live_server, username, password="correct-horse-battery"):
    """Sign in through the form; the default is the password tests.factories.UserFactory gives staff."""
    device = second_factor_device(username)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if device is not None:
        from tests.second_factor import app_code

        page.wait_for_url("**/accounts/two-factor/verify/**")
        page.get_by_label("Code").fill(app_code(device))
        page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{live_server.url}/")


def second_factor_device(username):
    """A clinic admin (or anyone enrolled) types their app's code after the password: their app, enrolled
    with tests.second_factor's known key (as the demo clinic admin is enrolled with a documented one)."""
    from clinic import two_factor
    from clinic.models import User
    from tests.second_factor import enrol

    user = User.objects.get(username=username)
    if two_factor.is_enrolled(user) or two_factor.is_required(user):
        return enrol(user)
    return None


def axe_violations(page, *, context=None, impacts=("serious", "critical")):
    """Run axe-core (from npm) on the page, or on the elements matching `context` (e.g. "main").

    Returns the violations of the given impacts, one line each.
    """
    page.evaluate(AXE_JS.read_text())
    result = page.evaluate(
        "async (context) => await axe.run(context || document, {resultTypes: ['violations']})", context
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in impacts
    ]
