"""How long the head-end waits before resending a relay command a meter did not answer."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from prepaidgrid.services.headend import FIRST_RETRY, MAX_RETRY, retry_delay


def test_the_delay_doubles_from_30_seconds() -> None:
    assert [retry_delay(n) for n in (0, 1, 2)] == [
        timedelta(seconds=30),
        timedelta(minutes=1),
        timedelta(minutes=2),
    ]


@given(st.integers(min_value=0, max_value=10**6))
def test_a_meter_asleep_for_any_number_of_attempts_is_retried_within_the_cap(
    attempts: int,
) -> None:
    # A sleeping meter once reached enough attempts to overflow timedelta: the head-end
    # crashed on the command and never sent it again.
    delay = retry_delay(attempts)
    assert FIRST_RETRY <= delay <= MAX_RETRY
    assert retry_delay(attempts + 1) >= delay
