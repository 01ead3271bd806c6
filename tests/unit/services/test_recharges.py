"""Recharges on fakes: exactly-once credit, reconnection, pending payments and reversals."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from prepaidgrid.adapters.books import PackagedPolicyBook
from prepaidgrid.domain.accounts import NewConnection
from prepaidgrid.domain.arrears import RecoveryKind
from prepaidgrid.domain.errors import InvalidAmount, InvalidTransition, UnknownAccount
from prepaidgrid.domain.ledger import PaymentChannel, PaymentRef, wallet
from prepaidgrid.domain.supply import SupplySnapshot, SupplyState
from prepaidgrid.services.onboarding import InstallSmartMeter, install_smart_meter, open_connection
from prepaidgrid.services.ports import SupplyChange
from prepaidgrid.services.recharges import (
    ApplyRecharge,
    FailPayment,
    RechargeOutcome,
    RecordPendingPayment,
    ReverseRecharge,
    apply_recharge,
    fail_payment,
    record_pending_payment,
    reverse_recharge,
)
from prepaidgrid.services.supply import EvaluateSupply, evaluate_supply
from tests.conftest import ist
from tests.fakes import FakeUnitOfWork, FixedClock

POLICIES = PackagedPolicyBook()
NOON_TUESDAY = ist(2025, 8, 5, 12)


def prepaid_account(
    uow: FakeUnitOfWork,
    postpaid_balance_paise: int = 0,
    recovery: RecoveryKind = RecoveryKind.DAILY_INSTALMENTS,
    at: datetime = NOON_TUESDAY - timedelta(days=1),
) -> None:
    clock = FixedClock(at)
    open_connection(
        NewConnection("ACC-1", "Test", "9876500001", "DS-II", 1000, "SUB-1", "SBPDCL"), uow, clock
    )
    install_smart_meter(
        InstallSmartMeter("ACC-1", "SM-1", postpaid_balance_paise, recovery), uow, clock, POLICIES
    )


def disconnect(uow: FakeUnitOfWork, balance_paise: int) -> None:
    """Put ACC-1 in the disconnected state with the given (negative) balance."""
    from prepaidgrid.domain.ledger import JournalKind, journal

    uow.ledger.add(
        journal(
            "test:debt",
            JournalKind.ADJUSTMENT,
            NOON_TUESDAY - timedelta(days=2),
            {wallet("ACC-1"): balance_paise, "revenue:energy": -balance_paise},
        )
    )
    zero_at = NOON_TUESDAY - timedelta(days=2)
    uow.connections.save_supply(
        SupplyChange("ACC-1", zero_at, "grace", "disconnected", "disconnect"),
        SupplySnapshot(SupplyState.DISCONNECTED, zero_at, zero_at, None),
    )


def test_a_retried_recharge_is_credited_once() -> None:
    uow = FakeUnitOfWork()
    prepaid_account(uow)
    payment = PaymentRef(PaymentChannel.APP, "upi-7781")
    recharge = ApplyRecharge("ACC-1", amount_paise=50_000, payment=payment)

    first = apply_recharge(recharge, uow, FixedClock(NOON_TUESDAY), POLICIES)
    retry = apply_recharge(recharge, uow, FixedClock(NOON_TUESDAY), POLICIES)

    assert (first.outcome, retry.outcome) == (
        RechargeOutcome.APPLIED,
        RechargeOutcome.ALREADY_APPLIED,
    )
    assert uow.ledger.balance(wallet("ACC-1")) == 50_000
    assert [j.key for j in uow.ledger.journals if j.kind == "recharge"] == ["recharge:app:upi-7781"]


def test_a_recharge_above_zero_reconnects_at_once_with_an_sms() -> None:
    uow = FakeUnitOfWork()
    prepaid_account(uow)
    disconnect(uow, -12_000)
    sunday_night = ist(2025, 8, 10, 23, 30)

    result = apply_recharge(
        ApplyRecharge("ACC-1", 50_000, PaymentRef(PaymentChannel.COUNTER, "R-1")),
        uow,
        FixedClock(sunday_night),
        POLICIES,
    )

    assert result.balance_paise == 38_000
    assert result.supply_state is SupplyState.RECONNECT_SENT
    assert [m.payload["action"] for m in uow.outbox.of_kind("relay_command")] == ["reconnect"]
    assert "recharge_received" in [m.payload["template"] for m in uow.outbox.of_kind("sms")]


def test_a_recharge_that_leaves_a_debt_keeps_the_supply_off() -> None:
    uow = FakeUnitOfWork()
    prepaid_account(uow)
    disconnect(uow, -12_000)

    result = apply_recharge(
        ApplyRecharge("ACC-1", 10_000, PaymentRef(PaymentChannel.COUNTER, "R-1")),
        uow,
        FixedClock(NOON_TUESDAY),
        POLICIES,
    )

    assert result.balance_paise == -2_000
    assert result.supply_state is SupplyState.DISCONNECTED
    assert uow.outbox.of_kind("relay_command") == []


@pytest.mark.parametrize("amount", [0, -100, 12.5, "500", True])
def test_a_recharge_of_zero_or_a_non_integer_amount_is_refused_and_writes_nothing(
    amount: object,
) -> None:
    uow = FakeUnitOfWork()
    prepaid_account(uow)
    journals_before = list(uow.ledger.journals)

    with pytest.raises(InvalidAmount):
        apply_recharge(
            ApplyRecharge("ACC-1", amount, PaymentRef(PaymentChannel.APP, "x")),  # type: ignore[arg-type]
            uow,
            FixedClock(NOON_TUESDAY),
            POLICIES,
        )

    assert uow.ledger.journals == journals_before
    assert uow.payments.rows == {}


def test_a_recharge_for_an_unknown_account_is_refused_and_writes_nothing() -> None:
    uow = FakeUnitOfWork()

    with pytest.raises(UnknownAccount, match="NOPE"):
        apply_recharge(
            ApplyRecharge("NOPE", 100, PaymentRef(PaymentChannel.APP, "x")),
            uow,
            FixedClock(NOON_TUESDAY),
            POLICIES,
        )

    assert uow.ledger.journals == []
    assert uow.payments.rows == {}


def test_a_pending_payment_that_covers_the_debt_holds_the_cut_and_credits_nothing() -> None:
    uow = FakeUnitOfWork()
    prepaid_account(uow)  # zero balance at install: grace, cut due the next day
    cut_at = uow.connections.get("ACC-1").supply.cut_at
    assert cut_at is not None
    record_pending_payment(
        RecordPendingPayment("ACC-1", 20_000, PaymentRef(PaymentChannel.BBPS, "BB-1")),
        uow,
        FixedClock(cut_at - timedelta(hours=1)),
    )

    decision = evaluate_supply(EvaluateSupply("ACC-1"), uow, FixedClock(cut_at), POLICIES)

    assert decision.state is SupplyState.GRACE
    assert uow.outbox.of_kind("relay_command") == []
    assert uow.ledger.balance(wallet("ACC-1")) == 0


def test_the_confirmation_of_a_pending_payment_credits_it_once() -> None:
    uow = FakeUnitOfWork()
    prepaid_account(uow)
    ref = PaymentRef(PaymentChannel.BBPS, "BB-1")
    record_pending_payment(
        RecordPendingPayment("ACC-1", 20_000, ref), uow, FixedClock(NOON_TUESDAY)
    )

    by_callback = apply_recharge(
        ApplyRecharge("ACC-1", 20_000, ref), uow, FixedClock(NOON_TUESDAY), POLICIES
    )
    by_poll = apply_recharge(
        ApplyRecharge("ACC-1", 20_000, ref), uow, FixedClock(NOON_TUESDAY), POLICIES
    )

    assert (by_callback.outcome, by_poll.outcome) == (
        RechargeOutcome.APPLIED,
        RechargeOutcome.ALREADY_APPLIED,
    )
    assert uow.ledger.balance(wallet("ACC-1")) == 20_000
    assert uow.payments.pending_paise("ACC-1") == 0


def test_a_reversal_to_zero_starts_the_normal_grace_never_an_instant_cut() -> None:
    uow = FakeUnitOfWork()
    prepaid_account(uow)
    ref = PaymentRef(PaymentChannel.BBPS, "BB-9")
    apply_recharge(ApplyRecharge("ACC-1", 20_000, ref), uow, FixedClock(NOON_TUESDAY), POLICIES)
    friday_night = ist(2025, 8, 8, 21)

    result = reverse_recharge(ReverseRecharge(ref), uow, FixedClock(friday_night), POLICIES)
    again = reverse_recharge(ReverseRecharge(ref), uow, FixedClock(friday_night), POLICIES)

    assert result.outcome is RechargeOutcome.REVERSED
    assert again.outcome is RechargeOutcome.ALREADY_REVERSED
    assert result.supply_state is SupplyState.GRACE
    connection = uow.connections.get("ACC-1")
    assert connection.wallet_paise == 0
    assert connection.supply.cut_at == ist(2025, 8, 11, 10)  # Sunday skipped: Monday 10:00
    assert uow.outbox.of_kind("relay_command") == []
    assert "zero_balance" in [m.payload["template"] for m in uow.outbox.of_kind("sms")]


def test_a_recharge_share_recovers_arrears_from_each_recharge() -> None:
    uow = FakeUnitOfWork()
    prepaid_account(uow, postpaid_balance_paise=-300_000, recovery=RecoveryKind.RECHARGE_SHARE)

    apply_recharge(
        ApplyRecharge("ACC-1", 100_000, PaymentRef(PaymentChannel.APP, "u1")),
        uow,
        FixedClock(NOON_TUESDAY),
        POLICIES,
    )

    connection = uow.connections.get("ACC-1")
    assert connection.wallet_paise == 75_000  # 25% share by default
    assert connection.arrears_paise == -275_000


def test_a_migrated_postpaid_credit_opens_the_wallet_and_no_cut_is_scheduled() -> None:
    uow = FakeUnitOfWork()

    prepaid_account(uow, postpaid_balance_paise=1_195_400)

    connection = uow.connections.get("ACC-1")
    assert connection.wallet_paise == 1_195_400
    assert connection.supply.state is SupplyState.CONNECTED
    assert connection.supply.cut_at is None


def test_a_connection_before_its_migration_is_never_cut() -> None:
    uow = FakeUnitOfWork()
    clock = FixedClock(NOON_TUESDAY)
    open_connection(
        NewConnection("ACC-1", "Test", "9876500001", "DS-II", 1000, "SUB-1", "SBPDCL"), uow, clock
    )

    decision = evaluate_supply(
        EvaluateSupply("ACC-1"), uow, FixedClock(ist(2025, 8, 20, 11)), POLICIES
    )

    assert decision.action is None
    assert "not yet migrated" in decision.reasons[0]
    assert date(2025, 8, 20)  # a Wednesday, inside the window: only the migration rule holds


def test_every_cut_cycle_gets_its_own_commands_and_messages() -> None:
    from prepaidgrid.services.supply import RecordRelayAck, record_relay_ack

    uow = FakeUnitOfWork()
    prepaid_account(uow)  # zero wallet at install: grace, cut due Wed 06 Aug 10:00

    for cycle, cut_at in enumerate([ist(2025, 8, 6, 10), ist(2025, 8, 8, 10)]):
        evaluate_supply(EvaluateSupply("ACC-1"), uow, FixedClock(cut_at), POLICIES)
        record_relay_ack(RecordRelayAck("ACC-1", False), uow, FixedClock(cut_at), POLICIES)
        back = cut_at + timedelta(hours=8)
        apply_recharge(
            ApplyRecharge("ACC-1", 100, PaymentRef(PaymentChannel.COUNTER, f"R-{cycle}")),
            uow,
            FixedClock(back),
            POLICIES,
        )
        record_relay_ack(RecordRelayAck("ACC-1", True), uow, FixedClock(back), POLICIES)
        reverse_recharge(
            ReverseRecharge(PaymentRef(PaymentChannel.COUNTER, f"R-{cycle}")),
            uow,
            FixedClock(back + timedelta(hours=1)),
            POLICIES,
        )

    actions = [m.payload["action"] for m in uow.outbox.of_kind("relay_command")]
    templates = [m.payload["template"] for m in uow.outbox.of_kind("sms")]
    assert actions == ["disconnect", "reconnect", "disconnect", "reconnect"]
    assert templates.count("disconnected") == 2
    assert templates.count("reconnected") == 2


def test_a_failed_pending_payment_releases_the_held_cut_and_credits_nothing() -> None:
    uow = FakeUnitOfWork()
    prepaid_account(uow)  # zero wallet: cut due Wed 06 Aug 10:00
    ref = PaymentRef(PaymentChannel.BBPS, "BB-2")
    record_pending_payment(
        RecordPendingPayment("ACC-1", 20_000, ref), uow, FixedClock(ist(2025, 8, 6, 9))
    )
    held = evaluate_supply(EvaluateSupply("ACC-1"), uow, FixedClock(ist(2025, 8, 6, 10)), POLICIES)

    failed = fail_payment(FailPayment(ref), uow, FixedClock(ist(2025, 8, 6, 10, 30)), POLICIES)

    assert held.state is SupplyState.GRACE
    assert failed.outcome is RechargeOutcome.FAILED
    assert failed.supply_state is SupplyState.DISCONNECT_SENT  # inside the window: cut now
    assert uow.ledger.balance(wallet("ACC-1")) == 0
    assert [m.payload["action"] for m in uow.outbox.of_kind("relay_command")] == ["disconnect"]


def test_a_credited_payment_cannot_fail_it_must_be_reversed() -> None:
    uow = FakeUnitOfWork()
    prepaid_account(uow)
    ref = PaymentRef(PaymentChannel.APP, "U-3")
    apply_recharge(ApplyRecharge("ACC-1", 5_000, ref), uow, FixedClock(NOON_TUESDAY), POLICIES)

    with pytest.raises(InvalidTransition, match="reverse a credited one"):
        fail_payment(FailPayment(ref), uow, FixedClock(NOON_TUESDAY), POLICIES)

    assert uow.ledger.balance(wallet("ACC-1")) == 5_000
