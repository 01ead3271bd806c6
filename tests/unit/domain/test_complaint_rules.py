"""The officers' rules of complaints: moves, notes, reopening, escalation levels, the check
meter day, similar households' median, and the diagnosis stored and read back."""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prepaidgrid.domain.access import Officer, Role
from prepaidgrid.domain.complaint_diagnosis import (
    CommandFinding,
    Diagnosis,
    ExplainedDay,
    PaymentFinding,
    PaymentStage,
    SlabLine,
    SupplyFinding,
    UsageDay,
    UsageFinding,
    diagnosis_of,
    load_band,
    median_wh,
)
from prepaidgrid.domain.complaints import (
    ESCALATION_STEPS,
    Complaint,
    ComplaintCategory,
    ComplaintStatus,
    EventKind,
    check_meter_day,
    closed,
    due_end,
    escalated,
    escalation_level_due,
    escalations_due,
    may_handle,
    noted,
    reopen_by,
    reopened,
    resolved,
    taken_up,
)
from prepaidgrid.domain.errors import InvalidInput, InvalidTransition
from tests.conftest import ist

FILED = ist(2025, 7, 1, 9)  # a Tuesday


def _complaint(
    category: ComplaintCategory = ComplaintCategory.HIGH_DEDUCTION,
    status: ComplaintStatus = ComplaintStatus.OPEN,
) -> Complaint:
    return Complaint(1, "A-1", category, "too much", None, status, FILED, date(2025, 7, 8), FILED)


# -- moves --------------------------------------------------------------------------------------


def test_taking_up_assigns_the_officer_and_records_the_move() -> None:
    after, event = taken_up(_complaint(), "ravi", ist(2025, 7, 2, 10))

    assert (after.status, after.assigned_to) == (ComplaintStatus.IN_PROGRESS, "ravi")
    assert (event.from_status, event.to_status, event.kind) == (
        ComplaintStatus.OPEN,
        ComplaintStatus.IN_PROGRESS,
        EventKind.MOVED,
    )


def test_a_resolution_needs_a_note() -> None:
    with pytest.raises(InvalidInput, match="write a note"):
        resolved(_complaint(), "ravi", " \n ", ist(2025, 7, 2))


def test_a_note_keeps_the_status_and_a_closed_complaint_takes_none() -> None:
    after, event = noted(_complaint(), "ravi", "visit tomorrow", ist(2025, 7, 2))
    shut = _complaint(status=ComplaintStatus.CLOSED)

    assert after.status is ComplaintStatus.OPEN
    assert (event.kind, event.from_status, event.to_status) == (
        EventKind.NOTE,
        ComplaintStatus.OPEN,
        ComplaintStatus.OPEN,
    )
    with pytest.raises(InvalidTransition):
        noted(shut, "ravi", "late note", ist(2025, 7, 2))


def test_withdrawing_an_unresolved_complaint_needs_a_reason_but_closing_a_resolved_one_not() -> (
    None
):
    done, _ = resolved(_complaint(), "ravi", "fixed", ist(2025, 7, 2))

    shut, _ = closed(done, "ravi", "", ist(2025, 7, 3))

    assert shut.status is ComplaintStatus.CLOSED
    with pytest.raises(InvalidInput):
        closed(_complaint(), "ravi", "", ist(2025, 7, 3))


def test_a_closed_complaint_cannot_be_taken_up_or_resolved() -> None:
    shut = _complaint(status=ComplaintStatus.CLOSED)

    with pytest.raises(InvalidTransition):
        taken_up(shut, "ravi", ist(2025, 7, 2))
    with pytest.raises(InvalidTransition):
        resolved(shut, "ravi", "fixed", ist(2025, 7, 2))


def test_a_note_with_control_characters_or_too_long_is_refused() -> None:
    with pytest.raises(InvalidInput, match="control"):
        noted(_complaint(), "ravi", "a\x00b", ist(2025, 7, 2))
    with pytest.raises(InvalidInput, match="at most"):
        noted(_complaint(), "ravi", "x" * 1001, ist(2025, 7, 2))


def test_only_division_officers_and_admins_handle_complaints() -> None:
    def officer(role: Role) -> Officer:
        return Officer("o", "O", role, frozenset({"DIV-1"}))

    assert [may_handle(officer(role)) for role in Role] == [
        role in (Role.ADMIN, Role.DIVISION_OFFICER) for role in Role
    ]


@given(hours=st.integers(min_value=0, max_value=24 * 10))
def test_a_resolution_may_be_reopened_until_the_end_of_the_seventh_ist_day(hours: int) -> None:
    done, _ = resolved(_complaint(), "ravi", "fixed", ist(2025, 7, 2, 18))
    at = ist(2025, 7, 2, 18) + timedelta(hours=hours)
    is_allowed = at < ist(2025, 7, 10)  # resolved on 2 July: until the end of 9 July

    assert reopen_by(done) == date(2025, 7, 9)
    if is_allowed:
        after, event = reopened(done, "", at)
        assert (after.status, after.resolved_at, event.kind) == (
            ComplaintStatus.IN_PROGRESS,
            None,
            EventKind.REOPENED,
        )
        assert after.due_on > done.due_on
    else:
        with pytest.raises(InvalidTransition):
            reopened(done, "", at)


def test_only_a_resolved_complaint_can_be_reopened() -> None:
    with pytest.raises(InvalidTransition):
        reopened(_complaint(status=ComplaintStatus.IN_PROGRESS), "", ist(2025, 7, 2))


# -- escalation ---------------------------------------------------------------------------------


def test_the_levels_come_when_the_due_day_ends_and_three_days_later() -> None:
    due = date(2025, 7, 8)
    end = due_end(due)

    levels = [
        escalation_level_due(due, end - timedelta(seconds=1)),
        escalation_level_due(due, end),
        escalation_level_due(due, end + timedelta(days=3) - timedelta(seconds=1)),
        escalation_level_due(due, end + timedelta(days=3)),
        escalation_level_due(due, end + timedelta(days=300)),
    ]

    assert end == ist(2025, 7, 9)
    assert levels == [0, 1, 1, 2, 2]


def test_escalation_steps_are_configurable() -> None:
    assert escalation_level_due(date(2025, 7, 8), ist(2025, 7, 11), steps=(0, 1, 2)) == 3


@given(minutes=st.lists(st.integers(min_value=0, max_value=60 * 24 * 20), min_size=1, max_size=8))
def test_sweeping_at_any_moments_climbs_each_level_once_and_in_order(minutes: list[int]) -> None:
    current = _complaint()
    climbed: list[int] = []

    for offset in sorted(minutes):
        at = FILED + timedelta(minutes=offset)
        for level in escalations_due(current, at):
            current, _ = escalated(current, level, at)
            climbed.append(level)

    last = FILED + timedelta(minutes=max(minutes))
    assert climbed == list(range(1, escalation_level_due(current.due_on, last) + 1))
    assert len(climbed) <= len(ESCALATION_STEPS)


def test_a_finished_complaint_is_never_escalated() -> None:
    late = ist(2025, 8, 1)

    assert escalations_due(_complaint(status=ComplaintStatus.RESOLVED), late) == []
    assert escalations_due(_complaint(status=ComplaintStatus.CLOSED), late) == []
    assert escalations_due(_complaint(status=ComplaintStatus.IN_PROGRESS), late) == [1, 2]


# -- the check meter day ------------------------------------------------------------------------


def _sundays(day: date) -> bool:
    return day.weekday() == 6


def test_the_check_meter_comes_the_next_working_day() -> None:
    assert check_meter_day(ComplaintCategory.METER_FAULT, FILED, _sundays) == date(2025, 7, 2)


def test_the_check_meter_skips_sundays_and_holidays() -> None:
    saturday = ist(2025, 8, 9, 20)  # Sunday 10 Aug, then a holiday on Monday 11 Aug
    holidays = {date(2025, 8, 11)}

    day = check_meter_day(
        ComplaintCategory.HIGH_DEDUCTION, saturday, lambda d: _sundays(d) or d in holidays
    )

    assert day == date(2025, 8, 12)


def test_only_meter_disputes_get_a_check_meter() -> None:
    others = set(ComplaintCategory) - {
        ComplaintCategory.HIGH_DEDUCTION,
        ComplaintCategory.METER_FAULT,
    }

    assert all(check_meter_day(category, FILED, _sundays) is None for category in others)


@given(
    offset_hours=st.integers(min_value=0, max_value=24 * 400),
    closed_days=st.sets(st.integers(min_value=0, max_value=400), max_size=120),
)
def test_the_check_meter_day_is_within_five_days_and_open_when_one_is(
    offset_hours: int, closed_days: set[int]
) -> None:
    at = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=offset_hours)
    base = date(2025, 1, 1)

    def is_closed(day: date) -> bool:
        return _sundays(day) or (day - base).days in closed_days

    day = check_meter_day(ComplaintCategory.METER_FAULT, at, is_closed)
    filed_on = (at + timedelta(hours=5, minutes=30)).date()

    assert day is not None
    assert 1 <= (day - filed_on).days <= 5
    window = [filed_on + timedelta(days=n) for n in range(1, 6)]
    open_days = [d for d in window if not is_closed(d)]
    assert day == (open_days[0] if open_days else window[-1])


# -- similar households -------------------------------------------------------------------------


@given(st.lists(st.integers(min_value=0, max_value=200_000), min_size=1, max_size=50))
def test_the_median_is_the_middle_value_or_the_mean_of_the_two_rounded_half_up(
    values: list[int],
) -> None:
    doubled = int(statistics.median(values) * 2)  # exact: a median is a whole or a half

    assert median_wh(values) == (doubled + 1) // 2


def test_the_median_of_nothing_is_none() -> None:
    assert median_wh([]) is None


def test_load_bands() -> None:
    assert [load_band(w) for w in (1, 2_000, 2_001, 5_000, 9_999, 10_001)] == [
        (0, 2_000),
        (0, 2_000),
        (2_000, 5_000),
        (2_000, 5_000),
        (5_000, 10_000),
        (10_000, None),
    ]


# -- the diagnosis as stored --------------------------------------------------------------------


def test_a_diagnosis_reads_back_as_it_was_stored() -> None:
    at = ist(2025, 7, 1, 9)
    diagnosis = Diagnosis(
        computed_at=at,
        payments=(
            PaymentFinding(
                "bbps",
                "B-1",
                50_000,
                "pending",
                (PaymentStage("received", at, "₹500.00 for account A-1"),),
                "pending",
                "the channel to confirm or fail the payment",
                at,
            ),
        ),
        supply=SupplyFinding(
            "disconnected",
            -2_000,
            at,
            (CommandFinding("c-1", "disconnect", "acknowledged", at, 1, at, "ok"),),
        ),
        usage=UsageFinding(
            "DS-II",
            0,
            2_000,
            (
                UsageDay(date(2025, 6, 30), 5_000, 4_750, 4),
                UsageDay(date(2025, 7, 1), None, None, 0),
            ),
            (
                ExplainedDay(
                    date(2025, 6, 30), 5_000, 3_100, (SlabLine("energy.slab.1", "E", "ऊ", 3_100),)
                ),
            ),
        ),
        check_meter_on=date(2025, 7, 2),
        notes=("no payment of this account has the reference X",),
    )

    assert diagnosis_of(diagnosis.as_json()) == diagnosis
    assert diagnosis.usage is not None
    assert (diagnosis.usage.used_wh, diagnosis.usage.similar_wh) == (5_000, 4_750)
