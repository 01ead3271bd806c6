"""Validation of a register read against the meter's last accepted one (the V of VEE)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.domain.meterdata.model import (
    DEFAULT_VEE,
    RegisterRead,
    VeeSettings,
    micros,
    span_label,
    wh_label,
    when_label,
)
from prepaidgrid.domain.units import group_indian, round_half_up

_MICROS_PER_HOUR = 3_600_000_000


class ReadVerdict(StrEnum):
    ACCEPT = "accept"  # stored; the register moves forward
    DUPLICATE = "duplicate"  # same read_at, same register: absorbed silently
    CONFLICT = "conflict"  # same read_at, another register: refused, the first one stands
    OUT_OF_ORDER = "out_of_order"  # older than the last accepted: stored, register not moved
    BACKWARDS = "backwards"  # the register fell without a meter replacement: refused
    SPIKE = "spike"  # more energy than the sanctioned load allows: held, never billed


class ReadFlag(StrEnum):
    CLOCK_SKEW = "clock_skew"  # meter clock and receipt disagree, or read_at is in the future
    OVER_SANCTIONED_LOAD = "over_sanctioned_load"  # the MD register exceeds the sanctioned load


_STORED = frozenset({ReadVerdict.ACCEPT, ReadVerdict.OUT_OF_ORDER})
_REVIEWED = frozenset({ReadVerdict.CONFLICT, ReadVerdict.BACKWARDS, ReadVerdict.SPIKE})


@dataclass(frozen=True, slots=True)
class ReadCheck:
    verdict: ReadVerdict
    reason: str  # one line for the operator's log and the consumer's "why?"
    flags: frozenset[ReadFlag] = field(default_factory=frozenset)

    @property
    def is_stored(self) -> bool:
        """The read joins the meter's accepted history (and may price days)."""
        return self.verdict in _STORED

    @property
    def advances_register(self) -> bool:
        """The read becomes the meter's new last accepted read."""
        return self.verdict is ReadVerdict.ACCEPT

    @property
    def needs_review(self) -> bool:
        """An operator should look: a refused or held read, or any flag."""
        return self.verdict in _REVIEWED or bool(self.flags)


def validate_read(
    last: RegisterRead | None,
    candidate: RegisterRead,
    sanctioned_load_w: int,
    settings: VeeSettings = DEFAULT_VEE,
    *,
    stored: RegisterRead | None = None,
) -> ReadCheck:
    """Judge `candidate` against the meter's last accepted read.

    `stored` is the read already held at `candidate.read_at`, if any (the repository finds
    it by its key); without it only a repeat of `last` is recognised as a duplicate.
    An out-of-order read is compared with `last` only; `monotone_reads` keeps derived use
    safe from one that contradicts an older neighbour.
    """
    if last is not None and last.meter_id != candidate.meter_id:
        raise InvalidInput(f"reads of {last.meter_id} and {candidate.meter_id} were compared")
    if sanctioned_load_w <= 0:
        raise InvalidInput(f"sanctioned load must be above 0 W, got {sanctioned_load_w}")
    verdict, reason = _judge(last, candidate, sanctioned_load_w, settings, stored)
    if verdict is ReadVerdict.DUPLICATE:
        return ReadCheck(verdict, reason)  # its first copy was judged, flags and all
    flags, notes = _flags(candidate, sanctioned_load_w, settings)
    return ReadCheck(verdict, "; ".join([reason, *notes]), flags)


def monotone_reads(
    reads: Iterable[RegisterRead],
) -> tuple[tuple[RegisterRead, ...], tuple[RegisterRead, ...]]:
    """(kept, dropped): one read per instant in time order, never moving the register back.

    Exact repeats collapse to one. A read below an earlier kept read is dropped, so the
    result depends only on the set of reads, not on their arrival order. Two different
    values at one instant are refused: validation never stores both.
    """
    by_instant: dict[datetime, RegisterRead] = {}
    for read in reads:
        held = by_instant.setdefault(read.read_at, read)
        if held.import_wh != read.import_wh:
            raise InvalidInput(
                f"two registers at {when_label(read.read_at)}: {wh_label(held.import_wh)}"
                f" and {wh_label(read.import_wh)}"
            )
    kept: list[RegisterRead] = []
    dropped: list[RegisterRead] = []
    for read in sorted(by_instant.values(), key=lambda r: r.read_at):
        (dropped if kept and read.import_wh < kept[-1].import_wh else kept).append(read)
    return tuple(kept), tuple(dropped)


def _judge(
    last: RegisterRead | None,
    candidate: RegisterRead,
    load_w: int,
    settings: VeeSettings,
    stored: RegisterRead | None,
) -> tuple[ReadVerdict, str]:
    if stored is None and last is not None and last.read_at == candidate.read_at:
        stored = last
    at = when_label(candidate.read_at)
    if stored is not None:
        if stored.import_wh == candidate.import_wh:
            return (
                ReadVerdict.DUPLICATE,
                f"duplicate of the read at {at} ({wh_label(stored.import_wh)})",
            )
        return ReadVerdict.CONFLICT, (
            f"conflict: the read at {at} holds {wh_label(stored.import_wh)},"
            f" this one says {wh_label(candidate.import_wh)}; the first stands"
        )
    if last is None:
        return (
            ReadVerdict.ACCEPT,
            f"accepted: first read of {candidate.meter_id} ({wh_label(candidate.import_wh)})",
        )
    earlier, later = sorted((last, candidate), key=lambda r: r.read_at)
    energy_wh = later.import_wh - earlier.import_wh
    gap = later.read_at - earlier.read_at
    limit = _limit_label(load_w, settings, gap)
    if energy_wh < 0:
        return ReadVerdict.BACKWARDS, (
            f"backwards: register falls from {wh_label(earlier.import_wh)} at"
            f" {when_label(earlier.read_at)} to {wh_label(later.import_wh)} at"
            f" {when_label(later.read_at)} without a meter replacement"
        )
    # energy <= load_w x hours x percent / 100, compared exactly in integers
    if energy_wh * _MICROS_PER_HOUR * 100 > load_w * micros(gap) * settings.spike_factor_percent:
        return ReadVerdict.SPIKE, (
            f"spike: +{wh_label(energy_wh)} in {span_label(gap)} exceeds {limit}; held, not billed"
        )
    if candidate is earlier:
        return ReadVerdict.OUT_OF_ORDER, (
            f"out of order: older than the last accepted read at {when_label(last.read_at)};"
            f" stored, the register stays at {wh_label(last.import_wh)}"
        )
    return (
        ReadVerdict.ACCEPT,
        f"accepted: +{wh_label(energy_wh)} in {span_label(gap)}, within {limit}",
    )


def _limit_label(load_w: int, settings: VeeSettings, gap: timedelta) -> str:
    allowed = round_half_up(
        load_w * micros(gap) * settings.spike_factor_percent, _MICROS_PER_HOUR * 100
    )
    return (
        f"the {wh_label(allowed)} a {group_indian(load_w)} W sanctioned load allows"
        f" at {settings.spike_factor_percent} %"
    )


def _flags(
    candidate: RegisterRead, load_w: int, settings: VeeSettings
) -> tuple[frozenset[ReadFlag], list[str]]:
    flags: set[ReadFlag] = set()
    notes: list[str] = []
    received, skew = candidate.received_at, settings.max_clock_skew
    if received is not None and candidate.meter_time is not None:
        drift = candidate.meter_time - received
        if abs(drift) > skew:
            flags.add(ReadFlag.CLOCK_SKEW)
            side = "ahead of" if drift > timedelta(0) else "behind"
            notes.append(f"clock skew: meter clock {span_label(drift)} {side} receipt")
    if received is not None and candidate.read_at - received > skew:
        flags.add(ReadFlag.CLOCK_SKEW)
        notes.append(
            f"clock skew: read_at {span_label(candidate.read_at - received)} after receipt"
        )
    demand_w = candidate.max_demand_w
    if demand_w is not None and demand_w > load_w:
        flags.add(ReadFlag.OVER_SANCTIONED_LOAD)
        notes.append(
            f"max demand {group_indian(demand_w)} W above the"
            f" {group_indian(load_w)} W sanctioned load"
        )
    return frozenset(flags), notes
