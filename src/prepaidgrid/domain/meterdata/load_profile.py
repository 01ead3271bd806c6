"""Block load profiles per IST day: energy, maximum demand and energy per time-of-day band."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import NamedTuple, Protocol

from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.domain.meter_protocol import Block
from prepaidgrid.domain.meterdata.model import micros, when_label
from prepaidgrid.domain.units import IST, require_utc, round_half_up

ONE_HOUR = timedelta(hours=1)


class BandHours(Protocol):
    """A named span of IST hours; tariffs' TodBand and HourBand both qualify."""

    @property
    def name(self) -> str: ...

    @property
    def start_hour(self) -> int: ...

    @property
    def end_hour(self) -> int: ...


class HourBand(NamedTuple):
    name: str  # "peak"
    start_hour: int  # IST hour the band starts, inclusive
    end_hour: int  # IST hour it ends, exclusive; may wrap past midnight (22 -> 6)


@dataclass(frozen=True, slots=True)
class DayProfile:
    """One IST day of blocks. Invariant: sum of band_wh + unbanded_wh == block_wh."""

    day: date
    block_wh: int  # energy of the blocks (or their parts) inside the day
    max_demand_w: int  # highest block demand: the block's Wh x 60 / its minutes
    band_wh: tuple[tuple[str, int], ...]  # (band, Wh) for every band, in the order given
    unbanded_wh: int  # energy in hours no band names
    covered: timedelta  # how much of the day the blocks cover (24 h when complete)

    def wh_in(self, band: str) -> int:
        for name, wh in self.band_wh:
            if name == band:
                return wh
        raise InvalidInput(f"no time-of-day band {band!r}")


class _Totals:
    def __init__(self, band_count: int) -> None:
        self.block_wh = 0
        self.max_demand_w = 0
        self.band_wh = [0] * band_count
        self.unbanded_wh = 0
        self.covered = timedelta(0)


def daily_load_profile(
    blocks: Iterable[Block], bands: Sequence[BandHours] = ()
) -> tuple[DayProfile, ...]:
    """Each IST day the blocks touch, in day order.

    A block crossing an IST hour boundary (and so possibly a band or a midnight) is split
    in proportion to time by differencing rounded running totals, so its parts add up to
    its energy exactly and every day's band energies add up to the day's block energy.
    Exact repeats of a block are absorbed; overlapping or contradicting blocks are refused.
    """
    band_of_hour = _band_of_hour(bands)
    days: dict[date, _Totals] = {}
    for block in _distinct(blocks):
        start = require_utc(block.start)
        span = micros(timedelta(minutes=block.minutes))
        demand_w = round_half_up(block.import_wh * 60, block.minutes)
        before_wh, elapsed = 0, 0
        for piece_start, piece_end in _hour_pieces(start, start + timedelta(minutes=block.minutes)):
            local = piece_start.astimezone(IST)
            totals = days.setdefault(local.date(), _Totals(len(bands)))
            elapsed += micros(piece_end - piece_start)
            after_wh = round_half_up(block.import_wh * elapsed, span)
            piece_wh, before_wh = after_wh - before_wh, after_wh
            totals.block_wh += piece_wh
            band = band_of_hour[local.hour]
            if band is None:
                totals.unbanded_wh += piece_wh
            else:
                totals.band_wh[band] += piece_wh
            totals.covered += piece_end - piece_start
            totals.max_demand_w = max(totals.max_demand_w, demand_w)
    return tuple(
        DayProfile(
            day,
            t.block_wh,
            t.max_demand_w,
            tuple((band.name, wh) for band, wh in zip(bands, t.band_wh, strict=True)),
            t.unbanded_wh,
            t.covered,
        )
        for day, t in sorted(days.items())
    )


def _band_of_hour(bands: Sequence[BandHours]) -> list[int | None]:
    """Index of the band each IST hour 0-23 falls in, or None."""
    of_hour: list[int | None] = [None] * 24
    names = [band.name for band in bands]
    if len(set(names)) != len(names):
        raise InvalidInput(f"time-of-day band names repeat: {names}")
    for index, band in enumerate(bands):
        start, end = band.start_hour, band.end_hour
        if not (0 <= start <= 23 and 0 <= end <= 24 and start != end):
            raise InvalidInput(f"time-of-day band {band.name!r} needs hours 0-23 to 1-24")
        hours = range(start, end) if start < end else [*range(start, 24), *range(end)]
        for hour in hours:
            held = of_hour[hour]
            if held is not None:
                raise InvalidInput(
                    f"time-of-day bands {names[held]!r} and {band.name!r} both hold hour {hour}"
                )
            of_hour[hour] = index
    return of_hour


def _distinct(blocks: Iterable[Block]) -> list[Block]:
    """The blocks in time order, each once; refuse a negative, an overlap or a contradiction."""
    by_start: dict[datetime, Block] = {}
    for block in blocks:
        if block.minutes <= 0 or block.import_wh < 0:
            raise InvalidInput(f"block at {when_label(block.start)} needs minutes > 0, Wh >= 0")
        held = by_start.setdefault(require_utc(block.start), block)
        if (held.minutes, held.import_wh) != (block.minutes, block.import_wh):
            raise InvalidInput(f"two different blocks start at {when_label(block.start)}")
    ordered = [by_start[start] for start in sorted(by_start)]
    for earlier, later in pairwise(ordered):
        if earlier.start + timedelta(minutes=earlier.minutes) > later.start:
            raise InvalidInput(
                f"blocks at {when_label(earlier.start)} and {when_label(later.start)} overlap"
            )
    return ordered


def _hour_pieces(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut at every whole IST hour (IST has no DST, so hours are fixed)."""
    local = start.astimezone(IST)
    boundary = local.replace(minute=0, second=0, microsecond=0) + ONE_HOUR
    pieces, cursor = [], start
    while cursor < end:
        piece_end = min(end, boundary)
        pieces.append((cursor, piece_end))
        cursor, boundary = piece_end, boundary + ONE_HOUR
    return pieces
