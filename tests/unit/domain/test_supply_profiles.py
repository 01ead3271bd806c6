"""Shipped supply profiles (Bihar, Uttar Pradesh, Karnataka) and the profile schema."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from prepaidgrid.adapters.profile_files import list_profiles, load_policy
from prepaidgrid.domain.calendars import no_cut_days
from prepaidgrid.domain.errors import InvalidInput, UnknownProfile
from prepaidgrid.domain.profiles import parse_policy
from prepaidgrid.domain.supply import (
    SupplyAction,
    SupplyContext,
    SupplySnapshot,
    SupplyState,
    decide_supply,
    next_cut_at,
)
from prepaidgrid.domain.units import IST


def ist(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=IST)


def minimal(**overrides: object) -> dict[str, object]:
    document: dict[str, object] = {
        "grace_hours": 24,
        "window": {"start": "10:00", "end": "13:00"},
        "no_cut": {"weekdays": ["Sunday"]},
        "holidays": {"country": "IN", "subdivision": "BR"},
    }
    document.update(overrides)
    return document


def test_the_three_reference_profiles_ship() -> None:
    assert list_profiles() == ["bihar", "karnataka", "uttar-pradesh"]


def test_bihar_profile_holds_the_source_article_defaults() -> None:
    bihar = load_policy("bihar")

    assert bihar.grace == timedelta(hours=24)
    assert (bihar.window_start, bihar.window_end) == (time(10), time(13))
    assert bihar.no_cut_weekdays == frozenset({6})
    assert (bihar.holiday_country, bihar.holiday_subdivision) == ("IN", "BR")
    assert date(2025, 10, 27) in bihar.extra_holidays


def test_uttar_pradesh_profile_holds_its_rules() -> None:
    up = load_policy("uttar-pradesh")

    assert up.grace == timedelta(days=3)
    assert (up.window_start, up.window_end) == (time(8), time(18))
    assert up.no_cut_nth_weekdays == frozenset({(2, 5)})
    assert up.reconnect_deadline == timedelta(hours=2)
    assert up.reconnect_compensation_paise_per_day == 5_000


def test_uttar_pradesh_does_not_cut_at_seven_in_the_evening() -> None:
    up = load_policy("uttar-pradesh")
    in_grace = SupplySnapshot(
        SupplyState.GRACE, ist("2025-09-15T19:00"), ist("2025-09-15T19:00"), ist("2025-09-18T19:00")
    )

    decision = decide_supply(
        in_grace, SupplyContext(ist("2025-09-18T19:00"), -100), up, no_cut_days(up)
    )

    assert decision.action is SupplyAction.HOLD
    assert decision.cut_at == ist("2025-09-19T08:00")


def test_uttar_pradesh_skips_the_second_saturday_and_sunday() -> None:
    up = load_policy("uttar-pradesh")

    cut = next_cut_at(ist("2025-09-10T12:00"), up, no_cut_days(up))

    assert cut == ist("2025-09-15T08:00")  # grace ends Sat 13th (2nd Saturday), then Sunday


def test_uttar_pradesh_reconnection_is_due_within_two_hours() -> None:
    up = load_policy("uttar-pradesh")
    at = ist("2025-09-14T22:00")

    decision = decide_supply(
        SupplySnapshot(SupplyState.DISCONNECTED), SupplyContext(at, 500), up, no_cut_days(up)
    )

    assert decision.action is SupplyAction.RECONNECT
    assert decision.reconnect_by == at + timedelta(hours=2)
    assert "else ₹50.00 a day compensation" in decision.reasons[-1]


def test_karnataka_profile_loads_marks_its_guesses_and_skips_state_holidays() -> None:
    karnataka = load_policy("karnataka")

    cut = next_cut_at(ist("2025-10-31T11:00"), karnataka, no_cut_days(karnataka))

    assert "grace_hours" in karnataka.unconfirmed
    assert cut == ist("2025-11-03T10:00")  # Sat 1st Karnataka Rajyotsava, then Sunday


def test_an_unknown_profile_lists_the_known_ones() -> None:
    with pytest.raises(UnknownProfile, match="known profiles: bihar, karnataka, uttar-pradesh"):
        load_policy("mars")


def test_a_path_is_not_a_profile_name() -> None:
    with pytest.raises(UnknownProfile):
        load_policy("../profiles/bihar")


def test_a_minimal_document_parses_with_defaults() -> None:
    policy = parse_policy("mini", minimal())

    assert policy.holiday_categories == ("public",)
    assert policy.no_cut_nth_weekdays == frozenset()
    assert policy.reconnect_deadline is None
    assert policy.extra_holidays == frozenset()


def test_toml_time_and_date_values_are_accepted() -> None:
    document = minimal(
        window={"start": time(8), "end": time(18)},
        holidays={
            "country": "IN",
            "extra": [date(2025, 1, 1), {"date": "2025-01-02", "name": "x"}],
        },
    )

    policy = parse_policy("typed", document)

    assert (policy.window_start, policy.window_end) == (time(8), time(18))
    assert policy.extra_holidays == frozenset({date(2025, 1, 1), date(2025, 1, 2)})
    assert policy.extra_holiday_names == ((date(2025, 1, 2), "x"),)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"grace": 24}, "unknown setting"),
        ({"grace_hours": None}, "grace_hours must be a whole number"),
        ({"grace_hours": -1}, "grace_hours must be a whole number"),
        ({"grace_hours": 1.5}, "grace_hours must be a whole number"),
        ({"window": {"start": "13:00", "end": "10:00"}}, "must be before window.end"),
        ({"window": {"start": "ten", "end": "13:00"}}, "window.start must be a time"),
        ({"window": {"start": "10:00", "end": "13:00", "tz": "UTC"}}, r"\[window\]: unknown"),
        ({"window": "10-13"}, r"\[window\] must be a table"),
        ({"no_cut": {"weekdays": ["Sonntag"]}}, "must name a weekday"),
        ({"no_cut": {"weekdays": "Sunday"}}, "no_cut.weekdays must be a list"),
        ({"no_cut": {"nth_weekdays": ["second Saturday"]}}, "look like '2nd Saturday'"),
        ({"holidays": {"country": "IN", "subdivision": "ZZ"}}, "no holiday calendar"),
        ({"holidays": {"subdivision": "BR"}}, "holidays.country must be a non-empty string"),
        ({"holidays": {"country": "IN", "extra": ["27/10/2025"]}}, "must be a date"),
        ({"holidays": {"country": "IN", "categories": []}}, "at least one category"),
        ({"reconnect": {"compensation_paise_per_day": 5000}}, "needs reconnect.deadline_hours"),
    ],
)
def test_a_bad_document_is_refused_with_a_clear_message(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_policy("bad", minimal(**overrides))


def test_a_week_without_any_cut_day_is_refused() -> None:
    every_day = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

    with pytest.raises(InvalidInput, match="every day of the week"):
        parse_policy("never", minimal(no_cut={"weekdays": every_day}))


def test_six_weekdays_plus_every_sunday_of_the_month_leave_no_cut_day_and_are_refused() -> None:
    six_days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    every_sunday = [f"{n} Sunday" for n in ("1st", "2nd", "3rd", "4th", "5th")]

    with pytest.raises(InvalidInput, match="leave no day of the week"):
        parse_policy("never", minimal(no_cut={"weekdays": six_days, "nth_weekdays": every_sunday}))
