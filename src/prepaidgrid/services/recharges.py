"""Recharge use cases: credit a confirmed payment exactly once, hold a pending one, reverse."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from prepaidgrid.domain.arrears import recharge_share_paise
from prepaidgrid.domain.errors import (
    Conflict,
    DuplicateJournal,
    DuplicatePayment,
    InvalidTransition,
    UnknownPayment,
)
from prepaidgrid.domain.ledger import PaymentRef, recharge_journal, reversal_journal
from prepaidgrid.domain.notifications import Template
from prepaidgrid.domain.supply import SupplyState
from prepaidgrid.domain.units import format_rupees, require_paise
from prepaidgrid.services.ports import Clock, PaymentRecord, PolicyBook, UnitOfWork
from prepaidgrid.services.supply import queue_sms, settle_supply


class RechargeOutcome(StrEnum):
    APPLIED = "applied"
    ALREADY_APPLIED = "already_applied"
    PENDING = "pending"
    REVERSED = "reversed"
    ALREADY_REVERSED = "already_reversed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class RechargeResult:
    outcome: RechargeOutcome
    account_id: str
    balance_paise: int | None = None
    supply_state: SupplyState | None = None
    reconnect_queued: bool = False


@dataclass(frozen=True, slots=True)
class ApplyRecharge:
    account_id: str
    amount_paise: int
    payment: PaymentRef  # (channel, channel's reference); retries repeat it


@dataclass(frozen=True, slots=True)
class RecordPendingPayment:
    account_id: str
    amount_paise: int
    payment: PaymentRef


@dataclass(frozen=True, slots=True)
class ReverseRecharge:
    payment: PaymentRef


@dataclass(frozen=True, slots=True)
class FailPayment:
    payment: PaymentRef


def _same_payment(existing: PaymentRecord, account_id: str, amount_paise: int) -> None:
    if existing.account_id != account_id or existing.amount_paise != amount_paise:
        raise Conflict(
            f"payment {existing.ref.channel.value}:{existing.ref.reference} is already recorded "
            f"for account {existing.account_id} and {format_rupees(existing.amount_paise)}"
        )


def record_pending_payment(
    cmd: RecordPendingPayment, uow: UnitOfWork, clock: Clock
) -> RechargeResult:
    """A channel says a payment is under way: no credit yet, but no cut while it covers the debt."""
    require_paise(cmd.amount_paise)
    try:
        with uow:
            result = hold_pending(cmd, uow, clock.now())
            uow.commit()
    except DuplicatePayment:
        pass
    else:
        return result
    return RechargeResult(RechargeOutcome.PENDING, cmd.account_id)


def hold_pending(cmd: RecordPendingPayment, uow: UnitOfWork, at: datetime) -> RechargeResult:
    """record_pending_payment's work inside the caller's transaction."""
    existing = uow.payments.get(cmd.payment)
    if existing is not None:
        _same_payment(existing, cmd.account_id, cmd.amount_paise)
        return RechargeResult(RechargeOutcome.PENDING, cmd.account_id)
    uow.connections.get(cmd.account_id)
    uow.payments.add(PaymentRecord(cmd.payment, cmd.account_id, cmd.amount_paise, "pending", at))
    return RechargeResult(RechargeOutcome.PENDING, cmd.account_id)


def apply_recharge(
    cmd: ApplyRecharge, uow: UnitOfWork, clock: Clock, policies: PolicyBook
) -> RechargeResult:
    """Credit a confirmed recharge exactly once, however often or concurrently it arrives.

    The account's row lock serialises recharges of one account; the unique (channel,
    reference) and journal key are the guarantee when two retries race anyway.
    """
    require_paise(cmd.amount_paise)
    try:
        with uow:
            result = credit_recharge(cmd, uow, clock.now(), policies)
            uow.commit()
    except (DuplicatePayment, DuplicateJournal):
        return _already_applied(uow, cmd.account_id)
    return result


def credit_recharge(
    cmd: ApplyRecharge, uow: UnitOfWork, at: datetime, policies: PolicyBook
) -> RechargeResult:
    """apply_recharge's work inside a transaction the caller owns (and commits): a channel
    that must record its own state with the credit (a gateway order) does both at once.
    Raises DuplicatePayment or DuplicateJournal when a concurrent retry got there first."""
    require_paise(cmd.amount_paise)
    connection = uow.connections.lock(cmd.account_id)
    existing = uow.payments.get(cmd.payment)
    if existing is not None:
        _same_payment(existing, cmd.account_id, cmd.amount_paise)
        # pending: now confirmed; failed: the channel confirms it after all (a late
        # capture is money taken). Credited or reversed: done already.
        if existing.status not in ("pending", "failed"):
            return RechargeResult(
                RechargeOutcome.ALREADY_APPLIED,
                cmd.account_id,
                connection.wallet_paise,
                connection.supply.state,
            )
    share = recharge_share_paise(
        connection.arrears_plan, cmd.amount_paise, connection.outstanding_arrears_paise
    )
    if existing is None:
        uow.payments.add(
            PaymentRecord(cmd.payment, cmd.account_id, cmd.amount_paise, "credited", at, share)
        )
    else:
        uow.payments.set_status(cmd.payment, "credited", at, share)
    uow.ledger.add(recharge_journal(cmd.account_id, cmd.amount_paise, cmd.payment, at, share))
    balance = connection.wallet_paise + cmd.amount_paise - share
    queue_sms(
        uow,
        connection,
        Template.RECHARGE_RECEIVED,
        {
            "account_id": cmd.account_id,
            "amount": format_rupees(cmd.amount_paise),
            "balance": format_rupees(balance),
        },
        f"sms:recharge:{cmd.payment.channel.value}:{cmd.payment.reference}",
        at,
    )
    decision = settle_supply(uow, connection, balance, at, policies)
    return RechargeResult(
        RechargeOutcome.APPLIED,
        cmd.account_id,
        balance,
        decision.state,
        reconnect_queued=decision.state is SupplyState.RECONNECT_SENT
        and connection.supply.state is not SupplyState.RECONNECT_SENT,
    )


def _already_applied(uow: UnitOfWork, account_id: str) -> RechargeResult:
    with uow:
        connection = uow.connections.get(account_id)
    return RechargeResult(
        RechargeOutcome.ALREADY_APPLIED,
        account_id,
        connection.wallet_paise,
        connection.supply.state,
    )


def reverse_recharge(
    cmd: ReverseRecharge, uow: UnitOfWork, clock: Clock, policies: PolicyBook
) -> RechargeResult:
    """Undo a credited payment with its own journal; a balance taken to zero starts the
    normal grace (and its warning), never an instant cut."""
    at = clock.now()
    try:
        with uow:
            payment = uow.payments.get(cmd.payment)
            if payment is None:
                raise UnknownPayment(
                    f"no payment {cmd.payment.channel.value}:{cmd.payment.reference}"
                )
            if payment.status == "reversed":
                return RechargeResult(RechargeOutcome.ALREADY_REVERSED, payment.account_id)
            if payment.status != "credited":
                raise InvalidTransition(
                    f"payment {cmd.payment.reference} is {payment.status}: only a credited "
                    "payment can be reversed"
                )
            connection = uow.connections.lock(payment.account_id)
            share = payment.arrears_share_paise
            uow.ledger.add(
                reversal_journal(payment.account_id, payment.amount_paise, cmd.payment, at, share)
            )
            uow.payments.set_status(cmd.payment, "reversed", at, share)
            balance = connection.wallet_paise - (payment.amount_paise - share)
            queue_sms(
                uow,
                connection,
                Template.RECHARGE_REVERSED,
                {
                    "account_id": payment.account_id,
                    "amount": format_rupees(payment.amount_paise),
                    "balance": format_rupees(balance),
                },
                f"sms:reversal:{cmd.payment.channel.value}:{cmd.payment.reference}",
                at,
            )
            decision = settle_supply(uow, connection, balance, at, policies)
            uow.commit()
    except DuplicateJournal:
        return RechargeResult(RechargeOutcome.ALREADY_REVERSED, "")
    return RechargeResult(RechargeOutcome.REVERSED, payment.account_id, balance, decision.state)


def fail_payment(
    cmd: FailPayment, uow: UnitOfWork, clock: Clock, policies: PolicyBook
) -> RechargeResult:
    """The channel says a pending payment failed: nothing is credited, and a cut it was
    holding is due again (at the next sweep, inside the window as always)."""
    with uow:
        result = release_failed(cmd, uow, clock.now(), policies)
        uow.commit()
    return result


def release_failed(
    cmd: FailPayment, uow: UnitOfWork, at: datetime, policies: PolicyBook
) -> RechargeResult:
    """fail_payment's work inside the caller's transaction."""
    payment = uow.payments.get(cmd.payment)
    if payment is None:
        raise UnknownPayment(f"no payment {cmd.payment.channel.value}:{cmd.payment.reference}")
    if payment.status == "failed":
        return RechargeResult(RechargeOutcome.FAILED, payment.account_id)
    if payment.status != "pending":
        raise InvalidTransition(
            f"payment {cmd.payment.reference} is {payment.status}: only a pending payment "
            "can fail (reverse a credited one)"
        )
    connection = uow.connections.lock(payment.account_id)
    uow.payments.set_status(cmd.payment, "failed", at)
    decision = settle_supply(uow, connection, connection.wallet_paise, at, policies)
    return RechargeResult(
        RechargeOutcome.FAILED, payment.account_id, connection.wallet_paise, decision.state
    )
