"""Fixtures of the integration suite: a broker, and the HTTP API over a database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from prepaidgrid.adapters.clock import SettableClock
from tests.conftest import ist
from tests.integration.api_support import Platform
from tests.integration.mosquitto import Mosquitto


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path)
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def platform(engine: Engine) -> Platform:
    """The API over `engine` (SQLite, then PostgreSQL), its clock at 09:00 IST, 1 July 2025."""
    return Platform(engine, SettableClock(ist(2025, 7, 1, 9)))
