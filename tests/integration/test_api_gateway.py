"""App and website recharges over HTTP: the gateway's signed webhook, on a real database.

Every way a callback can arrive (once, twice, from threads at once, out of order, replayed
later, forged, malformed, for the wrong amount, never) ends with the order credited once or
refused with a clear problem+json and nothing written."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import text

from prepaidgrid.adapters.db.payment_repositories import SqlPaymentOrders
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.adapters.db.verify import verify_ledger
from prepaidgrid.adapters.payments.simulated import Callback
from prepaidgrid.domain.payments import SIGNATURE_HEADER, GatewayEvent, sign_callback
from prepaidgrid.domain.supply import SupplyState
from prepaidgrid.services.gateway import poll_unsettled_orders
from tests.conftest import ist
from tests.integration.accounts_support import (
    POLICIES,
    balance,
    cut_off_account,
    new_account,
)
from tests.integration.api_support import OFFICER_KEY, SECRET, Platform

pytestmark = pytest.mark.integration


def test_a_paid_order_is_credited_once_however_often_the_webhook_comes(
    platform: Platform,
) -> None:
    account_id = new_account(platform.engine, platform.clock)
    before = platform.credits()
    order_id = platform.order(account_id, 50_000)

    callback = platform.gateway.pay(order_id)
    for _ in range(3):
        platform.gateway.send(callback)

    assert [status for status, _ in platform.responses] == [200] * 4
    assert [body["changed"] for _, body in platform.responses] == [True, False, False, False]
    assert balance(platform.engine, account_id) == 50_000
    assert platform.credits() == before + 1
    assert platform.client.get(f"/api/v1/orders/{order_id}").json()["status"] == "paid"
    assert verify_ledger(platform.engine).ok


def test_concurrent_deliveries_of_one_callback_credit_it_once(platform: Platform) -> None:
    account_id = new_account(platform.engine, platform.clock)
    order_id = platform.order(account_id, 25_000)
    callback = platform.gateway.pay(order_id, send=False)

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: platform.gateway.send(callback), range(16)))

    assert set(statuses) == {200}
    assert balance(platform.engine, account_id) == 25_000
    assert platform.count("SELECT count(*) FROM payments WHERE status = 'credited'") == 1
    assert verify_ledger(platform.engine).ok


@pytest.mark.parametrize(
    ("forge", "detail"),
    [
        ("wrong secret", "does not match"),
        ("no signature", "no X-Prepaidgrid-Signature"),
        ("replayed an hour later", "replay"),
        ("body changed after signing", "does not match"),
    ],
)
def test_forged_or_replayed_callbacks_are_refused_and_write_nothing(
    platform: Platform, forge: str, detail: str
) -> None:
    account_id = new_account(platform.engine, platform.clock)
    order_id = platform.order(account_id, 50_000)
    gateway = platform.gateway
    gateway.pay(order_id, send=False)  # the money is real; only its callback is bad
    genuine = gateway.callback(order_id, GatewayEvent.CAPTURED, "UPI1", 50_000)
    if forge == "wrong secret":
        bad = gateway.callback(order_id, GatewayEvent.CAPTURED, "UPI1", 50_000, secret=b"guess")
    elif forge == "no signature":
        bad = Callback(genuine.body, {"Content-Type": "application/json"})
    elif forge == "replayed an hour later":
        bad = genuine
        platform.clock.set(platform.clock.now() + timedelta(hours=1))
    else:
        bad = Callback(genuine.body.replace(b"50000", b"90000"), genuine.headers)
    events_before = platform.count("SELECT count(*) FROM payment_events")

    status = gateway.send(bad)

    _, problem = platform.responses[-1]
    assert status == 401
    assert problem["status"] == 401
    assert detail in str(problem["detail"])
    assert balance(platform.engine, account_id) == 0
    assert platform.count("SELECT count(*) FROM payments") == 0
    assert platform.count("SELECT count(*) FROM payment_events") == events_before


def test_a_malformed_callback_is_422_and_an_unknown_order_404(platform: Platform) -> None:
    gateway = platform.gateway
    signed_garbage = gateway.callback("X", GatewayEvent.CAPTURED, "UPI1", 1)
    garbage = Callback(b'{"event": "payment.captured"}', dict(signed_garbage.headers))
    garbage.headers[SIGNATURE_HEADER] = sign_callback(
        SECRET.encode(), int(platform.clock.now().timestamp()), garbage.body
    )

    assert gateway.send(garbage) == 422
    assert platform.responses[-1][1]["title"] == "Invalid input"
    assert gateway.send(signed_garbage) == 404


def test_a_callback_for_another_amount_is_refused_with_409(platform: Platform) -> None:
    account_id = new_account(platform.engine, platform.clock)
    order_id = platform.order(account_id, 50_000)

    status = platform.gateway.send(
        platform.gateway.callback(order_id, GatewayEvent.CAPTURED, "UPI1", 5_000_000)
    )

    assert status == 409
    assert balance(platform.engine, account_id) == 0
    assert platform.client.get(f"/api/v1/orders/{order_id}").json()["status"] == "created"


def test_callbacks_out_of_order(platform: Platform) -> None:
    """pending, then captured, then a late pending (ignored) and a failure (refused);
    and a capture after a failure (money taken after all) is credited."""
    account_id = new_account(platform.engine, platform.clock)
    gateway = platform.gateway
    first = platform.order(account_id, 10_000)
    second = platform.order(account_id, 20_000)

    gateway.pay(first, GatewayEvent.PENDING)
    assert platform.count("SELECT count(*) FROM payments WHERE status = 'pending'") == 1
    gateway.pay(first, GatewayEvent.CAPTURED)
    late_pending = gateway.send(gateway.callback(first, GatewayEvent.PENDING, "UPI-LATE", 10_000))
    contradiction = gateway.send(gateway.callback(first, GatewayEvent.FAILED, "UPI-LATE", 10_000))
    gateway.pay(second, GatewayEvent.FAILED)
    gateway.pay(second, GatewayEvent.CAPTURED)

    assert late_pending == 200
    assert platform.responses[-4][1]["changed"] is False
    assert contradiction == 409
    assert balance(platform.engine, account_id) == 30_000
    assert platform.credits() == 2
    assert verify_ledger(platform.engine).ok


def test_a_crash_while_crediting_is_credited_once_on_retry(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies in the middle of crediting (after the journal, before the order is
    marked paid): the transaction never commits, so nothing is credited, and the gateway's
    retry credits it. Never twice, never zero times."""
    account_id = new_account(platform.engine, platform.clock)
    order_id = platform.order(account_id, 40_000)
    real = SqlPaymentOrders.set_status
    crashed = []

    def crash_once(self: SqlPaymentOrders, *args: object, **kwargs: object) -> None:
        if not crashed:
            crashed.append(True)
            raise RuntimeError("killed")
        real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(SqlPaymentOrders, "set_status", crash_once)
    callback = platform.gateway.pay(order_id, send=False)
    with pytest.raises(RuntimeError):
        platform.gateway.send(callback)
    assert balance(platform.engine, account_id) == 0  # all or nothing: nothing
    assert platform.count("SELECT count(*) FROM payments") == 0

    assert platform.gateway.send(callback) == 200

    assert balance(platform.engine, account_id) == 40_000
    assert platform.client.get(f"/api/v1/orders/{order_id}").json()["status"] == "paid"
    assert platform.credits() == 1
    assert verify_ledger(platform.engine).ok


def test_an_order_whose_webhook_never_comes_is_settled_by_polling(platform: Platform) -> None:
    account_id = new_account(platform.engine, platform.clock)
    paid = platform.order(account_id, 30_000)
    abandoned = platform.order(account_id, 70_000)
    platform.gateway.pay(paid, send=False)  # the callback is lost on the way
    platform.clock.set(platform.clock.now() + timedelta(minutes=5))

    run = poll_unsettled_orders(
        lambda: SqlUnitOfWork(platform.engine), platform.clock, POLICIES, platform.gateway
    )

    assert (run.asked, run.settled, run.no_news) == (2, 1, 1)
    assert balance(platform.engine, account_id) == 30_000
    assert platform.client.get(f"/api/v1/orders/{abandoned}").json()["status"] == "created"


def test_each_recharge_credits_exactly_the_connection_it_names(platform: Platform) -> None:
    """One consumer, two connections (home and shop): each order credits its own."""
    home = new_account(platform.engine, platform.clock)
    shop = new_account(platform.engine, platform.clock)

    platform.gateway.pay(platform.order(home, 11_100))
    platform.gateway.pay(platform.order(shop, 22_200))
    platform.gateway.pay(platform.order(home, 300))

    assert balance(platform.engine, home) == 11_400
    assert balance(platform.engine, shop) == 22_200


def test_a_recharge_reconnects_a_cut_consumer_in_the_same_transaction(
    platform: Platform,
) -> None:
    engine, clock = platform.engine, platform.clock
    account_id = cut_off_account(engine, clock)
    clock.set(ist(2025, 7, 3, 19, 0))

    order_id = platform.order(account_id, 50_000)
    platform.gateway.pay(order_id)

    with SqlUnitOfWork(engine) as uow:
        assert uow.connections.get(account_id).supply.state is SupplyState.RECONNECT_SENT
    with engine.connect() as db:
        payloads = [
            json.loads(p) if isinstance(p, str) else p
            for (p,) in db.execute(
                text("SELECT payload FROM outbox WHERE kind = 'relay_command' ORDER BY id")
            )
        ]
    assert [p["action"] for p in payloads] == ["disconnect", "reconnect"]
    sms = f"SELECT count(*) FROM outbox WHERE dedupe_key = 'sms:recharge:website:{order_id}'"
    assert platform.count(sms) == 1


def test_order_requests_are_checked(platform: Platform) -> None:
    account_id = new_account(platform.engine, platform.clock)
    client = platform.client

    too_big = client.post("/api/v1/orders", json={"account_id": account_id, "amount_paise": 10**9})
    unknown = client.post("/api/v1/orders", json={"account_id": "NOPE", "amount_paise": 100})
    negative = client.post("/api/v1/orders", json={"account_id": account_id, "amount_paise": -5})

    assert (too_big.status_code, unknown.status_code, negative.status_code) == (422, 404, 422)
    assert too_big.headers["content-type"] == "application/problem+json"
    assert "₹50,000" in too_big.json()["detail"]


def test_officers_see_a_payments_life_and_where_it_waits(platform: Platform) -> None:
    """Ordered, confirmed, credited, SMS and reconnect queued: it waits for the meter."""
    engine, clock = platform.engine, platform.clock
    account_id = cut_off_account(engine, clock)
    clock.set(ist(2025, 7, 3, 19, 0))
    order_id = platform.order(account_id, 50_000)
    platform.gateway.pay(order_id)
    clock.set(ist(2025, 7, 3, 19, 10))
    url = f"/api/v1/payments/website/{order_id}"

    life = platform.client.get(url, headers={"X-Officer-Key": OFFICER_KEY})
    no_key = platform.client.get(url)
    unknown = platform.client.get(
        "/api/v1/payments/website/ORD-NONE", headers={"X-Officer-Key": OFFICER_KEY}
    )

    assert life.status_code == 200, life.text
    stages = [stage["stage"] for stage in life.json()["stages"]]
    expected = ["ordered", "confirmed", "credited", "sms_queued", "reconnect_queued"]
    assert [stage for stage in stages if stage in expected] == expected, stages
    assert life.json()["stuck"]["stage"].startswith("reconnect")
    assert life.json()["stuck"]["waited_seconds"] >= 0
    assert (no_key.status_code, unknown.status_code) == (401, 404)
