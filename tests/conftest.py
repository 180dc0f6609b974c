import os
import shutil
import time
from collections import defaultdict

import pytest
from hypothesis import settings

from tests.support.app import add_clinician, login, make_app, with_schema
from tests.support.browser import BROWSER_ARGS, CHROMIUM, Shots

# CI runs on a loaded 2-core machine: no per-example deadline there, and a derandomized search so a
# run is repeatable (a developer's run explores new examples; a failure found is saved and replayed).
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="session")
def migrated_db_template(tmp_path_factory):
    """One database upgraded through migrations/ once; each test gets a copy (fast, same schema)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    with_schema(make_app(path))
    return path


@pytest.fixture
def db_path(tmp_path, migrated_db_template):
    path = tmp_path / "test.sqlite"
    shutil.copy(migrated_db_template, path)
    return path


@pytest.fixture
def app(db_path):
    app = make_app(db_path)
    yield app
    with app.app_context():
        from webapp.extensions import db

        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def clinician_client(app, client):
    add_clinician(app)
    return login(client)


# ---- browser tests: tests/e2e, tests/faults, tests/test_security_browser.py ------------------------


# One sync Playwright per process (its API refuses a second one in the same thread), shared by every
# browser test wherever it lives.
@pytest.fixture(scope="session")
def playwright_instance():
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance):
    launched = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
    yield launched
    launched.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def new_context(browser):
    """A factory of browser contexts, all closed after the test (and after failure screenshots)."""
    contexts = []

    def make(**options):
        context = browser.new_context(**options)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def shots(request, new_context):
    recorder = Shots(request.node.nodeid.split("::", 1)[-1])
    yield recorder
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        recorder.on_failure()


# ---- pytest-xdist (scripts/test.sh: -n 2 --dist loadfile): whole modules per worker, slowest first ----


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") == "loadfile":
        from tests.support.schedule import LongestFirst

        return LongestFirst(config, log)
    return None


# ---- where the run's time went: the slowest modules, printed at the end of every run --------------
# Wall time per module (setup + call + teardown of its tests; a session-scoped fixture counts for the
# first module that uses it) and the machine's load average, so a slow run can be told from a loaded
# machine. A report, not a check: timings never fail a test.
_MODULE_WALL_S: dict[str, float] = defaultdict(float)
_RUN_STARTED = time.monotonic()


def pytest_runtest_logreport(report):
    _MODULE_WALL_S[report.nodeid.split("::", 1)[0]] += report.duration


def pytest_terminal_summary(terminalreporter):
    if len(_MODULE_WALL_S) < 2:
        return
    total_s = time.monotonic() - _RUN_STARTED
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    terminalreporter.write_sep("-", f"slowest modules, wall s (run {total_s:.0f} s; load average now {load})")
    for module, seconds in sorted(_MODULE_WALL_S.items(), key=lambda item: -item[1])[:15]:
        terminalreporter.write_line(f"{seconds:8.1f}  {module}")
