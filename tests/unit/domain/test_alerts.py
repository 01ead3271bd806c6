"""The pure rules of alerts: the days-left forecast, the share of the last recharge, quiet
hours and channel switches, and the retry schedule."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prepaidgrid.domain.alerts import (
    MAX_ATTEMPTS,
    RETRY_CAP,
    RETRY_FIRST,
    RETRY_JITTER,
    Verdict,
    days_label,
    days_left,
    delivery_decision,
    is_given_up,
    is_low,
    quiet_end,
    retry_delay,
    share_percent,
)
from prepaidgrid.domain.notifications import AlertPreferences, Template
from tests.conftest import ist

paise = st.integers(min_value=1, max_value=10**9)
charges = st.lists(st.integers(min_value=0, max_value=500_000), min_size=1, max_size=7)
instants = st.datetimes(
    min_value=datetime(2024, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=datetime(2030, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)
wall_times = st.times().map(lambda t: t.replace(second=0, microsecond=0))


@given(balance=paise, recent=charges)
def test_days_left_is_the_balance_over_the_mean_daily_charge_floored(
    balance: int, recent: list[int]
) -> None:
    total = sum(recent)

    days = days_left(balance, total, len(recent))

    if total == 0:
        assert days is None
    else:
        assert days is not None
        # days whole days at the mean fit in the balance, one more does not
        assert days * total <= balance * len(recent) < (days + 1) * total


def test_an_empty_balance_lasts_no_days_and_no_charges_make_no_forecast() -> None:
    assert days_left(0, 5_000, 7) == 0
    assert days_left(-100, 5_000, 7) == 0
    assert days_left(10_000, 0, 7) is None
    assert days_label(None) == "99+"
    assert days_label(250) == "99+"
    assert days_label(4) == "4"


def test_a_week_of_rs_50_a_day_leaves_rs_120_for_two_days() -> None:
    assert days_left(12_000, 7 * 5_000, 7) == 2


@given(balance=st.integers(min_value=-(10**9), max_value=10**9), recharge=paise)
def test_the_share_of_the_last_recharge_is_a_whole_percentage_between_0_and_100(
    balance: int, recharge: int
) -> None:
    share = share_percent(balance, recharge)

    assert 0 <= share <= 100
    if 0 < balance < recharge:
        assert share * recharge <= balance * 100 < (share + 1) * recharge


def test_low_means_below_the_threshold_but_not_yet_empty() -> None:
    assert is_low(9_999, 10_000)
    assert not is_low(10_000, 10_000)
    assert not is_low(0, 10_000)  # the cut warning speaks then


def test_the_cut_warning_goes_in_quiet_hours_and_a_low_balance_alert_waits_for_seven() -> None:
    night = ist(2025, 7, 2, 23, 30)
    defaults = AlertPreferences()

    cut = delivery_decision(Template.ZERO_BALANCE.value, "sms", defaults, night)
    low = delivery_decision(Template.LOW_BALANCE.value, "sms", defaults, night)
    code = delivery_decision(Template.LOGIN_CODE.value, "sms", defaults, night)

    assert cut.verdict is Verdict.SEND
    assert code.verdict is Verdict.SEND
    assert low.verdict is Verdict.DEFER
    assert low.until == ist(2025, 7, 3, 7)


def test_an_alert_before_seven_in_the_morning_waits_until_seven_the_same_day() -> None:
    decision = delivery_decision("low_balance", "sms", AlertPreferences(), ist(2025, 7, 3, 6, 59))

    assert decision.until == ist(2025, 7, 3, 7)


def test_switching_sms_off_silences_alerts_but_never_the_cut_warning_or_codes() -> None:
    no_sms = AlertPreferences(is_sms_on=False)
    noon = ist(2025, 7, 2, 12)

    verdicts = {
        template: delivery_decision(template.value, "sms", no_sms, noon).verdict
        for template in (
            Template.LOW_BALANCE,
            Template.DAILY_SUMMARY,
            Template.ZERO_BALANCE,
            Template.LOGIN_CODE,
            Template.CONTACT_CODE,
            Template.MOBILE_CHANGED,
        )
    }

    assert verdicts[Template.LOW_BALANCE] is Verdict.SKIP
    assert verdicts[Template.DAILY_SUMMARY] is Verdict.SKIP
    assert verdicts[Template.ZERO_BALANCE] is Verdict.SEND
    assert verdicts[Template.LOGIN_CODE] is Verdict.SEND
    assert verdicts[Template.CONTACT_CODE] is Verdict.SEND
    assert verdicts[Template.MOBILE_CHANGED] is Verdict.SEND


def test_email_alerts_follow_the_email_switch() -> None:
    noon = ist(2025, 7, 2, 12)

    off = delivery_decision("low_balance", "email", AlertPreferences(), noon)
    on = delivery_decision("low_balance", "email", AlertPreferences(is_email_on=True), noon)

    assert (off.verdict, on.verdict) == (Verdict.SKIP, Verdict.SEND)


@given(at=instants, start=wall_times, end=wall_times)
def test_quiet_hours_end_within_a_day_at_an_instant_that_is_not_quiet(
    at: datetime, start: time, end: time
) -> None:
    if start == end:
        return
    preferences = AlertPreferences(quiet_from=start, quiet_until=end)

    over = quiet_end(preferences, at)

    assert at < over <= at + timedelta(days=1)
    assert not preferences.is_quiet_at(over)


@given(attempts=st.integers(min_value=1, max_value=60), jitter=st.floats(0, 0.999))
def test_retries_back_off_from_30_seconds_doubling_to_at_most_an_hour(
    attempts: int, jitter: float
) -> None:
    nominal = min(RETRY_CAP, RETRY_FIRST * 2 ** min(attempts - 1, 20))

    delay = retry_delay(attempts, jitter)

    assert nominal <= delay <= min(RETRY_CAP, nominal * (1 + RETRY_JITTER))
    assert delay <= RETRY_CAP
    assert retry_delay(attempts + 1, jitter) >= delay  # never shorter than the one before


def test_the_schedule_starts_30_s_1_min_2_min_without_jitter() -> None:
    assert [retry_delay(n, 0.0) for n in (1, 2, 3)] == [
        timedelta(seconds=30),
        timedelta(minutes=1),
        timedelta(minutes=2),
    ]
    assert retry_delay(30, 0.5) == timedelta(hours=1)


def test_a_message_is_given_up_after_the_last_attempt_and_bad_arguments_are_refused() -> None:
    assert not is_given_up(MAX_ATTEMPTS - 1)
    assert is_given_up(MAX_ATTEMPTS)
    with pytest.raises(ValueError, match="jitter"):
        retry_delay(1, 1.0)
    with pytest.raises(ValueError, match="attempts"):
        retry_delay(0, 0.0)


def test_what_the_consumer_awaits_goes_at_night_and_what_the_platform_starts_waits() -> None:
    night = ist(2025, 7, 2, 23, 30)
    defaults = AlertPreferences()

    def verdict(template: Template) -> Verdict:
        return delivery_decision(template.value, "sms", defaults, night).verdict

    # a recharge at 23:00 is confirmed at once, and a changed mobile is told at once
    for awaited in (
        Template.RECHARGE_RECEIVED,
        Template.RECONNECTED,
        Template.MOBILE_CHANGED,
        Template.EMAIL_CHANGED,
    ):
        assert verdict(awaited) is Verdict.SEND, awaited
    for started_by_us in (
        Template.LOW_BALANCE,
        Template.DAILY_SUMMARY,
        Template.RECHARGE_REVERSED,
        Template.COMPLAINT_UPDATED,
    ):
        assert verdict(started_by_us) is Verdict.DEFER, started_by_us
