"""`prepaidgrid supply explain`: JSON, the readable panel, and refusals (exit 2)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from prepaidgrid.entrypoints.cli import app

runner = CliRunner()


def test_explain_json_gives_the_friday_night_example() -> None:
    result = runner.invoke(app, ["supply", "explain", "--zero-at", "2025-08-08T21:00", "--json"])

    assert result.exit_code == 0, result.output
    explained = json.loads(result.stdout)
    assert explained["profile"] == "bihar"
    assert explained["zero_at"] == "2025-08-08T21:00:00+05:30"
    assert explained["grace_ends_at"] == "2025-08-09T21:00:00+05:30"
    assert explained["cut_at"] == "2025-08-11T10:00:00+05:30"
    assert explained["skipped"] == [
        {"date": "2025-08-09", "reason": "21:00 is after the 10:00–13:00 window"},
        {"date": "2025-08-10", "reason": "Sunday"},
    ]
    assert "Sunday 2025-08-10: no cuts on Sundays" in explained["reasons"]


def test_explain_reads_an_offset_and_answers_in_ist() -> None:
    args = ["supply", "explain", "--zero-at", "2025-08-05T03:30:00+00:00", "--json"]

    result = runner.invoke(app, args)

    assert json.loads(result.stdout)["cut_at"] == "2025-08-06T10:00:00+05:30"


def test_explain_counts_the_grace_from_a_later_warning() -> None:
    args = ["supply", "explain", "--zero-at", "2025-08-05T09:00", "--warned-at", "2025-08-05T11:30"]

    result = runner.invoke(app, [*args, "--json"])

    explained = json.loads(result.stdout)
    assert explained["warned_at"] == "2025-08-05T11:30:00+05:30"
    assert explained["cut_at"] == "2025-08-06T11:30:00+05:30"


def test_explain_with_another_profile() -> None:
    args = ["supply", "explain", "--zero-at", "2025-09-10T12:00", "--profile", "uttar-pradesh"]

    result = runner.invoke(app, [*args, "--json"])

    explained = json.loads(result.stdout)
    assert explained["cut_at"] == "2025-09-15T08:00:00+05:30"
    assert {"date": "2025-09-13", "reason": "2nd Saturday"} in explained["skipped"]


def test_explain_without_json_prints_a_readable_schedule() -> None:
    result = runner.invoke(app, ["supply", "explain", "--zero-at", "2025-08-08T21:00"])

    assert result.exit_code == 0, result.output
    assert "Mon 2025-08-11 10:00 IST" in result.stdout
    assert "Sunday 2025-08-10: no cuts on Sundays" in result.stdout


def test_profiles_lists_the_shipped_profiles() -> None:
    result = runner.invoke(app, ["supply", "profiles", "--json"])

    assert [row["profile"] for row in json.loads(result.stdout)] == [
        "bihar",
        "karnataka",
        "uttar-pradesh",
    ]


def test_an_unknown_profile_is_one_line_and_exit_2() -> None:
    args = ["supply", "explain", "--zero-at", "2025-08-08T21:00", "--profile", "mars"]

    result = runner.invoke(app, args)

    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: unknown supply profile 'mars'; known profiles: bihar, karnataka, uttar-pradesh"
    ]
    assert result.stdout == ""


def test_a_malformed_timestamp_is_one_line_and_exit_2() -> None:
    result = runner.invoke(app, ["supply", "explain", "--zero-at", "next tuesday"])

    assert result.exit_code == 2
    assert result.stderr.strip() == "error: not an ISO 8601 timestamp: 'next tuesday'"
