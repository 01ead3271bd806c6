"""True-up: once real reads cover estimated days, the measured total and per-day corrections.

An estimate is provisional, never final. When the register becomes known at two midnights
around estimated days, the measured energy between them replaces the estimates: billing
posts each day's correction (actual - estimated) as its own entry, a credit when the
estimate was too high, so an estimate can never overcharge silently, and the estimate is
never silently kept. Days whose bounding midnights are still unknown stay estimated and are
trued up by a later run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.domain.meterdata.consumption import (
    ONE_DAY,
    DailyUsage,
    RegisterTimeline,
    UsageMethod,
)
from prepaidgrid.domain.meterdata.model import DEFAULT_VEE, RegisterRead, VeeSettings, wh_label
from prepaidgrid.domain.units import ist_midnight, round_half_up


@dataclass(frozen=True, slots=True)
class DayCorrection:
    day: date
    estimated_wh: int  # what was billed
    actual_wh: int  # measured (ACTUAL) or the day's share of a measured span (APPORTIONED)
    method: UsageMethod  # ACTUAL or APPORTIONED

    @property
    def correction_wh(self) -> int:
        """Post this: negative is a credit for an estimate that was too high."""
        return self.actual_wh - self.estimated_wh

    def settled(self, opening_wh: int, closing_wh: int) -> DailyUsage:
        """The day as billing now holds it: no longer estimated."""
        note = (
            f"trued up: estimated {wh_label(self.estimated_wh)},"
            f" {self.method} {wh_label(self.actual_wh)}"
        )
        return DailyUsage(self.day, self.actual_wh, self.method, opening_wh, closing_wh, note)


@dataclass(frozen=True, slots=True)
class TrueUp:
    """Estimated days between two midnights at which the register is now known."""

    first_day: date
    last_day: date
    opening_wh: int  # the register at first_day's opening midnight
    closing_wh: int  # the register at the midnight after last_day
    days: tuple[DayCorrection, ...]

    @property
    def actual_wh(self) -> int:
        return self.closing_wh - self.opening_wh

    @property
    def estimated_wh(self) -> int:
        return sum(day.estimated_wh for day in self.days)

    @property
    def correction_wh(self) -> int:
        return self.actual_wh - self.estimated_wh

    def settled(self) -> tuple[DailyUsage, ...]:
        """Its days as billing now holds them, with registers that add up day to day."""
        settled, opening = [], self.opening_wh
        for day in self.days:
            settled.append(day.settled(opening, opening + day.actual_wh))
            opening += day.actual_wh
        return tuple(settled)


def true_up_estimates(
    billed: Iterable[DailyUsage],
    reads: Iterable[RegisterRead],
    settings: VeeSettings = DEFAULT_VEE,
) -> tuple[TrueUp, ...]:
    """True up the estimated days of `billed` against the meter's reads as they stand now.

    Each run of consecutive estimated days is cut at every midnight where the register is
    now known; each piece between two known midnights becomes one TrueUp whose actual total
    is the register difference, given to its days exactly (one day: measured; several:
    in proportion to their estimates, evenly when those are all zero). The midnights that
    bound a run are pinned to what billing already used for the neighbouring days, so the
    billed actual days plus all corrections telescope to the register difference exactly.
    """
    by_day: dict[date, DailyUsage] = {}
    for usage in billed:
        if by_day.setdefault(usage.day, usage) is not usage:
            raise InvalidInput(f"day {usage.day} was billed twice")
    register = RegisterTimeline(reads, settings.midnight_tolerance)
    true_ups: list[TrueUp] = []
    for run in _estimated_runs(by_day):
        known = _known_midnights(run, by_day, register)
        for start, end in pairwise(known):
            days = [
                by_day[start[0] + ONE_DAY * offset] for offset in range((end[0] - start[0]).days)
            ]
            true_ups.append(_true_up(days, start[1], end[1]))
    return tuple(true_ups)


def day_corrections(true_ups: Iterable[TrueUp]) -> tuple[DayCorrection, ...]:
    """Every trued-up day's correction, in day order, zero corrections included (billing
    records the day as settled even when the estimate was exact)."""
    return tuple(sorted((day for up in true_ups for day in up.days), key=lambda d: d.day))


def _estimated_runs(by_day: dict[date, DailyUsage]) -> list[list[date]]:
    runs: list[list[date]] = []
    for day in sorted(by_day):
        if not by_day[day].is_estimated:
            continue
        if runs and runs[-1][-1] + ONE_DAY == day:
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs


def _known_midnights(
    run: list[date], by_day: dict[date, DailyUsage], register: RegisterTimeline
) -> list[tuple[date, int]]:
    """(day, register at its opening midnight) for each midnight of the run now known."""
    first, last = run[0], run[-1]
    before, after = by_day.get(first - ONE_DAY), by_day.get(last + ONE_DAY)
    pinned = {
        first: _first_known(before.closing_wh if before else None, by_day[first].opening_wh),
        last + ONE_DAY: _first_known(after.opening_wh if after else None, by_day[last].closing_wh),
    }
    known: list[tuple[date, int]] = []
    for day in [*run, last + ONE_DAY]:
        value = pinned.get(day)
        if value is None:
            value = register.at(ist_midnight(day))
        if value is not None:
            if known and value < known[-1][1]:
                raise InvalidInput(
                    f"register at the start of {day} ({wh_label(value)}) is below the"
                    f" {wh_label(known[-1][1])} at the start of {known[-1][0]}"
                )
            known.append((day, value))
    return known


def _first_known(*values: int | None) -> int | None:
    return next((value for value in values if value is not None), None)


def _true_up(days: Sequence[DailyUsage], opening_wh: int, closing_wh: int) -> TrueUp:
    actual_wh = closing_wh - opening_wh
    method = UsageMethod.ACTUAL if len(days) == 1 else UsageMethod.APPORTIONED
    shares = apportion(actual_wh, [day.used_wh for day in days])
    corrections = tuple(
        DayCorrection(day.day, day.used_wh, share, method)
        for day, share in zip(days, shares, strict=True)
    )
    return TrueUp(days[0].day, days[-1].day, opening_wh, closing_wh, corrections)


def apportion(total_wh: int, weights: Sequence[int]) -> list[int]:
    """Split `total_wh` in proportion to `weights` (evenly if they are all zero), exactly.

    Differencing rounded running totals makes the shares add up to `total_wh` without a
    leftover watt-hour to place, and keeps each share within 1 Wh of its exact value.
    """
    if not weights or any(weight < 0 for weight in weights):
        raise InvalidInput("apportioning needs at least one weight, none negative")
    if sum(weights) == 0:
        weights = [1] * len(weights)
    whole, running, shares, before = sum(weights), 0, [], 0
    for weight in weights:
        running += weight
        after = round_half_up(total_wh * running, whole)
        shares.append(after - before)
        before = after
    return shares
