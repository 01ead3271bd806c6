"""The BBPS biller API: UPI apps and bank apps pay through Bharat BillPay.

fetch (the balance and what would bring it back above zero) → validate (the amount) →
payment (credited once per BBPS reference, reconnect queued) → status by reference →
reversal (its own journal; a balance it takes to zero starts the normal grace).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from prepaidgrid.domain.errors import InvalidInput, UnknownPayment
from prepaidgrid.domain.ledger import PaymentChannel, PaymentRef
from prepaidgrid.domain.units import format_rupees, require_paise
from prepaidgrid.services.gateway import MAX_RECHARGE_PAISE
from prepaidgrid.services.ports import ChannelUnitOfWork, Clock, PolicyBook
from prepaidgrid.services.recharges import (
    ApplyRecharge,
    RechargeResult,
    ReverseRecharge,
    apply_recharge,
    reverse_recharge,
)

MIN_RECHARGE_PAISE = 100


@dataclass(frozen=True, slots=True)
class Bill:
    account_id: str
    balance_paise: int
    due_paise: int  # what brings the balance back above zero (0 if it is above)
    supply_state: str
    min_paise: int = MIN_RECHARGE_PAISE
    max_paise: int = MAX_RECHARGE_PAISE


@dataclass(frozen=True, slots=True)
class BbpsPayment:
    bbps_ref: str
    account_id: str
    amount_paise: int
    status: str  # pending | credited | reversed | failed
    balance_paise: int | None = None
    supply_state: str | None = None


def fetch_bill(account_id: str, uow: ChannelUnitOfWork) -> Bill:
    with uow:
        connection = uow.connections.get(account_id)
    if not connection.is_prepaid:
        raise InvalidInput(f"account {account_id} is not on prepaid metering")
    due = 0 if connection.wallet_paise > 0 else -connection.wallet_paise + MIN_RECHARGE_PAISE
    return Bill(account_id, connection.wallet_paise, due, connection.supply.state.value)


def validate_amount(amount_paise: int) -> None:
    require_paise(amount_paise)
    if not MIN_RECHARGE_PAISE <= amount_paise <= MAX_RECHARGE_PAISE:
        raise InvalidInput(
            f"a recharge is between {format_rupees(MIN_RECHARGE_PAISE)} and "
            f"{format_rupees(MAX_RECHARGE_PAISE)}, not {format_rupees(amount_paise)}"
        )


def post_payment(
    bbps_ref: str,
    account_id: str,
    amount_paise: int,
    new_uow: Callable[[], ChannelUnitOfWork],
    clock: Clock,
    policies: PolicyBook,
) -> BbpsPayment:
    """Credit a BBPS payment once per reference, however often BBPS retries it; the same
    reference for another account or amount is refused (Conflict) and writes nothing."""
    validate_amount(amount_paise)
    ref = PaymentRef(PaymentChannel.BBPS, bbps_ref)
    fetch_bill(account_id, new_uow())  # unknown or postpaid accounts are refused first
    result: RechargeResult = apply_recharge(
        ApplyRecharge(account_id, amount_paise, ref), new_uow(), clock, policies
    )
    return BbpsPayment(
        bbps_ref,
        account_id,
        amount_paise,
        "credited",
        result.balance_paise,
        result.supply_state.value if result.supply_state else None,
    )


def payment_status(bbps_ref: str, uow: ChannelUnitOfWork) -> BbpsPayment:
    with uow:
        payment = uow.payments.get(PaymentRef(PaymentChannel.BBPS, bbps_ref))
    if payment is None:
        raise UnknownPayment(f"no BBPS payment {bbps_ref}")
    return BbpsPayment(bbps_ref, payment.account_id, payment.amount_paise, payment.status)


def reverse_payment(
    bbps_ref: str,
    new_uow: Callable[[], ChannelUnitOfWork],
    clock: Clock,
    policies: PolicyBook,
) -> BbpsPayment:
    result = reverse_recharge(
        ReverseRecharge(PaymentRef(PaymentChannel.BBPS, bbps_ref)), new_uow(), clock, policies
    )
    status = payment_status(bbps_ref, new_uow())
    return BbpsPayment(
        bbps_ref,
        status.account_id,
        status.amount_paise,
        status.status,
        result.balance_paise,
        result.supply_state.value if result.supply_state else None,
    )
