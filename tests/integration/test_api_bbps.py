"""The BBPS biller API on a real database: fetch, validate, pay once, status, reverse."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from prepaidgrid.adapters.db.verify import verify_ledger
from tests.integration.accounts_support import (
    account_below_zero,
    balance,
    new_account,
)
from tests.integration.api_support import BBPS_KEY, Platform

pytestmark = pytest.mark.integration
KEY = {"X-BBPS-Key": BBPS_KEY}


def test_fetch_then_pay_then_status_then_retry_credits_once(platform: Platform) -> None:
    account_id = new_account(platform.engine, platform.clock)
    client = platform.client

    bill = client.post("/api/v1/bbps/fetch", json={"account_id": account_id}, headers=KEY)
    ok = client.post(
        "/api/v1/bbps/validate",
        json={"account_id": account_id, "amount_paise": 20_000},
        headers=KEY,
    )
    payment = {"bbps_ref": "BBPS-7781", "account_id": account_id, "amount_paise": 20_000}
    first = client.post("/api/v1/bbps/payments", json=payment, headers=KEY)
    retry = client.post("/api/v1/bbps/payments", json=payment, headers=KEY)
    status = client.get("/api/v1/bbps/payments/BBPS-7781", headers=KEY)

    assert bill.status_code == 200
    assert bill.json()["balance_paise"] == 0
    assert ok.status_code == 200
    assert (first.status_code, retry.status_code) == (200, 200)
    assert first.json()["balance_paise"] == retry.json()["balance_paise"] == 20_000
    assert status.json()["status"] == "credited"
    assert balance(platform.engine, account_id) == 20_000
    assert verify_ledger(platform.engine).ok


def test_a_consumer_below_zero_is_told_what_brings_the_supply_back(platform: Platform) -> None:
    engine, clock = platform.engine, platform.clock
    account_id = account_below_zero(engine, clock)
    owed = -balance(engine, account_id)

    bill = platform.client.post(
        "/api/v1/bbps/fetch", json={"account_id": account_id}, headers=KEY
    ).json()

    assert owed > 0
    assert bill["due_paise"] == owed + 100  # back above zero, by at least a rupee
    assert bill["supply_state"] == "grace"


def test_concurrent_retries_of_one_bbps_payment_credit_it_once(platform: Platform) -> None:
    account_id = new_account(platform.engine, platform.clock)
    payment = {"bbps_ref": "BBPS-RACE", "account_id": account_id, "amount_paise": 15_000}

    def post(_: int) -> int:
        return platform.client.post("/api/v1/bbps/payments", json=payment, headers=KEY).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = set(pool.map(post, range(12)))

    assert statuses == {200}
    assert balance(platform.engine, account_id) == 15_000


def test_refusals_are_clear_and_write_nothing(platform: Platform) -> None:
    account_id = new_account(platform.engine, platform.clock)
    other = new_account(platform.engine, platform.clock)
    client = platform.client
    paid = {"bbps_ref": "BBPS-1", "account_id": account_id, "amount_paise": 10_000}
    assert client.post("/api/v1/bbps/payments", json=paid, headers=KEY).status_code == 200

    no_key = client.post("/api/v1/bbps/payments", json=paid)
    wrong_key = client.post("/api/v1/bbps/payments", json=paid, headers={"X-BBPS-Key": "x"})
    same_ref_other_account = client.post(
        "/api/v1/bbps/payments", json={**paid, "account_id": other}, headers=KEY
    )
    same_ref_other_amount = client.post(
        "/api/v1/bbps/payments", json={**paid, "amount_paise": 99_900}, headers=KEY
    )
    too_small = client.post(
        "/api/v1/bbps/payments",
        json={"bbps_ref": "BBPS-2", "account_id": account_id, "amount_paise": 50},
        headers=KEY,
    )
    unknown = client.post("/api/v1/bbps/fetch", json={"account_id": "NOPE"}, headers=KEY)
    no_payment = client.get("/api/v1/bbps/payments/BBPS-404", headers=KEY)

    assert (no_key.status_code, wrong_key.status_code) == (401, 401)
    assert same_ref_other_account.status_code == 409
    assert same_ref_other_amount.status_code == 409
    assert too_small.status_code == 422
    assert (unknown.status_code, no_payment.status_code) == (404, 404)
    assert all(
        r.headers["content-type"] == "application/problem+json"
        for r in (no_key, same_ref_other_account, too_small, unknown)
    )
    assert balance(platform.engine, account_id) == 10_000
    assert balance(platform.engine, other) == 0
    assert platform.count("SELECT count(*) FROM payments WHERE channel = 'bbps'") == 1


def test_a_reversal_is_its_own_journal_and_starts_grace_not_a_cut(platform: Platform) -> None:
    account_id = new_account(platform.engine, platform.clock)
    client = platform.client
    paid = {"bbps_ref": "BBPS-REV", "account_id": account_id, "amount_paise": 10_000}
    client.post("/api/v1/bbps/payments", json=paid, headers=KEY)

    reversed_ = client.post("/api/v1/bbps/reversals", json={"bbps_ref": "BBPS-REV"}, headers=KEY)
    again = client.post("/api/v1/bbps/reversals", json={"bbps_ref": "BBPS-REV"}, headers=KEY)

    assert reversed_.status_code == 200
    assert reversed_.json()["status"] == "reversed"
    assert reversed_.json()["supply_state"] == "grace"
    assert again.status_code == 200
    assert balance(platform.engine, account_id) == 0
    assert platform.count("SELECT count(*) FROM journals WHERE kind = 'reversal'") == 1
    assert verify_ledger(platform.engine).ok
