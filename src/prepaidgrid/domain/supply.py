"""Supply policy: the connect/disconnect state machine and when a cut may happen.

CONTRACT (services depend on these names; the supply helper fills in the rest).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum


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


IsNoCutDay = Callable[[date], bool]


def next_cut_at(grace_from: datetime, policy: SupplyPolicy, is_no_cut_day: IsNoCutDay) -> datetime:
    """The first instant >= grace_from + grace inside the window on a day cuts are allowed."""
    raise NotImplementedError


def decide_supply(
    snapshot: SupplySnapshot,
    context: SupplyContext,
    policy: SupplyPolicy,
    is_no_cut_day: IsNoCutDay,
) -> SupplyDecision:
    """The state machine: what should happen to this connection now."""
    raise NotImplementedError
