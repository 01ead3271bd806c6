"""Fixtures of the browser tests: the API and portal served over real HTTP on a free port,
the simulated UPI gateway calling back that server's webhook, and Debian's Chromium driven
by Playwright on a cheap phone's screen in Hindi.

The test and the server share one SettableClock: moving it in a test moves the server's
"now" too, as both run in this process (uvicorn in a thread).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import Engine, select

from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.tables import outbox
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.adapters.headend.broker import free_port
from prepaidgrid.adapters.payments.simulated import SimulatedGateway, http_delivery
from prepaidgrid.bootstrap import App
from prepaidgrid.config import Settings
from prepaidgrid.entrypoints.api.app import create_api
from prepaidgrid.entrypoints.api.server import WEBHOOK_PATH, BackgroundServer
from tests.conftest import fresh_postgres, fresh_sqlite, ist
from tests.integration.accounts_support import POLICIES, TARIFFS

GATEWAY_SECRET = "e2e-gateway-secret"
PHONE = {"width": 360, "height": 740}  # a cheap Android phone's CSS viewport


@dataclass(frozen=True)
class Portal:
    """The API and portal served at `url` over `engine`, on `clock`'s time."""

    url: str
    engine: Engine
    clock: SettableClock
    gateway: SimulatedGateway

    def login_code(self, mobile: str) -> str:
        """The newest login code the outbox holds for `mobile` (the SMS the consumer got)."""
        with self.engine.connect() as db:
            codes = [
                payload["params"]["code"]
                for payload in db.execute(select(outbox.c.payload).order_by(outbox.c.id)).scalars()
                if payload.get("template") == "login_code" and payload.get("mobile") == mobile
            ]
        assert codes, f"no login code was sent to {mobile}"
        return str(codes[-1])


@pytest.fixture
def clock() -> SettableClock:
    """09:00 IST on Thursday 26 June 2025, a working day: the account opens then, and
    accounts_support.cut_off_account moves it on to the cut, 10:00 on Thursday 3 July."""
    return SettableClock(ist(2025, 6, 26, 9))


@pytest.fixture
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite file; `parametrize("database", ["postgresql"], indirect=True)`
    gives a private PostgreSQL database instead."""
    if getattr(request, "param", "sqlite") == "postgresql":
        yield from fresh_postgres()
    else:
        yield from fresh_sqlite(tmp_path)


@pytest.fixture
def portal(database: Engine, clock: SettableClock) -> Iterator[Portal]:
    app = App(
        database,
        clock,
        TARIFFS,
        POLICIES,
        lambda: SqlUnitOfWork(database),
        lambda: SqlUnitOfWork(database, read_only=True),
    )
    settings = Settings(
        database_url="sqlite://",  # unused: the App above carries the engine
        gateway_webhook_secret=GATEWAY_SECRET,
        session_secret="e2e-session-secret",
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    gateway = SimulatedGateway(
        GATEWAY_SECRET.encode(),
        clock,
        http_delivery(url + WEBHOOK_PATH),  # callbacks cross real HTTP, as a gateway's do
        pay_page=url + "/simulated-gateway/pay",
    )
    server = BackgroundServer(create_api(app, settings, gateway), port=port).start()
    try:
        yield Portal(url, database, clock, gateway)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless; one per test module. Not per session: Playwright's
    sync API keeps an event loop running in this thread while it lives, and the other tests
    a worker runs next (asyncio.run in the simulator's) must not find one."""
    chromium = shutil.which("chromium")
    if chromium is None:
        reason = "Debian's chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: browser tests must run, never skip)")
        pytest.skip(reason)
    playwright = sync_playwright().start()
    try:
        # --no-sandbox: the suite runs as root, where Chromium's sandbox refuses to start.
        launched = playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox"], headless=True
        )
        yield launched
        launched.close()
    finally:
        playwright.stop()


def phone_page(browser: Browser, *, java_script: bool = True) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, locale="hi-IN", java_script_enabled=java_script)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) on a 360x740 phone, its locale hi-IN."""
    yield from phone_page(browser)


@pytest.fixture
def page_without_js(browser: Browser) -> Iterator[Page]:
    """As `page`, with JavaScript switched off (an old or locked-down phone)."""
    yield from phone_page(browser, java_script=False)


@pytest.fixture
def screenshots(database: Engine) -> Path:
    """Where the tests leave their PNGs: $PREPAIDGRID_SCREENSHOTS, else tests/e2e/screenshots;
    a run on PostgreSQL writes to a subfolder, so that parallel runs never share a file."""
    root = os.environ.get("PREPAIDGRID_SCREENSHOTS") or Path(__file__).parent / "screenshots"
    folder = Path(root)
    if database.dialect.name != "sqlite":
        folder /= database.dialect.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder
