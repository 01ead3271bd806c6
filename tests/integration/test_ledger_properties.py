"""Hypothesis on real databases: whatever sequence of money movements, balances equal postings."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from prepaidgrid.adapters.books import PackagedPolicyBook, PackagedTariffBook
from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.adapters.db.verify import verify_ledger
from prepaidgrid.domain.accounts import NewConnection
from prepaidgrid.domain.errors import (
    AlreadyExists,
    Conflict,
    InvalidTransition,
    UnknownPayment,
)
from prepaidgrid.domain.ledger import PaymentChannel, PaymentRef
from prepaidgrid.services.charges import PostDailyCharge, post_daily_charge
from prepaidgrid.services.onboarding import (
    InstallSmartMeter,
    add_org_units,
    install_smart_meter,
    open_connection,
)
from prepaidgrid.services.recharges import (
    ApplyRecharge,
    ReverseRecharge,
    apply_recharge,
    reverse_recharge,
)
from tests.conftest import ist, org_chain

pytestmark = pytest.mark.integration
POLICIES = PackagedPolicyBook()
TARIFFS = PackagedTariffBook()

operation = st.one_of(
    st.tuples(st.just("recharge"), st.integers(1, 200_000), st.integers(0, 5)),
    st.tuples(st.just("charge"), st.integers(0, 30_000), st.integers(0, 30)),
    st.tuples(st.just("reverse"), st.integers(0, 5), st.just(0)),
)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    operations=st.lists(operation, min_size=1, max_size=25),
    postpaid_paise=st.integers(-500_000, 500_000),
)
def test_a_balance_always_equals_the_sum_of_its_postings(
    engine: Engine, operations: list[tuple[str, int, int]], postpaid_paise: int
) -> None:
    clock = SettableClock(ist(2025, 8, 1, 9))
    with contextlib.suppress(AlreadyExists):
        add_org_units(org_chain("S"), SqlUnitOfWork(engine))
    with engine.connect() as db:
        n = db.execute(text("SELECT count(*) FROM accounts")).scalar_one()
    account_id = f"P-{n}"
    open_connection(
        NewConnection(account_id, "P", "9876500002", "DS-II", 2000, "S", "SBPDCL"),
        SqlUnitOfWork(engine),
        clock,
    )
    install_smart_meter(
        InstallSmartMeter(account_id, f"M-{account_id}", postpaid_paise),
        SqlUnitOfWork(engine),
        clock,
        POLICIES,
    )

    for kind, amount, slot in operations:
        ref = PaymentRef(PaymentChannel.APP, f"{account_id}-{slot}")
        if kind == "recharge":
            with contextlib.suppress(Conflict):  # a slot reused with another amount
                apply_recharge(
                    ApplyRecharge(account_id, amount, ref), SqlUnitOfWork(engine), clock, POLICIES
                )
        elif kind == "charge":
            day = date(2025, 8, 1) + timedelta(days=slot)
            post_daily_charge(
                PostDailyCharge(account_id, day, amount),
                SqlUnitOfWork(engine),
                clock,
                TARIFFS,
                POLICIES,
            )
        else:
            with contextlib.suppress(UnknownPayment, InvalidTransition):
                reverse_recharge(ReverseRecharge(ref), SqlUnitOfWork(engine), clock, POLICIES)

    with engine.connect() as db:
        materialised = db.execute(
            text("SELECT balance_paise FROM ledger_accounts WHERE code = :c"),
            {"c": f"wallet:{account_id}"},
        ).scalar_one()
        summed = db.execute(
            text("SELECT coalesce(sum(amount_paise), 0) FROM postings WHERE ledger_account = :c"),
            {"c": f"wallet:{account_id}"},
        ).scalar_one()
    assert materialised == summed
    assert verify_ledger(engine).ok
