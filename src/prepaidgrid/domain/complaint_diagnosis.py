"""What the records say about a complaint as it opens: the findings of its diagnosis, and
the "similar households" its daily use is set beside (domain/complaints.py has the rules
of a complaint's life). Pure data: services/complaint_desk.py gathers it, the complaint
keeps it as a JSON snapshot (`diagnosis_of` reads one back)."""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from prepaidgrid.domain.units import round_half_up

# -- similar households -------------------------------------------------------------------------

LOAD_BANDS_W: Final = (2_000, 5_000, 10_000)
"""Sanctioned-load band edges: up to 2 kW, 2-5 kW, 5-10 kW, above 10 kW."""


def load_band(sanctioned_load_w: int) -> tuple[int, int | None]:
    """(above, up to) of the band a sanctioned load falls in; up to None: no ceiling."""
    floor = 0
    for edge in LOAD_BANDS_W:
        if sanctioned_load_w <= edge:
            return floor, edge
        floor = edge
    return floor, None


def median_wh(values: Sequence[int]) -> int | None:
    """The median, the mean of the middle two rounded half up for an even count."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return round_half_up(ordered[middle - 1] + ordered[middle], 2)


# -- the diagnosis: what the records say, found as the complaint opens --------------------------


@dataclass(frozen=True, slots=True)
class PaymentStage:
    stage: str
    at: datetime
    detail: str


@dataclass(frozen=True, slots=True)
class PaymentFinding:
    """A payment's timeline (services/payment_timeline.py) and where it waits, if it does."""

    channel: str
    reference: str
    amount_paise: int | None
    status: str
    stages: tuple[PaymentStage, ...]
    stuck_stage: str | None  # None: nothing more is to happen
    waiting_for: str | None
    stuck_since: datetime | None


@dataclass(frozen=True, slots=True)
class CommandFinding:
    command_id: str
    action: str
    status: str  # queued, sent, acknowledged, failed, expired
    created_at: datetime
    attempts: int
    finished_at: datetime | None
    detail: str

    @property
    def is_pending(self) -> bool:
        return self.status in ("queued", "sent")


@dataclass(frozen=True, slots=True)
class SupplyFinding:
    state: str  # domain/supply.py's SupplyState value
    balance_paise: int
    state_since: datetime | None  # the last supply change; None: never changed
    commands: tuple[CommandFinding, ...]  # newest first

    @property
    def pending_commands(self) -> tuple[CommandFinding, ...]:
        return tuple(command for command in self.commands if command.is_pending)


@dataclass(frozen=True, slots=True)
class UsageDay:
    day: date
    used_wh: int | None  # None: no usage recorded that day
    similar_median_wh: int | None  # None: no similar household recorded that day
    similar_households: int


@dataclass(frozen=True, slots=True)
class SlabLine:
    code: str
    label: str
    label_hi: str
    amount_paise: int


@dataclass(frozen=True, slots=True)
class ExplainedDay:
    day: date
    used_wh: int
    total_paise: int
    lines: tuple[SlabLine, ...]  # empty: the day could not be explained from the tariff


@dataclass(frozen=True, slots=True)
class UsageFinding:
    """The consumer's daily use beside the median of similar households (same tariff
    category and sanctioned-load band in the same division, the consumer left out), and
    the slab arithmetic of the last billed days."""

    category: str
    band_above_w: int
    band_upto_w: int | None
    days: tuple[UsageDay, ...]  # oldest first
    explained: tuple[ExplainedDay, ...]  # oldest first

    @property
    def used_wh(self) -> int:
        return sum(day.used_wh or 0 for day in self.days)

    @property
    def similar_wh(self) -> int:
        """The sum of the daily medians over the days the consumer has use recorded."""
        return sum(day.similar_median_wh or 0 for day in self.days if day.used_wh is not None)


@dataclass(frozen=True, slots=True)
class ContactFinding:
    kind: str  # mobile, email
    old_value: str | None
    new_value: str
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """What the records said when the complaint opened, for the officer and the consumer."""

    computed_at: datetime
    payments: tuple[PaymentFinding, ...] = ()
    supply: SupplyFinding | None = None
    usage: UsageFinding | None = None
    check_meter_on: date | None = None
    contact_changes: tuple[ContactFinding, ...] = ()
    notes: tuple[str, ...] = ()  # what was looked for and not found

    def as_json(self) -> dict[str, object]:
        """A JSON-ready dict (instants and days as ISO text); `diagnosis_of` reads it back."""
        encoded = _encode(self)
        assert isinstance(encoded, dict)
        return encoded


def _encode(value: object) -> object:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_encode(item) for item in value]
    if hasattr(value, "__dataclass_fields__"):
        return {name: _encode(getattr(value, name)) for name in value.__dataclass_fields__}
    return value


def diagnosis_of(data: Mapping[str, object]) -> Diagnosis:
    """A stored diagnosis, read back; its shape is `Diagnosis.as_json`'s."""
    decoded = _decode(Diagnosis, data)
    assert isinstance(decoded, Diagnosis)
    return decoded


def _decode(kind: object, value: object) -> object:
    if value is None:
        return None
    origin = typing.get_origin(kind)
    if origin in (types.UnionType, typing.Union):
        real = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        return _decode(real[0], value)
    if origin is tuple:
        item = typing.get_args(kind)[0]
        assert isinstance(value, list)
        return tuple(_decode(item, element) for element in value)
    if kind is datetime:
        return datetime.fromisoformat(str(value))
    if kind is date:
        return date.fromisoformat(str(value))
    if isinstance(kind, type) and hasattr(kind, "__dataclass_fields__"):
        assert isinstance(value, Mapping)
        hints = typing.get_type_hints(kind)
        return kind(
            **{
                name: _decode(hints[name], value[name])
                for name in kind.__dataclass_fields__
                if name in value
            }
        )
    return value
