"""Cash counters over HTTP on a real database: cashier login and lockout, signed receipts
credited exactly once (however often and however concurrently synced), forged or foreign
receipts refused with nothing written, the printable receipt and the day-end."""

from __future__ import annotations

import contextlib
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.adapters.db.verify import verify_ledger
from prepaidgrid.adapters.passwords import Argon2Hasher
from prepaidgrid.bootstrap import App
from prepaidgrid.config import Settings
from prepaidgrid.domain.counter import CashierSession, Receipt, issued_at_text, sign_receipt
from prepaidgrid.domain.errors import AlreadyExists, InvalidInput, NotFound
from prepaidgrid.domain.supply import SupplyState
from prepaidgrid.entrypoints.api.app import create_api
from prepaidgrid.services.counter import (
    AddCashier,
    PostReceipts,
    RegisterCounter,
    SignedReceipt,
    add_cashier,
    post_receipts,
    register_counter,
)
from prepaidgrid.services.onboarding import add_org_units
from tests.conftest import ist, org_chain
from tests.integration.accounts_support import (
    POLICIES,
    TARIFFS,
    balance,
    cut_off_account,
    new_account,
)

pytestmark = pytest.mark.integration
SECRET = "test-session-secret"
PASSWORD = "chai-at-ten"
FAST_HASHER = Argon2Hasher(time_cost=1, memory_cost_kib=8_192)  # the hash carries its costs


class Office:
    """The server, and the counters and cashiers of one subdivision office."""

    def __init__(self, engine: Engine, clock: SettableClock, secret: str | None = SECRET) -> None:
        self.engine, self.clock = engine, clock
        app = App(
            engine,
            clock,
            TARIFFS,
            POLICIES,
            lambda: SqlUnitOfWork(engine),
            lambda: SqlUnitOfWork(engine, read_only=True),
        )
        self.client = TestClient(
            create_api(app, Settings(database_url="sqlite://", session_secret=secret))
        )
        self.keys: dict[str, bytes] = {}
        with contextlib.suppress(AlreadyExists):
            add_org_units(org_chain("SUB-1"), SqlUnitOfWork(engine))

    def counter(self, counter_id: str, *cashiers: str) -> None:
        registered = register_counter(
            RegisterCounter(counter_id, f"{counter_id} office", "SUB-1"),
            SqlUnitOfWork(self.engine),
            self.clock,
        )
        self.keys[counter_id] = bytes.fromhex(registered.signing_key)
        for cashier_id in cashiers:
            add_cashier(
                AddCashier(cashier_id, f"Cashier {cashier_id}", counter_id, PASSWORD),
                SqlUnitOfWork(self.engine),
                self.clock,
                FAST_HASHER,
            )

    def login(self, cashier_id: str, password: str = PASSWORD) -> httpx.Response:
        return self.client.post(
            "/api/v1/counter/login", json={"cashier_id": cashier_id, "password": password}
        )

    def token(self, cashier_id: str) -> dict[str, str]:
        response = self.login(cashier_id)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}

    def post(self, auth: dict[str, str], *receipts: dict[str, Any]) -> httpx.Response:
        return self.client.post(
            "/api/v1/counter/receipts", json={"receipts": list(receipts)}, headers=auth
        )

    def count(self, sql: str) -> int:
        with self.engine.connect() as db:
            return int(db.execute(text(sql)).scalar_one())

    def written(self) -> tuple[int, int, int, int]:
        return (
            self.count("SELECT count(*) FROM counter_receipts"),
            self.count("SELECT count(*) FROM payments"),
            self.count("SELECT count(*) FROM payment_events"),
            self.count("SELECT count(*) FROM journals WHERE kind = 'recharge'"),
        )


def signed(
    key: bytes,
    counter_id: str,
    seq: int,
    cashier_id: str,
    account_id: str,
    amount_paise: int,
    at: datetime,
    *,
    offline: bool = False,
) -> dict[str, Any]:
    """A receipt as a counter signs and posts it."""
    receipt = Receipt(counter_id, seq, cashier_id, account_id, amount_paise, at)
    return {
        "receipt_no": receipt.receipt_no,
        "counter_id": counter_id,
        "seq": seq,
        "cashier_id": cashier_id,
        "account_id": account_id,
        "amount_paise": amount_paise,
        "issued_at": issued_at_text(receipt.issued_at),
        "signature": sign_receipt(key, receipt),
        "offline": offline,
    }


NOON = ist(2025, 7, 1, 12)


@pytest.fixture
def office(engine: Engine) -> Office:
    office = Office(engine, SettableClock(NOON))
    office.counter("PAT-C1", "RAM", "SITA")
    office.counter("PAT-C2", "MOHAN")
    return office


def test_a_cashier_logs_in_to_a_session_naming_them_and_their_counter(office: Office) -> None:
    response = office.login("RAM")

    assert response.status_code == 200
    body = response.json()
    assert (body["cashier_id"], body["counter_id"], body["token_type"]) == (
        "RAM",
        "PAT-C1",
        "bearer",
    )
    assert datetime.fromisoformat(body["expires_at"]) == NOON + timedelta(hours=12)


@pytest.mark.parametrize(("cashier_id", "password"), [("RAM", "wrong-pass"), ("NOBODY", PASSWORD)])
def test_a_wrong_password_or_unknown_cashier_gets_the_same_401(
    office: Office, cashier_id: str, password: str
) -> None:
    response = office.login(cashier_id, password)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "wrong cashier id or password"


def test_five_wrong_passwords_lock_the_cashier_for_fifteen_minutes(office: Office) -> None:
    first_four = [office.login("RAM", "guess-one").status_code for _ in range(4)]

    fifth = office.login("RAM", "guess-two")
    right_but_locked = office.login("RAM")
    office.clock.advance(timedelta(minutes=15))
    after_the_lock = office.login("RAM")

    assert first_four == [401] * 4
    assert fifth.status_code == 429
    assert "locked after 5 wrong passwords" in fifth.json()["detail"]
    assert "12:15 IST" in fifth.json()["detail"]
    assert fifth.headers["Retry-After"] == "900"
    assert right_but_locked.status_code == 429
    assert after_the_lock.status_code == 200
    assert office.count("SELECT failed_logins FROM cashiers WHERE cashier_id = 'RAM'") == 0
    assert office.login("SITA").status_code == 200  # a colleague was never locked


def test_a_right_password_clears_the_count_of_wrong_ones(office: Office) -> None:
    for _ in range(4):
        office.login("RAM", "guess")

    office.login("RAM")
    after = [office.login("RAM", "guess").status_code for _ in range(4)]

    assert after == [401] * 4


def test_guesses_from_many_threads_all_count(office: Office) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(lambda _: office.login("RAM", "guess").status_code, range(5)))

    assert sorted(statuses) == [401, 401, 401, 401, 429]
    assert office.login("RAM").status_code == 429


def test_a_server_without_a_session_secret_refuses_logins(engine: Engine) -> None:
    office = Office(engine, SettableClock(NOON), secret=None)
    office.counter("PAT-C1", "RAM")

    assert office.login("RAM").status_code == 503


def test_a_receipt_credits_the_named_account_once(office: Office) -> None:
    account_id = new_account(office.engine, office.clock)
    auth = office.token("RAM")
    receipt = signed(office.keys["PAT-C1"], "PAT-C1", 1, "RAM", account_id, 50_000, NOON)

    first = office.post(auth, receipt)
    again = office.post(auth, receipt)

    assert first.status_code == again.status_code == 200
    assert first.json()["receipts"] == [
        {
            "receipt_no": "PAT-C1-0000001",
            "account_id": account_id,
            "amount_paise": 50_000,
            "outcome": "credited",
            "balance_paise": 50_000,
            "supply_state": "connected",
            "reconnect_queued": False,
        }
    ]
    assert again.json()["receipts"][0]["outcome"] == "already_credited"
    assert balance(office.engine, account_id) == 50_000
    assert office.written() == (1, 1, 1, 1)
    assert office.count("SELECT count(*) FROM outbox WHERE dedupe_key LIKE 'sms:recharge:%'") == 1
    assert verify_ledger(office.engine).ok


def test_a_receipt_for_a_cut_consumer_queues_the_reconnect_command(office: Office) -> None:
    engine, clock = office.engine, office.clock
    account_id = cut_off_account(engine, clock)
    clock.set(ist(2025, 7, 3, 16, 0))
    receipt = signed(office.keys["PAT-C1"], "PAT-C1", 1, "RAM", account_id, 50_000, clock.now())

    response = office.post(office.token("RAM"), receipt)

    assert response.status_code == 200
    assert response.json()["receipts"][0]["reconnect_queued"] is True
    with SqlUnitOfWork(engine) as uow:
        assert uow.connections.get(account_id).supply.state is SupplyState.RECONNECT_SENT
    with engine.connect() as db:
        actions = [
            (json.loads(p) if isinstance(p, str) else p)["action"]
            for (p,) in db.execute(
                text("SELECT payload FROM outbox WHERE kind = 'relay_command' ORDER BY id")
            )
        ]
    assert actions == ["disconnect", "reconnect"]


def day_of_receipts(office: Office, account_id: str) -> list[dict[str, Any]]:
    key = office.keys["PAT-C1"]
    return [
        signed(key, "PAT-C1", seq, "RAM", account_id, 10_000 * seq, NOON, offline=True)
        for seq in range(1, 6)
    ]


def test_the_same_batch_synced_twice_is_credited_once(office: Office) -> None:
    account_id = new_account(office.engine, office.clock)
    auth = office.token("RAM")
    batch = day_of_receipts(office, account_id)

    first = office.post(auth, *batch)
    second = office.post(auth, *reversed(batch), batch[0])

    assert {r["outcome"] for r in first.json()["receipts"]} == {"credited"}
    assert {r["outcome"] for r in second.json()["receipts"]} == {"already_credited"}
    assert balance(office.engine, account_id) == 150_000
    assert office.written()[:2] == (5, 5)
    assert verify_ledger(office.engine).ok


def test_a_batch_synced_from_threads_at_once_is_credited_once(office: Office) -> None:
    account_id = new_account(office.engine, office.clock)
    auth = office.token("RAM")
    batch = day_of_receipts(office, account_id)

    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(lambda _: office.post(auth, *batch), range(6)))

    assert {r.status_code for r in responses} == {200}
    outcomes = [p["outcome"] for r in responses for p in r.json()["receipts"]]
    assert outcomes.count("credited") == 5
    assert balance(office.engine, account_id) == 150_000
    assert office.written() == (5, 5, 5, 5)
    assert verify_ledger(office.engine).ok


class PowerCut(SqlUnitOfWork):
    """A unit of work whose first commit never happens: the process dies right there."""

    cuts = 1

    def commit(self) -> None:
        if PowerCut.cuts:
            PowerCut.cuts -= 1
            raise RuntimeError("power cut")
        super().commit()


def test_a_sync_cut_off_before_commit_leaves_nothing_and_the_next_credits_once(
    office: Office,
) -> None:
    account_id = new_account(office.engine, office.clock)
    receipt = signed(office.keys["PAT-C1"], "PAT-C1", 1, "RAM", account_id, 50_000, NOON)
    signed_receipt = SignedReceipt(
        Receipt("PAT-C1", 1, "RAM", account_id, 50_000, NOON), receipt["signature"], True
    )
    cmd = PostReceipts(
        CashierSession("RAM", "PAT-C1", NOON + timedelta(hours=1)), (signed_receipt,)
    )
    PowerCut.cuts = 1

    with pytest.raises(RuntimeError, match="power cut"):
        post_receipts(cmd, lambda: PowerCut(office.engine), office.clock, POLICIES)
    nothing = office.written()
    retried = post_receipts(cmd, lambda: PowerCut(office.engine), office.clock, POLICIES)

    assert nothing == (0, 0, 0, 0)
    assert [p.outcome.value for p in retried] == ["credited"]
    assert office.written() == (1, 1, 1, 1)
    assert balance(office.engine, account_id) == 50_000
    assert verify_ledger(office.engine).ok


@pytest.mark.parametrize("forgery", ["another counter's key", "amount changed", "one of a batch"])
def test_a_forged_or_tampered_receipt_is_refused_and_nothing_is_written(
    office: Office, forgery: str
) -> None:
    account_id = new_account(office.engine, office.clock)
    genuine = signed(office.keys["PAT-C1"], "PAT-C1", 1, "RAM", account_id, 500, NOON)
    if forgery == "another counter's key":
        batch = [signed(office.keys["PAT-C2"], "PAT-C1", 1, "RAM", account_id, 500, NOON)]
    elif forgery == "amount changed":
        batch = [{**genuine, "amount_paise": 500_000}]
    else:
        batch = [genuine, {**genuine, "seq": 2, "receipt_no": "PAT-C1-0000002"}]

    response = office.post(office.token("RAM"), *batch)

    assert response.status_code == 401
    assert "signature does not match" in response.json()["detail"]
    assert office.written() == (0, 0, 0, 0)
    assert balance(office.engine, account_id) == 0


def test_a_cashier_cannot_post_another_counters_receipts(office: Office) -> None:
    account_id = new_account(office.engine, office.clock)
    theirs = signed(office.keys["PAT-C2"], "PAT-C2", 1, "MOHAN", account_id, 500, NOON)

    response = office.post(office.token("RAM"), theirs)

    assert response.status_code == 403
    assert "counter PAT-C2's" in response.json()["detail"]
    assert office.written() == (0, 0, 0, 0)


def test_a_different_receipt_under_a_recorded_number_is_a_conflict(office: Office) -> None:
    account_id = new_account(office.engine, office.clock)
    auth = office.token("RAM")
    key = office.keys["PAT-C1"]
    office.post(auth, signed(key, "PAT-C1", 1, "RAM", account_id, 500, NOON))

    response = office.post(auth, signed(key, "PAT-C1", 1, "RAM", account_id, 900, NOON))

    assert response.status_code == 409
    assert "recorded already" in response.json()["detail"]
    assert balance(office.engine, account_id) == 500
    assert office.written() == (1, 1, 1, 1)


def test_a_receipt_for_an_unknown_account_refuses_its_batch(office: Office) -> None:
    account_id = new_account(office.engine, office.clock)
    key = office.keys["PAT-C1"]
    batch = [
        signed(key, "PAT-C1", 1, "RAM", account_id, 500, NOON),
        signed(key, "PAT-C1", 2, "RAM", "NO-SUCH-ACCOUNT", 500, NOON),
    ]

    response = office.post(office.token("RAM"), *batch)

    assert response.status_code == 404
    assert office.written() == (0, 0, 0, 0)


@pytest.mark.parametrize("token", ["none", "expired", "forged", "malformed"])
def test_receipts_need_a_live_session(office: Office, token: str) -> None:
    account_id = new_account(office.engine, office.clock)
    auth = office.token("RAM")
    if token == "none":
        auth = {}
    elif token == "expired":
        office.clock.advance(timedelta(hours=12))
    elif token == "forged":
        payload = auth["Authorization"].split(".")[1]
        auth = {"Authorization": auth["Authorization"].replace(payload, payload[::-1])}
    else:
        auth = {"Authorization": "Bearer not-a-token"}
    receipt = signed(office.keys["PAT-C1"], "PAT-C1", 1, "RAM", account_id, 500, NOON)

    response = office.post(auth, receipt)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert office.written() == (0, 0, 0, 0)


def test_the_day_end_sums_a_cashiers_cash_and_shows_receipts_not_yet_synced(
    office: Office,
) -> None:
    account_id = new_account(office.engine, office.clock)
    key = office.keys["PAT-C1"]
    day = ist(2025, 7, 2, 9)
    taken = [  # the counter's sequence; 4 and 7 have not been synced
        signed(key, "PAT-C1", 1, "RAM", account_id, 10_000, day - timedelta(hours=12)),
        signed(key, "PAT-C1", 2, "RAM", account_id, 20_000, day),
        signed(key, "PAT-C1", 3, "RAM", account_id, 30_050, day + timedelta(hours=2)),
        signed(key, "PAT-C1", 5, "RAM", account_id, 40_000, day + timedelta(hours=3), offline=True),
        signed(key, "PAT-C1", 6, "SITA", account_id, 50_000, day + timedelta(hours=8)),
        signed(key, "PAT-C1", 8, "RAM", account_id, 60_000, day + timedelta(hours=20)),
    ]
    office.clock.set(ist(2025, 7, 3, 8))
    ram = office.token("RAM")
    assert office.post(ram, *taken).status_code == 200

    report = office.client.get(
        "/api/v1/counter/day-end", params={"day": "2025-07-02"}, headers=ram
    ).json()
    sita = office.client.get(
        "/api/v1/counter/day-end", params={"day": "2025-07-02", "cashier_id": "SITA"}, headers=ram
    ).json()
    foreign = office.client.get(
        "/api/v1/counter/day-end",
        params={"day": "2025-07-02", "cashier_id": "MOHAN"},
        headers=ram,
    )

    assert {k: report[k] for k in ("cashier_id", "count", "total_paise", "total")} == {
        "cashier_id": "RAM",
        "count": 3,
        "total_paise": 90_050,
        "total": "₹900.50",
    }
    assert (report["online_count"], report["online_paise"]) == (2, 50_050)
    assert (report["offline_count"], report["offline_paise"]) == (1, 40_000)
    assert (report["first_receipt_no"], report["last_receipt_no"]) == (
        "PAT-C1-0000002",
        "PAT-C1-0000005",
    )
    assert report["gaps"] == [
        ["PAT-C1-0000004", "PAT-C1-0000004"],
        ["PAT-C1-0000007", "PAT-C1-0000007"],
    ]
    assert (report["missing_count"], report["uncredited"]) == (2, [])
    assert (sita["count"], sita["total_paise"], sita["gaps"]) == (1, 50_000, report["gaps"])
    assert foreign.status_code == 403


def test_a_receipt_prints_in_hindi_and_english_with_indian_grouping(office: Office) -> None:
    account_id = new_account(office.engine, office.clock)
    auth = office.token("RAM")
    key = office.keys["PAT-C1"]
    office.post(auth, signed(key, "PAT-C1", 1, "RAM", account_id, 12_345_600, NOON))

    page = office.client.get("/api/v1/counter/receipts/PAT-C1-0000001", headers=auth)
    foreign = office.client.get(
        "/api/v1/counter/receipts/PAT-C1-0000001", headers=office.token("MOHAN")
    )

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for expected in (
        "रसीद संख्या",
        "Receipt no.",
        "राशि",
        "Amount",
        "₹1,23,456.00",
        "01-07-2025 12:00 IST",
    ):
        assert expected in page.text
    assert account_id in page.text
    assert "Cashier RAM" in page.text
    assert "जमा / Credited" in page.text
    assert foreign.status_code == 404


def test_the_openapi_declares_every_refusal(office: Office) -> None:
    paths = office.client.get("/openapi.json").json()["paths"]

    receipts = paths["/api/v1/counter/receipts"]["post"]["responses"]
    login = paths["/api/v1/counter/login"]["post"]["responses"]
    day_end = paths["/api/v1/counter/day-end"]["get"]["responses"]

    assert {"200", "401", "403", "404", "409", "422"} <= set(receipts)
    assert {"200", "401", "429"} <= set(login)
    assert {"200", "401", "403"} <= set(day_end)


def test_a_counter_is_registered_once_in_a_real_subdivision(office: Office) -> None:
    engine, clock = office.engine, office.clock

    with pytest.raises(AlreadyExists):
        register_counter(RegisterCounter("PAT-C1", "again", "SUB-1"), SqlUnitOfWork(engine), clock)
    with pytest.raises(NotFound):
        register_counter(RegisterCounter("PAT-C9", "x", "NOWHERE"), SqlUnitOfWork(engine), clock)
    with pytest.raises(NotFound):
        register_counter(RegisterCounter("PAT-C9", "x", "DIV-1"), SqlUnitOfWork(engine), clock)
    assert len(office.keys["PAT-C1"]) == 32
    assert office.keys["PAT-C1"] != office.keys["PAT-C2"]


def test_a_cashiers_password_is_kept_only_as_an_argon2id_hash(office: Office) -> None:
    engine, clock = office.engine, office.clock

    with pytest.raises(InvalidInput):
        add_cashier(
            AddCashier("GITA", "Gita", "PAT-C1", "short"), SqlUnitOfWork(engine), clock, FAST_HASHER
        )
    with pytest.raises(NotFound):
        add_cashier(
            AddCashier("GITA", "Gita", "NOPE", PASSWORD), SqlUnitOfWork(engine), clock, FAST_HASHER
        )
    with engine.connect() as db:
        stored = db.execute(
            text("SELECT password_hash FROM cashiers WHERE cashier_id = 'RAM'")
        ).scalar_one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
