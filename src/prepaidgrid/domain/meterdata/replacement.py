"""Meter replacement: one continuous register for a connection across its meters.

Across a swap, use continues as (old final - old previous) + (new - new initial): the new
meter's reads are lifted by the old meter's final register, so days, estimates and
true-ups never see the reset. When the new meter's register at fitting is not recorded,
its first read stands in: energy between fitting and that read is never charged (an
undercharge by design, never an overcharge).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import pairwise

from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.domain.meterdata.model import RegisterRead, wh_label, when_label
from prepaidgrid.domain.units import require_utc


@dataclass(frozen=True, slots=True)
class MeterSwap:
    """A meter taken off a connection and another fitted (or the same one reset)."""

    old_meter_id: str
    new_meter_id: str  # may equal old_meter_id for a register reset
    swapped_at: datetime  # UTC
    old_final_wh: int  # the old meter's register when removed (METER_REPLACED event)
    new_initial_wh: int | None = None  # the new one's register when fitted; None: first read

    def __post_init__(self) -> None:
        object.__setattr__(self, "swapped_at", require_utc(self.swapped_at))
        if self.old_final_wh < 0 or (self.new_initial_wh or 0) < 0:
            raise InvalidInput("registers at a meter swap must be at least 0 Wh")


def continue_across_swaps(
    reads: Iterable[RegisterRead], swaps: Sequence[MeterSwap]
) -> tuple[RegisterRead, ...]:
    """The connection's reads in time order on one continuous register.

    Each read keeps its meter_id, but its import_wh becomes the connection's register
    (the meter's own plus the offset its predecessors built up). The old meter's final
    read is added at swapped_at. A read outside its meter's time on the connection, or a
    final read below the old meter's last read, is refused: the swap record is wrong.
    """
    ordered = sorted(swaps, key=lambda swap: swap.swapped_at)
    for earlier, later in pairwise(ordered):
        if later.old_meter_id != earlier.new_meter_id:
            raise InvalidInput(
                f"swap at {when_label(later.swapped_at)} removes {later.old_meter_id},"
                f" but {earlier.new_meter_id} was fitted"
            )
    segments = _segments(list(reads), ordered)
    stitched, offset_wh = list(segments[0]), 0
    for swap, old, new in zip(ordered, segments, segments[1:], strict=False):
        final_wh = swap.old_final_wh + offset_wh
        if old and old[-1].import_wh > swap.old_final_wh:
            raise InvalidInput(
                f"{swap.old_meter_id}'s final register {wh_label(swap.old_final_wh)} is below"
                f" its read of {wh_label(old[-1].import_wh)} at {when_label(old[-1].read_at)}"
            )
        if old and old[-1].read_at == swap.swapped_at:
            if old[-1].import_wh != swap.old_final_wh:
                raise InvalidInput(f"{swap.old_meter_id}'s read at the swap is not its final one")
        else:
            stitched.append(RegisterRead(swap.old_meter_id, swap.swapped_at, final_wh))
        initial_wh = swap.new_initial_wh
        if initial_wh is None:
            initial_wh = new[0].import_wh if new else 0
        if new and new[0].read_at == swap.swapped_at:
            if new[0].import_wh != initial_wh:
                raise InvalidInput(
                    f"{swap.new_meter_id} reads {wh_label(new[0].import_wh)} at the swap"
                    f" instant, not its register when fitted, {wh_label(initial_wh)}"
                )
            new = new[1:]  # the same instant as the old meter's final read
        if new and new[0].import_wh < initial_wh:
            raise InvalidInput(
                f"{swap.new_meter_id}'s first read {wh_label(new[0].import_wh)} is below"
                f" its register when fitted, {wh_label(initial_wh)}"
            )
        offset_wh = final_wh - initial_wh
        stitched += [replace(read, import_wh=read.import_wh + offset_wh) for read in new]
    return tuple(stitched)


def _segments(reads: list[RegisterRead], swaps: Sequence[MeterSwap]) -> list[list[RegisterRead]]:
    """The reads of each meter in turn: meter k serves from swap k-1 to swap k."""
    meters = [swaps[0].old_meter_id if swaps else None] + [swap.new_meter_id for swap in swaps]
    bounds = [None, *(swap.swapped_at for swap in swaps), None]
    segments: list[list[RegisterRead]] = [[] for _ in meters]
    for read in sorted(reads, key=lambda r: r.read_at):
        for index, meter_id in enumerate(meters):
            start, end = bounds[index], bounds[index + 1]
            fits = meter_id in (None, read.meter_id)
            if (
                fits
                and (start is None or read.read_at >= start)
                and (end is None or read.read_at <= end)
            ):
                segments[index].append(read)  # at a reset instant the old register wins
                break
        else:
            raise InvalidInput(
                f"read of {read.meter_id} at {when_label(read.read_at)} falls outside the"
                f" time that meter served the connection"
            )
    return segments
