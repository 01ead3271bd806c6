"""What officers do to an account by hand: reconnect, disconnect, adjust the balance. Each
needs a reason, is allowed by the officer's role, and is written to the audit log in the
same transaction as its effect.

A manual disconnect cannot do what the rules forbid: it cuts now only an account the
supply policy would cut now (balance at or below zero, grace over, inside the cut window,
no pending payment, not in safe mode). Nobody is cut by hand while they can pay; a field
isolation for safety is a lineman's job at the pole, not a remote prepaid cut.
"""

from __future__ import annotations

from dataclasses import dataclass

from prepaidgrid.domain.access import Forbidden, Officer, Permission
from prepaidgrid.domain.errors import InvalidInput, InvalidTransition
from prepaidgrid.domain.ledger import adjustment_journal
from prepaidgrid.domain.supply import (
    SupplyAction,
    SupplyContext,
    SupplyDecision,
    SupplyState,
    decide_supply,
)
from prepaidgrid.domain.units import format_rupees
from prepaidgrid.services.access import AccessUnitOfWork, audit
from prepaidgrid.services.ports import Clock, PolicyBook
from prepaidgrid.services.supply import apply_decision, settle_supply

MIN_REASON = 5
MAX_REASON = 500
MAX_ADJUSTMENT_PAISE = 1_000_000  # ₹10,000: a larger correction is a reversal or a refund


@dataclass(frozen=True, slots=True)
class SupplyOrder:
    account_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Adjustment:
    account_id: str
    amount_paise: int  # positive: credit the wallet; negative: debit it
    reason: str
    request_id: str  # from the form: a resubmitted form adjusts once


@dataclass(frozen=True, slots=True)
class ActionDone:
    account_id: str
    state: SupplyState
    balance_paise: int
    detail: str


def _require(officer: Officer, permission: Permission) -> None:
    if not officer.may(permission):
        raise Forbidden(f"a {officer.role.value} may not {permission.value.replace('_', ' ')}")


def _reason(text: str) -> str:
    reason = text.strip()
    if any((ord(c) < 32 and c not in "\t\n\r") or c == "\x7f" for c in reason):
        raise InvalidInput("a reason is plain text: no control characters")
    if not MIN_REASON <= len(reason) <= MAX_REASON:
        raise InvalidInput(f"give a reason of {MIN_REASON} to {MAX_REASON} characters")
    return reason


def reconnect_by_hand(
    cmd: SupplyOrder, officer: Officer, uow: AccessUnitOfWork, clock: Clock, policies: PolicyBook
) -> ActionDone:
    """Send the reconnect command now, whatever the balance: restoring supply is always
    safe. The rules act again at the next balance change or sweep."""
    _require(officer, Permission.ACT_ON_SUPPLY)
    reason = _reason(cmd.reason)
    at = clock.now()
    with uow:
        connection = uow.connections.lock(cmd.account_id)
        snapshot = connection.supply
        if snapshot.state in (SupplyState.CONNECTED, SupplyState.RECONNECT_SENT):
            raise InvalidTransition(f"supply to {cmd.account_id} is already on or being restored")
        decision = SupplyDecision(
            SupplyState.RECONNECT_SENT,
            SupplyAction.RECONNECT,
            snapshot.zero_at,
            None,
            (f"reconnected by hand by {officer.officer_id}: {reason}",),
        )
        policy = policies.policy(connection.supply_profile)
        apply_decision(uow, connection, connection.wallet_paise, decision, policy, at)
        audit(
            uow,
            officer,
            "reconnect",
            cmd.account_id,
            at,
            reason=reason,
            detail={"from": snapshot.state.value},
        )
        uow.commit()
    return ActionDone(cmd.account_id, decision.state, connection.wallet_paise, "reconnect sent")


def disconnect_by_hand(
    cmd: SupplyOrder, officer: Officer, uow: AccessUnitOfWork, clock: Clock, policies: PolicyBook
) -> ActionDone:
    """Cut now an account the rules would cut now; otherwise refuse, saying why."""
    _require(officer, Permission.ACT_ON_SUPPLY)
    reason = _reason(cmd.reason)
    at = clock.now()
    with uow:
        connection = uow.connections.lock(cmd.account_id)
        policy = policies.policy(connection.supply_profile)
        context = SupplyContext(
            at=at,
            balance_paise=connection.wallet_paise,
            pending_paise=uow.payments.pending_paise(connection.account_id),
            is_safe_mode=uow.platform.is_safe_mode(),
        )
        decision = decide_supply(
            connection.supply, context, policy, policies.no_cut_days(connection.supply_profile)
        )
        if decision.action is not SupplyAction.DISCONNECT:
            why = "; ".join(decision.reasons) or f"supply is {decision.state.value}"
            raise InvalidTransition(f"the rules do not allow a cut of {cmd.account_id} now: {why}")
        apply_decision(uow, connection, connection.wallet_paise, decision, policy, at)
        audit(
            uow,
            officer,
            "disconnect",
            cmd.account_id,
            at,
            reason=reason,
            detail={"balance_paise": connection.wallet_paise},
        )
        uow.commit()
    return ActionDone(cmd.account_id, decision.state, connection.wallet_paise, "disconnect sent")


def adjust_balance(
    cmd: Adjustment, officer: Officer, uow: AccessUnitOfWork, clock: Clock, policies: PolicyBook
) -> ActionDone:
    """Credit or debit a wallet with its own journal. A debit that empties it starts the
    normal grace (with its warning), never an instant cut; a credit may reconnect."""
    _require(officer, Permission.ADJUST_BALANCE)
    reason = _reason(cmd.reason)
    if cmd.amount_paise == 0 or abs(cmd.amount_paise) > MAX_ADJUSTMENT_PAISE:
        raise InvalidInput(
            f"an adjustment is between {format_rupees(1)} and "
            f"{format_rupees(MAX_ADJUSTMENT_PAISE)}, either way"
        )
    if not 8 <= len(cmd.request_id) <= 64:
        raise InvalidInput("the form's request id is missing: reload the page")
    at = clock.now()
    with uow:
        connection = uow.connections.lock(cmd.account_id)
        journal = adjustment_journal(
            cmd.account_id, cmd.amount_paise, cmd.request_id, at, f"{officer.officer_id}: {reason}"
        )
        if uow.ledger.has(journal.key):
            return ActionDone(
                cmd.account_id, connection.supply.state, connection.wallet_paise, "already done"
            )
        uow.ledger.add(journal)
        balance = connection.wallet_paise + cmd.amount_paise
        decision = settle_supply(uow, connection, balance, at, policies)
        audit(
            uow,
            officer,
            "adjust_balance",
            cmd.account_id,
            at,
            reason=reason,
            detail={"amount_paise": cmd.amount_paise, "balance_paise": balance},
        )
        uow.commit()
    return ActionDone(cmd.account_id, decision.state, balance, format_rupees(cmd.amount_paise))


def act_on_account(
    action: str,
    cmd: SupplyOrder | Adjustment,
    officer: Officer,
    uow: AccessUnitOfWork,
    clock: Clock,
    policies: PolicyBook,
) -> ActionDone:
    """One of the manual actions by name ("reconnect", "disconnect", "adjust"), as the
    portal's forms and the officer API name them."""
    if isinstance(cmd, Adjustment):
        return adjust_balance(cmd, officer, uow, clock, policies)
    if action == "reconnect":
        return reconnect_by_hand(cmd, officer, uow, clock, policies)
    if action == "disconnect":
        return disconnect_by_hand(cmd, officer, uow, clock, policies)
    raise InvalidInput(f"no manual action {action!r}")
