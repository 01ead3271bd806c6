"""Daily consumption per IST day from register reads, estimated when a midnight is unknown."""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.domain.meterdata.model import (
    DEFAULT_VEE,
    RegisterRead,
    VeeSettings,
    micros,
    wh_label,
)
from prepaidgrid.domain.meterdata.validation import monotone_reads
from prepaidgrid.domain.units import ist_day, ist_midnight, require_utc, round_half_up

ONE_DAY = timedelta(days=1)


class UsageMethod(StrEnum):
    ACTUAL = "actual"  # the register is known at both midnights bounding the day
    AVERAGE = "average"  # estimated: mean of the meter's most recent actual days
    FALLBACK = "fallback"  # estimated: the category's figure (no actual day to average)
    APPORTIONED = "apportioned"  # trued up: a measured multi-day total spread over its days


_ESTIMATES = frozenset({UsageMethod.AVERAGE, UsageMethod.FALLBACK})


@dataclass(frozen=True, slots=True)
class DailyUsage:
    day: date  # IST
    used_wh: int
    method: UsageMethod
    opening_wh: int | None = None  # the register at the day's opening midnight, if known
    closing_wh: int | None = None  # the register at the next midnight, if known
    note: str = ""  # one line: how the figure was found

    @property
    def is_estimated(self) -> bool:
        """Billed provisionally; a true-up posts the difference once reads cover the day."""
        return self.method in _ESTIMATES


class RegisterTimeline:
    """A meter's monotone reads, asked for the register at any instant."""

    def __init__(self, reads: Iterable[RegisterRead], tolerance: timedelta) -> None:
        self.reads, _ = monotone_reads(reads)
        self.times = [read.read_at for read in self.reads]
        self.tolerance = tolerance

    def at(self, instant: datetime) -> int | None:
        index = bisect_left(self.times, instant)
        if index < len(self.times) and self.times[index] == instant:
            return self.reads[index].import_wh
        if index == 0 or index == len(self.times):
            return None
        before, after = self.reads[index - 1], self.reads[index]
        if instant - before.read_at > self.tolerance or after.read_at - instant > self.tolerance:
            return None
        rise_wh = after.import_wh - before.import_wh
        elapsed = micros(instant - before.read_at)
        return before.import_wh + round_half_up(
            rise_wh * elapsed, micros(after.read_at - before.read_at)
        )

    def first_day(self) -> date | None:
        return ist_day(self.times[0]) if self.times else None


def register_at(
    reads: Iterable[RegisterRead], at: datetime, settings: VeeSettings = DEFAULT_VEE
) -> int | None:
    """The register at `at`: a read at that instant, or linear interpolation between the
    reads either side when both lie within `settings.midnight_tolerance`; else None."""
    return RegisterTimeline(reads, settings.midnight_tolerance).at(require_utc(at))


def daily_usage(
    reads: Iterable[RegisterRead],
    first_day: date,
    last_day: date,
    *,
    fallback_wh: int,
    settings: VeeSettings = DEFAULT_VEE,
) -> tuple[DailyUsage, ...]:
    """Used Wh for each IST day from `first_day` to `last_day`, both inclusive.

    A day is ACTUAL when the register is known at both midnights bounding it (see
    `register_at`). Otherwise it is estimated: the mean of the meter's last
    `settings.estimate_days` actual days before it (AVERAGE), or `fallback_wh`, the
    category's figure, when the meter has none (FALLBACK). Estimates never feed later
    estimates. Days before `first_day` count as history when the reads reach back.
    """
    if last_day < first_day:
        raise InvalidInput(f"last day {last_day} is before first day {first_day}")
    if fallback_wh < 0:
        raise InvalidInput(f"fallback must be at least 0 Wh, got {fallback_wh}")
    register = RegisterTimeline(reads, settings.midnight_tolerance)
    day = min(first_day, register.first_day() or first_day)
    recent: deque[DailyUsage] = deque(maxlen=settings.estimate_days)
    usages: list[DailyUsage] = []
    opening = register.at(ist_midnight(day))
    while day <= last_day:
        closing = register.at(ist_midnight(day + ONE_DAY))
        usage = _usage(day, opening, closing, recent, fallback_wh)
        if not usage.is_estimated:
            recent.append(usage)
        if day >= first_day:
            usages.append(usage)
        opening, day = closing, day + ONE_DAY
    return tuple(usages)


def _usage(
    day: date,
    opening: int | None,
    closing: int | None,
    recent: Sequence[DailyUsage],
    fallback_wh: int,
) -> DailyUsage:
    if opening is not None and closing is not None:
        note = f"actual: register {wh_label(opening)} to {wh_label(closing)}"
        return DailyUsage(day, closing - opening, UsageMethod.ACTUAL, opening, closing, note)
    sides = (("opening", opening), ("closing", closing))
    missing = " and ".join(side for side, wh in sides if wh is None)
    if not recent:
        note = f"estimated: {missing} register unknown; category fallback, no actual day yet"
        return DailyUsage(day, fallback_wh, UsageMethod.FALLBACK, opening, closing, note)
    mean_wh = round_half_up(sum(u.used_wh for u in recent), len(recent))
    note = (
        f"estimated: {missing} register unknown; mean of {len(recent)} actual days"
        f" {recent[0].day} to {recent[-1].day}"
    )
    return DailyUsage(day, mean_wh, UsageMethod.AVERAGE, opening, closing, note)
