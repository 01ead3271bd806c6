"""Consumer care use cases: complaints, alert preferences, and a new mobile number or e-mail
address confirmed by a one-time code.

Every use case is given the mobile the consumer logged in with: an account registered to
another number is unknown (UnknownAccount), whether or not it exists, so that the portal
answers 404 and reveals nothing. The code rules (expiry, tries, lockout) are the login
codes' own, from domain/access.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from prepaidgrid.domain.access import (
    CODE_TTL,
    CODE_WINDOW,
    CodeCheck,
    CodeExpired,
    CodeRecord,
    MobileHistory,
    TooManyCodes,
    WrongCode,
    check_code,
    code_digest,
    locked_out,
    locked_until,
    may_send_code,
    new_code,
    require_mobile,
    tries_left,
)
from prepaidgrid.domain.complaint_diagnosis import Diagnosis
from prepaidgrid.domain.complaints import (
    Complaint,
    ComplaintEvent,
    NewComplaint,
    complaint,
    complaint_id_of,
    opened,
)
from prepaidgrid.domain.errors import DomainError, InvalidInput, UnknownAccount
from prepaidgrid.domain.notifications import (
    AlertPreferences,
    ContactKind,
    Template,
    require_email,
)
from prepaidgrid.domain.units import IST
from prepaidgrid.services.complaint_desk import (
    AccountContact,
    ComplaintStore,
    check_meter_message,
    diagnose,
    outgoing,
)
from prepaidgrid.services.ports import Clock, PolicyBook, TariffBook, UnitOfWork

MAX_CLIENT_KEY_CHARS = 64


@dataclass(frozen=True, slots=True)
class ContactCode:
    """A one-time code sent to a new mobile or e-mail address of an account."""

    record: CodeRecord
    kind: ContactKind
    target: str  # the new mobile or address


@dataclass(frozen=True, slots=True)
class ContactChange:
    account_id: str
    kind: ContactKind
    old_value: str | None  # None: no e-mail address was registered
    new_value: str
    changed_at: datetime
    code_id: int  # the code that confirmed it


class ComplaintBook(Protocol):
    def add_complaint(self, new: NewComplaint, client_key: str) -> tuple[Complaint, bool]:
        """File a complaint once per form key: (the complaint, True), or (the one this key
        filed before, False)."""
        ...

    def complaint(self, account_id: str, complaint_id: int) -> Complaint | None:
        """The account's complaint of that id; None for another account's."""
        ...

    def complaints_of(self, account_id: str, limit: int) -> list[Complaint]:
        """The account's complaints, newest first."""
        ...

    def add_complaint_event(self, event: ComplaintEvent) -> int:
        """Append the event; its id."""
        ...

    def complaint_events(self, complaint_id: int) -> list[ComplaintEvent]:
        """The complaint's history, oldest first."""
        ...


class AlertSettings(Protocol):
    def preferences(self, account_id: str) -> AlertPreferences:
        """The account's stored preferences, or the defaults when none are stored."""
        ...

    def save_preferences(
        self, account_id: str, preferences: AlertPreferences, at: datetime
    ) -> None: ...


class ContactBook(Protocol):
    def contact_of(self, account_id: str, *, lock: bool = False) -> AccountContact | None:
        """The account's contact details; `lock` holds its row until the transaction ends."""
        ...

    def contact_history(self, account_id: str, target: str, at: datetime) -> MobileHistory:
        """Codes sent for this account or to this address in CODE_WINDOW (whichever is
        more), and the account's wrong tries in WRONG_TRIES_WINDOW."""
        ...

    def newest_contact_code(self, account_id: str, kind: ContactKind) -> ContactCode | None:
        """The account's newest code of that kind, locked until the transaction ends."""
        ...

    def add_contact_code(
        self, account_id: str, kind: ContactKind, target: str, digest: str, created_at: datetime
    ) -> int: ...

    def record_wrong_contact_try(self, code_id: int, at: datetime) -> None: ...

    def mark_contact_code_used(self, code_id: int, at: datetime) -> None: ...

    def change_contact(self, change: ContactChange) -> None:
        """Set the account's mobile or e-mail, and record the change."""
        ...

    def move_session(self, token_digest: str, from_mobile: str, to_mobile: str) -> None:
        """Hand a live consumer session of `from_mobile` to `to_mobile`."""
        ...


class CareStore(ComplaintBook, AlertSettings, ContactBook, ComplaintStore, Protocol):
    pass


class CareUnitOfWork(UnitOfWork, Protocol):
    @property
    def care(self) -> CareStore: ...


def _owned(
    uow: CareUnitOfWork, account_id: str, mobile: str, *, lock: bool = False
) -> AccountContact:
    contact = uow.care.contact_of(account_id, lock=lock)
    if contact is None or contact.mobile != mobile:
        raise UnknownAccount(f"no account {account_id} is registered to this mobile number")
    return contact


def contact_details(account_id: str, mobile: str, uow: CareUnitOfWork) -> AccountContact:
    """The account's mobile and e-mail address, for its own consumer."""
    with uow:
        return _owned(uow, account_id, mobile)


_outgoing = outgoing  # the one builder of consumer messages (complaint_desk.py)


# -- complaints ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileComplaint:
    account_id: str
    mobile: str  # the visitor's
    category: str
    description: str
    payment_reference: str
    client_key: str  # the form's one-time key: a double submit files once


@dataclass(frozen=True, slots=True)
class ComplaintFiled:
    complaint: Complaint
    is_new: bool  # False: this form had filed it already


def new_client_key() -> str:
    return secrets.token_urlsafe(24)


def file_complaint(
    cmd: FileComplaint,
    uow: CareUnitOfWork,
    clock: Clock,
    tariffs: TariffBook,
    policies: PolicyBook,
) -> ComplaintFiled:
    """File a complaint with its diagnosis, acknowledged by SMS with its number and due
    day; a meter dispute's check meter visit is scheduled and told too."""
    at = clock.now()
    new = complaint(cmd.account_id, cmd.category, cmd.description, cmd.payment_reference, at)
    key = cmd.client_key.strip()
    if not key or len(key) > MAX_CLIENT_KEY_CHARS:
        raise InvalidInput("this form has expired: reload the page and try again")
    with uow:
        contact = _owned(uow, cmd.account_id, cmd.mobile)
        filed, is_new = uow.care.add_complaint(new, key)
        if not is_new:
            return ComplaintFiled(filed, is_new=False)
        uow.care.add_complaint_event(opened(filed.complaint_id, at))
        params = {
            "number": filed.number,
            "account_id": filed.account_id,
            "due_day": filed.due_on.strftime("%d-%m-%Y"),
        }
        template = Template.COMPLAINT_RECEIVED
        uow.outbox.add(_outgoing(contact, template, params, at, f"complaint:{filed.number}"))
        try:
            diagnosis = diagnose(filed, uow.care.facts, tariffs, policies, at)
        except DomainError as error:  # a complaint is filed even when its records puzzle us
            diagnosis = Diagnosis(computed_at=at, notes=(f"no diagnosis: {error}",))
        uow.care.set_diagnosis(filed.complaint_id, diagnosis)
        if diagnosis.check_meter_on is not None:
            uow.outbox.add(check_meter_message(contact, filed, diagnosis.check_meter_on, at))
            filed = replace(filed, check_meter_on=diagnosis.check_meter_on)
        uow.commit()
    return ComplaintFiled(filed, is_new=True)


def complaints_of(
    account_id: str, mobile: str, uow: CareUnitOfWork, limit: int = 100
) -> list[Complaint]:
    """The account's complaints, newest first."""
    with uow:
        _owned(uow, account_id, mobile)
        return uow.care.complaints_of(account_id, limit)


@dataclass(frozen=True, slots=True)
class ComplaintDetail:
    complaint: Complaint
    events: list[ComplaintEvent]
    diagnosis: Diagnosis | None = None


def complaint_of(account_id: str, mobile: str, number: str, uow: CareUnitOfWork) -> ComplaintDetail:
    """One of the account's complaints by its number, with its history; UnknownAccount
    for another account's complaint, or a number that is not one."""
    complaint_id = complaint_id_of(number)
    with uow:
        _owned(uow, account_id, mobile)
        found = None if complaint_id is None else uow.care.complaint(account_id, complaint_id)
        if found is None:
            raise UnknownAccount(f"account {account_id} has no complaint {number}")
        events = uow.care.complaint_events(found.complaint_id)
        return ComplaintDetail(found, events, uow.care.diagnosis(found.complaint_id))


# -- alert preferences --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PreferencesView:
    preferences: AlertPreferences
    email: str | None  # e-mail alerts need one


def alert_preferences_of(account_id: str, mobile: str, uow: CareUnitOfWork) -> PreferencesView:
    with uow:
        contact = _owned(uow, account_id, mobile)
        return PreferencesView(uow.care.preferences(account_id), contact.email)


@dataclass(frozen=True, slots=True)
class SaveAlertPreferences:
    account_id: str
    mobile: str
    preferences: AlertPreferences


def save_alert_preferences(cmd: SaveAlertPreferences, uow: CareUnitOfWork, clock: Clock) -> None:
    with uow:
        contact = _owned(uow, cmd.account_id, cmd.mobile, lock=True)
        if cmd.preferences.is_email_on and contact.email is None:
            raise InvalidInput("register an e-mail address first to get alerts by e-mail")
        uow.care.save_preferences(cmd.account_id, cmd.preferences, clock.now())
        uow.commit()


# -- a new mobile number or e-mail address ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequestContactCode:
    account_id: str
    mobile: str  # the visitor's
    kind: ContactKind
    new_value: str


@dataclass(frozen=True, slots=True)
class ContactCodeSent:
    kind: ContactKind
    target: str
    valid_minutes: int


def _bound(account_id: str, kind: ContactKind, target: str) -> str:
    """What a contact code is bound to: this account's change to this address. A login
    code, or a code for another address or account, is worthless here."""
    return f"contact:{account_id}:{kind.value}:{target}"


def _current(contact: AccountContact, kind: ContactKind) -> str | None:
    return contact.mobile if kind is ContactKind.MOBILE else contact.email


def request_contact_code(
    cmd: RequestContactCode,
    uow: CareUnitOfWork,
    clock: Clock,
    secret: bytes,
    random_below: Callable[[int], int] = secrets.randbelow,
) -> ContactCodeSent:
    """Send a code to the new mobile (SMS) or address (e-mail); nothing changes until it
    comes back. A number already registered to another consumer's connections is allowed:
    families and neighbours share one phone, and the code proves this person holds it."""
    is_mobile = cmd.kind is ContactKind.MOBILE
    target = require_mobile(cmd.new_value) if is_mobile else require_email(cmd.new_value)
    at = clock.now()
    minutes = int(CODE_TTL.total_seconds() // 60)
    with uow:
        # The account's row lock makes concurrent requests count each other's codes.
        contact = _owned(uow, cmd.account_id, cmd.mobile, lock=True)
        current = _current(contact, cmd.kind)
        if current is not None and current.lower() == target.lower():
            raise InvalidInput(f"{target} is already this account's {cmd.kind.value}")
        history = uow.care.contact_history(cmd.account_id, target, at)
        until = locked_until(history)
        if until is not None and at < until:
            raise locked_out(until)
        if not may_send_code(history, at):
            raise TooManyCodes(
                "three codes were sent in the last 15 minutes: use the newest", at + CODE_WINDOW
            )
        code = new_code(random_below)
        digest = code_digest(secret, _bound(cmd.account_id, cmd.kind, target), code)
        code_id = uow.care.add_contact_code(cmd.account_id, cmd.kind, target, digest, at)
        params = {"code": code, "account_id": cmd.account_id, "minutes": str(minutes)}
        to = {"mobile": target} if is_mobile else {"email": target}
        key = f"{cmd.kind.value}:contact_code:{code_id}"
        uow.outbox.add(_outgoing(contact, Template.CONTACT_CODE, params, at, key, **to))
        uow.commit()
    return ContactCodeSent(cmd.kind, target, minutes)


@dataclass(frozen=True, slots=True)
class VerifyContactCode:
    account_id: str
    mobile: str  # the visitor's
    kind: ContactKind
    code: str
    session_digest: str | None = None  # the visitor's session, handed to a new mobile


@dataclass(frozen=True, slots=True)
class ContactChanged:
    kind: ContactKind
    old_value: str | None
    new_value: str


def verify_contact_code(
    cmd: VerifyContactCode, uow: CareUnitOfWork, clock: Clock, secret: bytes
) -> ContactChanged:
    """Apply the change the right code confirms, and tell the old number of it.

    A new mobile takes the visitor's session along: the account is registered to it now,
    and the code proved the visitor holds it. The old number's other sessions lose the
    account, and its other connections need a login with the old number.
    """
    at = clock.now()
    with uow:
        contact = _owned(uow, cmd.account_id, cmd.mobile, lock=True)
        found = uow.care.newest_contact_code(cmd.account_id, cmd.kind)
        target = found.target if found else ""
        history = uow.care.contact_history(cmd.account_id, target, at)
        given = code_digest(secret, _bound(cmd.account_id, cmd.kind, target), cmd.code.strip())
        verdict = check_code(found.record if found else None, history, given, at)
        if verdict is CodeCheck.LOCKED:
            raise locked_out(locked_until(history) or at)
        if verdict is CodeCheck.EXPIRED or found is None:
            raise CodeExpired("this code has expired or was used: ask for a new one")
        if verdict is CodeCheck.WRONG:
            left = tries_left(found.record, history)
            uow.care.record_wrong_contact_try(found.record.code_id, at)
            uow.commit()
            if left == 0:
                after = MobileHistory(history.codes_sent, history.wrong_tries + 1, at)
                until = locked_until(after)
                if until is not None:
                    raise locked_out(until)
                raise CodeExpired("wrong code, and no tries left on it: ask for a new one")
            raise WrongCode(f"wrong code: {left} {'try' if left == 1 else 'tries'} left", left)
        uow.care.mark_contact_code_used(found.record.code_id, at)
        old = _current(contact, cmd.kind)
        code_id = found.record.code_id
        uow.care.change_contact(
            ContactChange(cmd.account_id, cmd.kind, old, found.target, at, code_id)
        )
        when = at.astimezone(IST).strftime("%d-%m-%Y %H:%M")
        if cmd.kind is ContactKind.MOBILE:
            params = {"account_id": cmd.account_id, "mobile": _masked(found.target), "when": when}
            template = Template.MOBILE_CHANGED
            if cmd.session_digest:
                uow.care.move_session(cmd.session_digest, cmd.mobile, found.target)
        else:
            params = {"account_id": cmd.account_id, "when": when}
            template = Template.EMAIL_CHANGED
        # To the number the account had: its holder hears of the change, and can call.
        uow.outbox.add(_outgoing(contact, template, params, at, f"{template.value}:{code_id}"))
        uow.commit()
    return ContactChanged(cmd.kind, old, found.target)


def _masked(mobile: str) -> str:
    return f"{mobile[:2]}xxxxx{mobile[-3:]}"
