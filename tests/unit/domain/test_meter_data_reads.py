"""Meter data: validating register reads, and continuity across a meter replacement."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prepaidgrid.domain.errors import InvalidInput, InvalidTimestamp
from prepaidgrid.domain.meter_protocol import Reading, ReadingKind
from prepaidgrid.domain.meterdata import (
    MeterSwap,
    ReadFlag,
    ReadVerdict,
    RegisterRead,
    VeeSettings,
    continue_across_swaps,
    daily_usage,
    monotone_reads,
    validate_read,
)
from prepaidgrid.domain.units import IST

LOAD_W = 2_000  # a 2 kW domestic connection: at most 3,000 Wh an hour at 150 %


def ist(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=IST)


def read(
    at: str,
    wh: int,
    meter: str = "M1",
    *,
    max_demand_w: int | None = None,
    received_at: datetime | None = None,
    meter_time: datetime | None = None,
) -> RegisterRead:
    return RegisterRead(meter, ist(at), wh, max_demand_w, received_at, meter_time)


LAST = read("2025-08-05T00:00", 40_000)


# -- validation -------------------------------------------------------------------------------


def test_the_first_read_of_a_meter_is_accepted() -> None:
    candidate = read("2025-08-05T00:00", 40_000)

    check = validate_read(None, candidate, LOAD_W)

    assert check.verdict is ReadVerdict.ACCEPT
    assert (check.is_stored, check.advances_register, check.needs_review) == (True, True, False)


def test_a_later_read_within_physics_is_accepted_and_says_why() -> None:
    candidate = read("2025-08-05T01:00", 43_000)

    check = validate_read(LAST, candidate, LOAD_W)

    assert check.verdict is ReadVerdict.ACCEPT
    assert check.reason == (
        "accepted: +3,000 Wh in 1 h, within the 3,000 Wh a 2,000 W sanctioned load allows at 150 %"
    )


def test_a_repeated_read_is_absorbed_silently_as_a_duplicate() -> None:
    repeat = read("2025-08-05T00:00", 40_000, received_at=ist("2025-08-06T09:00"))

    check = validate_read(LAST, repeat, LOAD_W)

    assert check.verdict is ReadVerdict.DUPLICATE
    assert (check.is_stored, check.needs_review, check.flags) == (False, False, frozenset())


def test_another_register_at_the_same_instant_is_a_conflict_and_the_first_stands() -> None:
    rival = read("2025-08-05T00:00", 40_100)

    check = validate_read(LAST, rival, LOAD_W)

    assert check.verdict is ReadVerdict.CONFLICT
    assert (check.is_stored, check.needs_review) == (False, True)
    assert "holds 40,000 Wh, this one says 40,100 Wh" in check.reason


def test_the_read_stored_at_the_same_instant_decides_duplicate_or_conflict() -> None:
    stored = read("2025-08-04T12:00", 35_000)

    same = validate_read(LAST, read("2025-08-04T12:00", 35_000), LOAD_W, stored=stored)
    other = validate_read(LAST, read("2025-08-04T12:00", 36_000), LOAD_W, stored=stored)

    assert (same.verdict, other.verdict) == (ReadVerdict.DUPLICATE, ReadVerdict.CONFLICT)


def test_a_backwards_read_is_rejected_with_its_reason() -> None:
    candidate = read("2025-08-06T00:00", 39_000)

    check = validate_read(LAST, candidate, LOAD_W)

    assert check.verdict is ReadVerdict.BACKWARDS
    assert (check.is_stored, check.needs_review) == (False, True)
    assert check.reason == (
        "backwards: register falls from 40,000 Wh at 2025-08-05 00:00 IST to 39,000 Wh"
        " at 2025-08-06 00:00 IST without a meter replacement"
    )


def test_an_older_read_is_stored_without_moving_the_register() -> None:
    older = read("2025-08-04T18:00", 38_500)

    check = validate_read(LAST, older, LOAD_W)

    assert check.verdict is ReadVerdict.OUT_OF_ORDER
    assert (check.is_stored, check.advances_register, check.needs_review) == (True, False, False)
    assert "the register stays at 40,000 Wh" in check.reason


def test_an_older_read_above_the_last_one_is_backwards() -> None:
    older = read("2025-08-04T18:00", 40_001)

    check = validate_read(LAST, older, LOAD_W)

    assert check.verdict is ReadVerdict.BACKWARDS


def test_a_spike_beyond_physics_is_flagged_and_held() -> None:
    candidate = read("2025-08-05T01:00", 43_001)  # 3,001 Wh in an hour on a 2 kW load

    check = validate_read(LAST, candidate, LOAD_W)

    assert check.verdict is ReadVerdict.SPIKE
    assert (check.is_stored, check.needs_review) == (False, True)
    assert check.reason == (
        "spike: +3,001 Wh in 1 h exceeds the 3,000 Wh a 2,000 W sanctioned load allows"
        " at 150 %; held, not billed"
    )


def test_an_older_read_too_far_below_the_last_is_a_spike() -> None:
    older = read("2025-08-04T23:00", 36_000)  # 4,000 Wh in the hour up to the last read

    check = validate_read(LAST, older, LOAD_W)

    assert check.verdict is ReadVerdict.SPIKE


def test_the_spike_factor_is_configurable() -> None:
    candidate = read("2025-08-05T01:00", 43_001)

    check = validate_read(LAST, candidate, LOAD_W, VeeSettings(spike_factor_percent=200))

    assert check.verdict is ReadVerdict.ACCEPT


@given(
    load_w=st.integers(1, 50_000),
    seconds=st.integers(1, 40 * 86_400),
    energy_wh=st.integers(0, 10**7),
    percent=st.integers(100, 300),
)
def test_a_read_is_a_spike_exactly_when_it_beats_load_times_hours_times_factor(
    load_w: int, seconds: int, energy_wh: int, percent: int
) -> None:
    later = RegisterRead("M1", LAST.read_at + timedelta(seconds=seconds), 40_000 + energy_wh)

    check = validate_read(LAST, later, load_w, VeeSettings(spike_factor_percent=percent))

    beyond = energy_wh * 3600 * 100 > load_w * seconds * percent
    assert check.verdict is (ReadVerdict.SPIKE if beyond else ReadVerdict.ACCEPT)


def test_a_meter_clock_off_by_more_than_the_skew_is_flagged_but_the_read_is_kept() -> None:
    candidate = read(
        "2025-08-05T01:00",
        41_000,
        meter_time=ist("2025-08-05T01:00"),
        received_at=ist("2025-08-05T01:20"),
    )

    check = validate_read(LAST, candidate, LOAD_W)

    assert check.verdict is ReadVerdict.ACCEPT
    assert check.flags == {ReadFlag.CLOCK_SKEW}
    assert check.needs_review
    assert check.reason.endswith("; clock skew: meter clock 20 min behind receipt")


def test_a_meter_clock_within_the_skew_raises_no_flag() -> None:
    candidate = read(
        "2025-08-05T01:00",
        41_000,
        meter_time=ist("2025-08-05T01:14"),
        received_at=ist("2025-08-05T01:00"),
    )

    check = validate_read(LAST, candidate, LOAD_W)

    assert check.flags == frozenset()


def test_a_read_dated_after_its_receipt_is_flagged_as_clock_skew() -> None:
    candidate = read("2025-08-05T02:00", 41_000, received_at=ist("2025-08-05T01:00"))

    check = validate_read(LAST, candidate, LOAD_W)

    assert check.flags == {ReadFlag.CLOCK_SKEW}
    assert "read_at 1 h after receipt" in check.reason


def test_a_max_demand_above_the_sanctioned_load_is_flagged() -> None:
    candidate = read("2025-08-05T01:00", 41_000, max_demand_w=2_600)

    check = validate_read(LAST, candidate, LOAD_W)

    assert check.flags == {ReadFlag.OVER_SANCTIONED_LOAD}
    assert "max demand 2,600 W above the 2,000 W sanctioned load" in check.reason


@pytest.mark.parametrize(
    "candidate",
    [
        read("2025-08-05T01:00", 41_000, meter_time=ist("2025-08-05T03:00")),
        read("2025-08-05T00:00", 40_000),
        read("2025-08-05T00:00", 1),
        read("2025-08-04T20:00", 39_000),
        read("2025-08-05T06:00", 1),
        read("2025-08-05T00:01", 99_999, max_demand_w=9_999, received_at=ist("2025-08-01T00:00")),
    ],
)
def test_every_verdict_carries_a_one_line_reason(candidate: RegisterRead) -> None:
    check = validate_read(LAST, candidate, LOAD_W)

    assert check.reason.startswith(check.verdict.replace("_", " ").replace("accept", "accepted"))
    assert "\n" not in check.reason


def test_reads_of_two_meters_are_not_compared() -> None:
    other = read("2025-08-05T01:00", 41_000, meter="M2")

    with pytest.raises(InvalidInput, match="M1 and M2"):
        validate_read(LAST, other, LOAD_W)


def test_a_register_read_is_whole_non_negative_wh_at_an_aware_instant() -> None:
    with pytest.raises(InvalidInput, match="import_wh"):
        RegisterRead("M1", LAST.read_at, -1)
    with pytest.raises(InvalidInput, match="import_wh"):
        RegisterRead("M1", LAST.read_at, 1.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidTimestamp):
        RegisterRead("M1", datetime(2025, 8, 5), 1)  # noqa: DTZ001


def test_a_register_read_comes_from_a_decoded_reading_in_utc() -> None:
    reading = Reading(
        "SBPDCL", "M1", "msg-1", ist("2025-08-05T00:01"), ReadingKind.DAILY,
        ist("2025-08-05T00:00"), 40_000, None, 1_200,
    )  # fmt: skip

    register = RegisterRead.from_reading(reading, received_at=ist("2025-08-05T00:02"))

    assert register == RegisterRead(
        "M1",
        datetime(2025, 8, 4, 18, 30, tzinfo=UTC),
        40_000,
        1_200,
        datetime(2025, 8, 4, 18, 32, tzinfo=UTC),
        datetime(2025, 8, 4, 18, 31, tzinfo=UTC),
    )
    assert register.read_at.tzinfo is UTC


@given(
    steps=st.lists(st.tuples(st.integers(1, 600), st.integers(0, 900)), min_size=1, max_size=40),
    data=st.data(),
)
def test_a_shuffled_repeated_stream_is_stored_once_per_instant_in_any_order(
    steps: list[tuple[int, int]], data: st.DataObject
) -> None:
    start = ist("2025-08-01T00:00")
    truth, at, wh = [RegisterRead("M1", start, 10_000)], start, 10_000
    for minutes, rise_wh in steps:
        at, wh = at + timedelta(minutes=minutes), wh + rise_wh
        truth.append(RegisterRead("M1", at, wh))
    arrivals = data.draw(st.permutations(truth + data.draw(st.lists(st.sampled_from(truth)))))
    store: dict[datetime, RegisterRead] = {}
    last: RegisterRead | None = None

    for candidate in arrivals:
        check = validate_read(last, candidate, 40_000, stored=store.get(candidate.read_at))
        if check.is_stored:
            store[candidate.read_at] = candidate
        if check.advances_register:
            last = candidate

    assert sorted(store.values(), key=lambda r: r.read_at) == truth
    assert last == truth[-1]
    assert monotone_reads(arrivals) == (tuple(truth), ())


def test_daily_use_ignores_a_stored_read_that_would_move_the_register_back() -> None:
    reads = [
        read("2025-08-05T00:00", 1_000),
        read("2025-08-05T12:00", 3_000),
        read("2025-08-05T18:00", 2_000),  # stored out of order against a later last read
        read("2025-08-06T00:00", 4_000),
    ]

    kept, dropped = monotone_reads(reads)

    assert dropped == (reads[2],)
    assert [r.import_wh for r in kept] == [1_000, 3_000, 4_000]


# -- meter replacement ------------------------------------------------------------------------

SWAP_DAY = date(2025, 8, 5)
OLD_READS = [read("2025-08-04T00:00", 9_200, "OLD"), read("2025-08-05T00:00", 10_000, "OLD")]


def test_use_continues_across_a_meter_swap() -> None:
    swap = MeterSwap("OLD", "NEW", ist("2025-08-05T12:00"), old_final_wh=10_600, new_initial_wh=0)
    new_reads = [read("2025-08-06T00:00", 400, "NEW"), read("2025-08-07T00:00", 1_300, "NEW")]

    stitched = continue_across_swaps([*new_reads, *OLD_READS], [swap])
    days = daily_usage(stitched, SWAP_DAY, SWAP_DAY + timedelta(days=1), fallback_wh=0)

    # (old final - old previous) + (new - new initial) = (10,600 - 10,000) + (400 - 0)
    assert [day.used_wh for day in days] == [1_000, 900]
    assert [r.import_wh for r in stitched] == [9_200, 10_000, 10_600, 11_000, 11_900]
    assert [r.meter_id for r in stitched] == ["OLD", "OLD", "OLD", "NEW", "NEW"]


def test_without_a_recorded_initial_register_the_new_meters_first_read_stands_in() -> None:
    swap = MeterSwap("OLD", "NEW", ist("2025-08-05T12:00"), old_final_wh=10_600)
    new_reads = [read("2025-08-05T13:00", 25, "NEW"), read("2025-08-06T00:00", 425, "NEW")]

    stitched = continue_across_swaps([*OLD_READS, *new_reads], [swap])
    (day,) = daily_usage(stitched, SWAP_DAY, SWAP_DAY, fallback_wh=0)

    assert day.used_wh == (10_600 - 10_000) + (425 - 25)


def test_a_reset_of_the_same_meter_continues_its_register() -> None:
    reset = MeterSwap("OLD", "OLD", ist("2025-08-05T12:00"), old_final_wh=10_600, new_initial_wh=0)
    after = [read("2025-08-05T12:00", 10_600, "OLD"), read("2025-08-06T00:00", 400, "OLD")]

    stitched = continue_across_swaps([*OLD_READS, *after], [reset])

    assert [r.import_wh for r in stitched] == [9_200, 10_000, 10_600, 11_000]


def test_two_swaps_carry_both_offsets() -> None:
    swaps = [
        MeterSwap("A", "B", ist("2025-08-02T00:00"), old_final_wh=5_000, new_initial_wh=0),
        MeterSwap("B", "C", ist("2025-08-03T00:00"), old_final_wh=700, new_initial_wh=100),
    ]
    reads = [read("2025-08-01T00:00", 4_000, "A"), read("2025-08-04T00:00", 350, "C")]

    stitched = continue_across_swaps(reads, swaps)

    assert [(r.meter_id, r.import_wh) for r in stitched] == [
        ("A", 4_000),
        ("A", 5_000),
        ("B", 5_700),
        ("C", 5_950),
    ]


def test_a_final_register_below_the_old_meters_last_read_is_refused() -> None:
    swap = MeterSwap("OLD", "NEW", ist("2025-08-05T12:00"), old_final_wh=9_999, new_initial_wh=0)

    with pytest.raises(InvalidInput, match="final register 9,999 Wh is below"):
        continue_across_swaps(OLD_READS, [swap])


def test_a_read_outside_its_meters_time_on_the_connection_is_refused() -> None:
    swap = MeterSwap("OLD", "NEW", ist("2025-08-05T12:00"), old_final_wh=10_600)
    early = read("2025-08-05T06:00", 10, "NEW")

    with pytest.raises(InvalidInput, match="falls outside"):
        continue_across_swaps([*OLD_READS, early], [swap])


@given(
    old_rises=st.lists(st.integers(0, 5_000), min_size=1, max_size=6),
    final_rise=st.integers(0, 5_000),
    initial=st.integers(0, 10**6),
    new_rises=st.lists(st.integers(0, 5_000), min_size=1, max_size=6),
    initial_recorded=st.booleans(),
)
def test_a_swap_loses_and_invents_no_energy(
    old_rises: list[int],
    final_rise: int,
    initial: int,
    new_rises: list[int],
    initial_recorded: bool,
) -> None:
    day = ist("2025-07-01T00:00")
    old = [
        RegisterRead("OLD", day + timedelta(days=i), sum(old_rises[: i + 1]))
        for i in range(len(old_rises))
    ]
    swapped_at = day + timedelta(days=len(old_rises))
    final = old[-1].import_wh + final_rise
    new = [
        RegisterRead("NEW", swapped_at + timedelta(days=i + 1), initial + sum(new_rises[: i + 1]))
        for i in range(len(new_rises))
    ]
    swap = MeterSwap("OLD", "NEW", swapped_at, final, initial if initial_recorded else None)

    stitched = continue_across_swaps([*new, *old], [swap])

    counted_from = initial if initial_recorded else new[0].import_wh
    used = (final - old[0].import_wh) + (new[-1].import_wh - counted_from)
    assert stitched[-1].import_wh - stitched[0].import_wh == used
    assert all(a.import_wh <= b.import_wh for a, b in pairwise(stitched))
