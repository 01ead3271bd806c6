"""Complaints' rules: due days per category, numbers, what a description may hold, moves;
and the alert preferences that consumer care stores (domain/notifications.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prepaidgrid.domain.complaints import (
    MAX_DESCRIPTION_CHARS,
    SLA_DAYS,
    Complaint,
    ComplaintCategory,
    ComplaintStatus,
    InvalidComplaint,
    complaint,
    complaint_id_of,
    complaint_number,
    due_end,
    moved,
    require_description,
    require_payment_reference,
    sla_due_on,
)
from prepaidgrid.domain.errors import InvalidInput, InvalidTransition
from prepaidgrid.domain.notifications import AlertPreferences, require_email
from prepaidgrid.domain.units import IST
from tests.conftest import ist

Category = ComplaintCategory
INSTANTS = st.datetimes(
    min_value=datetime(2020, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=datetime(2040, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@pytest.mark.parametrize(
    ("category", "due_on"),
    [
        (Category.RECHARGE_NOT_CREDITED, date(2025, 7, 8)),
        (Category.HIGH_DEDUCTION, date(2025, 7, 8)),
        (Category.NOT_RECONNECTED, date(2025, 7, 4)),
        (Category.METER_FAULT, date(2025, 7, 4)),
        (Category.MOBILE_CHANGE, date(2025, 7, 8)),
        (Category.OTHER, date(2025, 7, 8)),
    ],
)
def test_billing_complaints_get_a_week_and_supply_or_meter_faults_three_days(
    category: ComplaintCategory, due_on: date
) -> None:
    assert sla_due_on(category, ist(2025, 7, 1, 9)) == due_on


def test_the_due_day_counts_from_the_ist_day_not_the_utc_one() -> None:
    just_after_midnight = ist(2025, 7, 2, 0, 15)  # still 1 July in UTC

    assert sla_due_on(Category.METER_FAULT, just_after_midnight) == date(2025, 7, 5)


@given(INSTANTS, st.sampled_from(list(ComplaintCategory)))
def test_a_consumer_always_gets_at_least_the_full_number_of_days(
    opened_at: datetime, category: ComplaintCategory
) -> None:
    due_on = sla_due_on(category, opened_at)

    given_time = due_end(due_on) - opened_at

    days = timedelta(days=SLA_DAYS[category])
    assert days < given_time <= days + timedelta(days=1)
    assert due_end(due_on).astimezone(IST).time() == time(0)


def test_every_category_has_a_due_rule() -> None:
    assert set(SLA_DAYS) == set(ComplaintCategory)


@given(st.integers(min_value=1, max_value=10**12 - 1))
def test_a_complaint_number_leads_back_to_its_id(complaint_id: int) -> None:
    assert complaint_id_of(complaint_number(complaint_id)) == complaint_id


def test_numbers_read_as_consumers_write_them() -> None:
    assert complaint_number(123) == "CMP-000123"
    assert complaint_id_of(" cmp-000123 ") == 123
    assert [complaint_id_of(n) for n in ("CMP-0", "CMP-12", "123", "CMP-000000", "x")] == [None] * 5


def test_a_description_is_kept_as_typed_but_stripped_with_plain_line_breaks() -> None:
    typed = "  Meter <script>alert(1)</script> shows 'E-07'\r\nsince Monday\t& today  "

    assert require_description(typed) == (
        "Meter <script>alert(1)</script> shows 'E-07'\nsince Monday\t& today"
    )


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("   \n ", "description_empty"),
        ("x" * (MAX_DESCRIPTION_CHARS + 1), "description_too_long"),
        ("bill\x00", "description_control"),
        ("look \x1b[31mred", "description_control"),
    ],
)
def test_a_description_that_is_empty_too_long_or_has_control_characters_is_refused(
    typed: str, reason: str
) -> None:
    with pytest.raises(InvalidComplaint) as refused:
        require_description(typed)

    assert (refused.value.field, refused.value.reason) == ("description", reason)


def test_a_description_of_exactly_the_limit_is_accepted_in_any_script() -> None:
    assert len(require_description("बि" * (MAX_DESCRIPTION_CHARS // 2))) == MAX_DESCRIPTION_CHARS


def test_a_payment_reference_is_optional_and_plain() -> None:
    assert require_payment_reference("  ") is None
    assert require_payment_reference(" UPI/512345678901 ") == "UPI/512345678901"
    with pytest.raises(InvalidComplaint):
        require_payment_reference("<b>ref</b>")


def test_a_complaint_is_validated_and_due_by_its_category() -> None:
    new = complaint("ACC-1", "not_reconnected", " no light ", "", ist(2025, 7, 1, 9))

    assert new.category is Category.NOT_RECONNECTED
    assert new.description == "no light"
    assert new.payment_reference is None
    assert new.due_on == date(2025, 7, 4)
    with pytest.raises(InvalidComplaint):
        complaint("ACC-1", "fast_meter", "text", "", ist(2025, 7, 1, 9))


def _open_complaint() -> Complaint:
    at = ist(2025, 7, 1, 9)
    return Complaint(
        7,
        "ACC-1",
        Category.METER_FAULT,
        "blank",
        None,
        ComplaintStatus.OPEN,
        at,
        date(2025, 7, 4),
        at,
    )


def test_a_resolution_needs_a_note_and_a_closed_complaint_stays_closed() -> None:
    at = ist(2025, 7, 2, 11)

    with pytest.raises(InvalidInput):
        moved(_open_complaint(), ComplaintStatus.RESOLVED, "jse.patna", at)
    resolved, event = moved(
        _open_complaint(), ComplaintStatus.RESOLVED, "jse.patna", at, "meter replaced"
    )
    closed, _ = moved(resolved, ComplaintStatus.CLOSED, "jse.patna", at)

    assert (resolved.status, resolved.resolution, resolved.updated_at) == (
        ComplaintStatus.RESOLVED,
        "meter replaced",
        at,
    )
    assert (event.from_status, event.to_status) == (ComplaintStatus.OPEN, ComplaintStatus.RESOLVED)
    with pytest.raises(InvalidTransition):
        moved(closed, ComplaintStatus.IN_PROGRESS, "jse.patna", at)


def test_an_open_complaint_is_overdue_from_the_midnight_after_its_due_day() -> None:
    c = _open_complaint()

    assert not c.is_overdue(ist(2025, 7, 4, 23, 59))
    assert c.is_overdue(ist(2025, 7, 5, 0, 0))


# -- alert preferences (domain/notifications.py) ------------------------------------------------


def test_default_preferences_alert_below_100_rupees_and_keep_quiet_from_22_to_7() -> None:
    defaults = AlertPreferences()

    assert defaults.is_low_balance_on
    assert defaults.low_balance_paise == 10_000
    assert defaults.is_sms_on
    assert not defaults.is_email_on
    assert (defaults.quiet_from, defaults.quiet_until) == (time(22), time(7))


@pytest.mark.parametrize(
    ("at", "is_quiet"),
    [
        (ist(2025, 7, 1, 21, 59), False),
        (ist(2025, 7, 1, 22, 0), True),
        (ist(2025, 7, 2, 3, 0), True),
        (ist(2025, 7, 2, 6, 59), True),
        (ist(2025, 7, 2, 7, 0), False),
    ],
)
def test_quiet_hours_run_past_midnight_in_ist(at: datetime, is_quiet: bool) -> None:
    assert AlertPreferences().is_quiet_at(at) is is_quiet


def test_quiet_hours_within_one_day() -> None:
    afternoon = AlertPreferences(quiet_from=time(13), quiet_until=time(15))

    assert afternoon.is_quiet_at(ist(2025, 7, 1, 14))
    assert not afternoon.is_quiet_at(ist(2025, 7, 1, 23))


@pytest.mark.parametrize(
    "wrong",
    [
        {"low_balance_paise": 0},
        {"low_balance_paise": 10_000_001},
        {"quiet_from": time(7), "quiet_until": time(7)},
        {"quiet_from": time(7, 0, 30)},
    ],
)
def test_impossible_preferences_are_refused(wrong: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        AlertPreferences(**wrong)  # type: ignore[arg-type]


def test_an_email_address_keeps_its_local_part_and_lowers_its_domain() -> None:
    assert require_email(" Ram.Kumar+bill@Example.CO.in ") == "Ram.Kumar+bill@example.co.in"
    for wrong in ("ram", "ram@", "@x.in", "ram@x", "ram@@x.in", "ram kumar@x.in", "a..b@x.in"):
        with pytest.raises(InvalidInput):
            require_email(wrong)
