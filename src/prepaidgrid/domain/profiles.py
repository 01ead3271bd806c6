"""Supply policy profiles: turn a parsed TOML document into a validated SupplyPolicy.

Every number of the supply policy differs between states (grace, window, no-cut days,
reconnection deadline), so they live in data files. This module is the one place that
decides what such a file may say; a typo is refused with a message naming the key,
because a silently ignored setting would cut someone at the wrong time.

Schema (times and dates may be TOML values or "HH:MM" / "YYYY-MM-DD" strings):

    description = "…"                  # optional
    grace_hours = 24                   # whole hours after the balance reaches zero
    unconfirmed = ["grace_hours"]      # optional: settings no official source confirms
    [window]  start = 10:00  end = 13:00            # IST, end exclusive
    [no_cut]  weekdays = ["Sunday"]  nth_weekdays = ["2nd Saturday"]
    [holidays] country = "IN"  subdivision = "BR"  categories = ["public"]
               extra = [2025-10-27, {date = 2025-10-28, name = "Chhath Puja"}]
    [reconnect] deadline_hours = 2  compensation_paise_per_day = 5000   # optional
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, time, timedelta

from prepaidgrid.domain.calendars import check_holiday_source
from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.domain.supply import WEEKDAY_NAMES, SupplyPolicy

TOP_KEYS = {
    "description",
    "grace_hours",
    "unconfirmed",
    "window",
    "no_cut",
    "holidays",
    "reconnect",
}
TABLE_KEYS = {
    "window": {"start", "end"},
    "no_cut": {"weekdays", "nth_weekdays"},
    "holidays": {"country", "subdivision", "categories", "extra"},
    "reconnect": {"deadline_hours", "compensation_paise_per_day"},
}
NTH_WEEKDAY = re.compile(r"^([1-5])(?:st|nd|rd|th)\s+([A-Za-z]+)$")


def parse_policy(name: str, data: Mapping[str, object]) -> SupplyPolicy:
    """Validate a profile document; raise InvalidInput saying which key is wrong and why."""
    where = f"supply profile {name!r}"
    _refuse_unknown(where, data, TOP_KEYS)
    tables = {key: _table(where, data, key) for key in TABLE_KEYS}
    for key, allowed in TABLE_KEYS.items():
        _refuse_unknown(f"{where} [{key}]", tables[key], allowed)
    window, no_cut, holiday, reconnect = (
        tables["window"],
        tables["no_cut"],
        tables["holidays"],
        tables["reconnect"],
    )

    grace_hours = _whole(where, "grace_hours", data.get("grace_hours"), required=True)
    start = _time(where, "window.start", window.get("start"))
    end = _time(where, "window.end", window.get("end"))
    if start >= end:
        raise InvalidInput(
            f"{where}: window.start {start:%H:%M} must be before window.end {end:%H:%M}"
        )
    weekdays = frozenset(
        _weekday(where, "no_cut.weekdays", item)
        for item in _list(where, "no_cut.weekdays", no_cut.get("weekdays", []))
    )
    if len(weekdays) == 7:
        raise InvalidInput(f"{where}: no_cut.weekdays lists every day of the week")
    nth_weekdays = frozenset(
        _nth_weekday(where, item)
        for item in _list(where, "no_cut.nth_weekdays", no_cut.get("nth_weekdays", []))
    )
    fully_closed = {day for day in range(7) if all((n, day) in nth_weekdays for n in range(1, 6))}
    if len(weekdays | fully_closed) == 7:
        raise InvalidInput(f"{where}: the no-cut rules leave no day of the week for a cut")
    country = _text(where, "holidays.country", holiday.get("country"))
    subdivision_value = holiday.get("subdivision")
    subdivision = (
        None
        if subdivision_value is None
        else _text(where, "holidays.subdivision", subdivision_value)
    )
    categories = tuple(
        _text(where, "holidays.categories", item)
        for item in _list(where, "holidays.categories", holiday.get("categories", ["public"]))
    )
    if not categories:
        raise InvalidInput(f"{where}: holidays.categories must name at least one category")
    check_holiday_source(country, subdivision, categories)
    extra = [
        _extra_holiday(where, item)
        for item in _list(where, "holidays.extra", holiday.get("extra", []))
    ]
    deadline_value = reconnect.get("deadline_hours")
    deadline = (
        None
        if deadline_value is None
        else timedelta(hours=_whole(where, "reconnect.deadline_hours", deadline_value))
    )
    compensation = _whole(
        where,
        "reconnect.compensation_paise_per_day",
        reconnect.get("compensation_paise_per_day", 0),
    )
    if compensation and deadline is None:
        raise InvalidInput(
            f"{where}: reconnect.compensation_paise_per_day needs reconnect.deadline_hours"
        )
    unconfirmed = tuple(
        _text(where, "unconfirmed", item)
        for item in _list(where, "unconfirmed", data.get("unconfirmed", []))
    )
    return SupplyPolicy(
        name=name,
        grace=timedelta(hours=grace_hours),
        window_start=start,
        window_end=end,
        no_cut_weekdays=weekdays,
        no_cut_nth_weekdays=nth_weekdays,
        holiday_country=country,
        holiday_subdivision=subdivision,
        extra_holidays=frozenset(day for day, _ in extra),
        reconnect_deadline=deadline,
        reconnect_compensation_paise_per_day=compensation,
        holiday_categories=categories,
        extra_holiday_names=tuple(sorted((day, label) for day, label in extra if label)),
        unconfirmed=unconfirmed,
    )


def _refuse_unknown(where: str, data: Mapping[str, object], allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        known = ", ".join(sorted(allowed))
        raise InvalidInput(f"{where}: unknown setting(s) {', '.join(unknown)}; allowed: {known}")


def _table(where: str, data: Mapping[str, object], key: str) -> Mapping[str, object]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{where}: [{key}] must be a table, got {value!r}")
    return value


def _list(where: str, key: str, value: object) -> list[object]:
    if not isinstance(value, list):
        raise InvalidInput(f"{where}: {key} must be a list, got {value!r}")
    return value


def _text(where: str, key: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{where}: {key} must be a non-empty string, got {value!r}")
    return value.strip()


def _whole(where: str, key: str, value: object, *, required: bool = False) -> int:
    if value is None and not required:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"{where}: {key} must be a whole number >= 0, got {value!r}")
    return value


def _time(where: str, key: str, value: object) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        try:
            return time.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInput(f"{where}: {key} must be a time like 10:00, got {value!r}")


def _date(where: str, key: str, value: object) -> date:
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInput(f"{where}: {key} must be a date like 2025-10-27, got {value!r}")


def _weekday(where: str, key: str, value: object) -> int:
    names = [day.lower() for day in WEEKDAY_NAMES]
    if isinstance(value, str) and value.strip().lower() in names:
        return names.index(value.strip().lower())
    raise InvalidInput(f"{where}: {key} must name a weekday like Sunday, got {value!r}")


def _nth_weekday(where: str, value: object) -> tuple[int, int]:
    match = NTH_WEEKDAY.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise InvalidInput(
            f"{where}: no_cut.nth_weekdays entries look like '2nd Saturday', got {value!r}"
        )
    return int(match.group(1)), _weekday(where, "no_cut.nth_weekdays", match.group(2))


def _extra_holiday(where: str, value: object) -> tuple[date, str]:
    key = "holidays.extra"
    if isinstance(value, Mapping):
        _refuse_unknown(f"{where} {key}", value, {"date", "name"})
        label = value.get("name", "")
        if not isinstance(label, str):
            raise InvalidInput(f"{where}: {key} name must be a string, got {label!r}")
        return _date(where, key, value.get("date")), label.strip()
    return _date(where, key, value), ""
