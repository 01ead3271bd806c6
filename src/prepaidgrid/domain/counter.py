"""Cash counters' pure rules: signed receipts, cashier sessions and lockout, the day-end.

A counter (a PC at a subdivision office) takes cash even while the server is unreachable:
it numbers its receipts itself, `{counter_id}-{seq:07d}` with seq 1, 2, 3..., and signs
each with its own key, HMAC-SHA256 over the receipt's canonical bytes (UTF-8, one field a
line; ids are letters, digits, - and _, so no field can run into the next):

    prepaidgrid-counter-receipt/v1
    {counter_id}
    {seq}
    {cashier_id}
    {account_id}
    {amount_paise}
    {issued_at, UTC, whole seconds: 2025-07-01T04:30:00Z}

The server credits a receipt only if the signature matches the key it holds for that
counter: nobody without the key can invent a receipt or alter one (its amount, its account).
The receipt number is the payment's reference, so a receipt synced twice is credited once.
Numbers are consecutive, so a number the server has not seen (a gap) is cash taken and not
yet synced: the day-end shows it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from prepaidgrid.domain.errors import DomainError, InvalidInput
from prepaidgrid.domain.payments import CallbackRefused
from prepaidgrid.domain.units import require_paise, require_utc

RECEIPT_FORMAT = "prepaidgrid-counter-receipt/v1"
SESSION_FORMAT = "cs1"
SESSION_TTL = timedelta(hours=12)  # one working day at the counter, with margin
MAX_FAILED_LOGINS = 5  # consecutive wrong passwords before the cashier is locked
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 8
SIGNATURE = re.compile(r"[0-9a-f]{64}")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")


class ReceiptRefused(CallbackRefused):
    """The receipt's signature does not match its counter's key: forged or altered, and
    nothing it says is acted on (HTTP 401)."""


class SessionRefused(CallbackRefused):
    """No session token, or a forged or expired one (HTTP 401)."""


class LoginRefused(CallbackRefused):
    """Wrong cashier id or password, or a cashier who may no longer log in (HTTP 401)."""


class CashierLocked(LoginRefused):
    """Too many wrong passwords in a row: no login, even a right one, until `until`."""

    def __init__(self, message: str, until: datetime) -> None:
        super().__init__(message)
        self.until = until


class WrongCounter(DomainError):
    """A cashier acted on another counter's receipts or cashiers (HTTP 403)."""


def require_id(value: str, what: str) -> str:
    if not _ID.fullmatch(value):
        raise InvalidInput(f"{what} {value!r}: 1-40 letters, digits, - or _")
    return value


def receipt_number(counter_id: str, seq: int) -> str:
    """('PAT-C1', 42) -> 'PAT-C1-0000042'."""
    return f"{counter_id}-{seq:07d}"


def parse_receipt_number(receipt_no: str) -> tuple[str, int]:
    counter_id, _, digits = receipt_no.rpartition("-")
    if not counter_id or not digits.isascii() or not digits.isdigit():
        raise InvalidInput(f"not a receipt number (COUNTER-0000001): {receipt_no!r}")
    seq = int(digits)
    if seq < 1 or receipt_number(require_id(counter_id, "counter id"), seq) != receipt_no:
        raise InvalidInput(f"not a receipt number (COUNTER-0000001): {receipt_no!r}")
    return counter_id, seq


@dataclass(frozen=True, slots=True)
class Receipt:
    """Cash taken at a counter, as the counter signs it."""

    counter_id: str
    seq: int  # the counter's own sequence: 1, 2, 3... never reused
    cashier_id: str
    account_id: str
    amount_paise: int
    issued_at: datetime  # the counter's clock when the cash was taken; whole seconds

    def __post_init__(self) -> None:
        require_id(self.counter_id, "counter id")
        require_id(self.cashier_id, "cashier id")
        require_id(self.account_id, "account id")
        if isinstance(self.seq, bool) or not isinstance(self.seq, int) or self.seq < 1:
            raise InvalidInput(f"a receipt's sequence number starts at 1, got {self.seq!r}")
        require_paise(self.amount_paise)
        issued_at = require_utc(self.issued_at)
        if issued_at.microsecond:
            raise InvalidInput(f"a receipt's time is in whole seconds, got {issued_at}")
        object.__setattr__(self, "issued_at", issued_at)

    @property
    def receipt_no(self) -> str:
        return receipt_number(self.counter_id, self.seq)


def issued_at_text(at: datetime) -> str:
    return require_utc(at).strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical_bytes(receipt: Receipt) -> bytes:
    fields = [
        RECEIPT_FORMAT,
        receipt.counter_id,
        str(receipt.seq),
        receipt.cashier_id,
        receipt.account_id,
        str(receipt.amount_paise),
        issued_at_text(receipt.issued_at),
    ]
    return "\n".join(fields).encode()


def sign_receipt(key: bytes, receipt: Receipt) -> str:
    """The receipt's signature: lowercase hex HMAC-SHA256 with the counter's key."""
    return hmac.new(key, canonical_bytes(receipt), hashlib.sha256).hexdigest()


def verify_receipt(key: bytes, receipt: Receipt, signature: str) -> None:
    """Refuse (ReceiptRefused) a receipt its counter's key did not sign as it stands."""
    expected = sign_receipt(key, receipt).encode()
    given = signature.encode("ascii", errors="replace")
    if not hmac.compare_digest(expected, given):
        raise ReceiptRefused(
            f"receipt {receipt.receipt_no}: the signature does not match counter "
            f"{receipt.counter_id}'s key (forged, altered, or signed by another counter)"
        )


# -- cashier sessions and lockout ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CashierSession:
    """Who is at the counter, until when: what a session token says once verified."""

    cashier_id: str
    counter_id: str
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_session_token(secret: bytes, session: CashierSession) -> str:
    """`cs1.<payload>.<mac>`: base64url JSON naming cashier, counter and expiry (unix s),
    and HMAC-SHA256 over `cs1.<payload>` with the server's session secret."""
    payload = {
        "cashier": session.cashier_id,
        "counter": session.counter_id,
        "exp": int(session.expires_at.timestamp()),
    }
    signed = f"{SESSION_FORMAT}.{_b64(json.dumps(payload, sort_keys=True).encode())}"
    return f"{signed}.{_b64(hmac.new(secret, signed.encode(), hashlib.sha256).digest())}"


def read_session_token(secret: bytes, token: str, now: datetime) -> CashierSession:
    """The session a token names, if the server signed it and it has not expired."""
    parts = token.split(".")
    version, payload, mac = parts if len(parts) == 3 else ("", "", "")
    signed = f"{version}.{payload}".encode("ascii", errors="replace")
    expected = _b64(hmac.new(secret, signed, hashlib.sha256).digest()).encode()
    if version != SESSION_FORMAT or not hmac.compare_digest(
        expected, mac.encode("ascii", errors="replace")
    ):
        raise SessionRefused("the session token is not one this server issued: log in again")
    fields = json.loads(_unb64(payload))
    session = CashierSession(
        fields["cashier"], fields["counter"], datetime.fromtimestamp(fields["exp"], UTC)
    )
    if now >= session.expires_at:
        raise SessionRefused(
            f"the session of cashier {session.cashier_id} expired at "
            f"{session.expires_at.isoformat()}: log in again"
        )
    return session


def is_locked(locked_until: datetime | None, at: datetime) -> bool:
    return locked_until is not None and at < locked_until


def after_failed_login(failed_logins: int, at: datetime) -> tuple[int, datetime | None]:
    """(failed logins, locked until) after one more wrong password. The fifth in a row
    locks the cashier for 15 minutes and starts the count again."""
    failed = failed_logins + 1
    if failed >= MAX_FAILED_LOGINS:
        return 0, at + LOCKOUT
    return failed, None


def require_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH or not password.strip():
        raise InvalidInput(f"a cashier's password has at least {MIN_PASSWORD_LENGTH} characters")
    return password


# -- the day-end reconciliation -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TakenReceipt:
    """A receipt as the day-end counts it."""

    receipt_no: str
    seq: int
    amount_paise: int
    offline: bool  # taken while the server was unreachable, synced later


@dataclass(frozen=True, slots=True)
class DayEndTotals:
    """The cash a cashier should hand over for a day: counts and paise, online and offline."""

    count: int = 0
    total_paise: int = 0
    online_count: int = 0
    online_paise: int = 0
    offline_count: int = 0
    offline_paise: int = 0
    first_receipt_no: str | None = None
    last_receipt_no: str | None = None


def day_end_totals(receipts: Iterable[TakenReceipt]) -> DayEndTotals:
    taken = sorted(receipts, key=lambda r: r.seq)
    online = [r.amount_paise for r in taken if not r.offline]
    offline = [r.amount_paise for r in taken if r.offline]
    return DayEndTotals(
        count=len(taken),
        total_paise=sum(online) + sum(offline),
        online_count=len(online),
        online_paise=sum(online),
        offline_count=len(offline),
        offline_paise=sum(offline),
        first_receipt_no=taken[0].receipt_no if taken else None,
        last_receipt_no=taken[-1].receipt_no if taken else None,
    )


@dataclass(frozen=True, slots=True)
class SeqGap:
    """Consecutive receipt numbers the server has not received: `first_seq..last_seq`."""

    first_seq: int
    last_seq: int

    @property
    def count(self) -> int:
        return self.last_seq - self.first_seq + 1


def sequence_gaps(seqs: Iterable[int], low: int, high: int) -> list[SeqGap]:
    """The runs of numbers in [low, high] missing from `seqs`, in order."""
    gaps: list[SeqGap] = []
    expected = low
    for seq in sorted({s for s in seqs if low <= s <= high}):
        if seq > expected:
            gaps.append(SeqGap(expected, seq - 1))
        expected = seq + 1
    if expected <= high:
        gaps.append(SeqGap(expected, high))
    return gaps
