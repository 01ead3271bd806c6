"""Portal access use cases: a consumer's one-time code, an officer's password, sessions,
and the officers' audit log. The rules are in domain/access.py; this is their bookkeeping.

A session is a random token in a cookie; the database keeps only its SHA-256 and the CSRF
token bound to it, so logging out, or deactivating an officer, ends it at once.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from prepaidgrid.domain.access import (
    CODE_TTL,
    CODE_WINDOW,
    USERNAME,
    AccessDenied,
    CodeCheck,
    CodeExpired,
    CodeRecord,
    LockedOut,
    MobileHistory,
    Officer,
    Role,
    SessionKind,
    TooManyCodes,
    WrongCode,
    check_code,
    code_digest,
    locked_out,
    locked_until,
    may_send_code,
    new_code,
    require_mobile,
    require_officer,
    require_officer_password,
    require_username,
    session_ttl,
    token_digest,
    tries_left,
)
from prepaidgrid.domain.counter import after_failed_login, is_locked
from prepaidgrid.domain.notifications import Message, Template
from prepaidgrid.services.counter import PasswordHasher
from prepaidgrid.services.ports import Clock, OutboxMessage, UnitOfWork


@dataclass(frozen=True, slots=True)
class OfficerRecord:
    officer: Officer
    password_hash: str
    failed_logins: int
    locked_until: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PortalSession:
    token_digest: str
    kind: SessionKind
    subject: str  # the consumer's mobile, or the officer's id
    csrf_token: str
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None

    def is_live(self, at: datetime) -> bool:
        return self.ended_at is None and at < self.expires_at


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    target: str
    reason: str
    detail: Mapping[str, object]


class AccessStore(Protocol):
    def registered_account(self, mobile: str) -> tuple[str, str] | None:
        """(an account of this mobile, its language), or None for an unknown number."""
        ...

    def mobile_history(self, mobile: str, at: datetime) -> MobileHistory: ...

    def newest_code(self, mobile: str) -> CodeRecord | None:
        """The mobile's newest code, locked until the transaction ends."""
        ...

    def add_code(self, mobile: str, digest: str, created_at: datetime) -> int: ...

    def record_wrong_try(self, code_id: int, at: datetime) -> None: ...

    def mark_code_used(self, code_id: int, at: datetime) -> None: ...

    def add_officer(self, record: OfficerRecord) -> None:
        """AlreadyExists if the id is taken; NotFound for a division that is not one."""
        ...

    def officer(self, officer_id: str, *, lock: bool = False) -> OfficerRecord | None: ...

    def set_login_state(
        self, officer_id: str, failed_logins: int, locked_until: datetime | None
    ) -> None: ...

    def add_session(self, session: PortalSession) -> None: ...

    def session(self, token_digest: str) -> PortalSession | None: ...

    def end_session(self, token_digest: str, at: datetime) -> None: ...

    def add_audit(self, entry: AuditEntry) -> None: ...

    def audit_entries(
        self, limit: int, *, actor: str | None = None, target: str | None = None
    ) -> list[AuditEntry]: ...


class AccessUnitOfWork(UnitOfWork, Protocol):
    @property
    def access(self) -> AccessStore: ...


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class LoggedIn:
    token: str  # for the cookie; never stored
    session: PortalSession


def _open_session(
    uow: AccessUnitOfWork, kind: SessionKind, subject: str, at: datetime, token: str
) -> LoggedIn:
    session = PortalSession(
        token_digest(token), kind, subject, new_token(), at, at + session_ttl(kind)
    )
    uow.access.add_session(session)
    return LoggedIn(token, session)


# -- consumers: a one-time code by SMS ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequestCode:
    mobile: str


@dataclass(frozen=True, slots=True)
class CodeRequested:
    mobile: str
    valid_minutes: int


def request_login_code(
    cmd: RequestCode,
    uow: AccessUnitOfWork,
    clock: Clock,
    secret: bytes,
    random_below: Callable[[int], int] = secrets.randbelow,
) -> CodeRequested:
    """Send a code by SMS to a registered mobile. An unknown number gets the same answer and
    no SMS, so the form cannot be used to learn who is a consumer."""
    mobile = require_mobile(cmd.mobile)
    at = clock.now()
    minutes = int(CODE_TTL.total_seconds() // 60)
    with uow:
        history = uow.access.mobile_history(mobile, at)
        until = locked_until(history)
        if until is not None and at < until:
            raise locked_out(until)
        if not may_send_code(history, at):
            raise TooManyCodes(
                "three codes were sent in the last 15 minutes: use the newest", at + CODE_WINDOW
            )
        registered = uow.access.registered_account(mobile)
        if registered is None:
            return CodeRequested(mobile, minutes)
        account_id, language = registered
        code = new_code(random_below)
        code_id = uow.access.add_code(mobile, code_digest(secret, mobile, code), at)
        params = {"code": code, "minutes": str(minutes)}
        uow.outbox.add(
            OutboxMessage(
                dedupe_key=f"sms:login_code:{code_id}",
                kind="sms",
                account_id=account_id,
                payload={
                    "template": Template.LOGIN_CODE.value,
                    "language": language,
                    "mobile": mobile,
                    "params": params,
                    "text": Message(Template.LOGIN_CODE, language, params).render(),
                },
                created_at=at,
            )
        )
        uow.commit()
    return CodeRequested(mobile, minutes)


@dataclass(frozen=True, slots=True)
class VerifyCode:
    mobile: str
    code: str


def verify_login_code(
    cmd: VerifyCode,
    uow: AccessUnitOfWork,
    clock: Clock,
    secret: bytes,
    token: Callable[[], str] = new_token,
) -> LoggedIn:
    """A consumer session for the right code, typed in time. A wrong try is counted under
    the code's row lock, so concurrent guesses all count toward the lockout."""
    mobile = require_mobile(cmd.mobile)
    at = clock.now()
    given = code_digest(secret, mobile, cmd.code.strip())
    with uow:
        record = uow.access.newest_code(mobile)
        history = uow.access.mobile_history(mobile, at)
        verdict = check_code(record, history, given, at)
        if verdict is CodeCheck.LOCKED:
            until = locked_until(history)
            raise locked_out(until or at)
        if verdict is CodeCheck.EXPIRED or record is None:
            raise CodeExpired("this code has expired or was used: ask for a new one")
        if verdict is CodeCheck.WRONG:
            left = tries_left(record, history)
            uow.access.record_wrong_try(record.code_id, at)
            uow.commit()
            if left == 0:
                until = locked_until(_after_wrong(history, at))
                if until is not None:
                    raise locked_out(until)
                raise CodeExpired("wrong code, and no tries left on it: ask for a new one")
            raise WrongCode(f"wrong code: {left} {'try' if left == 1 else 'tries'} left", left)
        uow.access.mark_code_used(record.code_id, at)
        logged_in = _open_session(uow, SessionKind.CONSUMER, mobile, at, token())
        uow.commit()
    return logged_in


def _after_wrong(history: MobileHistory, at: datetime) -> MobileHistory:
    return MobileHistory(history.codes_sent, history.wrong_tries + 1, at)


# -- officers: a password and a role ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AddOfficer:
    officer_id: str
    name: str
    role: Role
    divisions: Collection[str]
    password: str


def add_officer(
    cmd: AddOfficer, uow: AccessUnitOfWork, clock: Clock, hasher: PasswordHasher
) -> Officer:
    officer_id = require_username(cmd.officer_id)
    require_officer(cmd.role, cmd.divisions)
    password_hash = hasher.hash(require_officer_password(cmd.password))
    officer = Officer(
        officer_id, cmd.name.strip() or officer_id, cmd.role, frozenset(cmd.divisions)
    )
    with uow:
        uow.access.add_officer(OfficerRecord(officer, password_hash, 0, None, clock.now()))
        uow.commit()
    return officer


@dataclass(frozen=True, slots=True)
class OfficerLogin:
    officer_id: str
    password: str


WRONG_PASSWORD = "wrong username or password"


def officer_log_in(
    cmd: OfficerLogin,
    new_uow: Callable[[], AccessUnitOfWork],
    clock: Clock,
    hasher: PasswordHasher,
    token: Callable[[], str] = new_token,
) -> LoggedIn:
    """An officer session (8 h). Five wrong passwords in a row lock the officer for 15
    minutes, as for cashiers. The slow hash is checked outside any transaction; the count is
    kept under the officer's row lock. Every login, right or wrong, is in the audit log."""
    at = clock.now()
    officer_id = cmd.officer_id.strip().lower()
    if not USERNAME.fullmatch(officer_id):  # no such officer can exist: say no more
        raise AccessDenied(WRONG_PASSWORD)
    with new_uow() as uow:
        found = uow.access.officer(officer_id)
    if found is None or not found.officer.is_active:
        raise AccessDenied(WRONG_PASSWORD)
    if found.locked_until is not None and is_locked(found.locked_until, at):
        raise _officer_locked(found.locked_until)
    is_right = hasher.verify(found.password_hash, cmd.password)
    with new_uow() as uow:
        current = uow.access.officer(officer_id, lock=True)
        if current is None or not current.officer.is_active:
            raise AccessDenied(WRONG_PASSWORD)
        if current.locked_until is not None and is_locked(current.locked_until, at):
            raise _officer_locked(current.locked_until)
        is_right = is_right and current.password_hash == found.password_hash
        failed, until = (0, None) if is_right else after_failed_login(current.failed_logins, at)
        if (failed, until) != (current.failed_logins, current.locked_until):
            uow.access.set_login_state(officer_id, failed, until)
        action = "login" if is_right else ("login_locked" if until else "login_refused")
        uow.access.add_audit(AuditEntry(at, officer_id, action, officer_id, "", {}))
        logged_in = (
            _open_session(uow, SessionKind.OFFICER, officer_id, at, token()) if is_right else None
        )
        uow.commit()
    if until is not None:
        raise _officer_locked(until)
    if logged_in is None:
        raise AccessDenied(WRONG_PASSWORD)
    return logged_in


def _officer_locked(until: datetime) -> LockedOut:
    return locked_out(until, "five wrong passwords in a row")


# -- sessions -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Visitor:
    """Who is behind a live session: a consumer (by mobile) or an officer."""

    session: PortalSession
    officer: Officer | None = None

    @property
    def mobile(self) -> str | None:
        return self.session.subject if self.session.kind is SessionKind.CONSUMER else None


def visitor_of(token: str, uow: AccessUnitOfWork, clock: Clock) -> Visitor | None:
    """The live session behind a cookie's token, or None (none, ended, expired, or an
    officer who has been deactivated since)."""
    at = clock.now()
    with uow:
        session = uow.access.session(token_digest(token))
        if session is None or not session.is_live(at):
            return None
        if session.kind is SessionKind.CONSUMER:
            return Visitor(session)
        record = uow.access.officer(session.subject)
    if record is None or not record.officer.is_active:
        return None
    return Visitor(session, record.officer)


def log_out(token: str, uow: AccessUnitOfWork, clock: Clock) -> None:
    with uow:
        uow.access.end_session(token_digest(token), clock.now())
        uow.commit()


def audit(
    uow: AccessUnitOfWork,
    officer: Officer,
    action: str,
    target: str,
    at: datetime,
    *,
    reason: str = "",
    detail: Mapping[str, object] | None = None,
) -> None:
    """Record an officer's action in the transaction that performs it: both or neither."""
    uow.access.add_audit(AuditEntry(at, officer.officer_id, action, target, reason, detail or {}))
