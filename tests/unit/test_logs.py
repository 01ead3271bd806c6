"""Structured logs: one JSON object a line, with the exception when there is one."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from prepaidgrid.entrypoints.logs import JsonFormatter, configure_logging


def record(message: str, *args: object, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("the gateway said 503")
        except ValueError:
            exc_info = sys.exc_info()
    return logging.LogRecord(
        "prepaidgrid.scheduler", logging.WARNING, __file__, 1, message, args, exc_info
    )


def test_a_line_is_one_json_object_with_the_message_filled_in() -> None:
    line = JsonFormatter().format(record("billed %s: %d accounts", "2025-07-01", 3))

    entry = json.loads(line)
    assert "\n" not in line
    assert entry["message"] == "billed 2025-07-01: 3 accounts"
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "prepaidgrid.scheduler"
    assert entry["at"].endswith("+00:00")
    assert "exception" not in entry


def test_an_exception_travels_inside_the_line_and_hindi_stays_readable() -> None:
    line = JsonFormatter().format(record("SMS विफल", exc=True))

    entry = json.loads(line)
    assert "\n" not in line
    assert "ValueError: the gateway said 503" in entry["exception"]
    assert "SMS विफल" in line


def test_an_unknown_log_format_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREPAIDGRID_LOG_FORMAT", "xml")

    with pytest.raises(SystemExit, match="text or json"):
        configure_logging()
