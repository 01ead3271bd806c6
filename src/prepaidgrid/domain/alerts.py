"""The rules of consumer alerts and their delivery: the days-left forecast, the share of the
last recharge, whether a message goes now, waits out the quiet hours or is not sent, and
the retry schedule of a gateway that fails."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from prepaidgrid.domain.notifications import AlertPreferences, Template
from prepaidgrid.domain.units import IST

FORECAST_DAYS = 7  # the mean daily charge of the last 7 billed days
MAX_DAYS_SHOWN = 99  # "99+": more than three months is not a forecast worth a number

# Sent at any hour: the cut warning (supply must never be cut without it); what answers the
# consumer's own act and is awaited (one-time codes, the recharge received, the supply back
# on); and the notice that a contact detail changed (if it was not them, they must know now).
# Quiet hours hold back what the platform starts on its own: low balance, daily summary,
# complaint updates, a bank's reversal.
ANY_HOUR: frozenset[Template] = frozenset(
    {
        Template.ZERO_BALANCE,
        Template.LOGIN_CODE,
        Template.CONTACT_CODE,
        Template.RECHARGE_RECEIVED,
        Template.RECONNECTED,
        Template.MOBILE_CHANGED,
        Template.EMAIL_CHANGED,
    }
)
# The alerts a consumer may switch off per channel (AlertPreferences.is_sms_on/is_email_on).
# Never the cut warning, codes, or the notices that a contact detail changed.
ALERTS: frozenset[Template] = frozenset(
    {
        Template.LOW_BALANCE,
        Template.DAILY_SUMMARY,
        Template.RECHARGE_RECEIVED,
        Template.RECHARGE_REVERSED,
        Template.DISCONNECTED,
        Template.RECONNECTED,
    }
)
# Never copied into the portal inbox: a code readable there would prove nothing about the
# phone or address it was sent to.
NOT_IN_INBOX: frozenset[Template] = frozenset({Template.LOGIN_CODE, Template.CONTACT_CODE})

RETRY_FIRST = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=1)
RETRY_JITTER = 0.2  # up to 20% later than the nominal delay, so retries do not march in step
MAX_ATTEMPTS = 10  # 30 s, 1, 2, 4, 8, 16, 32 min, then hourly: about 3 hours in all


def days_left(balance_paise: int, recent_total_paise: int, recent_days: int) -> int | None:
    """Whole days the balance lasts at the mean daily charge of the recent billed days (the
    last `FORECAST_DAYS`): balance / (total / days), floored. 0 when nothing is left; None
    when nothing is being charged, so no forecast can be made."""
    if recent_days <= 0 or recent_total_paise <= 0:
        return None
    if balance_paise <= 0:
        return 0
    return balance_paise * recent_days // recent_total_paise


def days_label(days: int | None) -> str:
    if days is None or days > MAX_DAYS_SHOWN:
        return f"{MAX_DAYS_SHOWN}+"
    return str(days)


def share_percent(balance_paise: int, recharge_paise: int) -> int:
    """The balance as a whole percentage of the last recharge (floored, 0 to 100)."""
    if recharge_paise <= 0 or balance_paise <= 0:
        return 0
    return min(100, balance_paise * 100 // recharge_paise)


def is_low(balance_paise: int, threshold_paise: int) -> bool:
    """Low, but not yet empty: at or below zero the cut warning speaks instead."""
    return 0 < balance_paise < threshold_paise


class Verdict(StrEnum):
    SEND = "send"
    DEFER = "defer"  # quiet hours: at their end
    SKIP = "skip"  # the consumer switched this channel off for alerts


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    until: datetime | None = None  # for DEFER


def delivery_decision(
    template: str, channel: str, preferences: AlertPreferences, at: datetime
) -> Decision:
    """Whether a message goes at `at`. The channel switches apply to `ALERTS` only; a
    template this module does not know (a new one) respects quiet hours and nothing else."""
    try:
        known: Template | None = Template(template)
    except ValueError:
        known = None
    if known in ALERTS:
        is_on = preferences.is_sms_on if channel == "sms" else preferences.is_email_on
        if not is_on:
            return Decision(Verdict.SKIP)
    if known in ANY_HOUR or not preferences.is_quiet_at(at):
        return Decision(Verdict.SEND)
    return Decision(Verdict.DEFER, quiet_end(preferences, at))


def quiet_end(preferences: AlertPreferences, at: datetime) -> datetime:
    """The first instant after `at` (inside quiet hours) when they are over."""
    local = at.astimezone(IST)
    end = datetime.combine(local.date(), preferences.quiet_until, tzinfo=IST)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), preferences.quiet_until, IST)
    return end


def retry_delay(attempts: int, jitter: float) -> timedelta:
    """How long to wait after the `attempts`-th failed try (1 = the first); `jitter` in
    [0, 1) comes from an injected random source."""
    if attempts < 1 or not 0 <= jitter < 1:
        raise ValueError("attempts start at 1 and jitter is in [0, 1)")
    nominal = RETRY_FIRST * (1 << min(attempts - 1, 20))
    return min(RETRY_CAP, nominal * (1 + RETRY_JITTER * jitter))


def is_given_up(attempts: int) -> bool:
    return attempts >= MAX_ATTEMPTS
