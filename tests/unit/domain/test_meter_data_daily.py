"""Meter data: daily consumption per IST day, estimates for missing days, and the true-up."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.domain.meterdata import (
    DailyUsage,
    RegisterRead,
    UsageMethod,
    VeeSettings,
    apportion,
    daily_usage,
    day_corrections,
    register_at,
    true_up_estimates,
)
from prepaidgrid.domain.units import IST, ist_midnight

AUG_1 = date(2025, 8, 1)
ONE_DAY = timedelta(days=1)


def ist(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=IST)


def read(at: str, wh: int) -> RegisterRead:
    return RegisterRead("M1", ist(at), wh)


def snapshots(used_per_day: list[int], skip: Collection[int] = ()) -> list[RegisterRead]:
    """Midnight snapshots from 1 August: day i uses used_per_day[i]; skip drops midnights."""
    reads, register = [], 50_000
    for index in range(len(used_per_day) + 1):
        if index not in skip:
            reads.append(RegisterRead("M1", ist_midnight(AUG_1 + index * ONE_DAY), register))
        if index < len(used_per_day):
            register += used_per_day[index]
    return reads


def day_of(index: int) -> date:
    return AUG_1 + index * ONE_DAY


def minutes_into(days: int) -> st.SearchStrategy[int]:
    """Read instants as minutes after the first midnight, often within 2 h of one."""
    near_midnight = st.builds(
        lambda day, minute: day * 1440 + minute, st.integers(1, days - 1), st.integers(-110, 110)
    )
    return st.one_of(st.integers(1, days * 1440 - 1), near_midnight)


# -- actual days ------------------------------------------------------------------------------


def test_a_day_between_two_midnight_snapshots_is_actual() -> None:
    reads = [read("2025-08-05T00:00", 10_000), read("2025-08-06T00:00", 17_250)]

    (day,) = daily_usage(reads, date(2025, 8, 5), date(2025, 8, 5), fallback_wh=0)

    assert day == DailyUsage(
        date(2025, 8, 5),
        7_250,
        UsageMethod.ACTUAL,
        10_000,
        17_250,
        "actual: register 10,000 Wh to 17,250 Wh",
    )
    assert not day.is_estimated


def test_a_midnight_between_two_reads_is_interpolated_and_rounded_half_up() -> None:
    reads = [
        read("2025-08-05T00:00", 1_000),
        read("2025-08-05T23:00", 5_000),
        read("2025-08-06T01:00", 5_001),  # half a watt-hour at midnight rounds up
    ]

    (day,) = daily_usage(reads, date(2025, 8, 5), date(2025, 8, 5), fallback_wh=0)

    assert (day.method, day.closing_wh, day.used_wh) == (UsageMethod.ACTUAL, 5_001, 4_001)


def test_a_midnight_whose_reads_are_beyond_the_tolerance_is_unknown() -> None:
    reads = [
        read("2025-08-05T00:00", 1_000),
        read("2025-08-05T21:30", 5_000),  # 2 h 30 min before midnight
        read("2025-08-06T01:00", 5_100),
    ]

    (strict,) = daily_usage(reads, date(2025, 8, 5), date(2025, 8, 5), fallback_wh=0)
    (loose,) = daily_usage(
        reads,
        date(2025, 8, 5),
        date(2025, 8, 5),
        fallback_wh=0,
        settings=VeeSettings(midnight_tolerance=timedelta(hours=3)),
    )

    assert (strict.is_estimated, strict.closing_wh) == (True, None)
    assert (loose.method, loose.used_wh) == (
        UsageMethod.ACTUAL,
        5_071 - 1_000,
    )  # 100 Wh x 150 / 210 min


def test_a_read_at_23_59_ist_closes_its_day_and_one_at_00_01_ist_opens_the_next() -> None:
    reads = [
        read("2025-08-05T00:00", 0),
        read("2025-08-05T23:59", 1_000),  # 18:29 UTC, still 5 August in IST
        read("2025-08-06T00:01", 1_020),  # 18:31 UTC, already 6 August in IST
        read("2025-08-07T00:00", 2_000),
    ]

    days = daily_usage(reads, date(2025, 8, 5), date(2025, 8, 6), fallback_wh=0)

    assert reads[1].read_at == datetime(2025, 8, 5, 18, 29, tzinfo=UTC)
    assert [(d.day, d.used_wh) for d in days] == [
        (date(2025, 8, 5), 1_010),
        (date(2025, 8, 6), 990),
    ]


def test_reads_a_minute_either_side_of_midnight_do_not_bound_the_day_without_tolerance() -> None:
    reads = [
        read("2025-08-05T00:00", 0),
        read("2025-08-05T23:59", 1_000),
        read("2025-08-06T00:01", 1_020),
    ]

    (day,) = daily_usage(
        reads,
        date(2025, 8, 5),
        date(2025, 8, 5),
        fallback_wh=700,
        settings=VeeSettings(midnight_tolerance=timedelta(0)),
    )

    assert (day.is_estimated, day.used_wh) == (True, 700)


def test_midnight_utc_is_half_past_five_ist_and_bounds_no_day() -> None:
    reads = [RegisterRead("M1", datetime(2025, 8, d, tzinfo=UTC), 1_000 * d) for d in (5, 6, 7)]

    days = daily_usage(reads, date(2025, 8, 5), date(2025, 8, 6), fallback_wh=0)

    assert [d.method for d in days] == [UsageMethod.FALLBACK, UsageMethod.FALLBACK]
    assert register_at(reads, ist("2025-08-06T05:30")) == 6_000


@given(data=st.data(), days=st.integers(1, 4), start_wh=st.integers(0, 10**9))
def test_dense_reads_give_actual_days_that_sum_to_the_register_difference(
    data: st.DataObject, days: int, start_wh: int
) -> None:
    hours = 24 * days
    minutes = data.draw(st.lists(st.integers(1, 59), min_size=hours - 1, max_size=hours - 1))
    rises = data.draw(st.lists(st.integers(0, 2_000), min_size=hours, max_size=hours))
    start = ist_midnight(AUG_1)
    times = [start, *(start + timedelta(hours=h + 1, minutes=m) for h, m in enumerate(minutes))]
    times.append(start + timedelta(hours=hours))
    registers = [start_wh + sum(rises[:i]) for i in range(hours + 1)]
    reads = [RegisterRead("M1", t, wh) for t, wh in zip(times, registers, strict=True)]

    result = daily_usage(reads, AUG_1, day_of(days - 1), fallback_wh=0)

    assert all(day.method is UsageMethod.ACTUAL for day in result)
    assert sum(day.used_wh for day in result) == registers[-1] - registers[0]
    assert all(day.used_wh >= 0 for day in result)


@given(
    offsets=st.sets(minutes_into(days=6), max_size=25),
    rises=st.lists(st.integers(0, 5_000), min_size=27, max_size=27),
    data=st.data(),
)
def test_duplicates_and_shuffled_order_give_the_same_daily_result(
    offsets: set[int], rises: list[int], data: st.DataObject
) -> None:
    reads = _reads_at(sorted(offsets), rises, days=6)
    arrivals = data.draw(st.permutations(reads + data.draw(st.lists(st.sampled_from(reads)))))

    shuffled = daily_usage(arrivals, AUG_1, day_of(5), fallback_wh=123)

    assert shuffled == daily_usage(reads, AUG_1, day_of(5), fallback_wh=123)


# -- estimates --------------------------------------------------------------------------------

TEN_DAYS = [100 * (i + 1) for i in range(10)]  # 100, 200, ... 1,000 Wh


def test_a_missing_day_is_estimated_from_the_last_seven_actual_days_and_flagged() -> None:
    reads = snapshots([*TEN_DAYS, 555, 555, 555], skip={11, 12})

    days = daily_usage(reads, day_of(10), day_of(12), fallback_wh=0)

    assert [(d.used_wh, d.method, d.is_estimated) for d in days] == [
        (700, UsageMethod.AVERAGE, True),  # (400 + ... + 1,000) / 7; estimates feed no estimate
        (700, UsageMethod.AVERAGE, True),
        (700, UsageMethod.AVERAGE, True),
    ]
    assert days[1].note == (
        "estimated: opening and closing register unknown;"
        " mean of 7 actual days 2025-08-04 to 2025-08-10"
    )


def test_an_estimate_averages_as_many_days_as_configured() -> None:
    reads = snapshots([*TEN_DAYS, 555], skip={11})

    (day,) = daily_usage(
        reads, day_of(10), day_of(10), fallback_wh=0, settings=VeeSettings(estimate_days=2)
    )

    assert day.used_wh == 950


def test_a_meter_without_an_actual_day_is_estimated_at_the_category_fallback() -> None:
    reads = [read("2025-08-01T09:00", 0)]

    days = daily_usage(reads, AUG_1, day_of(1), fallback_wh=4_200)

    assert [(d.used_wh, d.method) for d in days] == [(4_200, UsageMethod.FALLBACK)] * 2
    assert all(d.is_estimated for d in days)


def test_a_day_range_must_not_run_backwards() -> None:
    with pytest.raises(InvalidInput, match="before first day"):
        daily_usage([], day_of(2), day_of(1), fallback_wh=0)


# -- true-up ----------------------------------------------------------------------------------

USED = [*TEN_DAYS, 300, 900, 450, 800]  # 1-14 August
FULL = snapshots(USED)


def test_after_the_true_up_each_estimated_day_is_billed_at_its_real_use() -> None:
    billed = daily_usage(snapshots(USED, skip={11, 12}), AUG_1, day_of(13), fallback_wh=0)

    ups = true_up_estimates(billed, FULL)

    assert [d.day for d in billed if d.is_estimated] == [day_of(10), day_of(11), day_of(12)]
    assert [
        (c.day, c.estimated_wh, c.actual_wh, c.correction_wh) for c in day_corrections(ups)
    ] == [
        (day_of(10), 700, 300, -400),  # the estimate was too high: a credit
        (day_of(11), 700, 900, 200),
        (day_of(12), 700, 450, -250),
    ]
    corrected = {c.day: c.correction_wh for c in day_corrections(ups)}
    assert [d.used_wh + corrected.get(d.day, 0) for d in billed] == USED


def test_a_span_measured_only_at_its_ends_is_apportioned_exactly() -> None:
    billed = daily_usage(snapshots(USED, skip={11, 12}), AUG_1, day_of(13), fallback_wh=0)

    (up,) = true_up_estimates(billed, snapshots(USED, skip={11, 12}))

    assert (up.first_day, up.last_day) == (day_of(10), day_of(12))
    assert (up.actual_wh, up.estimated_wh, up.correction_wh) == (1_650, 2_100, -450)
    assert [(d.actual_wh, d.method) for d in up.days] == [(550, UsageMethod.APPORTIONED)] * 3


def test_days_not_yet_bounded_by_a_known_midnight_stay_estimated() -> None:
    billed = daily_usage(snapshots(USED, skip={12, 13, 14}), AUG_1, day_of(13), fallback_wh=0)

    ups = true_up_estimates(billed, snapshots(USED, skip={13, 14}))

    assert [d.day for d in billed if d.is_estimated] == [day_of(11), day_of(12), day_of(13)]
    assert [(c.day, c.actual_wh) for c in day_corrections(ups)] == [(day_of(11), 900)]


def test_the_true_up_keeps_the_midnight_billing_already_used_for_an_actual_day() -> None:
    billed_reads = [
        read("2025-08-01T00:00", 0),
        read("2025-08-01T23:00", 1_000),
        read("2025-08-02T01:00", 1_200),  # midnight interpolated at 1,100 Wh
        read("2025-08-04T00:00", 3_000),
    ]
    billed = daily_usage(billed_reads, AUG_1, day_of(2), fallback_wh=0)
    late = read("2025-08-01T23:50", 1_190)  # arrives after billing; moves that midnight

    (up,) = true_up_estimates(billed, [*billed_reads, late])

    assert billed[0].used_wh == 1_100
    assert (up.opening_wh, up.actual_wh) == (1_100, 1_900)
    assert billed[0].used_wh + sum(d.used_wh for d in billed[1:]) + up.correction_wh == 3_000


def test_settled_days_are_no_longer_estimated_and_are_trued_up_once() -> None:
    billed = daily_usage(snapshots(USED, skip={11, 12}), AUG_1, day_of(13), fallback_wh=0)
    ups = true_up_estimates(billed, FULL)
    settled = {d.day: d for up in ups for d in up.settled()}

    now = [settled.get(d.day, d) for d in billed]

    assert not any(d.is_estimated for d in now)
    assert true_up_estimates(now, FULL) == ()
    assert [d.opening_wh for d in now[1:]] == [d.closing_wh for d in now[:-1]]


def test_a_day_billed_twice_cannot_be_trued_up() -> None:
    day = DailyUsage(AUG_1, 700, UsageMethod.AVERAGE)

    with pytest.raises(InvalidInput, match="billed twice"):
        true_up_estimates([day, DailyUsage(AUG_1, 800, UsageMethod.AVERAGE)], FULL)


@given(
    offsets=st.sets(minutes_into(days=8), max_size=60),
    rises=st.lists(st.integers(0, 5_000), min_size=62, max_size=62),
    outage=st.tuples(
        st.integers(1, 8 * 1440 - 1), st.one_of(st.integers(0, 240), st.integers(0, 4 * 1440))
    ),
    fallback_wh=st.integers(0, 20_000),
)
def test_after_the_true_up_actuals_and_corrections_equal_the_real_use_exactly(
    offsets: set[int], rises: list[int], outage: tuple[int, int], fallback_wh: int
) -> None:
    reads = _reads_at(sorted(offsets), rises, days=8)
    start, end = ist_midnight(AUG_1) + timedelta(minutes=outage[0]), timedelta(minutes=outage[1])
    seen_then = [r for r in reads if not start <= r.read_at < start + end]
    billed = daily_usage(seen_then, AUG_1, day_of(7), fallback_wh=fallback_wh)

    corrections = day_corrections(true_up_estimates(billed, reads))

    assert {c.day for c in corrections} == {d.day for d in billed if d.is_estimated}
    billed_wh = sum(d.used_wh for d in billed)
    assert billed_wh + sum(c.correction_wh for c in corrections) == reads[-1].import_wh - 50_000
    assert all(c.actual_wh >= 0 for c in corrections)


@given(total=st.integers(0, 10**9), weights=st.lists(st.integers(0, 10**6), min_size=1))
def test_apportioned_shares_add_up_exactly_and_stay_within_a_watt_hour(
    total: int, weights: list[int]
) -> None:
    shares = apportion(total, weights)

    whole = sum(weights) or len(weights)
    fair = [(w if sum(weights) else 1) * total / whole for w in weights]
    assert sum(shares) == total
    assert all(share >= 0 and abs(share - f) <= 1 for share, f in zip(shares, fair, strict=True))


def _reads_at(offsets: list[int], rises: list[int], days: int) -> list[RegisterRead]:
    """Exact reads at the first and last midnight, and one read per offset (minutes) between."""
    start = ist_midnight(AUG_1)
    minutes = [0, *offsets, days * 1440]
    registers = [50_000 + sum(rises[:i]) for i in range(len(minutes))]
    return [
        RegisterRead("M1", start + timedelta(minutes=m), wh)
        for m, wh in zip(minutes, registers, strict=True)
    ]
