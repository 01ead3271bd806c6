"""Cash counters: register a counter and its cashiers, cashier login, receipts posted and
credited once, and the day-end cash reconciliation.

    counter: number + sign a receipt ──(now, or at the next sync)──▶ post_receipts:
        verify the whole batch (session, counter, every signature, accounts, numbers),
        then per receipt, one transaction: lock the account, record the receipt (its
        number is the key), credit it (credit_recharge, reference = receipt number: the
        journal, the SMS and any reconnect command commit with it)

A crash anywhere leaves a receipt wholly recorded and credited or not at all; the next sync
posts it again, and a receipt already credited is answered `already_credited`. Never twice,
never zero times.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from prepaidgrid.domain.counter import (
    SESSION_TTL,
    CashierLocked,
    CashierSession,
    DayEndTotals,
    LoginRefused,
    Receipt,
    SeqGap,
    SessionRefused,
    TakenReceipt,
    WrongCounter,
    after_failed_login,
    day_end_totals,
    is_locked,
    issue_session_token,
    require_id,
    require_password,
    sequence_gaps,
    verify_receipt,
)
from prepaidgrid.domain.errors import (
    Conflict,
    DuplicateJournal,
    DuplicatePayment,
    InvalidInput,
    NotFound,
    UnknownPayment,
)
from prepaidgrid.domain.ledger import PaymentChannel, PaymentRef
from prepaidgrid.domain.supply import SupplyState
from prepaidgrid.domain.units import IST, format_rupees, ist_midnight
from prepaidgrid.services.ports import ChannelUnitOfWork, Clock, PolicyBook
from prepaidgrid.services.recharges import ApplyRecharge, RechargeOutcome, credit_recharge

MAX_BATCH = 500  # receipts per post; a counter's day fits in one


class UnknownReceipt(UnknownPayment):
    """No such receipt (or not one of the asking cashier's counter)."""


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class CounterRecord:
    counter_id: str
    name: str
    subdivision_code: str
    signing_key: str  # hex
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CashierRecord:
    cashier_id: str
    name: str
    counter_id: str
    password_hash: str
    active: bool
    failed_logins: int
    locked_until: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SignedReceipt:
    receipt: Receipt
    signature: str
    offline: bool = False  # not signed: how the receipt travelled, not what it says


@dataclass(frozen=True, slots=True)
class StoredReceipt:
    signed: SignedReceipt
    received_at: datetime

    @property
    def receipt(self) -> Receipt:
        return self.signed.receipt


@dataclass(frozen=True, slots=True)
class ReceiptView:
    """A recorded receipt with the names printed on it."""

    stored: StoredReceipt
    counter_name: str
    subdivision_code: str
    cashier_name: str
    consumer_name: str
    is_credited: bool


class Counters(Protocol):
    def add_counter(self, counter: CounterRecord) -> None:
        """NotFound without such a subdivision; AlreadyExists if the id is taken."""
        ...

    def counter(self, counter_id: str) -> CounterRecord | None: ...

    def add_cashier(self, cashier: CashierRecord) -> None:
        """NotFound without such a counter; AlreadyExists if the id is taken."""
        ...

    def cashier(self, cashier_id: str, *, lock: bool = False) -> CashierRecord | None: ...

    def set_login_state(
        self, cashier_id: str, failed_logins: int, locked_until: datetime | None
    ) -> None: ...

    def add_receipt(self, stored: StoredReceipt) -> bool:
        """Record a receipt; False if its number is recorded already."""
        ...

    def receipt(self, receipt_no: str) -> StoredReceipt | None: ...

    def receipt_view(self, receipt_no: str) -> ReceiptView | None: ...

    def receipts_issued(
        self, cashier_id: str, start: datetime, end: datetime
    ) -> list[StoredReceipt]:
        """A cashier's receipts issued in [start, end), by number."""
        ...

    def sequence_window(self, counter_id: str, start: datetime, end: datetime) -> tuple[int, int]:
        """The counter's numbers used in [start, end) as far as the server can tell: from
        after its last receipt issued before `start` to before its first issued at or after
        `end` (or its highest number, if none is)."""
        ...

    def seqs_between(self, counter_id: str, low: int, high: int) -> list[int]: ...

    def credited(self, receipt_nos: Iterable[str]) -> set[str]:
        """Those of the receipts whose payment is credited."""
        ...


class CounterUnitOfWork(ChannelUnitOfWork, Protocol):
    @property
    def counters(self) -> Counters: ...


# -- counters and cashiers ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegisterCounter:
    counter_id: str
    name: str
    subdivision_code: str


@dataclass(frozen=True, slots=True)
class RegisteredCounter:
    counter_id: str
    signing_key: str  # hex; shown this once, to be set up on the counter's device


def new_signing_key() -> str:
    return secrets.token_hex(32)


def register_counter(
    cmd: RegisterCounter,
    uow: CounterUnitOfWork,
    clock: Clock,
    new_key: Callable[[], str] = new_signing_key,
) -> RegisteredCounter:
    require_id(cmd.counter_id, "counter id")
    if not cmd.name.strip():
        raise InvalidInput("a counter needs a name")
    key = new_key()
    with uow:
        uow.counters.add_counter(
            CounterRecord(cmd.counter_id, cmd.name, cmd.subdivision_code, key, clock.now())
        )
        uow.commit()
    return RegisteredCounter(cmd.counter_id, key)


@dataclass(frozen=True, slots=True)
class AddCashier:
    cashier_id: str
    name: str
    counter_id: str
    password: str


def add_cashier(
    cmd: AddCashier, uow: CounterUnitOfWork, clock: Clock, hasher: PasswordHasher
) -> CashierRecord:
    require_id(cmd.cashier_id, "cashier id")
    require_password(cmd.password)
    if not cmd.name.strip():
        raise InvalidInput("a cashier needs a name")
    cashier = CashierRecord(
        cashier_id=cmd.cashier_id,
        name=cmd.name,
        counter_id=cmd.counter_id,
        password_hash=hasher.hash(cmd.password),
        active=True,
        failed_logins=0,
        locked_until=None,
        created_at=clock.now(),
    )
    with uow:
        uow.counters.add_cashier(cashier)
        uow.commit()
    return cashier


# -- login --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CashierLogin:
    cashier_id: str
    password: str


@dataclass(frozen=True, slots=True)
class LoggedIn:
    token: str
    session: CashierSession


WRONG_LOGIN = "wrong cashier id or password"


def _locked(cashier_id: str, until: datetime) -> CashierLocked:
    local = until.astimezone(IST).strftime("%H:%M IST on %d-%m-%Y")
    return CashierLocked(
        f"cashier {cashier_id} is locked after 5 wrong passwords in a row, until {local}: "
        "try again then, or ask the subdivision officer",
        until,
    )


def log_in(
    cmd: CashierLogin,
    new_uow: Callable[[], CounterUnitOfWork],
    clock: Clock,
    hasher: PasswordHasher,
    session_secret: bytes,
) -> LoggedIn:
    """A session token for a cashier (12 h). Five wrong passwords in a row lock the cashier
    for 15 minutes. The slow hash is checked outside any transaction; the count is kept
    under the cashier's row lock, so concurrent guesses all count."""
    at = clock.now()
    with new_uow() as uow:
        cashier = uow.counters.cashier(cmd.cashier_id)
    if cashier is None or not cashier.active:
        raise LoginRefused(WRONG_LOGIN)
    if cashier.locked_until is not None and is_locked(cashier.locked_until, at):
        raise _locked(cashier.cashier_id, cashier.locked_until)
    is_right = hasher.verify(cashier.password_hash, cmd.password)
    with new_uow() as uow:
        current = uow.counters.cashier(cmd.cashier_id, lock=True)
        if current is None or not current.active:
            raise LoginRefused(WRONG_LOGIN)
        if current.locked_until is not None and is_locked(current.locked_until, at):
            raise _locked(current.cashier_id, current.locked_until)
        is_right = is_right and current.password_hash == cashier.password_hash
        if is_right:
            failed, until = 0, None
        else:
            failed, until = after_failed_login(current.failed_logins, at)
        if (failed, until) != (current.failed_logins, current.locked_until):
            uow.counters.set_login_state(current.cashier_id, failed, until)
            uow.commit()
    if until is not None:
        raise _locked(current.cashier_id, until)
    if not is_right:
        raise LoginRefused(WRONG_LOGIN)
    session = CashierSession(current.cashier_id, current.counter_id, at + SESSION_TTL)
    return LoggedIn(issue_session_token(session_secret, session), session)


def _require_session(uow: CounterUnitOfWork, session: CashierSession) -> CashierRecord:
    cashier = uow.counters.cashier(session.cashier_id)
    if cashier is None or not cashier.active or cashier.counter_id != session.counter_id:
        raise SessionRefused(f"cashier {session.cashier_id} may no longer act: log in again")
    return cashier


# -- receipts -----------------------------------------------------------------------------------


class ReceiptOutcome(StrEnum):
    CREDITED = "credited"
    ALREADY_CREDITED = "already_credited"


@dataclass(frozen=True, slots=True)
class PostReceipts:
    session: CashierSession
    receipts: tuple[SignedReceipt, ...]


@dataclass(frozen=True, slots=True)
class PostedReceipt:
    receipt_no: str
    account_id: str
    amount_paise: int
    outcome: ReceiptOutcome
    balance_paise: int | None
    supply_state: SupplyState | None
    reconnect_queued: bool


def _conflict(recorded: Receipt) -> Conflict:
    return Conflict(
        f"receipt {recorded.receipt_no} is recorded already, for account {recorded.account_id} "
        f"and {format_rupees(recorded.amount_paise)} by cashier {recorded.cashier_id} at "
        f"{recorded.issued_at.isoformat()}: a different receipt under the same number"
    )


def _checked_batch(cmd: PostReceipts, uow: CounterUnitOfWork) -> list[SignedReceipt]:
    """The batch's distinct receipts, once all of it is known good; else the refusal."""
    if not cmd.receipts:
        raise InvalidInput("no receipts to post")
    if len(cmd.receipts) > MAX_BATCH:
        raise InvalidInput(f"at most {MAX_BATCH} receipts in one post, got {len(cmd.receipts)}")
    session = cmd.session
    _require_session(uow, session)
    distinct: dict[str, SignedReceipt] = {}
    for signed in cmd.receipts:
        receipt = signed.receipt
        if receipt.counter_id != session.counter_id:
            raise WrongCounter(
                f"receipt {receipt.receipt_no} is counter {receipt.counter_id}'s: cashier "
                f"{session.cashier_id} posts counter {session.counter_id}'s receipts only"
            )
        seen = distinct.setdefault(receipt.receipt_no, signed)
        if seen.receipt != receipt:
            raise _conflict(seen.receipt)
    counter = uow.counters.counter(session.counter_id)
    if counter is None:
        raise SessionRefused(f"counter {session.counter_id} is not registered: log in again")
    key = bytes.fromhex(counter.signing_key)
    for signed in distinct.values():
        verify_receipt(key, signed.receipt, signed.signature)
    cashiers: dict[str, bool] = {}
    for signed in distinct.values():
        receipt = signed.receipt
        if receipt.cashier_id not in cashiers:
            cashier = uow.counters.cashier(receipt.cashier_id)
            cashiers[receipt.cashier_id] = (
                cashier is not None and cashier.counter_id == receipt.counter_id
            )
        if not cashiers[receipt.cashier_id]:
            raise InvalidInput(
                f"receipt {receipt.receipt_no}: {receipt.cashier_id} is not a cashier of "
                f"counter {receipt.counter_id}"
            )
        recorded = uow.counters.receipt(receipt.receipt_no)
        if recorded is not None and recorded.receipt != receipt:
            raise _conflict(recorded.receipt)
        uow.connections.get(receipt.account_id)  # UnknownAccount if there is none
    return sorted(distinct.values(), key=lambda s: s.receipt.seq)


def post_receipts(
    cmd: PostReceipts,
    new_uow: Callable[[], CounterUnitOfWork],
    clock: Clock,
    policies: PolicyBook,
) -> list[PostedReceipt]:
    """Record and credit a counter's receipts, each exactly once however often (or however
    concurrently) they are posted. A batch with one bad receipt (forged, another
    counter's, a number reused, an unknown account) is refused whole and writes nothing."""
    with new_uow() as uow:
        batch = _checked_batch(cmd, uow)
    return [_record_and_credit(signed, new_uow, clock, policies) for signed in batch]


def _record_and_credit(
    signed: SignedReceipt,
    new_uow: Callable[[], CounterUnitOfWork],
    clock: Clock,
    policies: PolicyBook,
) -> PostedReceipt:
    try:
        return _credit_once(signed, new_uow, clock.now(), policies)
    except (DuplicatePayment, DuplicateJournal):  # a concurrent sync got there first
        return _credit_once(signed, new_uow, clock.now(), policies)


def _credit_once(
    signed: SignedReceipt,
    new_uow: Callable[[], CounterUnitOfWork],
    at: datetime,
    policies: PolicyBook,
) -> PostedReceipt:
    """The receipt recorded and its credit, in one transaction: all of it or nothing."""
    receipt = signed.receipt
    ref = PaymentRef(PaymentChannel.COUNTER, receipt.receipt_no)
    with new_uow() as uow:
        uow.connections.lock(receipt.account_id)  # the account first, as every recharge
        if uow.counters.add_receipt(StoredReceipt(signed, at)):
            how = "offline, synced" if signed.offline else "online"
            uow.payment_events.add(
                ref,
                "received",
                at,
                f"{format_rupees(receipt.amount_paise)} for {receipt.account_id} at counter "
                f"{receipt.counter_id} by {receipt.cashier_id} ({how})",
            )
        else:
            recorded = uow.counters.receipt(receipt.receipt_no)
            if recorded is not None and recorded.receipt != receipt:
                raise _conflict(recorded.receipt)  # a different receipt won a race
        result = credit_recharge(
            ApplyRecharge(receipt.account_id, receipt.amount_paise, ref), uow, at, policies
        )
        uow.commit()
    return PostedReceipt(
        receipt.receipt_no,
        receipt.account_id,
        receipt.amount_paise,
        ReceiptOutcome.CREDITED
        if result.outcome is RechargeOutcome.APPLIED
        else ReceiptOutcome.ALREADY_CREDITED,
        result.balance_paise,
        result.supply_state,
        result.reconnect_queued,
    )


def find_receipt(receipt_no: str, session: CashierSession, uow: CounterUnitOfWork) -> ReceiptView:
    """A recorded receipt, to print; only for a cashier of its counter."""
    with uow:
        _require_session(uow, session)
        view = uow.counters.receipt_view(receipt_no)
    if view is None or view.stored.receipt.counter_id != session.counter_id:
        raise UnknownReceipt(f"no receipt {receipt_no} at counter {session.counter_id}")
    return view


# -- the day-end --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DayEndQuery:
    cashier_id: str
    day: date  # IST


@dataclass(frozen=True, slots=True)
class DayEnd:
    """A cashier's day at the counter: the cash to hand over, and what is not yet synced."""

    cashier_id: str
    counter_id: str
    day: date
    totals: DayEndTotals
    gaps: tuple[SeqGap, ...]  # the counter's numbers of the day the server has not received
    uncredited: tuple[str, ...]  # recorded but not credited now (reversed since: a refund)

    @property
    def missing_count(self) -> int:
        return sum(gap.count for gap in self.gaps)


def day_end(query: DayEndQuery, session: CashierSession, uow: CounterUnitOfWork) -> DayEnd:
    """Totals of the receipts a cashier issued on an IST day (by the counter's clock).

    A gap cannot be put on a cashier (its receipt has not arrived), so the gaps are the
    counter's: numbers between its last receipt before the day and its first after it."""
    start, end = ist_midnight(query.day), ist_midnight(query.day + timedelta(days=1))
    with uow:
        _require_session(uow, session)
        cashier = uow.counters.cashier(query.cashier_id)
        if cashier is None:
            raise NotFound(f"no cashier {query.cashier_id}")
        if cashier.counter_id != session.counter_id:
            raise WrongCounter(
                f"cashier {query.cashier_id} works at another counter than {session.counter_id}"
            )
        receipts = uow.counters.receipts_issued(cashier.cashier_id, start, end)
        low, high = uow.counters.sequence_window(cashier.counter_id, start, end)
        seqs = uow.counters.seqs_between(cashier.counter_id, low, high)
        credited = uow.counters.credited(s.receipt.receipt_no for s in receipts)
    totals = day_end_totals(
        TakenReceipt(s.receipt.receipt_no, s.receipt.seq, s.receipt.amount_paise, s.signed.offline)
        for s in receipts
    )
    return DayEnd(
        cashier.cashier_id,
        cashier.counter_id,
        query.day,
        totals,
        tuple(sequence_gaps(seqs, low, high)),
        tuple(s.receipt.receipt_no for s in receipts if s.receipt.receipt_no not in credited),
    )
