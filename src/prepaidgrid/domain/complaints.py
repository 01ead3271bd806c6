"""Consumers' complaints: what they are about, how long the DISCOM has to answer, their life.

A consumer files a complaint for one of their own connections, in their own words. It is
numbered from its row id (CMP-000123), opens `open`, and is due by the end of an IST day
set by its category (`SLA_DAYS`), with a diagnosis computed as it opens (`Diagnosis`).
Officers move it along; a sweep escalates it when it is overdue (`ESCALATION_STEPS`):

    open --> in_progress --> resolved --> closed
    open --> resolved           resolved --> in_progress   (reopened: not fixed after all)
    open, in_progress --> closed                           (withdrawn, or a duplicate)

A reopen is the consumer's, within `REOPEN_DAYS` of the resolution. Every step (and every
note and escalation) is an event of the complaint's history; a resolution carries a note.
A meter dispute gets a check meter visit on a working day within 5 days of filing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from prepaidgrid.domain.access import Officer, Role
from prepaidgrid.domain.errors import InvalidInput, InvalidTransition
from prepaidgrid.domain.units import IST, ist_day, ist_midnight

MAX_DESCRIPTION_CHARS: Final = 2000
MAX_REFERENCE_CHARS: Final = 100  # payments.reference
NUMBER_PREFIX: Final = "CMP-"
_NUMBER = re.compile(r"CMP-(\d{6,12})")
_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:-]*")
_KEPT_CONTROLS = frozenset("\n\t")  # a textarea's line breaks and tabs are text


class InvalidComplaint(InvalidInput):
    """A complaint the consumer must correct; `field` and `reason` name what to fix (the
    portal shows it in the consumer's language)."""

    def __init__(self, message: str, field: str, reason: str) -> None:
        super().__init__(message)
        self.field = field
        self.reason = reason


class ComplaintCategory(StrEnum):
    """What consumers complain of, in their words."""

    RECHARGE_NOT_CREDITED = "recharge_not_credited"  # "I paid but the balance did not go up"
    NOT_RECONNECTED = "not_reconnected"  # "I recharged but the supply is still off"
    HIGH_DEDUCTION = "high_deduction"  # "too much was deducted / the meter runs fast"
    METER_FAULT = "meter_fault"  # display blank, relay stuck, meter burnt
    MOBILE_CHANGE = "mobile_change"  # cannot change it in the portal (lost the old SIM)
    OTHER = "other"


class ComplaintStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


SLA_DAYS: Final[Mapping[ComplaintCategory, int]] = MappingProxyType(
    {
        # Billing complaints need the ledger, the channel's settlement and perhaps the
        # meter's reads looked at: a week.
        ComplaintCategory.RECHARGE_NOT_CREDITED: 7,
        ComplaintCategory.HIGH_DEDUCTION: 7,
        # A household without supply, or with a meter that cannot be trusted: three days.
        ComplaintCategory.NOT_RECONNECTED: 3,
        ComplaintCategory.METER_FAULT: 3,
        ComplaintCategory.MOBILE_CHANGE: 7,
        ComplaintCategory.OTHER: 7,
    }
)
"""Days the DISCOM has to resolve a complaint, by category, counted in whole IST days
after the day it was filed: filed at any hour of 1 July with 3 days, due by the end of
4 July. The consumer therefore always gets at least the full number of days."""

OPEN_STATUSES: Final = frozenset({ComplaintStatus.OPEN, ComplaintStatus.IN_PROGRESS})

MOVES: Final[Mapping[ComplaintStatus, frozenset[ComplaintStatus]]] = MappingProxyType(
    {
        ComplaintStatus.OPEN: frozenset(
            {ComplaintStatus.IN_PROGRESS, ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED}
        ),
        ComplaintStatus.IN_PROGRESS: frozenset({ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED}),
        ComplaintStatus.RESOLVED: frozenset({ComplaintStatus.IN_PROGRESS, ComplaintStatus.CLOSED}),
        ComplaintStatus.CLOSED: frozenset(),
    }
)
"""The statuses a complaint may move to from each status; a closed complaint stays closed."""


def sla_due_on(category: ComplaintCategory, opened_at: datetime) -> date:
    """The IST day by whose end a complaint filed at `opened_at` must be resolved."""
    return ist_day(opened_at) + timedelta(days=SLA_DAYS[category])


def due_end(due_on: date) -> datetime:
    """The instant a complaint due on `due_on` becomes overdue: the next IST midnight."""
    return ist_midnight(due_on + timedelta(days=1))


def complaint_number(complaint_id: int) -> str:
    """The number a consumer quotes: CMP- and the row id, six digits at least."""
    if complaint_id <= 0:
        raise ValueError(f"complaint ids are positive, got {complaint_id}")
    return f"{NUMBER_PREFIX}{complaint_id:06d}"


def complaint_id_of(number: str) -> int | None:
    """The row id behind a complaint number, or None for anything that is not one."""
    found = _NUMBER.fullmatch(number.strip().upper())
    if found is None:
        return None
    complaint_id = int(found.group(1))
    return complaint_id if complaint_id > 0 else None


def require_category(value: str) -> ComplaintCategory:
    try:
        return ComplaintCategory(value.strip())
    except ValueError:
        raise InvalidComplaint(
            "choose what the complaint is about", "category", "category"
        ) from None


def require_description(text: str) -> str:
    """The consumer's words, stripped, line breaks as "\\n"; 1 to 2000 characters, and no
    control characters but line breaks and tabs (they would hide text from the officer)."""
    description = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not description:
        raise InvalidComplaint("describe the problem", "description", "description_empty")
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise InvalidComplaint(
            f"the description is {len(description)} characters long: "
            f"at most {MAX_DESCRIPTION_CHARS}, please",
            "description",
            "description_too_long",
        )
    if any(_is_control(char) for char in description):
        raise InvalidComplaint(
            "the description contains control characters: type it as plain text",
            "description",
            "description_control",
        )
    return description


def _is_control(char: str) -> bool:
    return char not in _KEPT_CONTROLS and unicodedata.category(char) in ("Cc", "Cs")


def require_payment_reference(text: str) -> str | None:
    """A payment's reference as the channel printed it (UPI, bank or receipt number);
    None when left empty."""
    reference = text.strip()
    if not reference:
        return None
    if len(reference) > MAX_REFERENCE_CHARS or not _REFERENCE.fullmatch(reference):
        raise InvalidComplaint(
            "a payment reference has letters, digits and . _ / : - only, "
            f"at most {MAX_REFERENCE_CHARS} characters",
            "payment_reference",
            "payment_reference",
        )
    return reference


@dataclass(frozen=True, slots=True)
class NewComplaint:
    """A complaint as filed, validated: `complaint` builds it from the consumer's form."""

    account_id: str
    category: ComplaintCategory
    description: str
    payment_reference: str | None
    opened_at: datetime
    due_on: date


def complaint(
    account_id: str, category: str, description: str, payment_reference: str, at: datetime
) -> NewComplaint:
    """Validate a complaint as typed; InvalidInput names the first thing to fix."""
    chosen = require_category(category)
    return NewComplaint(
        account_id,
        chosen,
        require_description(description),
        require_payment_reference(payment_reference),
        at,
        sla_due_on(chosen, at),
    )


@dataclass(frozen=True, slots=True)
class Complaint:
    complaint_id: int
    account_id: str
    category: ComplaintCategory
    description: str
    payment_reference: str | None
    status: ComplaintStatus
    opened_at: datetime
    due_on: date
    updated_at: datetime
    resolution: str = ""  # the officer's note, once resolved
    escalation_level: int = 0  # 0: the division; see ESCALATION_STEPS
    assigned_to: str | None = None  # the officer who took it up
    check_meter_on: date | None = None  # a meter dispute's check meter visit (IST day)
    resolved_at: datetime | None = None  # the last resolution; a reopen clears it

    @property
    def number(self) -> str:
        return complaint_number(self.complaint_id)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, at: datetime) -> bool:
        return self.is_open and at >= due_end(self.due_on)


class EventKind(StrEnum):
    OPENED = "opened"
    MOVED = "moved"  # from one status to another by an officer
    NOTE = "note"  # an officer's note; the status stays
    REOPENED = "reopened"  # by the consumer
    ESCALATED = "escalated"  # by the sweep, overdue


@dataclass(frozen=True, slots=True)
class ComplaintEvent:
    """One step of a complaint's history: opened, or moved from one status to another."""

    complaint_id: int
    at: datetime
    actor: str  # "consumer", or the officer's id
    from_status: ComplaintStatus | None  # None when opened
    to_status: ComplaintStatus
    note: str = ""
    kind: EventKind = EventKind.MOVED


def opened(complaint_id: int, at: datetime) -> ComplaintEvent:
    return ComplaintEvent(
        complaint_id, at, "consumer", None, ComplaintStatus.OPEN, "", EventKind.OPENED
    )


def moved(
    current: Complaint, to: ComplaintStatus, actor: str, at: datetime, note: str = ""
) -> tuple[Complaint, ComplaintEvent]:
    """The complaint after a move, and the event that records it. A resolution needs a
    note: the consumer is told what was found and done."""
    if to not in MOVES[current.status]:
        raise InvalidTransition(
            f"complaint {current.number} is {current.status.value}: it cannot become {to.value}"
        )
    note = note.strip()
    if to is ComplaintStatus.RESOLVED and not note:
        raise InvalidInput("say what was found and done to resolve the complaint")
    is_resolved = to is ComplaintStatus.RESOLVED
    after = replace(
        current,
        status=to,
        updated_at=at,
        resolution=note if is_resolved else current.resolution,
        resolved_at=at if is_resolved else current.resolved_at,
    )
    return after, ComplaintEvent(current.complaint_id, at, actor, current.status, to, note)


# -- officers' moves (issue 7) ------------------------------------------------------------------

MAX_NOTE_CHARS: Final = 1000
REOPEN_DAYS: Final = 7  # a consumer may reopen a resolution for this long
HANDLERS: Final = frozenset({Role.ADMIN, Role.DIVISION_OFFICER})  # auditors and cashiers read


def may_handle(officer: Officer) -> bool:
    """Whether the officer may act on complaints (in the divisions they see)."""
    return officer.is_active and officer.role in HANDLERS


def require_note(text: str, *, is_required: bool) -> str:
    """An officer's note: plain text, at most MAX_NOTE_CHARS; required for a resolution."""
    note = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if is_required and not note:
        raise InvalidInput("write a note: the consumer is told what was found and done")
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidInput(f"a note is at most {MAX_NOTE_CHARS} characters")
    if any(_is_control(char) for char in note):
        raise InvalidInput("a note is plain text: no control characters")
    return note


def taken_up(current: Complaint, officer_id: str, at: datetime) -> tuple[Complaint, ComplaintEvent]:
    """The officer takes the complaint up: in progress, assigned to them."""
    after, event = moved(current, ComplaintStatus.IN_PROGRESS, officer_id, at)
    return replace(after, assigned_to=officer_id), event


def noted(
    current: Complaint, officer_id: str, note: str, at: datetime
) -> tuple[Complaint, ComplaintEvent]:
    """A note on an unfinished complaint; its status stays."""
    if current.status is ComplaintStatus.CLOSED:
        raise InvalidTransition(f"complaint {current.number} is closed: no more notes")
    text = require_note(note, is_required=True)
    event = ComplaintEvent(
        current.complaint_id, at, officer_id, current.status, current.status, text, EventKind.NOTE
    )
    return replace(current, updated_at=at), event


def resolved(
    current: Complaint, officer_id: str, note: str, at: datetime
) -> tuple[Complaint, ComplaintEvent]:
    return moved(
        current, ComplaintStatus.RESOLVED, officer_id, at, require_note(note, is_required=True)
    )


def closed(
    current: Complaint, officer_id: str, note: str, at: datetime
) -> tuple[Complaint, ComplaintEvent]:
    """Close a resolved complaint, or withdraw an unfinished one (a duplicate, withdrawn):
    that needs a note, the consumer is told why."""
    text = require_note(note, is_required=current.status is not ComplaintStatus.RESOLVED)
    return moved(current, ComplaintStatus.CLOSED, officer_id, at, text)


def reopen_by(current: Complaint) -> date | None:
    """The last IST day the consumer may reopen a resolved complaint on."""
    if current.status is not ComplaintStatus.RESOLVED or current.resolved_at is None:
        return None
    return ist_day(current.resolved_at) + timedelta(days=REOPEN_DAYS)


def reopened(current: Complaint, note: str, at: datetime) -> tuple[Complaint, ComplaintEvent]:
    """The consumer says a resolution did not fix it: in progress again, due anew."""
    last_day = reopen_by(current)
    if last_day is None:
        raise InvalidTransition(f"complaint {current.number} is not resolved: nothing to reopen")
    if at >= ist_midnight(last_day + timedelta(days=1)):
        raise InvalidTransition(
            f"complaint {current.number} could be reopened until {last_day:%d-%m-%Y}: "
            "please make a new complaint"
        )
    text = require_note(note, is_required=False)
    after = replace(
        current,
        status=ComplaintStatus.IN_PROGRESS,
        updated_at=at,
        due_on=sla_due_on(current.category, at),
        resolved_at=None,
    )
    event = ComplaintEvent(
        current.complaint_id,
        at,
        "consumer",
        current.status,
        ComplaintStatus.IN_PROGRESS,
        text,
        EventKind.REOPENED,
    )
    return after, event


# -- escalation ---------------------------------------------------------------------------------

ESCALATION_STEPS: Final = (0, 3)
"""Days after a complaint becomes overdue at which it climbs each level: level 1 (the
circle; admins) at once, level 2 (the DISCOM's management) 3 days later. Level 0 is the
division's officers. A longer tuple adds levels."""

LEVEL_NAMES: Final = ("division", "circle", "discom")


def level_name(level: int) -> str:
    return LEVEL_NAMES[level] if level < len(LEVEL_NAMES) else f"level {level}"


def escalation_level_due(
    due_on: date, at: datetime, steps: Sequence[int] = ESCALATION_STEPS
) -> int:
    """The level an unfinished complaint due on `due_on` should have reached at `at`."""
    overdue_from = due_end(due_on)
    return sum(1 for days in steps if at >= overdue_from + timedelta(days=days))


def escalations_due(
    current: Complaint, at: datetime, steps: Sequence[int] = ESCALATION_STEPS
) -> list[int]:
    """The levels the complaint climbs now (none unless it is open and overdue)."""
    if not current.is_open:
        return []
    target = escalation_level_due(current.due_on, at, steps)
    return list(range(current.escalation_level + 1, target + 1))


def escalated(current: Complaint, level: int, at: datetime) -> tuple[Complaint, ComplaintEvent]:
    event = ComplaintEvent(
        current.complaint_id,
        at,
        "system",
        current.status,
        current.status,
        f"overdue since {due_end(current.due_on).astimezone(IST):%d-%m-%Y}: "
        f"escalated to the {level_name(level)}",
        EventKind.ESCALATED,
    )
    return replace(current, escalation_level=level, updated_at=at), event


# -- the check meter of a meter dispute ---------------------------------------------------------

METER_DISPUTES: Final = frozenset({ComplaintCategory.HIGH_DEDUCTION, ComplaintCategory.METER_FAULT})
CHECK_METER_WITHIN_DAYS: Final = 5


def check_meter_day(
    category: ComplaintCategory,
    opened_at: datetime,
    is_closed_day: Callable[[date], bool],
    within_days: int = CHECK_METER_WITHIN_DAYS,
) -> date | None:
    """The visit day of a meter dispute's check meter: the first working day (not a Sunday
    or holiday, as `is_closed_day` says) after the filing day, at most `within_days` on.
    None for another category. Should every day of the window be closed (no calendar
    shuts five days running), the last day of the window is taken: a promise kept late is
    worse than a visit on a holiday."""
    if category not in METER_DISPUTES:
        return None
    filed_on = ist_day(opened_at)
    window = [filed_on + timedelta(days=n) for n in range(1, within_days + 1)]
    return next((day for day in window if not is_closed_day(day)), window[-1])
