"""Meter data: block load profiles per IST day, maximum demand and time-of-day band energy."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.domain.meter_protocol import Block
from prepaidgrid.domain.meterdata import HourBand, daily_load_profile
from prepaidgrid.domain.tariffs import TodBand
from prepaidgrid.domain.units import IST, ist_midnight

AUG_5 = date(2025, 8, 5)
PEAK = HourBand("peak", 17, 23)
BANDS = [HourBand("off_peak", 23, 5), HourBand("normal", 5, 17), PEAK]  # the whole day


def ist(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=IST)


def test_blocks_from_17_to_23_ist_count_as_peak() -> None:
    blocks = [
        Block(ist("2025-08-05T16:45"), 15, 100),  # normal
        Block(ist("2025-08-05T17:00"), 30, 400),  # peak
        Block(ist("2025-08-05T22:45"), 15, 200),  # peak
        Block(ist("2025-08-05T23:00"), 15, 50),  # off-peak
    ]

    (day,) = daily_load_profile(blocks, BANDS)

    assert day.band_wh == (("off_peak", 50), ("normal", 100), ("peak", 600))
    assert (day.block_wh, day.unbanded_wh, day.covered) == (750, 0, timedelta(minutes=75))


def test_energy_outside_every_band_is_kept_apart_so_the_day_still_adds_up() -> None:
    blocks = [Block(ist("2025-08-05T10:00"), 30, 300), Block(ist("2025-08-05T18:00"), 30, 500)]

    (day,) = daily_load_profile(blocks, [PEAK])

    assert (day.wh_in("peak"), day.unbanded_wh, day.block_wh) == (500, 300, 800)


def test_a_block_across_a_band_boundary_is_split_by_time_and_rounded_half_up() -> None:
    blocks = [Block(ist("2025-08-05T16:45"), 30, 101)]  # 15 min normal, 15 min peak

    (day,) = daily_load_profile(blocks, BANDS)

    assert (day.wh_in("normal"), day.wh_in("peak")) == (51, 50)


def test_a_block_across_ist_midnight_is_split_between_the_two_days() -> None:
    blocks = [Block(ist("2025-08-05T23:50"), 30, 300)]

    first, second = daily_load_profile(blocks, BANDS)

    assert (first.day, first.block_wh, first.covered) == (AUG_5, 100, timedelta(minutes=10))
    assert (second.day, second.block_wh) == (date(2025, 8, 6), 200)


def test_the_day_is_the_ist_day_not_the_utc_day() -> None:
    blocks = [Block(ist("2025-08-06T00:00"), 15, 80)]  # 18:30 UTC on 5 August

    (day,) = daily_load_profile(blocks, BANDS)

    assert (day.day, day.wh_in("off_peak")) == (date(2025, 8, 6), 80)


def test_the_days_max_demand_is_its_highest_block_demand() -> None:
    blocks = [
        Block(ist("2025-08-05T09:00"), 15, 500),  # 2,000 W
        Block(ist("2025-08-05T19:00"), 30, 1_001),  # 2,002 W
        Block(ist("2025-08-05T20:00"), 30, 600),
    ]

    (day,) = daily_load_profile(blocks)

    assert day.max_demand_w == 2_002


def test_repeated_blocks_are_absorbed_in_any_order() -> None:
    blocks = [Block(ist("2025-08-05T10:00"), 30, 300), Block(ist("2025-08-05T18:00"), 30, 500)]

    assert daily_load_profile([*blocks, *reversed(blocks)], BANDS) == daily_load_profile(
        blocks, BANDS
    )


@pytest.mark.parametrize(
    ("blocks", "message"),
    [
        (
            [Block(ist("2025-08-05T10:00"), 30, 1), Block(ist("2025-08-05T10:15"), 15, 1)],
            "overlap",
        ),
        (
            [Block(ist("2025-08-05T10:00"), 30, 1), Block(ist("2025-08-05T10:00"), 30, 2)],
            "two different blocks",
        ),
        ([Block(ist("2025-08-05T10:00"), 0, 1)], "minutes > 0"),
    ],
)
def test_contradicting_blocks_are_refused(blocks: list[Block], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        daily_load_profile(blocks)


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ([HourBand("peak", 17, 23), HourBand("evening", 22, 24)], "both hold hour 22"),
        ([HourBand("peak", 17, 23), HourBand("peak", 1, 2)], "repeat"),
        ([HourBand("peak", 17, 17)], "needs hours"),
    ],
)
def test_bands_must_not_overlap_or_repeat(bands: list[HourBand], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        daily_load_profile([], bands)


def test_a_tariffs_time_of_day_bands_serve_as_bands() -> None:
    tariff_bands = [TodBand("peak", 120, 17, 23), TodBand("solar", 80, 9, 17)]
    blocks = [Block(ist("2025-08-05T12:00"), 30, 70), Block(ist("2025-08-05T21:30"), 30, 90)]

    (day,) = daily_load_profile(blocks, tariff_bands)

    assert day.band_wh == (("peak", 90), ("solar", 70))


@given(
    starts=st.sets(st.integers(0, 3 * 24 * 4 - 1), max_size=120),
    offset_minutes=st.integers(0, 14),
    energies=st.lists(st.integers(0, 5_000), min_size=120, max_size=120),
    minutes=st.lists(st.sampled_from([15, 30]), min_size=120, max_size=120),
    cuts=st.sets(st.integers(1, 23), max_size=5),
    banded=st.lists(st.booleans(), min_size=6, max_size=6),
)
def test_band_energies_sum_exactly_to_the_days_block_energy(
    starts: set[int],
    offset_minutes: int,
    energies: list[int],
    minutes: list[int],
    cuts: set[int],
    banded: list[bool],
) -> None:
    first = ist_midnight(AUG_5) + timedelta(minutes=offset_minutes)  # blocks may straddle hours
    blocks, free_from = [], first
    for index, quarter in enumerate(sorted(starts)):
        start = max(first + timedelta(minutes=15 * quarter), free_from)
        blocks.append(Block(start, minutes[index], energies[index]))
        free_from = start + timedelta(minutes=minutes[index])
    edges = sorted({0, *cuts, 24})
    bands = [
        HourBand(f"band{i}", start, end)
        for i, (start, end) in enumerate(pairwise(edges))
        if banded[i]
    ]

    days = daily_load_profile(blocks, bands)

    for day in days:
        assert sum(wh for _, wh in day.band_wh) + day.unbanded_wh == day.block_wh
    assert sum(day.block_wh for day in days) == sum(block.import_wh for block in blocks)
    assert sum((day.covered for day in days), timedelta(0)) == sum(
        (timedelta(minutes=block.minutes) for block in blocks), timedelta(0)
    )
