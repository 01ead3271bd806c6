"""The double-entry ledger: journals of postings that always sum to zero.

Sign convention (credit-positive, as on the account holder's own statement): a posting's
amount is added to its account's balance, and every account's balance is the sum of its
postings. So a consumer's wallet balance is their prepaid money (negative: they owe), the
arrears account is negative while old dues are outstanding, revenue and duty payable grow
positive, and what others owe the DISCOM (subsidy receivable, money held by a payment
channel) grows negative. A journal's postings sum to zero, so the whole ledger sums to zero.

Only consumer accounts (wallet, arrears) carry a materialised balance; the utility's own
accounts are derived from postings so that no payment ever waits on a shared hot row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from prepaidgrid.domain.errors import DomainError
from prepaidgrid.domain.units import require_utc


class LedgerError(DomainError):
    """A journal that breaks double entry: a bug, never a user's mistake."""


class PaymentChannel(StrEnum):
    APP = "app"
    WEBSITE = "website"
    COUNTER = "counter"
    BBPS = "bbps"


@dataclass(frozen=True, slots=True)
class PaymentRef:
    """A payment as the outside world names it: retries repeat it, so it is the key."""

    channel: PaymentChannel
    reference: str

    def __post_init__(self) -> None:
        if not self.reference.strip() or len(self.reference) > 100:
            raise LedgerError("a payment reference must be 1 to 100 characters")


class JournalKind(StrEnum):
    RECHARGE = "recharge"
    REVERSAL = "reversal"
    CHARGE = "charge"
    CHARGE_RUN = "charge_run"  # a billing run's partition: many accounts' days in one journal
    TRUE_UP = "true_up"  # estimated days settled against real reads: the difference
    INSTALMENT = "instalment"
    OPENING = "opening"
    ADJUSTMENT = "adjustment"


class AccountKind(StrEnum):
    WALLET = "wallet"
    ARREARS = "arrears"
    REVENUE_ENERGY = "revenue_energy"
    REVENUE_FIXED = "revenue_fixed"
    DUTY_PAYABLE = "duty_payable"
    SUBSIDY_RECEIVABLE = "subsidy_receivable"
    REBATE_EXPENSE = "rebate_expense"
    CHANNEL_CLEARING = "channel_clearing"
    POSTPAID_MIGRATION = "postpaid_migration"
    MANUAL_ADJUSTMENT = "manual_adjustment"


CONSUMER_KINDS = frozenset({AccountKind.WALLET, AccountKind.ARREARS})

REVENUE_ENERGY = "revenue:energy"
REVENUE_FIXED = "revenue:fixed"
DUTY_PAYABLE = "duty:payable"
SUBSIDY_RECEIVABLE = "subsidy:receivable"
REBATE_EXPENSE = "rebate:prepaid"
POSTPAID_MIGRATION = "migration:postpaid"
MANUAL_ADJUSTMENTS = "adjustment:manual"  # officers' corrections, each audited with a reason

UTILITY_ACCOUNTS: dict[str, AccountKind] = {
    REVENUE_ENERGY: AccountKind.REVENUE_ENERGY,
    REVENUE_FIXED: AccountKind.REVENUE_FIXED,
    DUTY_PAYABLE: AccountKind.DUTY_PAYABLE,
    SUBSIDY_RECEIVABLE: AccountKind.SUBSIDY_RECEIVABLE,
    REBATE_EXPENSE: AccountKind.REBATE_EXPENSE,
    POSTPAID_MIGRATION: AccountKind.POSTPAID_MIGRATION,
    MANUAL_ADJUSTMENTS: AccountKind.MANUAL_ADJUSTMENT,
    **{f"clearing:{c.value}": AccountKind.CHANNEL_CLEARING for c in PaymentChannel},
}


def wallet(account_id: str) -> str:
    return f"wallet:{account_id}"


def arrears(account_id: str) -> str:
    return f"arrears:{account_id}"


def clearing(channel: PaymentChannel) -> str:
    return f"clearing:{channel.value}"


@dataclass(frozen=True, slots=True)
class Posting:
    ledger_account: str
    amount_paise: int


@dataclass(frozen=True, slots=True)
class Journal:
    """One business event in the ledger; `key` comes from the outside world (idempotency)."""

    key: str
    kind: JournalKind
    posted_at: datetime
    postings: tuple[Posting, ...]
    account_id: str | None = None
    memo: str = ""

    def __post_init__(self) -> None:
        require_utc(self.posted_at)
        if len(self.postings) < 2:
            raise LedgerError(f"journal {self.key} needs at least two postings")
        if any(p.amount_paise == 0 for p in self.postings):
            raise LedgerError(f"journal {self.key} has a zero posting")
        if sum(p.amount_paise for p in self.postings) != 0:
            raise LedgerError(f"journal {self.key} does not balance")


def journal(
    key: str,
    kind: JournalKind,
    posted_at: datetime,
    amounts: dict[str, int],
    account_id: str | None = None,
    memo: str = "",
) -> Journal:
    """Build a journal from {ledger account: amount}, dropping zero lines."""
    postings = tuple(Posting(code, amount) for code, amount in amounts.items() if amount != 0)
    return Journal(key, kind, require_utc(posted_at), postings, account_id, memo)


def recharge_key(payment: PaymentRef) -> str:
    return f"recharge:{payment.channel.value}:{payment.reference}"


def reversal_key(payment: PaymentRef) -> str:
    return f"reversal:{payment.channel.value}:{payment.reference}"


def charge_key(account_id: str, bill_day: date) -> str:
    return f"charge:{account_id}:{bill_day.isoformat()}"


def instalment_key(account_id: str, bill_day: date) -> str:
    return f"instalment:{account_id}:{bill_day.isoformat()}"


def adjustment_key(account_id: str, request_id: str) -> str:
    return f"adjustment:{account_id}:{request_id}"


def adjustment_journal(
    account_id: str, amount_paise: int, request_id: str, at: datetime, memo: str
) -> Journal:
    """An officer's correction of a wallet: positive credits it, negative debits it. The
    request id comes from the form, so a resubmitted form adjusts once."""
    return journal(
        adjustment_key(account_id, request_id),
        JournalKind.ADJUSTMENT,
        at,
        {wallet(account_id): amount_paise, MANUAL_ADJUSTMENTS: -amount_paise},
        account_id,
        memo,
    )


def opening_key(account_id: str) -> str:
    return f"opening:{account_id}"


def recharge_journal(
    account_id: str,
    amount_paise: int,
    payment: PaymentRef,
    at: datetime,
    arrears_share_paise: int = 0,
) -> Journal:
    """Money in: the channel owes us the amount, the wallet (less any arrears share) gains it."""
    return journal(
        recharge_key(payment),
        JournalKind.RECHARGE,
        at,
        {
            clearing(payment.channel): -amount_paise,
            wallet(account_id): amount_paise - arrears_share_paise,
            arrears(account_id): arrears_share_paise,
        },
        account_id,
        f"recharge via {payment.channel.value} ref {payment.reference}",
    )


def reversal_journal(
    account_id: str,
    amount_paise: int,
    payment: PaymentRef,
    at: datetime,
    arrears_share_paise: int = 0,
) -> Journal:
    """The exact mirror of the recharge journal: corrections never edit, they reverse."""
    credited = recharge_journal(account_id, amount_paise, payment, at, arrears_share_paise)
    return Journal(
        reversal_key(payment),
        JournalKind.REVERSAL,
        credited.posted_at,
        tuple(Posting(p.ledger_account, -p.amount_paise) for p in credited.postings),
        account_id,
        f"reversal of {payment.channel.value} ref {payment.reference}",
    )


@dataclass(frozen=True, slots=True)
class ChargeAmounts:
    """A priced day, as the ledger needs it (see tariffs.Bill)."""

    energy_paise: int
    subsidy_paise: int
    rebate_paise: int
    tod_paise: int
    fixed_paise: int
    duty_paise: int
    total_paise: int


def charge_journal(
    account_id: str, bill_day: date, amounts: ChargeAmounts, at: datetime
) -> Journal | None:
    """The day's deduction: the wallet pays the total, the state pays the subsidy, the
    rebate is the DISCOM's expense; revenue and duty payable receive the gross figures.
    None when the day costs nothing at all (every line zero)."""
    lines = _charge_lines(account_id, amounts)
    if all(amount == 0 for amount in lines.values()):
        return None
    return journal(
        charge_key(account_id, bill_day),
        JournalKind.CHARGE,
        at,
        lines,
        account_id,
        f"charges for {bill_day.isoformat()}",
    )


def _charge_lines(account_id: str, amounts: ChargeAmounts) -> dict[str, int]:
    """The wallet pays the total, the state the subsidy, the DISCOM the rebate; revenue and
    duty payable receive the gross figures (any sign: a true-up can credit)."""
    return {
        wallet(account_id): -amounts.total_paise,
        SUBSIDY_RECEIVABLE: -amounts.subsidy_paise,
        REBATE_EXPENSE: -amounts.rebate_paise,
        REVENUE_ENERGY: amounts.energy_paise + amounts.tod_paise,
        REVENUE_FIXED: amounts.fixed_paise,
        DUTY_PAYABLE: amounts.duty_paise,
    }


def true_up_key(account_id: str, first_day: date, last_day: date) -> str:
    return f"trueup:{account_id}:{first_day.isoformat()}:{last_day.isoformat()}"


def true_up_journal(
    account_id: str,
    first_day: date,
    last_day: date,
    amounts: ChargeAmounts,
    month_wh: int,
    at: datetime,
) -> Journal | None:
    """The difference a true-up makes to the month's charges, posted like a charge (a
    negative total credits the wallet). None when the settled energy costs the same."""
    lines = _charge_lines(account_id, amounts)
    if all(amount == 0 for amount in lines.values()):
        return None
    return journal(
        true_up_key(account_id, first_day, last_day),
        JournalKind.TRUE_UP,
        at,
        lines,
        account_id,
        f"true-up of estimated days {first_day.isoformat()} to {last_day.isoformat()}"
        f" (month now {month_wh} Wh)",
    )


def instalment_journal(account_id: str, bill_day: date, amount_paise: int, at: datetime) -> Journal:
    """One day's arrears instalment moves from the wallet to the arrears account."""
    return journal(
        instalment_key(account_id, bill_day),
        JournalKind.INSTALMENT,
        at,
        {wallet(account_id): -amount_paise, arrears(account_id): amount_paise},
        account_id,
        f"arrears instalment for {bill_day.isoformat()}",
    )


def opening_journal(account_id: str, postpaid_balance_paise: int, at: datetime) -> Journal:
    """Migration from postpaid: a credit opens the wallet; arrears open the arrears account."""
    target = wallet(account_id) if postpaid_balance_paise > 0 else arrears(account_id)
    return journal(
        opening_key(account_id),
        JournalKind.OPENING,
        at,
        {target: postpaid_balance_paise, POSTPAID_MIGRATION: -postpaid_balance_paise},
        account_id,
        "postpaid balance migrated to prepaid",
    )
