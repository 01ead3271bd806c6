"""Household load profiles: daily shape, season, size, category totals and determinism."""

from __future__ import annotations

import random
from datetime import date, timedelta
from statistics import mean

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prepaidgrid.simulator.load_profiles import (
    BLOCKS_PER_DAY,
    CATEGORIES,
    DS_II,
    KUTIR_JYOTI,
    NDS_II,
    CoolingTier,
    HouseholdProfile,
    expected_daily_wh,
    household_blocks,
)

TUESDAY_IN_JANUARY = date(2021, 1, 12)
TUESDAY_IN_JUNE = date(2021, 6, 8)
SEPTEMBER = [date(2021, 9, 1) + timedelta(days=n) for n in range(30)]


def _hourly_mean(blocks: list[int], first_hour: int, last_hour: int) -> float:
    return mean(blocks[first_hour * 4 : (last_hour + 1) * 4])


def _days(profile: HouseholdProfile, days: list[date], seed: int) -> list[list[int]]:
    rng = random.Random(seed)
    return [household_blocks(profile, day, rng) for day in days]


def test_the_evening_peak_is_far_above_the_night() -> None:
    profile = HouseholdProfile(DS_II, 4, CoolingTier.COOLER)

    days = _days(profile, SEPTEMBER, seed=1)

    evening = mean(_hourly_mean(blocks, 18, 22) for blocks in days)
    night = mean(_hourly_mean(blocks, 0, 4) for blocks in days)
    assert evening > 2 * night


def test_the_morning_peak_is_above_the_afternoon_lull_in_winter() -> None:
    profile = HouseholdProfile(DS_II, 4, CoolingTier.FAN)
    january = [TUESDAY_IN_JANUARY + timedelta(days=7 * n) for n in range(3)]

    days = _days(profile, january, seed=2)

    assert mean(_hourly_mean(b, 6, 8) for b in days) > mean(_hourly_mean(b, 14, 15) for b in days)


@pytest.mark.parametrize("tier", list(CoolingTier))
def test_summer_uses_more_than_winter(tier: CoolingTier) -> None:
    profile = HouseholdProfile(DS_II, 5, tier)

    winter = sum(household_blocks(profile, TUESDAY_IN_JANUARY, random.Random(3)))
    summer = sum(household_blocks(profile, TUESDAY_IN_JUNE, random.Random(3)))

    assert summer > winter * 1.2


def test_an_air_conditioner_costs_more_in_june_than_a_fan() -> None:
    fan = HouseholdProfile(DS_II, 4, CoolingTier.FAN)
    ac = HouseholdProfile(DS_II, 4, CoolingTier.AC)

    assert expected_daily_wh(ac, TUESDAY_IN_JUNE) > expected_daily_wh(fan, TUESDAY_IN_JUNE) + 4000
    assert expected_daily_wh(ac, TUESDAY_IN_JANUARY) == expected_daily_wh(fan, TUESDAY_IN_JANUARY)


def test_bigger_households_use_more() -> None:
    sizes = [HouseholdProfile(DS_II, persons, CoolingTier.FAN) for persons in range(2, 9)]

    totals = [expected_daily_wh(profile, TUESDAY_IN_JANUARY) for profile in sizes]

    assert totals == sorted(totals)
    assert totals[-1] > 1.6 * totals[0]


@pytest.mark.parametrize(
    ("profile", "low_kwh", "high_kwh"),
    [
        (HouseholdProfile(KUTIR_JYOTI, 2, CoolingTier.FAN), 1.0, 2.0),
        (HouseholdProfile(KUTIR_JYOTI, 8, CoolingTier.FAN), 1.0, 2.0),
        (HouseholdProfile(DS_II, 2, CoolingTier.FAN), 3.0, 10.0),
        (HouseholdProfile(DS_II, 8, CoolingTier.COOLER), 3.0, 10.0),
        (HouseholdProfile(NDS_II, 3, CoolingTier.FAN), 3.0, 10.0),
    ],
)
def test_a_september_day_uses_a_typical_amount(
    profile: HouseholdProfile, low_kwh: float, high_kwh: float
) -> None:
    days = _days(profile, SEPTEMBER, seed=4)

    average_kwh = mean(sum(blocks) for blocks in days) / 1000

    assert low_kwh <= average_kwh <= high_kwh


def test_a_shop_uses_little_on_sundays_and_nothing_much_at_night() -> None:
    shop = HouseholdProfile(NDS_II, 3, CoolingTier.FAN)
    sunday, monday = date(2021, 9, 12), date(2021, 9, 13)

    blocks = household_blocks(shop, monday, random.Random(5))

    assert expected_daily_wh(shop, sunday) < 0.6 * expected_daily_wh(shop, monday)
    assert _hourly_mean(blocks, 11, 17) > 5 * _hourly_mean(blocks, 0, 5)


def test_a_seed_reproduces_a_household_exactly() -> None:
    profile = HouseholdProfile(DS_II, 6, CoolingTier.AC)

    first = _days(profile, SEPTEMBER[:3], seed=42)
    again = _days(profile, SEPTEMBER[:3], seed=42)
    other = _days(profile, SEPTEMBER[:3], seed=43)

    assert first == again
    assert first != other


def test_a_household_outside_the_model_is_refused() -> None:
    with pytest.raises(ValueError, match="persons must be 2-8"):
        HouseholdProfile(DS_II, 9, CoolingTier.FAN)
    with pytest.raises(ValueError, match="category must be one of"):
        HouseholdProfile("DS-I", 4, CoolingTier.FAN)


@given(
    category=st.sampled_from(CATEGORIES),
    persons=st.integers(2, 8),
    tier=st.sampled_from(list(CoolingTier)),
    day=st.dates(date(2000, 1, 1), date(2040, 12, 31)),
    seed=st.integers(0, 2**32),
)
def test_every_day_has_96_whole_non_negative_blocks(
    category: str, persons: int, tier: CoolingTier, day: date, seed: int
) -> None:
    blocks = household_blocks(HouseholdProfile(category, persons, tier), day, random.Random(seed))

    assert len(blocks) == BLOCKS_PER_DAY
    assert all(type(wh) is int and 0 <= wh < 1000 for wh in blocks)
