"""The counter device end to end: cash is taken while the server is down (receipts numbered,
signed and queued locally, printed marked offline), and `sync` credits each exactly once
when the server is back, however often it is run. Real HTTP (uvicorn), real databases."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.adapters.db.verify import verify_ledger
from prepaidgrid.adapters.headend.broker import free_port
from prepaidgrid.bootstrap import App
from prepaidgrid.config import Settings
from prepaidgrid.entrypoints.api.app import create_api
from prepaidgrid.entrypoints.api.server import BackgroundServer
from prepaidgrid.entrypoints.counter_client import counter_app
from tests.conftest import database_url, ist
from tests.integration.accounts_support import POLICIES, TARIFFS, balance, new_account

pytestmark = pytest.mark.integration
runner = CliRunner()
PASSWORD = "chai-at-ten"
MORNING = ist(2025, 7, 1, 9)


def counter(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(counter_app, [str(arg) for arg in args])
    return result.exit_code, result.stdout, result.stderr


class Setup:
    def __init__(self, engine: Engine, tmp_path: Path) -> None:
        self.engine = engine
        self.clock = SettableClock(MORNING)
        self.queue = str(tmp_path / "counter-PAT-C1.db")
        self.closed_url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
        db = database_url(engine)
        self.accounts = [new_account(engine, self.clock) for _ in range(3)]
        code, out, err = counter(
            "register", "--counter", "PAT-C1", "--name", "Patna Supply House",
            "--subdivision", "SUB-1", "--db", db, "--json",
        )  # fmt: skip
        assert code == 0, err
        self.key = json.loads(out)["signing_key"]
        code, _, err = counter(
            "add-cashier", "--cashier", "RAM", "--name", "Ram Prasad", "--counter", "PAT-C1",
            "--password", PASSWORD, "--db", db,
        )  # fmt: skip
        assert code == 0, err
        code, _, err = counter(
            "setup", "--counter", "PAT-C1", "--key", self.key, "--server", self.closed_url,
            "--queue", self.queue,
        )  # fmt: skip
        assert code == 0, err

    def server(self) -> BackgroundServer:
        app = App(
            self.engine,
            self.clock,
            TARIFFS,
            POLICIES,
            lambda: SqlUnitOfWork(self.engine),
            lambda: SqlUnitOfWork(self.engine, read_only=True),
        )
        settings = Settings(database_url="sqlite://", session_secret="test-session-secret")
        return BackgroundServer(create_api(app, settings), port=free_port()).start()

    def take(self, account_id: str, rupees: str, *extra: str) -> tuple[int, str, str]:
        return counter(
            "take", "--account", account_id, "--amount", rupees, "--queue", self.queue, *extra
        )

    def local(self) -> list[tuple[str, str, int]]:
        with sqlite3.connect(self.queue) as db:
            rows = db.execute("SELECT receipt_no, status, offline FROM receipts ORDER BY seq")
            return [(str(no), str(status), int(offline)) for no, status, offline in rows]

    def count(self, sql: str) -> int:
        with self.engine.connect() as db:
            return int(db.execute(text(sql)).scalar_one())


@pytest.fixture
def office(engine: Engine, tmp_path: Path) -> Setup:
    return Setup(engine, tmp_path)


@pytest.fixture
def server(office: Setup) -> Iterator[BackgroundServer]:
    server = office.server()
    yield server
    server.stop()


def test_cash_taken_while_the_server_is_down_is_credited_once_when_synced(
    office: Setup,
) -> None:
    a, b, c = office.accounts
    login_down = counter(
        "login", "--cashier", "RAM", "--password", PASSWORD, "--queue", office.queue
    )

    taken = [
        office.take(a, "500", "--cashier", "RAM", "--at", "2025-07-01T10:15"),
        office.take(b, "1,250.50", "--cashier", "RAM", "--at", "2025-07-01T11:00"),
        office.take(a, "100", "--cashier", "RAM", "--at", "2025-07-01T12:40"),
    ]
    sync_down = counter("sync", "--queue", office.queue)

    assert login_down[0] == 1
    assert "take --cashier RAM" in login_down[2]
    assert [code for code, _, _ in taken] == [0, 0, 0]
    assert "OFFLINE" in taken[0][1]
    assert "PAT-C1-0000002" in taken[1][1]
    assert "₹1,250.50" in taken[1][1]
    assert office.local() == [
        ("PAT-C1-0000001", "queued", 1),
        ("PAT-C1-0000002", "queued", 1),
        ("PAT-C1-0000003", "queued", 1),
    ]
    assert sync_down[0] == 1
    assert office.count("SELECT count(*) FROM counter_receipts") == 0

    server = office.server()
    try:
        url = server.url
        login = counter(
            "login", "--cashier", "RAM", "--password", PASSWORD, "--queue", office.queue,
            "--server", url,
        )  # fmt: skip
        first = counter("sync", "--queue", office.queue, "--server", url, "--json")
        again = counter("sync", "--queue", office.queue, "--server", url, "--json")
        day_end = counter(
            "day-end", "--day", "2025-07-01", "--queue", office.queue, "--server", url, "--json"
        )
    finally:
        server.stop()

    assert login[0] == 0, login[2]
    assert first[0] == 0, first[2]
    assert json.loads(first[1]) == {
        "synced": 3,
        "credited": 3,
        "rejected": 0,
        "queued": 0,
        "problem": "",
    }
    assert again[0] == 0
    assert json.loads(again[1])["synced"] == 0
    assert [status for _, status, _ in office.local()] == ["synced"] * 3
    assert (balance(office.engine, a), balance(office.engine, b), balance(office.engine, c)) == (
        60_000,
        125_050,
        0,
    )
    assert office.count("SELECT count(*) FROM payments WHERE channel = 'counter'") == 3
    assert office.count("SELECT count(*) FROM counter_receipts WHERE offline") == 3
    report = json.loads(day_end[1])
    assert report["device"]["synced"]["count"] == 3
    server_view = report["server"]
    assert (server_view["count"], server_view["total_paise"]) == (3, 185_050)
    assert (server_view["offline_count"], server_view["missing_count"]) == (3, 0)
    assert verify_ledger(office.engine).ok


def test_with_the_server_up_cash_is_credited_as_it_is_taken(
    office: Setup, server: BackgroundServer
) -> None:
    account_id = office.accounts[0]
    login = counter(
        "login", "--cashier", "RAM", "--password", PASSWORD, "--queue", office.queue,
        "--server", server.url,
    )  # fmt: skip

    taken = office.take(account_id, "750", "--server", server.url, "--json")
    printed = counter("receipt", "PAT-C1-0000001", "--queue", office.queue)

    assert login[0] == 0, login[2]
    assert taken[0] == 0, taken[2]
    assert json.loads(taken[1])["status"] == "synced"
    assert json.loads(taken[1])["cashier_id"] == "RAM"
    assert "CREDITED" in printed[1]
    assert "रसीद संख्या" in printed[1]
    assert office.local() == [("PAT-C1-0000001", "synced", 0)]
    assert balance(office.engine, account_id) == 75_000
    assert office.count("SELECT count(*) FROM counter_receipts WHERE NOT offline") == 1


def test_a_receipt_the_server_refuses_is_set_aside_and_the_rest_sync(
    office: Setup, server: BackgroundServer
) -> None:
    account_id = office.accounts[0]
    office.take(account_id, "200", "--cashier", "RAM")
    office.take("NO-SUCH-ACCOUNT", "300", "--cashier", "RAM")
    office.take(account_id, "400", "--cashier", "RAM")
    counter(
        "login", "--cashier", "RAM", "--password", PASSWORD, "--queue", office.queue,
        "--server", server.url,
    )  # fmt: skip

    code, out, _ = counter("sync", "--queue", office.queue, "--server", server.url)
    retry = counter("sync", "--queue", office.queue, "--server", server.url, "--json")

    assert code == 2
    assert "refused 1" in out
    assert office.local() == [
        ("PAT-C1-0000001", "synced", 1),
        ("PAT-C1-0000002", "rejected", 1),
        ("PAT-C1-0000003", "synced", 1),
    ]
    assert balance(office.engine, account_id) == 60_000
    assert retry[0] == 0
    assert json.loads(retry[1])["synced"] == 0


def test_a_taken_receipt_for_an_unknown_account_tells_the_cashier_to_give_the_cash_back(
    office: Setup, server: BackgroundServer
) -> None:
    counter(
        "login", "--cashier", "RAM", "--password", PASSWORD, "--queue", office.queue,
        "--server", server.url,
    )  # fmt: skip

    code, out, err = office.take("NO-SUCH-ACCOUNT", "300", "--server", server.url)

    assert code == 2
    assert "REFUSED" in out
    assert "give the cash back" in err
    assert office.count("SELECT count(*) FROM counter_receipts") == 0


def test_the_device_refuses_bad_input_before_numbering_anything(office: Setup) -> None:
    no_cashier = office.take(office.accounts[0], "500")
    bad_amounts = [
        office.take(office.accounts[0], amount, "--cashier", "RAM")
        for amount in ("0", "-5", "12.345", "abc")
    ]

    assert no_cashier[0] == 2
    assert "login" in no_cashier[2]
    assert {code for code, _, _ in bad_amounts} == {2}
    assert office.local() == []
