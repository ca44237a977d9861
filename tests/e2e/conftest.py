"""Browser tests: one real ketaclinic server and one headless Chromium for the whole run.

The server is a subprocess (``ketaclinic manage runserver``) over a fresh database loaded with the demo
clinic: the temporary SQLite file when ``DATABASE_URL`` is unset, or a separate PostgreSQL database
(``<name>_e2e``, dropped and re-created) when ``DATABASE_URL`` points at PostgreSQL, so these tests run
on both databases like the rest of the suite. They never touch the test process's own database.

Chromium is Debian's (``apt-get install chromium``; ``make test`` installs it). When it is missing
the tests fail with a message saying so; they are never skipped.

Each staff member signs in once per run through the real sign-in pages and the browser storage
(session cookie) is reused: django-otp refuses a TOTP code it has already accepted for a device, so a
second sign-in of the same prescriber within one 30-second step would be refused, as it should be.

The server, the browser and the signed-in storage live for the whole ``tests/e2e`` package (pytest's
``package`` scope: one of each per run) and are closed when the package ends, before the rest of the
suite runs: Playwright's sync API keeps an asyncio loop running in the main thread, and Django's ORM
refuses to run while one is (SynchronousOnlyOperation).

Screenshots go to ``tests/e2e/artifacts/`` (git-ignored): the steps each test chooses to capture, and
every page that was open when a test failed.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.e2e import flows

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = os.environ.get("KETACLINIC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT_S = 60


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _postgres_e2e_database(
    url: str, suffix: str = "e2e", template: str | None = None
) -> tuple[str, Callable[[], None]]:
    """Create ``<dbname>_<suffix>`` next to the database ``url`` names (a copy of ``template`` when given);
    return its URL and a drop function."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'postgres'}_{suffix}"
    admin_url = urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, ""))

    def run(statement: sql.Composed) -> None:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(statement)

    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    run(drop)
    if template is None:
        run(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    else:
        run(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, "")), lambda: run(drop)


def _ketaclinic_command() -> list[str]:
    script = Path(sys.executable).with_name("ketaclinic")
    if script.exists():
        return [str(script)]
    found = shutil.which("ketaclinic")
    if not found:
        pytest.fail(
            "The `ketaclinic` command is not installed: run `pip install -e '.[test]'` (make test does)."
        )
    return [found]


class _DemoTemplate:
    """The demo clinic as the first clocked server loaded it (its var directory, and on PostgreSQL a template
    database), so the next clocked servers of the run start from a copy instead of loading it again (tens of
    seconds each). A copy starts its clock where the loaded clinic's stood, as if it had just been loaded."""

    def __init__(
        self, var_copy: Path, database: str | None, drop_database: Callable[[], None], clock_at: float
    ) -> None:
        self.var_copy, self.database, self.clock_at = var_copy, database, clock_at
        self._drop_database = drop_database

    @classmethod
    def keep(cls, env: dict[str, str], clock_file: Path) -> _DemoTemplate:
        var_copy = Path(tempfile.mkdtemp(prefix="ketaclinic-e2e-template-")) / "var"
        shutil.copytree(env["KETACLINIC_VAR_DIR"], var_copy, ignore=shutil.ignore_patterns("server.log"))
        database, drop_database = None, lambda: None
        if env["DATABASE_URL"]:  # the loaded database, copied (no server is connected to it yet)
            loaded = urlsplit(env["DATABASE_URL"]).path.lstrip("/")
            database = f"{loaded}_template"
            drop_database = _postgres_e2e_database(env["DATABASE_URL"], "template", loaded)[1]
        return cls(var_copy, database, drop_database, time.time() + float(clock_file.read_text() or 0))

    def copy_into(self, var_dir: Path, clock_file: Path) -> None:
        shutil.copytree(self.var_copy, var_dir, dirs_exist_ok=True)
        clock_file.write_text(str(self.clock_at - time.time()))

    def drop(self) -> None:
        shutil.rmtree(self.var_copy.parent, ignore_errors=True)
        self._drop_database()


_DEMO_TEMPLATE: dict[str, _DemoTemplate] = {}  # by DATABASE_URL ('' for SQLite)


@pytest.fixture(scope="package", autouse=True)
def _demo_templates_dropped() -> Iterator[None]:
    yield
    for template in _DEMO_TEMPLATE.values():
        template.drop()
    _DEMO_TEMPLATE.clear()


@contextmanager
def _serving(
    command: list[str], extra_env: dict[str, str] | None = None, db_suffix: str = "e2e"
) -> Iterator[str]:
    """A ketaclinic server over a fresh database loaded with the demo clinic; yields its base URL."""
    var_dir = Path(tempfile.mkdtemp(prefix="ketaclinic-e2e-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
    env.update(
        {
            "KETACLINIC_VAR_DIR": str(var_dir),
            "DJANGO_SETTINGS_MODULE": "ketaclinic.web.settings.local",
            "DJANGO_DEBUG": "false",  # what staff see: the real 403/404 pages, not Django's debug pages
            "DJANGO_SECRET_KEY": "ketaclinic-e2e-not-secret",
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
    )
    drop_database: Callable[[], None] | None = None
    url = os.environ.get("DATABASE_URL", "")
    clock = (extra_env or {}).get("KETACLINIC_E2E_CLOCK_FILE")
    template = _DEMO_TEMPLATE.get(url) if clock else None
    if url.startswith(("postgres://", "postgresql://")):
        env["DATABASE_URL"], drop_database = _postgres_e2e_database(
            url, db_suffix, template=template.database if template else None
        )
    else:
        env["DATABASE_URL"] = ""  # the embedded SQLite file in var_dir
    if template is not None and clock is not None:
        template.copy_into(Path(env["KETACLINIC_VAR_DIR"]), Path(clock))
    else:
        for args in (["migrate", "--noinput", "-v", "0"], ["demo_load"]):
            done = subprocess.run(
                [*command, "manage", *args],
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                cwd=Path(__file__).parents[2],
            )
            if done.returncode != 0:
                pytest.fail(f"`ketaclinic manage {' '.join(args)}` failed:\n{done.stdout}\n{done.stderr}")
        if clock is not None:
            _DEMO_TEMPLATE[url] = _DemoTemplate.keep(env, Path(clock))
    port = _free_port()
    log = (var_dir / "server.log").open("w")
    process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
        [*command, "manage", "runserver", "--noreload", "--insecure", f"127.0.0.1:{port}"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).parents[2],
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"The e2e server exited with {process.returncode}:\n"
                    f"{(var_dir / 'server.log').read_text()}"
                )
            try:
                with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"The e2e server did not answer /healthz within {SERVER_START_TIMEOUT_S} s:\n"
                    f"{(var_dir / 'server.log').read_text()}"
                )
            time.sleep(0.1)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        if drop_database is not None:
            drop_database()
        shutil.rmtree(var_dir, ignore_errors=True)


def _mid_morning_offset_s() -> float:
    """Seconds from now to 10:00 today in the demo clinic's time zone.

    The demo clinic is loaded relative to "today", and a run that crossed the clinic's midnight would see
    its dates shift under it (an overdue count one short, a series' "session 3 of 6" a day off). Every
    browser-test server therefore runs on a clock that starts at 10:00 of the clinic's day and then runs
    at real speed: the same day, on every run, whatever hour the run starts."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    now = datetime.now(ZoneInfo(DEMO_TIME_ZONE))
    return (now.replace(hour=10, minute=0, second=0, microsecond=0) - now).total_seconds()


DEMO_TIME_ZONE = "America/New_York"
CLOCKED_COMMAND = [sys.executable, "-m", "tests.e2e.clocked"]


@contextmanager
def _clock_file() -> Iterator[Path]:
    clock_dir = Path(tempfile.mkdtemp(prefix="ketaclinic-clock-"))
    clock_file = clock_dir / "offset"
    clock_file.write_text(str(_mid_morning_offset_s()))
    try:
        yield clock_file
    finally:
        shutil.rmtree(clock_dir, ignore_errors=True)


@pytest.fixture(scope="package")
def server() -> Iterator[str]:
    """Base URL of a running ketaclinic server with the demo clinic loaded (fresh database), on a clock
    that starts at 10:00 of the clinic's day."""
    with (
        _clock_file() as clock_file,
        _serving(CLOCKED_COMMAND, {"KETACLINIC_E2E_CLOCK_FILE": str(clock_file)}) as base_url,
    ):
        yield base_url


@pytest.fixture(scope="module")
def desk_server(request: pytest.FixtureRequest) -> Iterator[tuple[str, Path, dict[str, str]]]:
    """A module's own server over a fresh demo clinic on the 10:00 clock, and the environment that runs
    ``ketaclinic manage`` commands (the jobs worker, a shell) against its database: ``(base_url, clock_file,
    env)``. Its ``KETACLINIC_BASE_URL`` is the server's own address, as a clinic's is its https:// address,
    so the links the task system puts in patients' messages open this server."""
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    suffix = f"e2e_{module}"[:40]
    var_dir = Path(tempfile.mkdtemp(prefix="ketaclinic-desk-"))
    with _clock_file() as clock_file:
        extra = {"KETACLINIC_E2E_CLOCK_FILE": str(clock_file), "KETACLINIC_VAR_DIR": str(var_dir)}
        with _serving(CLOCKED_COMMAND, extra, db_suffix=suffix) as base_url:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
            env.update(extra, DJANGO_SETTINGS_MODULE="ketaclinic.web.settings.local")
            env["DJANGO_SECRET_KEY"] = "ketaclinic-e2e-not-secret"
            env["KETACLINIC_BASE_URL"] = base_url
            url = os.environ.get("DATABASE_URL", "")
            if url.startswith(("postgres://", "postgresql://")):
                parts = urlsplit(url)
                name = f"{parts.path.lstrip('/') or 'postgres'}_{suffix}"
                env["DATABASE_URL"] = urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
            else:
                env["DATABASE_URL"] = ""
            try:
                yield base_url, clock_file, env
            finally:
                shutil.rmtree(var_dir, ignore_errors=True)


def manage(env: dict[str, str], *args: str) -> str:
    """Run ``ketaclinic manage <args>`` on the test clock against a ``desk_server``'s database; its output."""
    done = subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [*CLOCKED_COMMAND, "manage", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).parents[2],
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    return done.stdout


class Clocked:
    """A second server whose clock the test moves forward (``tests.e2e.clocked``), with its own sign-ins."""

    def __init__(self, browser, base_url: str, clock_file: Path) -> None:
        self.browser, self.base_url, self.clock_file = browser, base_url, clock_file
        self.storage_states: dict[str, object] = {}
        self.contexts: list[BrowserContext] = []

    def page(self, username: str | None = None, *, viewport: dict[str, int] | None = None):
        page = open_page(self.browser, self.base_url, self.storage_states, username, viewport)
        self.contexts.append(page.context)
        return page

    def advance(self, minutes: float) -> None:
        from tests.e2e.clocked import advance

        advance(self.clock_file, minutes)


@pytest.fixture(scope="module")
def clocked_server() -> Iterator[tuple[str, Path]]:
    """A server with its own fresh demo clinic whose clock can be moved forward (one per test module)."""
    with (
        _clock_file() as clock_file,
        _serving(
            CLOCKED_COMMAND, {"KETACLINIC_E2E_CLOCK_FILE": str(clock_file)}, db_suffix="e2e_clock"
        ) as base_url,
    ):
        yield base_url, clock_file


@pytest.fixture
def clocked(request: pytest.FixtureRequest, browser, clocked_server) -> Iterator[Clocked]:
    """``clocked.page(username)`` opens a signed-in page on the clocked server;
    ``clocked.advance(minutes)``."""
    c = Clocked(browser, *clocked_server)
    yield c
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        save_failure_screenshots(request.node.name, c.contexts)
    for context in c.contexts:
        context.close()


@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    """Headless Debian Chromium driven by Playwright. Fails (never skips) when Chromium is missing."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: the browser tests need it. "
            "Install it with `apt-get install chromium` (`make test` does), or set KETACLINIC_CHROMIUM."
        )
    ARTIFACTS.mkdir(exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):  # the directory shows the last run only
        old.unlink()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="package")
def storage_states() -> dict[str, object]:
    """Signed-in browser storage per username, so each person signs in (and uses a TOTP code) once."""
    return {}


TABLET = {"width": 1180, "height": 820}
CSP_VIOLATIONS: list[str] = []  # the browser's reports of anything the Content-Security-Policy blocked


@pytest.fixture(autouse=True)
def no_csp_violations() -> Iterator[None]:
    """Every browser test also checks that the pages it used ran nothing the policy blocks (an inline script,
    a handler, an eval): the page would silently lose that behaviour in a clinic's browser."""
    CSP_VIOLATIONS.clear()
    yield
    assert not CSP_VIOLATIONS, "\n".join(CSP_VIOLATIONS)


def open_page(
    browser,
    server: str,
    storage_states: dict[str, object],
    username: str | None = None,
    viewport: dict[str, int] | None = None,
):
    """A page in a fresh browser context, signed in as ``username`` (signing in the first time only)."""
    state = storage_states.get(username) if username else None
    context = browser.new_context(base_url=server, viewport=viewport or TABLET, storage_state=state)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on(
        "console",
        lambda m: (
            CSP_VIOLATIONS.append(f"{page.url}: {m.text}") if "Content Security Policy" in m.text else None
        ),
    )
    if username is not None and state is None:
        flows.sign_in(page, username)
        storage_states[username] = context.storage_state()
    return page


def save_failure_screenshots(name: str, contexts) -> None:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    for i, context in enumerate(contexts):
        for j, page in enumerate(context.pages):
            try:
                page.screenshot(path=str(ARTIFACTS / f"FAILED-{name}-{i}-{j}.png"), full_page=True)
            except Exception as exc:  # noqa: BLE001 - a failed screenshot must not hide the failure
                print(f"could not save a failure screenshot: {exc}")


@pytest.fixture
def new_page(request: pytest.FixtureRequest, browser, server: str, storage_states):
    """``new_page(username=None, viewport=None)``: a page in a fresh context, signed in as ``username``.

    On failure every page the test opened is saved to the artifacts directory.
    """
    contexts = []

    def make(username: str | None = None, *, viewport: dict[str, int] | None = None):
        page = open_page(browser, server, storage_states, username, viewport)
        contexts.append(page.context)
        return page

    yield make
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        save_failure_screenshots(request.node.name, contexts)
    for context in contexts:
        context.close()


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[..., Path]:
    """``shot(page, "step")`` saves a screenshot into the artifacts directory, named after the test."""

    def save(page, step: str, *, full_page: bool = True) -> Path:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{request.node.name}-{step}")
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return save
