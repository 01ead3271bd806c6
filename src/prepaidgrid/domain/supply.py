"""Supply policy: the connect/disconnect state machine and when a cut may happen.

Pure: the instant, the balance and the no-cut calendar arrive as arguments and a decision
comes back. The service persists it and queues the relay command or SMS in the same
transaction. Every decision carries English sentences a call-centre agent can read out,
because "why was I cut?" must always have an answer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Protocol, runtime_checkable

from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.domain.units import IST, format_rupees, require_utc


class SupplyState(StrEnum):
    CONNECTED = "connected"
    GRACE = "grace"  # balance <= 0; cut scheduled at cut_at ("disconnect due" once cut_at passes)
    DISCONNECT_SENT = "disconnect_sent"
    DISCONNECTED = "disconnected"
    RECONNECT_SENT = "reconnect_sent"


class SupplyAction(StrEnum):
    START_GRACE = "start_grace"  # balance went to zero or below: schedule cut, warn by SMS
    CANCEL_CUT = "cancel_cut"  # balance back above zero during grace
    DISCONNECT = "disconnect"  # send the relay open command now
    RECONNECT = "reconnect"  # send the relay close command now
    HOLD = "hold"  # a cut is due but something forbids it now (reasons say what)


@dataclass(frozen=True, slots=True)
class SupplyPolicy:
    name: str  # "bihar"
    grace: timedelta
    window_start: time  # local (Asia/Kolkata) start of the cut window
    window_end: time  # local end (exclusive)
    no_cut_weekdays: frozenset[int]  # date.weekday(): 6 = Sunday
    no_cut_nth_weekdays: frozenset[tuple[int, int]]  # (n, weekday): (2, 5) = 2nd Saturday
    holiday_country: str  # "IN"
    holiday_subdivision: str | None  # "BR"
    extra_holidays: frozenset[date]  # the DISCOM's own list
    reconnect_deadline: timedelta | None = None  # UP: 2 hours
    reconnect_compensation_paise_per_day: int = 0  # UP: 5000
    holiday_categories: tuple[str, ...] = ("public",)  # `holidays` package categories
    extra_holiday_names: tuple[tuple[date, str], ...] = ()  # names for extra_holidays
    unconfirmed: tuple[str, ...] = ()  # settings no official source confirms yet


@dataclass(frozen=True, slots=True)
class SupplySnapshot:
    """What the database holds about one connection's supply."""

    state: SupplyState
    zero_at: datetime | None = None  # when the balance reached zero (UTC)
    warned_at: datetime | None = None  # when the zero-balance SMS was queued (UTC)
    cut_at: datetime | None = None  # the scheduled cut (UTC)


@dataclass(frozen=True, slots=True)
class SupplyContext:
    """The facts a decision needs at one instant."""

    at: datetime  # UTC
    balance_paise: int
    pending_paise: int = 0  # sum of payments pending confirmation on this account
    is_safe_mode: bool = False


@dataclass(frozen=True, slots=True)
class SupplyDecision:
    state: SupplyState
    action: SupplyAction | None
    zero_at: datetime | None
    cut_at: datetime | None
    reasons: tuple[str, ...]  # human-readable English, e.g. "Sunday: no cuts"
    reconnect_by: datetime | None = None  # set with RECONNECT when the policy has a deadline


IsNoCutDay = Callable[[date], bool]


@runtime_checkable
class ExplainsNoCutDays(Protocol):
    """A no-cut calendar that can also say why a day is one (calendars.NoCutCalendar)."""

    def __call__(self, day: date) -> bool: ...

    def reason(self, day: date) -> str | None: ...


@dataclass(frozen=True, slots=True)
class SkippedDay:
    """A day the cut search passed over, and why (a no-cut day, or its window had closed)."""

    day: date
    reason: str


@dataclass(frozen=True, slots=True)
class CutPlan:
    """When a cut may happen after a grace, with the sentences that explain it."""

    grace_ends_at: datetime  # UTC
    cut_at: datetime  # UTC
    skipped: tuple[SkippedDay, ...]
    reasons: tuple[str, ...]


WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_DAYS_SEARCHED = 400  # a policy that allows no cut for over a year is a broken policy


def next_cut_at(grace_from: datetime, policy: SupplyPolicy, is_no_cut_day: IsNoCutDay) -> datetime:
    """The first instant >= grace_from + grace inside the window on a day cuts are allowed."""
    return plan_cut(grace_from, policy, is_no_cut_day).cut_at


def plan_cut(grace_from: datetime, policy: SupplyPolicy, is_no_cut_day: IsNoCutDay) -> CutPlan:
    """`next_cut_at` with its working shown: the days passed over and why."""
    grace_ends_at = require_utc(grace_from) + policy.grace
    cut_at, skipped = _first_allowed_instant(grace_ends_at, policy, is_no_cut_day)
    reasons = [_grace_sentence(grace_ends_at, policy, is_no_cut_day)]
    reasons += [_day_sentence(s.day, s.reason) for s in skipped if is_no_cut_day(s.day)]
    reasons.append(f"earliest cut: {instant_label(cut_at)}")
    return CutPlan(grace_ends_at, cut_at, skipped, tuple(reasons))


def is_cut_allowed_at(at: datetime, policy: SupplyPolicy, is_no_cut_day: IsNoCutDay) -> bool:
    """True inside the window (IST) on a day that is not a no-cut day."""
    local = require_utc(at).astimezone(IST)
    inside = policy.window_start <= local.time() < policy.window_end
    return inside and not is_no_cut_day(local.date())


def decide_supply(
    snapshot: SupplySnapshot,
    context: SupplyContext,
    policy: SupplyPolicy,
    is_no_cut_day: IsNoCutDay,
) -> SupplyDecision:
    """The state machine: what should happen to this connection now."""
    at = require_utc(context.at)
    balance = context.balance_paise
    state = snapshot.state
    if state is SupplyState.CONNECTED:
        if balance > 0:
            return _unchanged(snapshot, f"balance {format_rupees(balance)} is above zero")
        return _start_grace(snapshot, at, balance, policy, is_no_cut_day)
    if state is SupplyState.GRACE:
        if balance > 0:
            cancelled = (f"balance {format_rupees(balance)} is above zero again: no cut",)
            return SupplyDecision(
                SupplyState.CONNECTED, SupplyAction.CANCEL_CUT, None, None, cancelled
            )
        return _decide_due_cut(snapshot, context, at, policy, is_no_cut_day)
    if state in (SupplyState.DISCONNECT_SENT, SupplyState.DISCONNECTED) and balance > 0:
        return _reconnect(snapshot, at, balance, policy)
    if state is SupplyState.DISCONNECTED:
        return _unchanged(
            snapshot, f"balance {format_rupees(balance)} is not above zero: stays off"
        )
    relay = "opened" if state is SupplyState.DISCONNECT_SENT else "closed"
    return _unchanged(snapshot, f"waiting for the meter to confirm the relay {relay}")


def confirm_relay(
    snapshot: SupplySnapshot,
    is_closed: bool,
    context: SupplyContext,
    policy: SupplyPolicy,
    is_no_cut_day: IsNoCutDay,
) -> SupplyDecision:
    """Apply a meter's relay acknowledgement (closed = supply on) to the state machine.

    An ack that does not match what was commanded (late, duplicated, or a tampered meter)
    changes nothing: the state moves only on the answer to the command we sent.
    """
    at = require_utc(context.at)
    balance = context.balance_paise
    state = snapshot.state
    if state is SupplyState.DISCONNECT_SENT and not is_closed:
        if balance > 0:  # a recharge landed while the open command was in flight
            return _reconnect(snapshot, at, balance, policy)
        off = (f"the meter confirmed the relay open at {instant_label(at)}: supply is off",)
        return SupplyDecision(
            SupplyState.DISCONNECTED, None, snapshot.zero_at, snapshot.cut_at, off
        )
    if state is SupplyState.RECONNECT_SENT and is_closed:
        if balance <= 0:  # e.g. a reversal while the close command was in flight
            return _start_grace(snapshot, at, balance, policy, is_no_cut_day, fresh=True)
        reason = f"the meter confirmed the relay closed at {instant_label(at)}: supply is on"
        return SupplyDecision(SupplyState.CONNECTED, None, None, None, (reason,))
    relay = "closed" if is_closed else "open"
    return _unchanged(snapshot, f"relay reported {relay} while {state.value}: state unchanged")


def command_lapsed(
    snapshot: SupplySnapshot,
    action: SupplyAction,
    command_id: str,
    context: SupplyContext,
    policy: SupplyPolicy,
    is_no_cut_day: IsNoCutDay,
) -> SupplyDecision:
    """A relay command expired or failed unanswered: decide what replaces it.

    The relay's position is unknown, so it is presumed unchanged. A disconnect goes back
    to grace (the consumer was already warned) with the cut retried at the next allowed
    instant; the normal checks (safe mode, pending payments, the window) apply again then.
    A reconnect is sent again at once: the consumer has paid and must not stay dark.
    """
    at = require_utc(context.at)
    state = snapshot.state
    lapsed = f"the {action.value} command {command_id} lapsed at {instant_label(at)}"
    if action is SupplyAction.DISCONNECT and state is SupplyState.DISCONNECT_SENT:
        if context.balance_paise > 0:
            return _reconnect(snapshot, at, context.balance_paise, policy)
        retry_at, _skipped = _first_allowed_instant(at, policy, is_no_cut_day)
        reasons = (
            f"{lapsed}: the relay is presumed still closed",
            f"the cut is retried from {instant_label(retry_at)}",
        )
        return SupplyDecision(
            SupplyState.GRACE, SupplyAction.HOLD, snapshot.zero_at, retry_at, reasons
        )
    if action is SupplyAction.RECONNECT and state is SupplyState.RECONNECT_SENT:
        if context.balance_paise <= 0:  # reversed meanwhile: the relay is presumed still open
            off = (
                f"{lapsed}: the relay is presumed still open and the balance "
                f"{format_rupees(context.balance_paise)} is not above zero: stays off",
            )
            return SupplyDecision(
                SupplyState.DISCONNECTED, None, snapshot.zero_at, snapshot.cut_at, off
            )
        decision = _reconnect(snapshot, at, max(context.balance_paise, 1), policy)
        return replace(decision, reasons=(f"{lapsed}: sent again", *decision.reasons[1:]))
    return _unchanged(snapshot, f"{lapsed} while {state.value}: nothing to redo")


def reconnect_compensation_paise(
    policy: SupplyPolicy, reconnect_requested_at: datetime, reconnected_at: datetime
) -> int:
    """What a late reconnection owes the consumer: each started day past the deadline."""
    if policy.reconnect_deadline is None or policy.reconnect_compensation_paise_per_day <= 0:
        return 0
    deadline = require_utc(reconnect_requested_at) + policy.reconnect_deadline
    late = require_utc(reconnected_at) - deadline
    if late <= timedelta(0):
        return 0
    return math.ceil(late / timedelta(days=1)) * policy.reconnect_compensation_paise_per_day


def instant_label(at: datetime) -> str:
    """'Sat 2025-08-09 21:00 IST': how an instant is shown to people."""
    local = require_utc(at).astimezone(IST)
    clock = local.strftime("%H:%M:%S" if local.second or local.microsecond else "%H:%M")
    return f"{WEEKDAY_NAMES[local.weekday()][:3]} {local.date().isoformat()} {clock} IST"


def window_label(policy: SupplyPolicy) -> str:
    return f"{policy.window_start:%H:%M}–{policy.window_end:%H:%M}"


def duration_label(span: timedelta) -> str:
    """'24 h', '3 days', '90 min': a grace or deadline as people say it."""
    minutes = int(span.total_seconds()) // 60
    if minutes and minutes % (24 * 60) == 0 and minutes >= 48 * 60:
        return f"{minutes // (24 * 60)} days"
    if minutes % 60 == 0:
        return f"{minutes // 60} h"
    return f"{minutes} min"


def no_cut_reason_of(day: date, policy: SupplyPolicy, is_no_cut_day: IsNoCutDay) -> str:
    """Why `day` is a no-cut day, from the calendar if it can say, else from the policy."""
    reason = is_no_cut_day.reason(day) if isinstance(is_no_cut_day, ExplainsNoCutDays) else None
    if reason:
        return reason
    return WEEKDAY_NAMES[day.weekday()] if day.weekday() in policy.no_cut_weekdays else "holiday"


def _first_allowed_instant(
    earliest: datetime, policy: SupplyPolicy, is_no_cut_day: IsNoCutDay
) -> tuple[datetime, tuple[SkippedDay, ...]]:
    local = earliest.astimezone(IST)
    day, clock = local.date(), local.time()
    skipped: list[SkippedDay] = []
    for _ in range(MAX_DAYS_SEARCHED):
        if is_no_cut_day(day):
            skipped.append(SkippedDay(day, no_cut_reason_of(day, policy, is_no_cut_day)))
        elif clock < policy.window_end:
            cut_local = datetime.combine(day, max(clock, policy.window_start), tzinfo=IST)
            return cut_local.astimezone(UTC), tuple(skipped)
        else:
            late = f"{clock:%H:%M} is after the {window_label(policy)} window"
            skipped.append(SkippedDay(day, late))
        day, clock = day + timedelta(days=1), time(0)
    raise InvalidInput(
        f"supply policy {policy.name!r} allows no cut within {MAX_DAYS_SEARCHED} days"
    )


def _grace_sentence(
    grace_ends_at: datetime, policy: SupplyPolicy, is_no_cut_day: IsNoCutDay
) -> str:
    local = grace_ends_at.astimezone(IST)
    ends = f"grace of {duration_label(policy.grace)} ends {instant_label(grace_ends_at)}"
    window = window_label(policy)
    if is_no_cut_day(local.date()):
        return ends
    if local.time() < policy.window_start:
        return f"{ends}, before that day's {window} window"
    if local.time() >= policy.window_end:
        return f"{ends}, after that day's {window} window"
    return f"{ends}, inside the {window} window"


def _day_sentence(day: date, reason: str) -> str:
    """'Sunday 2025-08-10: no cuts on Sundays'."""
    weekday = WEEKDAY_NAMES[day.weekday()]
    if reason == weekday:
        return f"{weekday} {day.isoformat()}: no cuts on {weekday}s"
    return f"{weekday} {day.isoformat()}: no cuts ({reason})"


def _unchanged(snapshot: SupplySnapshot, reason: str) -> SupplyDecision:
    return SupplyDecision(snapshot.state, None, snapshot.zero_at, snapshot.cut_at, (reason,))


def _start_grace(
    snapshot: SupplySnapshot,
    at: datetime,
    balance: int,
    policy: SupplyPolicy,
    is_no_cut_day: IsNoCutDay,
    *,
    fresh: bool = False,
) -> SupplyDecision:
    """Grace runs from the zero instant, or from the warning if that was queued later."""
    warned_at = None if fresh else snapshot.warned_at
    grace_from = at if warned_at is None else max(at, require_utc(warned_at))
    plan = plan_cut(grace_from, policy, is_no_cut_day)
    opening = (
        f"balance {format_rupees(balance)} is not above zero at {instant_label(at)}: "
        "grace starts and the zero-balance SMS is due"
    )
    reasons = (opening, *plan.reasons)
    return SupplyDecision(SupplyState.GRACE, SupplyAction.START_GRACE, at, plan.cut_at, reasons)


def _reconnect(
    snapshot: SupplySnapshot, at: datetime, balance: int, policy: SupplyPolicy
) -> SupplyDecision:
    """Close the relay; zero_at is kept until the meter confirms, as the cycle's name."""
    reasons = [f"balance {format_rupees(balance)} is above zero: reconnect now"]
    reconnect_by = None
    if policy.reconnect_deadline is not None:
        reconnect_by = at + policy.reconnect_deadline
        due = f"reconnection due by {instant_label(reconnect_by)}"
        if policy.reconnect_compensation_paise_per_day:
            rate = format_rupees(policy.reconnect_compensation_paise_per_day)
            due += f", else {rate} a day compensation"
        reasons.append(due)
    state, action = SupplyState.RECONNECT_SENT, SupplyAction.RECONNECT
    return SupplyDecision(state, action, snapshot.zero_at, None, tuple(reasons), reconnect_by)


def _decide_due_cut(
    snapshot: SupplySnapshot,
    context: SupplyContext,
    at: datetime,
    policy: SupplyPolicy,
    is_no_cut_day: IsNoCutDay,
) -> SupplyDecision:
    """A connection in grace: wait, hold the cut (and say why), or cut now."""
    cut_at = None if snapshot.cut_at is None else require_utc(snapshot.cut_at)
    if cut_at is None:
        plan = plan_cut(max(at, snapshot.warned_at or at), policy, is_no_cut_day)
        unscheduled = ("no cut was scheduled for this grace: scheduling one now",)
        return SupplyDecision(
            SupplyState.GRACE, SupplyAction.HOLD, snapshot.zero_at, plan.cut_at, unscheduled
        )
    if at < cut_at:
        return _unchanged(snapshot, f"in grace: cut due {instant_label(cut_at)}")

    holds: list[str] = []
    later: list[datetime] = []
    if context.is_safe_mode:
        holds.append(
            "the platform is in safe mode (a payment channel, the portal or billing is down "
            "or late): no cuts while consumers may be unable to pay; the cut moves to one full "
            "grace from now and moves again at every check while safe mode lasts"
        )
        later.append(next_cut_at(at, policy, is_no_cut_day))
    debt = -context.balance_paise
    if context.pending_paise > 0 and context.pending_paise > debt:
        holds.append(
            f"a pending payment of {format_rupees(context.pending_paise)} would cover the "
            f"debt of {format_rupees(debt)}: no cut until the channel confirms or fails it"
        )
    if snapshot.warned_at is None:
        holds.append(
            "the consumer has not been warned by SMS: the warning goes out now and the "
            "full grace follows it"
        )
        later.append(next_cut_at(at, policy, is_no_cut_day))
    else:
        after_warning = next_cut_at(snapshot.warned_at, policy, is_no_cut_day)
        if after_warning > at:
            holds.append(
                f"the warning SMS was queued {instant_label(snapshot.warned_at)}: the full "
                f"grace after it allows a cut from {instant_label(after_warning)}"
            )
            later.append(after_warning)
    if not is_cut_allowed_at(at, policy, is_no_cut_day):
        holds.append(_outside_sentence(at, policy, is_no_cut_day))
        later.append(_first_allowed_instant(at, policy, is_no_cut_day)[0])

    if not holds:
        reason = (
            f"grace ended, the cut was due {instant_label(cut_at)}, the consumer was warned "
            f"{instant_label(snapshot.warned_at or at)} and {instant_label(at)} is inside "
            f"the {window_label(policy)} window: disconnect now"
        )
        state, action = SupplyState.DISCONNECT_SENT, SupplyAction.DISCONNECT
        return SupplyDecision(state, action, snapshot.zero_at, cut_at, (reason,))
    new_cut_at = max(later, default=cut_at)
    if new_cut_at > at:
        holds.append(f"next possible cut: {instant_label(new_cut_at)}")
    else:
        holds.append("the cut stays due and is checked again when the payment settles")
    reasons = (f"the cut due {instant_label(cut_at)} is held", *holds)
    return SupplyDecision(
        SupplyState.GRACE, SupplyAction.HOLD, snapshot.zero_at, new_cut_at, reasons
    )


def _outside_sentence(at: datetime, policy: SupplyPolicy, is_no_cut_day: IsNoCutDay) -> str:
    day = at.astimezone(IST).date()
    if is_no_cut_day(day):
        return _day_sentence(day, no_cut_reason_of(day, policy, is_no_cut_day))
    return f"{instant_label(at)} is outside the {window_label(policy)} cut window"
