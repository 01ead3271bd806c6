"""The use cases through the real unit of work, on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from prepaidgrid.adapters.books import PackagedPolicyBook, PackagedTariffBook
from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.adapters.db.verify import verify_ledger
from prepaidgrid.domain.errors import InvalidUsage, UnknownAccount
from prepaidgrid.domain.ledger import PaymentChannel, PaymentRef
from prepaidgrid.domain.supply import SupplyState
from prepaidgrid.services.charges import PostDailyCharge, post_daily_charge
from prepaidgrid.services.outbox import dispatch_outbox
from prepaidgrid.services.ports import OutboxMessage
from prepaidgrid.services.recharges import ApplyRecharge, RechargeOutcome, apply_recharge
from prepaidgrid.services.supply import (
    EvaluateSupply,
    RecordRelayAck,
    evaluate_supply,
    record_relay_ack,
)
from tests.conftest import ist
from tests.integration.accounts_support import balance, new_account

pytestmark = pytest.mark.integration
POLICIES = PackagedPolicyBook()
TARIFFS = PackagedTariffBook()


def test_a_recharge_delivered_concurrently_from_threads_is_credited_once(engine: Engine) -> None:
    clock = SettableClock(ist(2025, 8, 5, 12))
    account_id = new_account(engine, clock)
    recharge = ApplyRecharge(account_id, 50_000, PaymentRef(PaymentChannel.BBPS, "BB-RACE"))

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(
            pool.map(
                lambda _: apply_recharge(recharge, SqlUnitOfWork(engine), clock, POLICIES).outcome,
                range(16),
            )
        )

    assert sorted(outcomes).count(RechargeOutcome.APPLIED) == 1
    assert balance(engine, account_id) == 50_000
    assert verify_ledger(engine).ok


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    deliveries=st.integers(1, 6),
    amount_paise=st.integers(1, 10_000_000),
    threads=st.integers(1, 4),
)
def test_any_number_of_deliveries_of_one_recharge_credit_it_once(
    engine: Engine, deliveries: int, amount_paise: int, threads: int
) -> None:
    clock = SettableClock(ist(2025, 8, 5, 12))
    account_id = new_account(engine, clock)
    recharge = ApplyRecharge(
        account_id, amount_paise, PaymentRef(PaymentChannel.APP, "u-" + account_id)
    )

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(
            pool.map(
                lambda _: apply_recharge(recharge, SqlUnitOfWork(engine), clock, POLICIES),
                range(deliveries),
            )
        )

    assert balance(engine, account_id) == amount_paise
    with engine.connect() as db:
        rows = db.execute(
            text("SELECT count(*) FROM journals WHERE idempotency_key = :k"),
            {"k": f"recharge:app:u-{account_id}"},
        ).scalar_one()
    assert rows == 1


def test_the_whole_cycle_charge_grace_cut_recharge_reconnect(engine: Engine) -> None:
    clock = SettableClock(ist(2025, 7, 1, 9))  # Tuesday
    account_id = new_account(engine, clock, balance_paise=2_000)
    relay: list[OutboxMessage] = []

    clock.set(ist(2025, 7, 2, 0, 30))
    charged = post_daily_charge(
        PostDailyCharge(account_id, date(2025, 7, 1), 6_000),
        SqlUnitOfWork(engine),
        clock,
        TARIFFS,
        POLICIES,
    )
    assert charged.balance_paise < 0
    assert charged.supply_state is SupplyState.GRACE

    clock.set(ist(2025, 7, 3, 9, 59))
    early = evaluate_supply(EvaluateSupply(account_id), SqlUnitOfWork(engine), clock, POLICIES)
    clock.set(ist(2025, 7, 3, 10, 0))
    due = evaluate_supply(EvaluateSupply(account_id), SqlUnitOfWork(engine), clock, POLICIES)
    dispatch_outbox("relay_command", relay.append, SqlUnitOfWork(engine))
    cut = record_relay_ack(
        RecordRelayAck(account_id, False), SqlUnitOfWork(engine), clock, POLICIES
    )

    assert early.state is SupplyState.GRACE
    assert early.action is None
    assert due.state is SupplyState.DISCONNECT_SENT
    assert cut.state is SupplyState.DISCONNECTED

    clock.set(ist(2025, 7, 3, 19, 0))
    result = apply_recharge(
        ApplyRecharge(account_id, 50_000, PaymentRef(PaymentChannel.COUNTER, "RCPT-1")),
        SqlUnitOfWork(engine),
        clock,
        POLICIES,
    )
    dispatch_outbox("relay_command", relay.append, SqlUnitOfWork(engine))
    back = record_relay_ack(
        RecordRelayAck(account_id, True), SqlUnitOfWork(engine), clock, POLICIES
    )

    assert result.reconnect_queued
    assert back.state is SupplyState.CONNECTED
    assert [m.payload["action"] for m in relay] == ["disconnect", "reconnect"]
    assert verify_ledger(engine).ok


def test_posting_the_same_day_twice_charges_once(engine: Engine) -> None:
    clock = SettableClock(ist(2025, 7, 1, 9))
    account_id = new_account(engine, clock, balance_paise=100_000)
    clock.set(ist(2025, 7, 2, 0, 30))

    first = post_daily_charge(
        PostDailyCharge(account_id, date(2025, 7, 1), 5_000),
        SqlUnitOfWork(engine),
        clock,
        TARIFFS,
        POLICIES,
    )
    second = post_daily_charge(
        PostDailyCharge(account_id, date(2025, 7, 1), 5_000),
        SqlUnitOfWork(engine),
        clock,
        TARIFFS,
        POLICIES,
    )

    assert first.is_new
    assert not second.is_new
    assert balance(engine, account_id) == 100_000 - first.total_paise


def test_bad_input_writes_nothing(engine: Engine) -> None:
    clock = SettableClock(ist(2025, 7, 2, 0, 30))
    account_id = new_account(engine, clock, balance_paise=100_000)
    with engine.connect() as db:
        before = db.execute(text("SELECT count(*) FROM postings")).scalar_one()

    with pytest.raises(InvalidUsage):
        post_daily_charge(
            PostDailyCharge(account_id, date(2025, 7, 1), -5),
            SqlUnitOfWork(engine),
            clock,
            TARIFFS,
            POLICIES,
        )
    with pytest.raises(UnknownAccount):
        post_daily_charge(
            PostDailyCharge("NOPE", date(2025, 7, 1), 5),
            SqlUnitOfWork(engine),
            clock,
            TARIFFS,
            POLICIES,
        )

    with engine.connect() as db:
        assert db.execute(text("SELECT count(*) FROM postings")).scalar_one() == before


def test_a_month_of_charges_then_verify_passes(engine: Engine) -> None:
    clock = SettableClock(ist(2025, 8, 1, 0, 30))
    account_id = new_account(engine, clock, balance_paise=500_000)

    for n in range(31):
        day = date(2025, 8, 1) + timedelta(days=n)
        clock.set(ist(day.year, day.month, day.day, 0, 30) + timedelta(days=1))
        post_daily_charge(
            PostDailyCharge(account_id, day, 5_000 + 100 * n),
            SqlUnitOfWork(engine),
            clock,
            TARIFFS,
            POLICIES,
        )

    assert verify_ledger(engine).ok
    with engine.connect() as db:
        billed = db.execute(text("SELECT sum(total_paise) FROM daily_charges")).scalar_one()
    assert balance(engine, account_id) == 500_000 - billed
