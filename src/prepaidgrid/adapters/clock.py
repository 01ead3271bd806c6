"""Clocks: the system's, and a settable one for tests, the CLI's --at and accelerated demos."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prepaidgrid.domain.units import require_utc


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SettableClock:
    """A clock that stands still until told to move."""

    def __init__(self, at: datetime) -> None:
        self._at = require_utc(at)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = require_utc(at)

    def advance(self, by: timedelta) -> None:
        self._at += by
