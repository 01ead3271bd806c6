"""The API keeps its published contract: schemathesis sends generated requests, valid and
invalid, to every /api/v1 operation of /openapi.json, on SQLite and on PostgreSQL, and
checks that none fails with a 5xx, that every answer has a documented status, content type,
headers and body, and that invalid input is refused and valid input is not."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import Engine

from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.engine import make_engine
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.adapters.passwords import Argon2Hasher
from prepaidgrid.bootstrap import App
from prepaidgrid.config import Settings
from prepaidgrid.domain.access import Role, SessionKind, token_digest
from prepaidgrid.domain.accounts import NewConnection
from prepaidgrid.domain.counter import (
    SESSION_TTL,
    CashierSession,
    Receipt,
    issue_session_token,
    issued_at_text,
    sign_receipt,
)
from prepaidgrid.domain.errors import AlreadyExists
from prepaidgrid.domain.ledger import PaymentChannel
from prepaidgrid.entrypoints.api.app import create_api
from prepaidgrid.services.access import AddOfficer, PortalSession, add_officer
from prepaidgrid.services.bbps import post_payment
from prepaidgrid.services.counter import AddCashier, RegisterCounter, add_cashier, register_counter
from prepaidgrid.services.gateway import CreateOrder, create_order
from prepaidgrid.services.onboarding import (
    InstallSmartMeter,
    add_org_units,
    install_smart_meter,
    open_connection,
)
from tests.conftest import fresh_postgres, fresh_sqlite, ist, org_chain
from tests.integration.accounts_support import POLICIES, TARIFFS
from tests.integration.api_support import BBPS_KEY, OFFICER_KEY, Platform

pytestmark = pytest.mark.integration

START = ist(2025, 7, 1, 9)  # Platform's clock, which stands still
# The schema's examples name these records, so that the examples phase finds them.
ACCOUNT = "SBPDCL-PAT-000123"
ORDER_ID = "ORD0123456789ABCDEF"
BBPS_REF = "BBPS-7781"
COUNTER, CASHIER, PASSWORD = "PAT-C1", "PAT-C1-RAM", "chai-at-ten"
RECEIPT_SEQ = 42  # PAT-C1-0000042
FAST_HASHER = Argon2Hasher(time_cost=1, memory_cost_kib=8_192)
# The token the cashier's login at START returns, with Platform's session secret.
TOKEN = issue_session_token(
    b"test-session-secret", CashierSession(CASHIER, COUNTER, START + SESSION_TTL)
)
AUTHORIZATION = {"Authorization": f"Bearer {TOKEN}"}
# Portal sessions seeded with known tokens: a consumer (the account's mobile) and an admin.
CONSUMER_TOKEN = "contract-consumer-session-token-0123456789"
OFFICER_TOKEN = "contract-officer-session-token-0123456789"

# A counter receipt's number must be its counter's id and sequence, and its signature must
# match its fields: rules across fields that JSON Schema cannot state, so a schema-valid
# receipt is refused (422, 401) by design. Every other operation's schema states what it
# checks, so a schema-valid request there must not be refused as invalid.
BEYOND_JSON_SCHEMA = {"POST /api/v1/counter/receipts"}
# Logging out ends the one session every other case of that scheme uses: tested apart
# (tests/integration/test_api_people.py), not generated.
ENDS_THE_SESSION = ("/api/v1/consumer/sessions/current", "/api/v1/officer/sessions/current")


def _published_schema() -> schemathesis.BaseSchema:
    """/openapi.json as the API serves it, with the credentials of each security scheme:
    schemathesis sends them, except in the cases that test their absence. The document
    depends on the code alone, so it is read from an API over a database that is never
    opened; the tests call a seeded one.

    Loaded at collection, because schemathesis 4.32's lazy `schemathesis.pytest.from_fixture`
    fails on pytest 9.2 (it sets `Function._nodeid`, which pytest no longer has)."""
    engine = make_engine("sqlite://")
    app = App(
        engine,
        SettableClock(START),
        TARIFFS,
        POLICIES,
        lambda: SqlUnitOfWork(engine),
        lambda: SqlUnitOfWork(engine, read_only=True),
    )
    credentials = {
        "BBPSKey": {"api_key": BBPS_KEY},
        "OfficerKey": {"api_key": OFFICER_KEY},
        "CashierSession": {"bearer": TOKEN},
        "ConsumerSession": {"bearer": CONSUMER_TOKEN},
        "OfficerSession": {"bearer": OFFICER_TOKEN},
    }
    return (
        schemathesis.openapi.from_asgi(
            "/openapi.json",
            create_api(app, Settings(database_url="sqlite://")),
            config=schemathesis.Config.from_dict({"auth": {"openapi": credentials}}),
        )
        .include(path_regex=r"^/api/v1/")
        .exclude(method="DELETE", path=list(ENDS_THE_SESSION))
    )


schema = _published_schema()


class Seeded:
    """The API over `engine` with a prepaid account, a gateway order, a BBPS payment and a
    cash counter with a cashier and a receipt, as the schema's examples name them."""

    def __init__(self, engine: Engine) -> None:
        clock = SettableClock(START)
        platform = Platform(engine, clock)
        self.api: FastAPI = platform.client.app  # type: ignore[assignment]
        with contextlib.suppress(AlreadyExists):
            add_org_units(org_chain("SUB-1"), SqlUnitOfWork(engine))
        open_connection(
            NewConnection(ACCOUNT, "Test", "9876500001", "DS-II", 1000, "SUB-1", "SBPDCL"),
            SqlUnitOfWork(engine),
            clock,
        )
        install_smart_meter(
            InstallSmartMeter(ACCOUNT, f"M-{ACCOUNT}"), SqlUnitOfWork(engine), clock, POLICIES
        )
        post_payment(BBPS_REF, ACCOUNT, 50_000, lambda: SqlUnitOfWork(engine), clock, POLICIES)
        create_order(
            CreateOrder(ACCOUNT, 20_000, PaymentChannel.WEBSITE),
            SqlUnitOfWork(engine),
            clock,
            platform.gateway,
            new_id=lambda: ORDER_ID,
        )
        key = register_counter(
            RegisterCounter(COUNTER, "Patna counter 1", "SUB-1"), SqlUnitOfWork(engine), clock
        ).signing_key
        add_cashier(
            AddCashier(CASHIER, "Ram", COUNTER, PASSWORD), SqlUnitOfWork(engine), clock, FAST_HASHER
        )
        login = platform.client.post(
            "/api/v1/counter/login", json={"cashier_id": CASHIER, "password": PASSWORD}
        )
        assert login.json().get("token") == TOKEN, login.text
        posted = platform.client.post(
            "/api/v1/counter/receipts",
            json={"receipts": [_signed(bytes.fromhex(key), START.replace(microsecond=0))]},
            headers=AUTHORIZATION,
        )
        assert posted.status_code == 200, posted.text
        add_officer(
            AddOfficer("admin", "Admin", Role.ADMIN, [], "a long passphrase"),
            SqlUnitOfWork(engine),
            clock,
            FAST_HASHER,
        )
        with SqlUnitOfWork(engine) as uow:
            for token, kind, subject in (
                (CONSUMER_TOKEN, SessionKind.CONSUMER, "9876500001"),
                (OFFICER_TOKEN, SessionKind.OFFICER, "admin"),
            ):
                uow.access.add_session(
                    PortalSession(
                        token_digest(token),
                        kind,
                        subject,
                        "x" * 43,
                        START,
                        START + timedelta(days=1),
                    )
                )
            uow.commit()


def _signed(key: bytes, at: datetime) -> dict[str, object]:
    receipt = Receipt(COUNTER, RECEIPT_SEQ, CASHIER, ACCOUNT, 10_000, at)
    return {
        "receipt_no": receipt.receipt_no,
        "counter_id": COUNTER,
        "seq": RECEIPT_SEQ,
        "cashier_id": CASHIER,
        "account_id": ACCOUNT,
        "amount_paise": 10_000,
        "issued_at": issued_at_text(receipt.issued_at),
        "signature": sign_receipt(key, receipt),
    }


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Seeded]:
    """One seeded database of each kind for the whole module, as migrating one per operation
    would take most of the run. Sharing it is harmless: the cases add orders, payments and
    receipts beside the seeded ones (or reverse the seeded payment, or lock the cashier out
    of logging in, not out of the session), and every answer must keep the contract
    whatever else is recorded."""
    if request.param == "sqlite":
        databases = fresh_sqlite(tmp_path_factory.mktemp("contract"))
    else:
        databases = fresh_postgres()
    for engine in databases:  # one engine; the loop's end drops the database
        yield Seeded(engine)


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    # The same cases every run, so CI is repeatable; PREPAIDGRID_EXPLORE=1 explores anew.
    derandomize=os.environ.get("PREPAIDGRID_EXPLORE") != "1",
    suppress_health_check=[HealthCheck.too_slow],  # every example is a request to a database
)
def test_every_answer_keeps_the_contract(case: Case, seeded: Seeded) -> None:
    excluded = [positive_data_acceptance] if case.operation.label in BEYOND_JSON_SCHEMA else []

    case.call_and_validate(app=seeded.api, excluded_checks=excluded)


def test_a_day_at_the_calendars_ends_is_refused_not_a_server_error(seeded: Seeded) -> None:
    client = TestClient(seeded.api, raise_server_exceptions=False)

    answers = [
        client.get("/api/v1/counter/day-end", params={"day": day}, headers=AUTHORIZATION)
        for day in ("0001-01-01", "9999-12-31")
    ]

    assert [answer.status_code for answer in answers] == [422, 422]
    assert {answer.headers["content-type"] for answer in answers} == {"application/problem+json"}
