"""The values meter data rules work on: a register read and the VEE settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.domain.meter_protocol import Reading
from prepaidgrid.domain.units import IST, group_indian, require_utc


@dataclass(frozen=True, slots=True)
class RegisterRead:
    """One cumulative kWh-import register value of one meter at one instant.

    `(meter_id, read_at)` is the outside world's key: the head-end stores one read per key.
    """

    meter_id: str
    read_at: datetime  # the instant the register describes (UTC)
    import_wh: int  # cumulative import register, in Wh
    max_demand_w: int | None = None  # the MD register at read_at (resets monthly)
    received_at: datetime | None = None  # when the platform received it (UTC)
    meter_time: datetime | None = None  # the meter's clock when it sent it (UTC)

    def __post_init__(self) -> None:
        _require_count("import_wh", self.import_wh)
        if self.max_demand_w is not None:
            _require_count("max_demand_w", self.max_demand_w)
        object.__setattr__(self, "read_at", require_utc(self.read_at))
        if self.received_at is not None:
            object.__setattr__(self, "received_at", require_utc(self.received_at))
        if self.meter_time is not None:
            object.__setattr__(self, "meter_time", require_utc(self.meter_time))

    @classmethod
    def from_reading(cls, reading: Reading, received_at: datetime) -> RegisterRead:
        return cls(
            reading.meter_id,
            reading.read_at,
            reading.import_wh,
            reading.max_demand_w,
            received_at,
            reading.meter_time,
        )


@dataclass(frozen=True, slots=True)
class VeeSettings:
    """The knobs of validation and estimation; `bootstrap` builds one from Settings."""

    spike_factor_percent: int = 150  # energy between reads <= load x hours x 150 %
    max_clock_skew: timedelta = timedelta(minutes=15)  # meter clock vs receipt
    midnight_tolerance: timedelta = timedelta(hours=2)  # reads this near midnight interpolate
    estimate_days: int = 7  # an estimate averages this many most recent actual days

    def __post_init__(self) -> None:
        if self.spike_factor_percent < 100:
            raise InvalidInput("spike_factor_percent below 100 would refuse legal use")
        if self.max_clock_skew < timedelta(0):
            raise InvalidInput("max_clock_skew must not be negative")
        # Under 12 h no two midnights can share the pair of reads that brackets them.
        if not timedelta(0) <= self.midnight_tolerance < timedelta(hours=12):
            raise InvalidInput("midnight_tolerance must be at least 0 and under 12 h")
        if self.estimate_days < 1:
            raise InvalidInput("estimate_days must be at least 1")


DEFAULT_VEE = VeeSettings()


def _require_count(name: str, value: object) -> None:
    if type(value) is not int or value < 0:
        raise InvalidInput(f"{name} must be a whole number >= 0, got {value!r}")


def micros(span: timedelta) -> int:
    """A duration as an exact integer of microseconds, so ratios of durations stay exact."""
    return span // timedelta(microseconds=1)


def wh_label(wh: int) -> str:
    return f"{group_indian(wh)} Wh"


def when_label(at: datetime) -> str:
    """'2025-08-05 00:00 IST': how reasons show an instant."""
    local = require_utc(at).astimezone(IST)
    clock = local.strftime("%H:%M:%S" if local.second or local.microsecond else "%H:%M")
    return f"{local.date().isoformat()} {clock} IST"


def span_label(span: timedelta) -> str:
    """'23 h 59 min', '15 min', '2 days 3 h': an interval between reads."""
    minutes = micros(abs(span)) // 60_000_000
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} days" if days > 1 else "1 day"] if days else []
    parts += [f"{hours} h"] if hours else []
    parts += [f"{mins} min"] if mins or not parts else []
    return " ".join(parts)
