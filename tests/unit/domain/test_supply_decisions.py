"""The supply state machine: grace, holds, cuts, reconnection (worked examples 3, 4, 5)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prepaidgrid.domain.supply import (
    SupplyAction,
    SupplyContext,
    SupplyDecision,
    SupplySnapshot,
    SupplyState,
    confirm_relay,
    decide_supply,
    is_cut_allowed_at,
    next_cut_at,
    reconnect_compensation_paise,
)
from prepaidgrid.domain.units import IST
from tests.unit.domain.example_policy import EXAMPLE_POLICY, is_sunday, ist

POLICY = EXAMPLE_POLICY
ZERO_AT = datetime(2025, 8, 5, 9, 0, tzinfo=IST)  # a Tuesday
CUT_AT = datetime(2025, 8, 6, 10, 0, tzinfo=IST)  # Wednesday, the window opens


def decide(snapshot: SupplySnapshot, context: SupplyContext) -> SupplyDecision:
    return decide_supply(snapshot, context, POLICY, is_sunday)


def due(**changes: object) -> SupplySnapshot:
    """A connection in grace whose cut is due at CUT_AT and whose consumer was warned."""
    snapshot = SupplySnapshot(SupplyState.GRACE, ZERO_AT, ZERO_AT, CUT_AT)
    return replace(snapshot, **changes)  # type: ignore[arg-type]


def test_zero_balance_starts_the_grace_and_schedules_the_cut() -> None:
    connected = SupplySnapshot(SupplyState.CONNECTED)

    decision = decide(connected, SupplyContext(at=ZERO_AT, balance_paise=0))

    assert decision.action is SupplyAction.START_GRACE
    assert decision.state is SupplyState.GRACE
    assert (decision.zero_at, decision.cut_at) == (ZERO_AT, CUT_AT)
    assert "earliest cut: Wed 2025-08-06 10:00 IST" in decision.reasons


def test_grace_runs_from_a_warning_queued_after_the_zero() -> None:
    connected = SupplySnapshot(SupplyState.CONNECTED, warned_at=ist("2025-08-05T11:30"))

    decision = decide(connected, SupplyContext(at=ZERO_AT, balance_paise=-500))

    assert decision.zero_at == ZERO_AT
    assert decision.cut_at == ist("2025-08-06T11:30")


def test_positive_balance_keeps_a_connection_connected() -> None:
    connected = SupplySnapshot(SupplyState.CONNECTED)

    decision = decide(connected, SupplyContext(at=ZERO_AT, balance_paise=1))

    assert (decision.state, decision.action) == (SupplyState.CONNECTED, None)


def test_worked_example_3_recharge_during_grace_cancels_the_cut() -> None:
    in_grace = due()

    decision = decide(in_grace, SupplyContext(at=ist("2025-08-05T18:00"), balance_paise=20_000))

    assert decision.action is SupplyAction.CANCEL_CUT
    assert decision.state is SupplyState.CONNECTED
    assert (decision.zero_at, decision.cut_at) == (None, None)


def test_nothing_happens_before_the_cut_is_due() -> None:
    in_grace = due()

    decision = decide(in_grace, SupplyContext(at=ist("2025-08-06T09:59"), balance_paise=-100))

    assert (decision.state, decision.action, decision.cut_at) == (SupplyState.GRACE, None, CUT_AT)


def test_a_due_cut_in_the_window_disconnects() -> None:
    in_grace = due()

    decision = decide(in_grace, SupplyContext(at=CUT_AT, balance_paise=-100))

    assert decision.action is SupplyAction.DISCONNECT
    assert decision.state is SupplyState.DISCONNECT_SENT
    assert decision.cut_at == CUT_AT


def test_worked_example_4_recharge_above_zero_reconnects_at_once() -> None:
    disconnected = SupplySnapshot(SupplyState.DISCONNECTED, ZERO_AT, ZERO_AT, CUT_AT)
    sunday_night = ist("2025-08-10T23:00")  # reconnection ignores windows and Sundays

    decision = decide(disconnected, SupplyContext(at=sunday_night, balance_paise=-12_000 + 50_000))

    assert decision.action is SupplyAction.RECONNECT
    assert decision.state is SupplyState.RECONNECT_SENT
    assert decision.reasons[0] == "balance ₹380.00 is above zero: reconnect now"


def test_worked_example_4_recharge_short_of_the_debt_stays_disconnected() -> None:
    disconnected = SupplySnapshot(SupplyState.DISCONNECTED, ZERO_AT, ZERO_AT, CUT_AT)

    decision = decide(disconnected, SupplyContext(at=CUT_AT, balance_paise=-12_000 + 10_000))

    assert (decision.state, decision.action) == (SupplyState.DISCONNECTED, None)
    assert decision.reasons[0].startswith("balance -₹20.00 is not above zero")


def test_recharge_while_the_cut_is_in_flight_reconnects() -> None:
    sent = SupplySnapshot(SupplyState.DISCONNECT_SENT, ZERO_AT, ZERO_AT, CUT_AT)

    decision = decide(sent, SupplyContext(at=CUT_AT, balance_paise=100))

    assert decision.action is SupplyAction.RECONNECT


def test_worked_example_5_pending_payment_covering_the_debt_holds_the_cut() -> None:
    in_grace = due()

    decision = decide(
        in_grace, SupplyContext(at=CUT_AT, balance_paise=-12_000, pending_paise=50_000)
    )

    assert decision.action is SupplyAction.HOLD
    assert decision.state is SupplyState.GRACE
    assert decision.cut_at == CUT_AT  # re-checked as soon as the payment settles
    assert any("pending payment of ₹500.00 would cover" in r for r in decision.reasons)


def test_pending_payment_short_of_the_debt_does_not_hold_the_cut() -> None:
    in_grace = due()

    decision = decide(
        in_grace, SupplyContext(at=CUT_AT, balance_paise=-12_000, pending_paise=12_000)
    )

    assert decision.action is SupplyAction.DISCONNECT


def test_safe_mode_holds_the_cut_and_restarts_the_grace() -> None:
    in_grace = due()

    decision = decide(in_grace, SupplyContext(at=CUT_AT, balance_paise=-100, is_safe_mode=True))

    assert decision.action is SupplyAction.HOLD
    assert decision.cut_at == ist("2025-08-07T10:00")
    assert any("safe mode" in r for r in decision.reasons)


def test_no_cut_before_the_consumer_was_warned() -> None:
    unwarned = due(warned_at=None)

    decision = decide(unwarned, SupplyContext(at=CUT_AT, balance_paise=-100))

    assert decision.action is SupplyAction.HOLD
    assert decision.cut_at == ist("2025-08-07T10:00")  # the full grace after the warning


def test_a_late_warning_buys_the_full_grace() -> None:
    warned_late = due(warned_at=ist("2025-08-05T12:00"))

    decision = decide(warned_late, SupplyContext(at=CUT_AT, balance_paise=-100))

    assert decision.action is SupplyAction.HOLD
    assert decision.cut_at == ist("2025-08-06T12:00")


def test_a_late_evaluator_does_not_cut_after_the_window() -> None:
    in_grace = due()

    decision = decide(in_grace, SupplyContext(at=ist("2025-08-06T15:00"), balance_paise=-100))

    assert decision.action is SupplyAction.HOLD
    assert decision.cut_at == ist("2025-08-07T10:00")
    assert "Wed 2025-08-06 15:00 IST is outside the 10:00–13:00 cut window" in decision.reasons


def test_a_due_cut_is_not_carried_out_on_sunday() -> None:
    in_grace = due(cut_at=ist("2025-08-09T12:00"))

    decision = decide(in_grace, SupplyContext(at=ist("2025-08-10T11:00"), balance_paise=-100))

    assert decision.action is SupplyAction.HOLD
    assert decision.cut_at == ist("2025-08-11T10:00")
    assert "Sunday 2025-08-10: no cuts on Sundays" in decision.reasons


def test_disconnect_is_confirmed_by_an_open_relay() -> None:
    sent = SupplySnapshot(SupplyState.DISCONNECT_SENT, ZERO_AT, ZERO_AT, CUT_AT)

    decision = confirm_relay(sent, False, SupplyContext(CUT_AT, -100), POLICY, is_sunday)

    assert (decision.state, decision.action) == (SupplyState.DISCONNECTED, None)


def test_reconnect_is_confirmed_by_a_closed_relay() -> None:
    sent = SupplySnapshot(SupplyState.RECONNECT_SENT)

    decision = confirm_relay(sent, True, SupplyContext(CUT_AT, 38_000), POLICY, is_sunday)

    assert (decision.state, decision.action) == (SupplyState.CONNECTED, None)


def test_a_reversal_before_the_reconnect_ack_starts_a_fresh_grace_never_a_cut() -> None:
    sent = SupplySnapshot(SupplyState.RECONNECT_SENT, warned_at=ZERO_AT)
    at = ist("2025-08-06T11:00")

    decision = confirm_relay(sent, True, SupplyContext(at, -2_000), POLICY, is_sunday)

    assert decision.action is SupplyAction.START_GRACE
    assert decision.state is SupplyState.GRACE
    assert (decision.zero_at, decision.cut_at) == (at, ist("2025-08-07T11:00"))


def test_a_reversal_on_a_connected_account_starts_the_normal_grace() -> None:
    connected = SupplySnapshot(SupplyState.CONNECTED)

    decision = decide(connected, SupplyContext(at=ist("2025-08-06T11:00"), balance_paise=-1))

    assert decision.action is SupplyAction.START_GRACE


@pytest.mark.parametrize(
    ("state", "is_closed"),
    [
        (SupplyState.DISCONNECT_SENT, True),
        (SupplyState.RECONNECT_SENT, False),
        (SupplyState.CONNECTED, False),
        (SupplyState.GRACE, True),
        (SupplyState.DISCONNECTED, True),
    ],
)
def test_an_ack_that_does_not_match_leaves_the_state_alone(
    state: SupplyState, is_closed: bool
) -> None:
    snapshot = SupplySnapshot(state, ZERO_AT, ZERO_AT, CUT_AT)

    decision = confirm_relay(snapshot, is_closed, SupplyContext(CUT_AT, -100), POLICY, is_sunday)

    assert (decision.state, decision.action, decision.cut_at) == (state, None, CUT_AT)
    assert "state unchanged" in decision.reasons[0]


def test_reconnection_carries_the_deadline_and_late_reconnection_owes_compensation() -> None:
    up_like = replace(
        POLICY, reconnect_deadline=timedelta(hours=2), reconnect_compensation_paise_per_day=5_000
    )
    disconnected = SupplySnapshot(SupplyState.DISCONNECTED)
    at = ist("2025-08-06T20:00")

    decision = decide_supply(disconnected, SupplyContext(at, 100), up_like, is_sunday)

    assert decision.reconnect_by == at + timedelta(hours=2)
    assert reconnect_compensation_paise(up_like, at, at + timedelta(hours=2)) == 0
    assert reconnect_compensation_paise(up_like, at, at + timedelta(hours=3)) == 5_000
    assert reconnect_compensation_paise(up_like, at, at + timedelta(days=1, hours=3)) == 10_000
    assert reconnect_compensation_paise(POLICY, at, at + timedelta(days=9)) == 0


# --- properties -----------------------------------------------------------------------

INSTANTS = st.datetimes(
    min_value=datetime(2024, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=datetime(2027, 12, 31),  # noqa: DTZ001
    timezones=st.just(IST),
)
OFFSETS = st.timedeltas(min_value=timedelta(days=-5), max_value=timedelta(days=5))


@settings(max_examples=400, deadline=None)
@given(
    at=INSTANTS,
    state=st.sampled_from(SupplyState),
    balance=st.integers(-100_000, 100_000),
    pending=st.integers(0, 100_000),
    is_safe_mode=st.booleans(),
    warned=st.none() | OFFSETS,
    cut=st.none() | OFFSETS,
)
def test_a_cut_is_never_ordered_when_a_rule_forbids_it(
    at: datetime,
    state: SupplyState,
    balance: int,
    pending: int,
    is_safe_mode: bool,
    warned: timedelta | None,
    cut: timedelta | None,
) -> None:
    snapshot = SupplySnapshot(
        state,
        zero_at=at - timedelta(days=1),
        warned_at=None if warned is None else at + warned,
        cut_at=None if cut is None else at + cut,
    )
    context = SupplyContext(at, balance, pending, is_safe_mode)

    decision = decide(snapshot, context)

    if decision.action is SupplyAction.DISCONNECT:
        assert not is_safe_mode
        assert balance <= 0
        assert balance + pending <= 0
        assert snapshot.warned_at is not None
        assert next_cut_at(snapshot.warned_at, POLICY, is_sunday) <= at
        assert is_cut_allowed_at(at, POLICY, is_sunday)
    if decision.action is SupplyAction.HOLD and decision.cut_at != snapshot.cut_at:
        assert decision.cut_at is not None
        assert decision.cut_at > at
        assert is_cut_allowed_at(decision.cut_at, POLICY, is_sunday)


def blocked_by(
    rule: str, snapshot: SupplySnapshot, context: SupplyContext
) -> tuple[SupplySnapshot, SupplyContext]:
    """The same due cut with exactly one rule that forbids it."""
    if rule == "safe mode":
        return snapshot, replace(context, is_safe_mode=True)
    if rule == "covering pending payment":
        return snapshot, replace(context, pending_paise=-context.balance_paise + 1)
    if rule == "no warning":
        return replace(snapshot, warned_at=None), context
    if rule == "balance above zero":
        return snapshot, replace(context, balance_paise=1)
    local = context.at.astimezone(IST)  # "outside the window": same day, after it closes
    after_window = datetime.combine(local.date(), POLICY.window_end, tzinfo=IST)
    return snapshot, replace(context, at=after_window + timedelta(minutes=local.minute))


RULES = ["safe mode", "covering pending payment", "no warning", "balance above zero", "outside"]


@settings(max_examples=150, deadline=None)
@given(zero=INSTANTS, rule=st.sampled_from(RULES), minutes=st.integers(0, 59))
def test_an_otherwise_due_cut_is_stopped_by_each_rule(
    zero: datetime, rule: str, minutes: int
) -> None:
    cut_at = next_cut_at(zero, POLICY, is_sunday)
    at = max(cut_at, datetime.combine(cut_at.astimezone(IST).date(), time(10, minutes), tzinfo=IST))
    due_cut = SupplySnapshot(SupplyState.GRACE, zero, zero, cut_at)
    context = SupplyContext(at, balance_paise=-10_000)
    snapshot, blocked_context = blocked_by(rule, due_cut, context)

    unblocked = decide(due_cut, context)
    blocked = decide(snapshot, blocked_context)

    assert unblocked.action is SupplyAction.DISCONNECT
    assert blocked.action is not SupplyAction.DISCONNECT


def test_a_grace_without_a_scheduled_cut_gets_one_instead_of_a_cut() -> None:
    unscheduled = due(cut_at=None)

    decision = decide(unscheduled, SupplyContext(at=CUT_AT, balance_paise=-100))

    assert decision.action is SupplyAction.HOLD
    assert decision.cut_at == ist("2025-08-07T10:00")


def test_an_open_ack_after_a_recharge_reconnects_at_once() -> None:
    sent = SupplySnapshot(SupplyState.DISCONNECT_SENT, ZERO_AT, ZERO_AT, CUT_AT)

    decision = confirm_relay(sent, False, SupplyContext(CUT_AT, 5_000), POLICY, is_sunday)

    assert (decision.state, decision.action) == (SupplyState.RECONNECT_SENT, SupplyAction.RECONNECT)
