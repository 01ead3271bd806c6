"""Meter data rules (VEE: validate, estimate, edit): pure functions over register reads.

Reads
    RegisterRead(meter_id, read_at, import_wh, max_demand_w=None, received_at=None,
                 meter_time=None)                    one cumulative register value, UTC
    RegisterRead.from_reading(reading, received_at)  from a decoded protocol Reading
    VeeSettings(spike_factor_percent=150, max_clock_skew=15 min, midnight_tolerance=2 h,
                estimate_days=7); DEFAULT_VEE

Validation
    validate_read(last, candidate, sanctioned_load_w, settings=DEFAULT_VEE, *, stored=None)
        -> ReadCheck(verdict: ReadVerdict, reason: str, flags: frozenset[ReadFlag])
        verdicts ACCEPT, DUPLICATE, CONFLICT, OUT_OF_ORDER, BACKWARDS, SPIKE;
        flags CLOCK_SKEW, OVER_SANCTIONED_LOAD; .is_stored .advances_register .needs_review
    monotone_reads(reads) -> (kept, dropped)   what derived use may see

Replacement
    MeterSwap(old_meter_id, new_meter_id, swapped_at, old_final_wh, new_initial_wh=None)
    continue_across_swaps(reads, swaps) -> tuple[RegisterRead, ...]   one continuous register

Daily consumption (IST days)
    register_at(reads, at, settings=DEFAULT_VEE) -> int | None
    daily_usage(reads, first_day, last_day, *, fallback_wh, settings=DEFAULT_VEE)
        -> tuple[DailyUsage(day, used_wh, method, opening_wh, closing_wh, note), ...]
        UsageMethod ACTUAL | AVERAGE | FALLBACK (estimated) | APPORTIONED (trued up)

True-up (corrections are posted; an estimate is never silently kept)
    true_up_estimates(billed, reads, settings=DEFAULT_VEE) -> tuple[TrueUp, ...]
        TrueUp(first_day, last_day, opening_wh, closing_wh, days).actual_wh/.correction_wh
    day_corrections(true_ups) -> tuple[DayCorrection(day, estimated_wh, actual_wh, method)]
        .correction_wh = actual - estimated (negative: a credit)
    apportion(total_wh, weights) -> list[int]   exact proportional split

Block load profile
    daily_load_profile(blocks, bands=()) -> tuple[DayProfile(day, block_wh, max_demand_w,
        band_wh, unbanded_wh, covered), ...]; bands: HourBand(name, start_hour, end_hour)
        or anything with those attributes (tariffs.TodBand); sum of bands + unbanded == block_wh

Energy is integer Wh throughout; every division rounds once, through units.round_half_up.
"""

from prepaidgrid.domain.meterdata.consumption import (
    DailyUsage,
    UsageMethod,
    daily_usage,
    register_at,
)
from prepaidgrid.domain.meterdata.load_profile import (
    BandHours,
    DayProfile,
    HourBand,
    daily_load_profile,
)
from prepaidgrid.domain.meterdata.model import DEFAULT_VEE, RegisterRead, VeeSettings
from prepaidgrid.domain.meterdata.replacement import MeterSwap, continue_across_swaps
from prepaidgrid.domain.meterdata.trueup import (
    DayCorrection,
    TrueUp,
    apportion,
    day_corrections,
    true_up_estimates,
)
from prepaidgrid.domain.meterdata.validation import (
    ReadCheck,
    ReadFlag,
    ReadVerdict,
    monotone_reads,
    validate_read,
)

__all__ = [
    "DEFAULT_VEE",
    "BandHours",
    "DailyUsage",
    "DayCorrection",
    "DayProfile",
    "HourBand",
    "MeterSwap",
    "ReadCheck",
    "ReadFlag",
    "ReadVerdict",
    "RegisterRead",
    "TrueUp",
    "UsageMethod",
    "VeeSettings",
    "apportion",
    "continue_across_swaps",
    "daily_load_profile",
    "daily_usage",
    "day_corrections",
    "monotone_reads",
    "register_at",
    "true_up_estimates",
    "validate_read",
]
