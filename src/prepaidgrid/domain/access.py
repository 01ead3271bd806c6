"""Who may do what: consumers' one-time login codes, and officers' roles and divisions.

Consumers log in with their registered mobile number and a code sent to it by SMS:

    request a code --(SMS)--> type it within 5 minutes --> a session (30 days)
    - at most 3 codes per mobile in 15 minutes (an SMS costs money and can harass);
    - at most 5 wrong tries per code, and 5 wrong tries in 30 minutes lock the mobile
      out for 30 minutes, whichever codes they were against (a 6-digit code then needs
      ~100,000 lockouts, years, to guess).

Officers log in with a password (argon2id) and act through a role:

    admin             everything, every division; manages officers
    division_officer  reads and acts (disconnect, reconnect, adjust) in their divisions only
    cashier           posts counter receipts; reads accounts of their divisions
    auditor           reads everything, every division; changes nothing

Every officer action is written to the append-only audit log (the database refuses to
change or delete an audit row).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from prepaidgrid.domain.errors import DomainError, InvalidInput
from prepaidgrid.domain.units import IST

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=5)
MAX_TRIES_PER_CODE = 5
CODES_PER_WINDOW = 3
CODE_WINDOW = timedelta(minutes=15)
WRONG_TRIES_TO_LOCK = 5
WRONG_TRIES_WINDOW = timedelta(minutes=30)
LOCKOUT = timedelta(minutes=30)

CONSUMER_SESSION_TTL = timedelta(days=30)
OFFICER_SESSION_TTL = timedelta(hours=8)

MOBILE = re.compile(r"[6-9]\d{9}")  # an Indian mobile number, without +91
USERNAME = re.compile(r"[a-z][a-z0-9._-]{2,39}")
MIN_OFFICER_PASSWORD = 12


class AccessDenied(DomainError):
    """No session, an ended or expired one, a wrong code or password (HTTP 401)."""


class WrongCode(AccessDenied):
    def __init__(self, message: str, tries_left: int) -> None:
        super().__init__(message)
        self.tries_left = tries_left


class CodeExpired(AccessDenied):
    """Expired, used already, or tried too often: ask for a new code."""


class LockedOut(DomainError):
    """Too many wrong tries, or too many codes asked for: nothing until `until` (HTTP 429)."""

    def __init__(self, message: str, until: datetime) -> None:
        super().__init__(message)
        self.until = until


def locked_out(until: datetime, what: str = "too many wrong codes") -> LockedOut:
    """The refusal while locked out, saying until when (IST)."""
    return LockedOut(f"{what}: try again after {until.astimezone(IST):%H:%M} IST", until)


class TooManyCodes(LockedOut):
    """Three codes in 15 minutes: the newest is still good."""


class Forbidden(DomainError):
    """The officer's role does not allow the action (HTTP 403). An account outside the
    officer's divisions is not forbidden but unknown (404): its existence is not revealed."""


class Role(StrEnum):
    ADMIN = "admin"
    DIVISION_OFFICER = "division_officer"
    CASHIER = "cashier"
    AUDITOR = "auditor"


class Permission(StrEnum):
    READ_ACCOUNTS = "read_accounts"
    ACT_ON_SUPPLY = "act_on_supply"  # a manual disconnect or reconnect
    ADJUST_BALANCE = "adjust_balance"
    POST_RECEIPTS = "post_receipts"
    READ_AUDIT = "read_audit"
    MANAGE_OFFICERS = "manage_officers"


PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.DIVISION_OFFICER: frozenset(
        {Permission.READ_ACCOUNTS, Permission.ACT_ON_SUPPLY, Permission.ADJUST_BALANCE}
    ),
    Role.CASHIER: frozenset({Permission.READ_ACCOUNTS, Permission.POST_RECEIPTS}),
    Role.AUDITOR: frozenset({Permission.READ_ACCOUNTS, Permission.READ_AUDIT}),
}
EVERY_DIVISION = frozenset({Role.ADMIN, Role.AUDITOR})


@dataclass(frozen=True, slots=True)
class Officer:
    officer_id: str
    name: str
    role: Role
    divisions: frozenset[str]  # ignored for the roles that see every division
    is_active: bool = True

    def may(self, permission: Permission) -> bool:
        return self.is_active and permission in PERMISSIONS[self.role]

    @property
    def scope(self) -> frozenset[str] | None:
        """The divisions this officer sees; None for every division."""
        return None if self.role in EVERY_DIVISION else self.divisions

    def sees(self, division: str | None) -> bool:
        scope = self.scope
        return self.is_active and (scope is None or division in scope)


def require_mobile(mobile: str) -> str:
    digits = mobile.strip().removeprefix("+91").replace(" ", "")
    if not MOBILE.fullmatch(digits):
        raise InvalidInput("a mobile number has 10 digits and starts with 6, 7, 8 or 9")
    return digits


def require_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME.fullmatch(name):
        raise InvalidInput(
            "a username has 3-40 characters: lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter"
        )
    return name


def require_officer_password(password: str) -> str:
    if len(password) < MIN_OFFICER_PASSWORD or not password.strip():
        raise InvalidInput(f"an officer's password has at least {MIN_OFFICER_PASSWORD} characters")
    return password


def require_officer(role: Role, divisions: Collection[str]) -> None:
    if role not in EVERY_DIVISION and not divisions:
        raise InvalidInput(f"a {role.value} needs at least one division")


# -- one-time codes ------------------------------------------------------------------------------


def new_code(random_below: Callable[[int], int]) -> str:
    """A code of CODE_DIGITS digits, leading zeros kept; `random_below` is secrets.randbelow."""
    return f"{random_below(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_digest(secret: bytes, mobile: str, code: str) -> str:
    """What is stored of a code: a keyed hash bound to the mobile (a leaked table does not
    give the codes away, and a code for one number is worthless for another)."""
    return hmac.new(secret, f"{mobile}:{code}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class CodeRecord:
    code_id: int
    digest: str
    created_at: datetime
    expires_at: datetime
    tries: int
    used_at: datetime | None


@dataclass(frozen=True, slots=True)
class MobileHistory:
    """What the code rules need to know of a mobile's recent codes."""

    codes_sent: int  # within CODE_WINDOW
    wrong_tries: int  # within WRONG_TRIES_WINDOW, across codes
    last_wrong_at: datetime | None


def locked_until(history: MobileHistory) -> datetime | None:
    if history.wrong_tries >= WRONG_TRIES_TO_LOCK and history.last_wrong_at is not None:
        return history.last_wrong_at + LOCKOUT
    return None


def is_locked_out(history: MobileHistory, at: datetime) -> bool:
    until = locked_until(history)
    return until is not None and at < until


def may_send_code(history: MobileHistory, at: datetime) -> bool:
    return not is_locked_out(history, at) and history.codes_sent < CODES_PER_WINDOW


class CodeCheck(StrEnum):
    ACCEPTED = "accepted"
    WRONG = "wrong"
    EXPIRED = "expired"  # or used already, or tried too often: ask for a new code
    LOCKED = "locked"


def check_code(
    record: CodeRecord | None, history: MobileHistory, given_digest: str, at: datetime
) -> CodeCheck:
    """Judge a typed code against the mobile's newest code. Constant-time comparison."""
    if is_locked_out(history, at):
        return CodeCheck.LOCKED
    if (
        record is None
        or record.used_at is not None
        or at >= record.expires_at
        or record.tries >= MAX_TRIES_PER_CODE
    ):
        return CodeCheck.EXPIRED
    if hmac.compare_digest(record.digest, given_digest):
        return CodeCheck.ACCEPTED
    return CodeCheck.WRONG


def tries_left(record: CodeRecord, history: MobileHistory) -> int:
    """After one more wrong try: how many the consumer still has before a new code or the
    lockout, whichever comes first."""
    return max(
        0,
        min(MAX_TRIES_PER_CODE - record.tries - 1, WRONG_TRIES_TO_LOCK - history.wrong_tries - 1),
    )


# -- sessions ------------------------------------------------------------------------------------


class SessionKind(StrEnum):
    CONSUMER = "consumer"
    OFFICER = "officer"


def token_digest(token: str) -> str:
    """Sessions are stored by the hash of their token: the table alone opens no session."""
    return hashlib.sha256(token.encode()).hexdigest()


def session_ttl(kind: SessionKind) -> timedelta:
    return CONSUMER_SESSION_TTL if kind is SessionKind.CONSUMER else OFFICER_SESSION_TTL
