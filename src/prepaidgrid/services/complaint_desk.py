"""The officers' side of complaints: the diagnosis computed as a complaint opens, the
officers' moves (take up, note, resolve, close), the consumer's reopen, and the sweep that
escalates overdue complaints once per level.

Every officer move is scoped (an officer outside the complaint's division gets
UnknownComplaint, as if it did not exist), audited in its own transaction, and tells the
consumer by SMS in their language through the outbox. `services/care.py` files complaints
and calls `diagnose` in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Protocol

from prepaidgrid.domain.access import Forbidden, Officer
from prepaidgrid.domain.complaint_diagnosis import (
    ContactFinding,
    Diagnosis,
    ExplainedDay,
    PaymentFinding,
    PaymentStage,
    SlabLine,
    SupplyFinding,
    UsageDay,
    UsageFinding,
    load_band,
)
from prepaidgrid.domain.complaints import (
    ESCALATION_STEPS,
    Complaint,
    ComplaintCategory,
    ComplaintEvent,
    check_meter_day,
    closed,
    complaint_id_of,
    escalated,
    escalations_due,
    may_handle,
    noted,
    reopen_by,
    reopened,
    resolved,
    taken_up,
)
from prepaidgrid.domain.errors import NotFound, UnknownPayment
from prepaidgrid.domain.ledger import PaymentRef
from prepaidgrid.domain.notifications import Message, Template
from prepaidgrid.domain.units import ist_day
from prepaidgrid.services.access import AccessUnitOfWork, audit
from prepaidgrid.services.payment_timeline import PaymentHistory, payment_timeline
from prepaidgrid.services.ports import Clock, OutboxMessage, PolicyBook, TariffBook
from prepaidgrid.services.statement import AccountTerms, ChargedDay, explain_days

USAGE_DAYS = 30  # the days of use shown beside similar households
EXPLAINED_DAYS = 7  # the last billed days whose slab arithmetic is shown
RECENT_PAYMENTS = 5  # looked at when the consumer gave no reference
SMS_NOTE_CHARS = 120  # an officer's note quoted in an SMS


class UnknownComplaint(NotFound):
    """No such complaint, or one outside the officer's divisions (HTTP 404)."""


@dataclass(frozen=True, slots=True)
class AccountContact:
    """How an account's consumer is reached."""

    account_id: str
    mobile: str
    email: str | None
    language: str


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """What the diagnosis needs of the complaining connection."""

    account_id: str
    discom: str
    category: str  # tariff category, e.g. DS-II
    sanctioned_load_w: int
    division_code: str | None
    supply_profile: str
    migrated_at: datetime | None

    @property
    def terms(self) -> AccountTerms:
        migrated = None if self.migrated_at is None else ist_day(self.migrated_at)
        return AccountTerms(self.discom, self.category, self.sanctioned_load_w, migrated)


class ComplaintFacts(Protocol):
    """The records a diagnosis reads, in the complaint's transaction."""

    def account_facts(self, account_id: str) -> AccountFacts | None: ...

    def payment_history(self) -> PaymentHistory: ...

    def payment_refs(self, account_id: str, reference: str | None, limit: int) -> list[PaymentRef]:
        """The account's payments with that reference (any channel, an order's gateway id
        too), or its latest `limit` payments when `reference` is None; newest first."""
        ...

    def supply(self, account_id: str, commands: int) -> SupplyFinding: ...

    def daily_use(self, account_id: str, first_day: date, last_day: date) -> dict[date, int]: ...

    def similar_medians(
        self, account: AccountFacts, first_day: date, last_day: date
    ) -> dict[date, tuple[int, int]]:
        """Per day: (the median used_wh, the number of households) of the accounts of the
        same category and sanctioned-load band (`load_band`) in the account's division,
        the account itself left out. One set-based query."""
        ...

    def charged_days(self, account_id: str, first_day: date, last_day: date) -> list[ChargedDay]:
        """The billed days in the range, oldest first."""
        ...

    def contact_changes(self, account_id: str, limit: int) -> list[ContactFinding]: ...


class ComplaintStore(Protocol):
    def contact_of(self, account_id: str, *, lock: bool = False) -> AccountContact | None: ...

    def add_complaint_event(self, event: ComplaintEvent) -> int:
        """Append the event; its id."""
        ...

    def complaint_events(self, complaint_id: int) -> list[ComplaintEvent]: ...

    def complaint_by_id(self, complaint_id: int, *, lock: bool = False) -> Complaint | None: ...

    def save_complaint(self, after: Complaint) -> None:
        """Store a complaint's status, resolution, level, assignee, due and resolved days."""
        ...

    def set_diagnosis(self, complaint_id: int, diagnosis: Diagnosis) -> None:
        """Store the diagnosis and its check meter day."""
        ...

    def diagnosis(self, complaint_id: int) -> Diagnosis | None: ...

    def division_of(self, account_id: str) -> str | None: ...

    def add_escalation(self, complaint_id: int, level: int, at: datetime) -> bool:
        """Record that the complaint climbed `level`; False when it had already."""
        ...

    def escalations_pending(self, day: date, steps: Sequence[int], limit: int) -> list[Complaint]:
        """Unfinished complaints late enough on IST day `day` to climb their next level
        (`escalation_level_due` with these steps), oldest due first."""
        ...

    @property
    def facts(self) -> ComplaintFacts: ...


class DeskUnitOfWork(AccessUnitOfWork, Protocol):
    @property
    def care(self) -> ComplaintStore: ...


def outgoing(
    contact: AccountContact,
    template: Template,
    params: Mapping[str, str],
    at: datetime,
    key: str,
    *,
    mobile: str | None = None,
    email: str | None = None,
) -> OutboxMessage:
    """A message in the account's language: an SMS to its mobile (or to `mobile`), or an
    e-mail to `email` (issue 7 delivers those)."""
    message = Message(template, contact.language, params)
    if email is None:
        kind, to = "sms", {"mobile": mobile or contact.mobile}
    else:
        kind, to = "email", {"to": email, "subject": message.subject()}
    return OutboxMessage(
        dedupe_key=f"{kind}:{key}",
        kind=kind,
        account_id=contact.account_id,
        payload={
            "template": template.value,
            "language": contact.language,
            **to,
            "params": dict(params),
            "text": message.render(),
        },
        created_at=at,
    )


# -- the diagnosis ------------------------------------------------------------------------------


def diagnose(
    complaint: Complaint,
    facts: ComplaintFacts,
    tariffs: TariffBook,
    policies: PolicyBook,
    at: datetime,
) -> Diagnosis:
    """What the records say about the complaint's category, as of `at`."""
    category = complaint.category
    diagnosis = Diagnosis(computed_at=at)
    account = facts.account_facts(complaint.account_id)
    if account is None:
        return replace(diagnosis, notes=("the account was not found",))
    if category is ComplaintCategory.RECHARGE_NOT_CREDITED:
        return _payments(diagnosis, complaint, facts, at)
    if category is ComplaintCategory.NOT_RECONNECTED:
        supply = facts.supply(complaint.account_id, commands=20)
        found = _payments(diagnosis, complaint, facts, at)
        return replace(found, supply=supply)
    if category in (ComplaintCategory.HIGH_DEDUCTION, ComplaintCategory.METER_FAULT):
        return replace(
            diagnosis,
            usage=_usage(account, facts, tariffs, ist_day(at)),
            check_meter_on=check_meter_day(
                category, complaint.opened_at, policies.no_cut_days(account.supply_profile)
            ),
        )
    if category is ComplaintCategory.MOBILE_CHANGE:
        return replace(
            diagnosis, contact_changes=tuple(facts.contact_changes(account.account_id, 20))
        )
    return diagnosis


def _payments(
    diagnosis: Diagnosis, complaint: Complaint, facts: ComplaintFacts, at: datetime
) -> Diagnosis:
    reference = complaint.payment_reference
    refs = facts.payment_refs(complaint.account_id, reference, RECENT_PAYMENTS)
    notes: tuple[str, ...] = ()
    if reference is not None and not refs:
        notes = (f"no payment of this account has the reference {reference}",)
        refs = facts.payment_refs(complaint.account_id, None, RECENT_PAYMENTS)
    history = facts.payment_history()
    findings = []
    for ref in refs:
        try:
            life = payment_timeline(history, ref, at)
        except UnknownPayment:
            continue
        stuck = life.stuck
        findings.append(
            PaymentFinding(
                ref.channel.value,
                ref.reference,
                life.amount_paise,
                life.status,
                tuple(PaymentStage(s.name, s.at, s.detail) for s in life.stages),
                None if stuck is None else stuck.stage,
                None if stuck is None else stuck.waiting_for,
                None if stuck is None else stuck.since,
            )
        )
    return replace(diagnosis, payments=tuple(findings), notes=notes)


def _usage(
    account: AccountFacts, facts: ComplaintFacts, tariffs: TariffBook, today: date
) -> UsageFinding:
    last = today - timedelta(days=1)
    first = today - timedelta(days=USAGE_DAYS)
    own = facts.daily_use(account.account_id, first, last)
    similar = facts.similar_medians(account, first, last)
    days = tuple(
        UsageDay(day, own.get(day), *similar.get(day, (None, 0)))
        for day in (first + timedelta(days=n) for n in range(USAGE_DAYS))
    )
    charged = facts.charged_days(
        account.account_id, (first - timedelta(days=31)).replace(day=1), last
    )
    explained = _explained(charged, account.terms, tariffs)
    above, upto = load_band(account.sanctioned_load_w)
    return UsageFinding(account.category, above, upto, days, explained)


def _explained(
    charged: Sequence[ChargedDay], terms: AccountTerms, tariffs: TariffBook
) -> tuple[ExplainedDay, ...]:
    """The slab arithmetic of the last billed days; each month's days are explained from
    its first charged day, as `explain_days` asks."""
    last_days = list(charged)[-EXPLAINED_DAYS:]
    if not last_days:
        return ()
    months = {day.bill_day.replace(day=1) for day in last_days}
    lines = explain_days(
        [day for day in charged if day.bill_day.replace(day=1) in months], terms, tariffs
    )
    return tuple(
        ExplainedDay(
            day.bill_day,
            day.used_wh,
            day.total_paise,
            tuple(
                SlabLine(line.code, line.label, line.label_hi, line.amount_paise)
                for line in lines.get(day.bill_day, ())
            ),
        )
        for day in last_days
    )


# -- officers read ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ComplaintCase:
    """One complaint as an officer sees it."""

    complaint: Complaint
    division_code: str | None
    events: list[ComplaintEvent]
    diagnosis: Diagnosis | None
    may_act: bool


def _in_scope(uow: DeskUnitOfWork, officer: Officer, complaint_id: int, *, lock: bool) -> Complaint:
    found = uow.care.complaint_by_id(complaint_id, lock=lock)
    if found is None or not officer.sees(uow.care.division_of(found.account_id)):
        raise UnknownComplaint(f"no complaint {complaint_id} in your divisions")
    return found


def _id_of(number: str) -> int:
    complaint_id = complaint_id_of(number)
    if complaint_id is None:
        raise UnknownComplaint(f"{number!r} is not a complaint number")
    return complaint_id


def complaint_case(number: str, officer: Officer, uow: DeskUnitOfWork) -> ComplaintCase:
    """A complaint with its history and diagnosis, if it is in the officer's divisions."""
    with uow:
        found = _in_scope(uow, officer, _id_of(number), lock=False)
        return ComplaintCase(
            found,
            uow.care.division_of(found.account_id),
            uow.care.complaint_events(found.complaint_id),
            uow.care.diagnosis(found.complaint_id),
            may_handle(officer),
        )


# -- officers act -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ComplaintMove:
    number: str
    action: str  # take_up, note, resolve, close
    note: str = ""


ACTIONS = ("take_up", "note", "resolve", "close")


def _short(note: str) -> str:
    flat = " ".join(note.split())
    return flat if len(flat) <= SMS_NOTE_CHARS else flat[: SMS_NOTE_CHARS - 1] + "…"


def _day(day: date) -> str:
    return day.strftime("%d-%m-%Y")


def move_complaint(
    cmd: ComplaintMove, officer: Officer, uow: DeskUnitOfWork, clock: Clock
) -> Complaint:
    """Take up, note, resolve or close a complaint: stored, audited and told to the
    consumer in one transaction."""
    if not may_handle(officer):
        raise Forbidden(f"a {officer.role.value} may read complaints but not act on them")
    if cmd.action not in ACTIONS:
        raise UnknownComplaint(f"no complaint action {cmd.action!r}")
    at = clock.now()
    with uow:
        current = _in_scope(uow, officer, _id_of(cmd.number), lock=True)
        who = officer.officer_id
        if cmd.action == "take_up":
            after, event = taken_up(current, who, at)
        elif cmd.action == "note":
            after, event = noted(current, who, cmd.note, at)
        elif cmd.action == "resolve":
            after, event = resolved(current, who, cmd.note, at)
        else:
            after, event = closed(current, who, cmd.note, at)
        uow.care.save_complaint(after)
        event_id = uow.care.add_complaint_event(event)
        audit(
            uow,
            officer,
            f"complaint_{cmd.action}",
            after.number,
            at,
            reason=event.note,
            detail={"account_id": after.account_id, "from": current.status.value},
        )
        _tell(uow, after, cmd.action, event, event_id, at)
        uow.commit()
    return after


_TEMPLATES = {
    "take_up": Template.COMPLAINT_TAKEN_UP,
    "note": Template.COMPLAINT_UPDATED,
    "resolve": Template.COMPLAINT_RESOLVED,
    "close": Template.COMPLAINT_CLOSED,
    "reopen": Template.COMPLAINT_REOPENED,
}


def _tell(
    uow: DeskUnitOfWork,
    after: Complaint,
    action: str,
    event: ComplaintEvent,
    event_id: int,
    at: datetime,
) -> None:
    """The consumer's SMS of one step, keyed by the step's event: one message per step."""
    contact = uow.care.contact_of(after.account_id)
    if contact is None:
        return
    params = {"number": after.number, "account_id": after.account_id, "due_day": _day(after.due_on)}
    if action in ("note", "resolve"):
        params["note"] = _short(event.note)
    last_day = reopen_by(after)
    if last_day is not None:
        params["reopen_by"] = _day(last_day)
    template = _TEMPLATES[action]
    key = f"{template.value}:{after.number}:{event_id}"
    uow.outbox.add(outgoing(contact, template, params, at, key))


@dataclass(frozen=True, slots=True)
class ReopenComplaint:
    account_id: str
    mobile: str  # the visitor's: the account must be registered to it
    number: str
    note: str = ""


def reopen_complaint(cmd: ReopenComplaint, uow: DeskUnitOfWork, clock: Clock) -> Complaint:
    """The consumer reopens a resolution that did not fix it (within REOPEN_DAYS)."""
    at = clock.now()
    with uow:
        contact = uow.care.contact_of(cmd.account_id)
        found = uow.care.complaint_by_id(_id_of(cmd.number), lock=True)
        if contact is None or contact.mobile != cmd.mobile or found is None:
            raise UnknownComplaint(f"account {cmd.account_id} has no complaint {cmd.number}")
        if found.account_id != cmd.account_id:
            raise UnknownComplaint(f"account {cmd.account_id} has no complaint {cmd.number}")
        after, event = reopened(found, cmd.note, at)
        uow.care.save_complaint(after)
        _tell(uow, after, "reopen", event, uow.care.add_complaint_event(event), at)
        uow.commit()
    return after


# -- the escalation sweep -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Escalation:
    number: str
    account_id: str
    level: int


def escalate_overdue(
    uow_factory: Callable[[], DeskUnitOfWork],
    clock: Clock,
    steps: Sequence[int] = ESCALATION_STEPS,
    limit: int = 1000,
) -> list[Escalation]:
    """Escalate every overdue unfinished complaint to the level its lateness has reached,
    once per level: the (complaint, level) key keeps a concurrent or repeated sweep from
    escalating twice. One transaction per complaint; the consumer hears of the highest
    level reached."""
    at = clock.now()
    with uow_factory() as reader:
        candidates = reader.care.escalations_pending(ist_day(at), steps, limit)
    done: list[Escalation] = []
    for candidate in candidates:
        if not escalations_due(candidate, at, steps):
            continue
        with uow_factory() as uow:
            current = uow.care.complaint_by_id(candidate.complaint_id, lock=True)
            if current is None:
                continue
            climbed = []
            for level in escalations_due(current, at, steps):
                if not uow.care.add_escalation(current.complaint_id, level, at):
                    continue  # another sweep got there first
                current, event = escalated(current, level, at)
                uow.care.add_complaint_event(event)
                climbed.append(level)
            if not climbed:
                continue
            uow.care.save_complaint(current)
            contact = uow.care.contact_of(current.account_id)
            if contact is not None:
                params = {
                    "number": current.number,
                    "account_id": current.account_id,
                    "due_day": _day(current.due_on),
                }
                template = Template.COMPLAINT_ESCALATED
                key = f"{template.value}:{current.number}:{climbed[-1]}"
                uow.outbox.add(outgoing(contact, template, params, at, key))
            uow.commit()
        done.extend(Escalation(current.number, current.account_id, level) for level in climbed)
    return done


def check_meter_message(
    contact: AccountContact, complaint: Complaint, visit_on: date, at: datetime
) -> OutboxMessage:
    params = {
        "number": complaint.number,
        "account_id": complaint.account_id,
        "visit_day": _day(visit_on),
    }
    template = Template.CHECK_METER_SCHEDULED
    return outgoing(contact, template, params, at, f"{template.value}:{complaint.number}")
