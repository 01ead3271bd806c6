"""Accounts for integration tests: a prepaid consumer with a balance, or cut off."""

from __future__ import annotations

import contextlib
import uuid
from datetime import date

from sqlalchemy import Engine

from prepaidgrid.adapters.books import PackagedPolicyBook, PackagedTariffBook
from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.domain.accounts import NewConnection
from prepaidgrid.domain.errors import AlreadyExists
from prepaidgrid.domain.ledger import PaymentChannel, PaymentRef
from prepaidgrid.domain.supply import SupplyState
from prepaidgrid.services.charges import PostDailyCharge, post_daily_charge
from prepaidgrid.services.onboarding import (
    InstallSmartMeter,
    add_org_units,
    install_smart_meter,
    open_connection,
)
from prepaidgrid.services.outbox import dispatch_outbox
from prepaidgrid.services.recharges import ApplyRecharge, apply_recharge
from prepaidgrid.services.supply import (
    EvaluateSupply,
    RecordRelayAck,
    evaluate_supply,
    record_relay_ack,
)
from tests.conftest import ist, org_chain

POLICIES = PackagedPolicyBook()
TARIFFS = PackagedTariffBook()


def new_account(
    engine: Engine,
    clock: SettableClock,
    balance_paise: int = 0,
    mobile: str = "9876500001",
    subdivision: str = "SUB-1",  # another one must exist already
) -> str:
    account_id = f"A-{uuid.uuid4().hex[:10]}"
    with contextlib.suppress(AlreadyExists):  # an earlier example added it
        add_org_units(org_chain("SUB-1"), SqlUnitOfWork(engine))
    open_connection(
        NewConnection(account_id, "Test", mobile, "DS-II", 1000, subdivision, "SBPDCL"),
        SqlUnitOfWork(engine),
        clock,
    )
    install_smart_meter(
        InstallSmartMeter(account_id, f"M-{account_id}"), SqlUnitOfWork(engine), clock, POLICIES
    )
    if balance_paise:
        apply_recharge(
            ApplyRecharge(account_id, balance_paise, PaymentRef(PaymentChannel.APP, account_id)),
            SqlUnitOfWork(engine),
            clock,
            POLICIES,
        )
    return account_id


def balance(engine: Engine, account_id: str) -> int:
    with SqlUnitOfWork(engine) as uow:
        return uow.connections.get(account_id).wallet_paise


def disconnect(engine: Engine, account_id: str, clock: SettableClock) -> None:
    """Cut the account off as the sweep and the meter would (its balance must be <= 0)."""
    evaluate_supply(EvaluateSupply(account_id), SqlUnitOfWork(engine), clock, POLICIES)
    dispatch_outbox("relay_command", lambda _message: None, SqlUnitOfWork(engine))
    state = record_relay_ack(
        RecordRelayAck(account_id, False), SqlUnitOfWork(engine), clock, POLICIES
    ).state
    assert state is SupplyState.DISCONNECTED, state


def account_below_zero(engine: Engine, clock: SettableClock) -> str:
    """A consumer whose 1 July charge took ₹20 of credit below zero: in grace from 00:30 on
    2 July (the clock is left there)."""
    account_id = new_account(engine, clock, balance_paise=2_000)
    clock.set(ist(2025, 7, 2, 0, 30))
    post_daily_charge(
        PostDailyCharge(account_id, date(2025, 7, 1), 6_000),
        SqlUnitOfWork(engine),
        clock,
        TARIFFS,
        POLICIES,
    )
    return account_id


def cut_off_account(engine: Engine, clock: SettableClock) -> str:
    """A consumer below zero and cut in the 10:00 window of Thursday 3 July 2025 (the clock
    is left at the cut)."""
    account_id = account_below_zero(engine, clock)
    clock.set(ist(2025, 7, 3, 10, 0))
    disconnect(engine, account_id, clock)
    return account_id
