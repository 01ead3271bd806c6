"""The systemd units in deploy/ start commands that exist, with options that exist, and
their environment file names only settings the platform reads."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prepaidgrid.config import Settings
from prepaidgrid.entrypoints.cli import app

DEPLOY = Path(__file__).parents[2] / "deploy" / "systemd"
BINARY = "/opt/prepaidgrid/.venv/bin/prepaidgrid"
READ_OUTSIDE_SETTINGS = {"PREPAIDGRID_MQTT_URL", "PREPAIDGRID_LOG_FORMAT", "PREPAIDGRID_LOG_LEVEL"}
UNITS = sorted(DEPLOY.glob("*.service"))


def test_there_are_units_for_every_long_running_part() -> None:
    assert {unit.name for unit in UNITS} == {
        "prepaidgrid-migrate.service",
        "prepaidgrid-api.service",
        "prepaidgrid-headend@.service",
        "prepaidgrid-scheduler.service",
    }


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.name)
def test_each_unit_starts_a_real_command_with_real_options(unit: Path) -> None:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.read(unit, encoding="utf-8")
    command = shlex.split(parser["Service"]["ExecStart"].replace("%i", "1"))

    assert command[0] == BINARY
    assert parser["Service"]["EnvironmentFile"] == "/etc/prepaidgrid/env"
    # an unknown command or option fails here as it would in systemd
    result = CliRunner().invoke(app, [*command[1:], "--help"])
    assert result.exit_code == 0, result.output


def test_the_environment_file_names_only_what_the_platform_reads() -> None:
    names = {
        line.split("=", 1)[0]
        for line in (DEPLOY / "env.example").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    }
    settings = {f"PREPAIDGRID_{field.upper()}" for field in Settings.model_fields}

    assert names - settings - READ_OUTSIDE_SETTINGS == set()
    assert "PREPAIDGRID_DATABASE_URL" in names
