"""Synthetic household load in Wh per 15-minute IST block: daily peaks, summer cooling, noise.

The shapes are plausible, not measured: a morning peak (06-09, cooking, water pumps,
geysers), an evening peak (18-23, lights, TV, cooking), a low night, and from April to
September a cooling load (fans, then coolers, then air conditioners) largest in May and
June. Typical totals: urban DS-II 3-10 kWh a day (more with an AC in June), Kutir Jyoti
1-2 kWh, a small shop on NDS-II 4-9 kWh on working days. Every random draw comes from the
`random.Random` passed in, in a fixed order, so a seed reproduces a household exactly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

BLOCKS_PER_DAY = 96  # 15-minute blocks in an IST day
BLOCKS_PER_HOUR = 4

DS_II = "DS-II"  # urban domestic
KUTIR_JYOTI = "KJ"  # below-poverty-line households
NDS_II = "NDS-II"  # urban non-domestic (shops)
CATEGORIES = (DS_II, KUTIR_JYOTI, NDS_II)


class CoolingTier(StrEnum):
    """The household's biggest summer appliance; each tier also runs the ones below it."""

    FAN = "fan"
    COOLER = "cooler"
    AC = "ac"


@dataclass(frozen=True, slots=True)
class HouseholdProfile:
    category: str  # a tariff category code: DS-II, KJ or NDS-II
    persons: int  # 2-8; for a shop, the people working there
    cooling: CoolingTier

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"category must be one of {', '.join(CATEGORIES)}")
        if not 2 <= self.persons <= 8:
            raise ValueError(f"persons must be 2-8, got {self.persons}")


# Non-cooling use of an average weekday for a 4-person household, in Wh.
_BASE_WH = {DS_II: 4_400, KUTIR_JYOTI: 1_150, NDS_II: 5_200}
# Extra Wh a day at the height of summer (May-June) for each tier and category.
_COOLING_WH = {
    DS_II: {CoolingTier.FAN: 1_300, CoolingTier.COOLER: 2_800, CoolingTier.AC: 6_500},
    KUTIR_JYOTI: {CoolingTier.FAN: 450, CoolingTier.COOLER: 900, CoolingTier.AC: 900},
    NDS_II: {CoolingTier.FAN: 900, CoolingTier.COOLER: 1_800, CoolingTier.AC: 4_000},
}
# Share of the summer peak cooling load, by month (Apr-Sep only: Bihar's hot and humid months).
_COOLING_SEASON = {4: 0.55, 5: 1.0, 6: 1.0, 7: 0.8, 8: 0.75, 9: 0.6}


def _hours(before_noon: tuple[float, ...], after_noon: tuple[float, ...]) -> tuple[float, ...]:
    """Relative use per IST hour 00..23, normalised to sum to 1."""
    weights = before_noon + after_noon
    if len(weights) != 24:
        raise ValueError(f"24 hourly weights expected, got {len(weights)}")
    total = sum(weights)
    return tuple(weight / total for weight in weights)


# Relative use per IST hour, 00..11 then 12..23.
_HOME_HOURS = _hours(
    (0.25, 0.2, 0.2, 0.2, 0.25, 0.5, 1.4, 1.8, 1.5, 0.9, 0.7, 0.65),
    (0.7, 0.75, 0.7, 0.65, 0.75, 1.0, 1.7, 2.2, 2.3, 2.0, 1.4, 0.7),
)
# On Sundays people are at home through the day: more midday use, a later morning peak.
_SUNDAY_HOURS = _hours(
    (0.25, 0.2, 0.2, 0.2, 0.2, 0.35, 0.9, 1.5, 1.6, 1.3, 1.1, 1.0),
    (1.1, 1.1, 1.0, 0.95, 1.0, 1.1, 1.7, 2.2, 2.3, 2.0, 1.4, 0.75),
)
_SHOP_HOURS = _hours(
    (0.15, 0.15, 0.15, 0.15, 0.15, 0.15, 0.2, 0.3, 0.5, 0.9, 1.5, 1.5),
    (1.5, 1.4, 1.4, 1.5, 1.5, 1.6, 1.8, 1.9, 1.7, 1.1, 0.4, 0.2),
)
# Fans and coolers run through the hot afternoon and the night; ACs mostly at night.
_COOLING_HOURS = _hours(
    (1.2, 1.2, 1.1, 1.0, 0.9, 0.6, 0.3, 0.3, 0.4, 0.6, 0.8, 1.0),
    (1.2, 1.4, 1.5, 1.5, 1.3, 1.1, 0.9, 0.9, 1.0, 1.2, 1.3, 1.3),
)
_SHOP_COOLING_HOURS = _hours(
    (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.2, 0.8, 1.3, 1.5),
    (1.6, 1.7, 1.7, 1.6, 1.5, 1.3, 1.1, 1.0, 0.8, 0.4, 0.0, 0.0),
)


def size_factor(persons: int) -> float:
    """4 persons use the base amount; each person more or fewer changes it by a tenth."""
    return 0.6 + 0.1 * persons


def expected_daily_wh(profile: HouseholdProfile, day: date) -> int:
    """The noiseless day's total, before the random day and block factors."""
    base_wh, cooling_wh = _day_wh(profile, day)
    return round(base_wh + cooling_wh)


def household_blocks(profile: HouseholdProfile, day: date, rng: random.Random) -> list[int]:
    """96 Wh values for the IST day `day`; block i covers 00:00 + 15 min x i, IST.

    Draws 1 + 96 numbers from `rng` whatever the profile, so households sharing a seed
    stay in step.
    """
    is_shop = profile.category == NDS_II
    if is_shop:
        base_shape, cooling_shape = _SHOP_HOURS, _SHOP_COOLING_HOURS
    else:
        base_shape = _SUNDAY_HOURS if day.weekday() == 6 else _HOME_HOURS
        cooling_shape = _COOLING_HOURS
    base_wh, cooling_wh = _day_wh(profile, day)
    day_factor = min(1.3, max(0.7, rng.gauss(1.0, 0.08)))  # weather, guests, a wedding
    blocks: list[int] = []
    for block in range(BLOCKS_PER_DAY):
        hour = block // BLOCKS_PER_HOUR
        hour_wh = base_wh * base_shape[hour] + cooling_wh * cooling_shape[hour]
        noise = min(2.5, max(0.3, rng.gauss(1.0, 0.22)))  # a kettle, an iron, a pump
        blocks.append(max(0, round(hour_wh * day_factor * noise / BLOCKS_PER_HOUR)))
    return blocks


def _day_wh(profile: HouseholdProfile, day: date) -> tuple[float, float]:
    """The day's expected non-cooling and cooling Wh, scaled to the household's size."""
    if profile.category == KUTIR_JYOTI:  # one or two rooms: size matters less
        scale = 0.8 + 0.05 * profile.persons
    else:
        scale = size_factor(profile.persons)
    base_wh = _BASE_WH[profile.category] * _weekday_factor(profile.category, day)
    cooling_wh = _COOLING_WH[profile.category][profile.cooling] * _COOLING_SEASON.get(day.month, 0)
    return base_wh * scale, cooling_wh * scale


def _weekday_factor(category: str, day: date) -> float:
    weekday = day.weekday()
    if category == NDS_II:
        return 0.45 if weekday == 6 else 1.0  # many shops close or half-open on Sundays
    return {5: 1.04, 6: 1.1}.get(weekday, 1.0)
