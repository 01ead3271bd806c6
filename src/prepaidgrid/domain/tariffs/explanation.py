"""The words of a bill's lines, in English and Hindi, so a consumer can redo the arithmetic.

Labels name rates and rules, never month-to-date quantities, so that the same label is
true of a monthly bill's line and of one day's share of it.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from prepaidgrid.domain.tariffs.model import (
    BASIS_POINTS,
    ChargeLine,
    Duty,
    DutyBase,
    FixedBasis,
    FixedCharge,
    FreeUnits,
    Rebate,
    RebateBase,
    Slab,
    TodBand,
)
from prepaidgrid.domain.units import WH_PER_KWH, format_rupees

_DUTY_BASE = {
    DutyBase.ENERGY_GROSS: ("energy before subsidy", "सब्सिडी से पहले ऊर्जा शुल्क"),
    DutyBase.ENERGY_NET: ("energy after subsidy", "सब्सिडी के बाद ऊर्जा शुल्क"),
    DutyBase.ENERGY_NET_AFTER_REBATE: (
        "energy after subsidy and rebate",
        "सब्सिडी और छूट के बाद ऊर्जा शुल्क",
    ),
    DutyBase.ENERGY_GROSS_PLUS_FIXED: (
        "energy before subsidy plus fixed charge",
        "सब्सिडी से पहले ऊर्जा शुल्क और स्थायी शुल्क",
    ),
}
_REBATE_BASE = {
    RebateBase.GROSS: ("energy before subsidy", "सब्सिडी से पहले ऊर्जा शुल्क"),
    RebateBase.NET: ("energy after subsidy", "सब्सिडी के बाद ऊर्जा शुल्क"),
}


def decimal_text(value: Fraction) -> str:
    """An exact decimal without trailing zeros: Fraction(3, 2) -> '1.5'. Only for values
    whose denominators divide a power of ten (Wh in kWh, W in kW, basis points in %)."""
    return format((Decimal(value.numerator) / Decimal(value.denominator)).normalize(), "f")


def units_text(wh: int) -> str:
    return decimal_text(Fraction(wh, WH_PER_KWH))


def percent_text(basis_points: int) -> str:
    return decimal_text(Fraction(basis_points * 100, BASIS_POINTS))


def _slab_range(slab: Slab, floor_wh: int) -> tuple[str, str]:
    if slab.upto_wh is None:
        if floor_wh == 0:
            return "all units", "सभी यूनिट"
        return f"above {units_text(floor_wh)} units", f"{units_text(floor_wh)} यूनिट से ऊपर"
    span = f"{units_text(floor_wh)}-{units_text(slab.upto_wh)}"
    return f"{span} units", f"{span} यूनिट"


def energy_line(number: int, slab: Slab, floor_wh: int, billed_wh: int, amount: int) -> ChargeLine:
    english, hindi = _slab_range(slab, floor_wh)
    rate = format_rupees(slab.paise_per_kwh)
    return ChargeLine(
        code=f"energy.slab.{number}",
        label=f"Energy {english} @ {rate}/unit",
        amount_paise=amount,
        quantity_wh=billed_wh,
        rate_paise_per_kwh=slab.paise_per_kwh,
        label_hi=f"ऊर्जा शुल्क {hindi} @ {rate}/यूनिट",
    )


def subsidy_line(number: int, slab: Slab, floor_wh: int, billed_wh: int, amount: int) -> ChargeLine:
    english, hindi = _slab_range(slab, floor_wh)
    rate = format_rupees(slab.subsidy_paise_per_kwh)
    return ChargeLine(
        code=f"subsidy.slab.{number}",
        label=f"State subsidy {english} @ {rate}/unit",
        amount_paise=amount,
        quantity_wh=billed_wh,
        rate_paise_per_kwh=slab.subsidy_paise_per_kwh,
        label_hi=f"राज्य सरकार अनुदान {hindi} @ {rate}/यूनिट",
    )


def free_line(free: FreeUnits, free_wh: int) -> ChargeLine:
    allowance = units_text(free.wh_per_30_days)
    return ChargeLine(
        code="free_units",
        label=f"Free units ({allowance} units per 30 days)",
        amount_paise=0,
        quantity_wh=free_wh,
        rate_paise_per_kwh=0,
        label_hi=f"मुफ़्त बिजली ({allowance} यूनिट प्रति 30 दिन)",
    )


def rebate_line(rebate: Rebate, billed_wh: int, amount: int) -> ChargeLine:
    if rebate.paise_per_kwh:
        rate = format_rupees(rebate.paise_per_kwh)
        english, hindi = f"{rate}/unit", f"{rate}/यूनिट"
    else:
        share = percent_text(rebate.basis_points)
        base_en, base_hi = _REBATE_BASE[rebate.base]
        english, hindi = f"{share}% of {base_en}", f"{share}% ({base_hi} पर)"
    return ChargeLine(
        code="rebate",
        label=f"Prepaid rebate {english}",
        amount_paise=amount,
        quantity_wh=billed_wh,
        rate_paise_per_kwh=rebate.paise_per_kwh or None,
        label_hi=f"प्रीपेड छूट {hindi}",
    )


def tod_line(band: TodBand, band_wh: int, amount: int) -> ChargeLine:
    hours = f"{band.start_hour:02d}-{band.end_hour:02d}"
    return ChargeLine(
        code=f"tod.{band.name}",
        label=f"Time of day: {band.name} ({hours} h) at {band.percent}% of the energy rate",
        amount_paise=amount,
        quantity_wh=band_wh,
        label_hi=f"समय-आधारित शुल्क: {band.name} ({hours} बजे) ऊर्जा दर का {band.percent}%",
    )


def fixed_line(fixed: FixedCharge, demand_w: Fraction | None, amount: int) -> ChargeLine:
    rate = format_rupees(fixed.paise_per_month)
    if fixed.basis is FixedBasis.PER_CONNECTION or demand_w is None:
        english, hindi = f"{rate}/month per connection", f"{rate}/माह प्रति कनेक्शन"
    else:
        kw = decimal_text(demand_w / WH_PER_KWH)
        english = f"{rate}/kW/month on {kw} kW billing demand"
        hindi = f"{rate}/kW/माह, {kw} kW बिलिंग मांग पर"
    return ChargeLine(
        code="fixed",
        label=f"Fixed charge {english}, by day",
        amount_paise=amount,
        label_hi=f"स्थायी शुल्क {hindi}, दैनिक अनुपात में",
    )


def duty_line(duty: Duty, amount: int) -> ChargeLine:
    share = percent_text(duty.basis_points)
    base_en, base_hi = _DUTY_BASE[duty.base]
    return ChargeLine(
        code="duty",
        label=f"Electricity duty {share}% of {base_en}",
        amount_paise=amount,
        label_hi=f"विद्युत शुल्क {share}% ({base_hi} पर)",
    )
