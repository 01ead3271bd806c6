"""The CLI as an operator uses it: clear one-line errors (exit 2) that write nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prepaidgrid.entrypoints.cli import app

pytestmark = pytest.mark.integration
runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert runner.invoke(app, ["db", "upgrade", "--db", url]).exit_code == 0
    return url


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def seeded(db: str) -> str:
    for code, level, parent in [
        ("SBPDCL", "discom", None),
        ("PESU-W", "circle", "SBPDCL"),
        ("DANAPUR", "division", "PESU-W"),
        ("S1", "subdivision", "DANAPUR"),
    ]:
        extra = ["--parent", parent] if parent else []
        code_, _, err = run(
            "org", "add", "--code", code, "--level", level, "--name", code, *extra, "--db", db
        )
        assert code_ == 0, err
    code, _, err = run(
        "account",
        "open",
        "--account",
        "ACC-1",
        "--name",
        "Asha",
        "--mobile",
        "9876500001",
        "--category",
        "DS-II",
        "--load-w",
        "2000",
        "--subdivision",
        "S1",
        "--db",
        db,
        "--at",
        "2025-08-04T18:00",
    )
    assert code == 0, err
    code, _, err = run(
        "account",
        "install-meter",
        "--account",
        "ACC-1",
        "--meter",
        "SM-1",
        "--db",
        db,
        "--at",
        "2025-08-04T18:00",
    )
    assert code == 0, err
    return db


def postings(db: str) -> int:
    code, out, _ = run("ledger", "verify", "--db", db, "--json")
    assert code == 0
    return int(json.loads(out)["postings"])


def test_a_recharge_then_a_charge_then_verify(db: str) -> None:
    seeded(db)

    code, out, _ = run(
        "recharge",
        "apply",
        "--account",
        "ACC-1",
        "--amount-paise",
        "50000",
        "--channel",
        "counter",
        "--reference",
        "R1",
        "--db",
        db,
        "--json",
        "--at",
        "2025-08-05T09:00",
    )
    charged = run(
        "charge",
        "post",
        "--account",
        "ACC-1",
        "--day",
        "2025-08-05",
        "--used-wh",
        "5000",
        "--db",
        db,
        "--json",
        "--at",
        "2025-08-06T00:30",
    )

    assert code == 0
    assert json.loads(out)["balance_paise"] == 50_000
    assert charged[0] == 0
    assert json.loads(charged[1])["is_new"] is True
    assert postings(db) >= 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--amount-paise", "0"], "greater than zero"),
        (["--amount-paise", "500.50"], "whole, positive number of paise"),
        (["--amount-paise", "-100"], "whole, positive number of paise"),
        (["--account", "NOPE"], "no account 'NOPE'"),
        (["--at", "yesterday"], "not an ISO 8601 timestamp"),
    ],
)
def test_a_bad_recharge_is_one_clear_line_with_exit_2_and_writes_nothing(
    db: str, args: list[str], message: str
) -> None:
    seeded(db)
    before = postings(db)
    base = {"--account": "ACC-1", "--amount-paise": "100", "--at": "2025-08-05T09:00"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value

    code, _out, err = run(
        "recharge",
        "apply",
        "--channel",
        "app",
        "--reference",
        "R9",
        "--db",
        db,
        *[x for pair in base.items() for x in pair],
    )

    assert code == 2
    assert err.strip().startswith("error:")
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert postings(db) == before


def test_the_organisation_tree_refuses_a_unit_under_the_wrong_level(db: str) -> None:
    seeded(db)

    code, _, err = run(
        "org",
        "add",
        "--code",
        "X1",
        "--level",
        "subdivision",
        "--name",
        "X",
        "--parent",
        "PESU-W",
        "--db",
        db,
    )
    listed = run("org", "list", "--db", db, "--json")

    assert code == 2
    assert "a subdivision belongs to a division, but PESU-W is a circle" in err
    assert [u["code"] for u in json.loads(listed[1])] == ["SBPDCL", "PESU-W", "DANAPUR", "S1"]


def test_negative_consumption_is_refused(db: str) -> None:
    seeded(db)

    code, _, err = run(
        "charge", "post", "--account", "ACC-1", "--day", "2025-08-05", "--used-wh", "-5", "--db", db
    )

    assert code == 2
    assert "must not be negative" in err


def test_commands_on_an_unmigrated_database_say_what_to_do(tmp_path: Path) -> None:
    code, _, err = run(
        "account", "show", "--account", "X", "--db", f"sqlite:///{tmp_path / 'empty.db'}"
    )

    assert code == 2
    assert "prepaidgrid db upgrade" in err


def test_the_demo_plays_a_month_and_the_ledger_verifies(tmp_path: Path) -> None:
    code, out, err = run(
        "demo",
        "--scripted",
        "--db",
        f"sqlite:///{tmp_path / 'demo.db'}",
        "--days",
        "31",
        "--no-serve",
    )

    assert code == 0, out + err
    assert "all invariants hold" in out
    assert "CUT (relay open)" in out
    assert "restored (relay closed)" in out
    assert "Mon 14 Jul 10:00" in out  # Friday-night reversal waits for Monday's window


def test_the_default_demo_runs_the_simulated_city_on_the_embedded_broker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the demo writes its SMS log in the working folder
    code, out, err = run(
        "demo",
        "--db",
        f"sqlite:///{tmp_path / 'city.db'}",
        "--days",
        "3",
        "--scale",
        "0.0005",
        "--no-serve",
    )

    assert code == 0, out + err
    assert "embedded" in out
    assert "all invariants hold" in out
    assert re.search(r"rejected\s*│\s*none", out), out
    # then the officers' division report of the month: every division, and the DISCOM total
    assert "Division report" in out
    for division in ("Ashiana Nagar", "Kankarbagh-2", "Patna City"):
        assert division in out
    assert re.search(r"SBPDCL total\s*│", out), out


def test_bill_refuses_a_day_that_is_not_over_and_a_backwards_range(db: str) -> None:
    not_over = run("bill", "--day", "2025-07-05", "--db", db, "--at", "2025-07-05T09:00:00+05:30")
    backwards = run(
        "bill",
        "--day",
        "2025-07-05",
        "--through",
        "2025-07-01",
        "--db",
        db,
        "--at",
        "2025-07-09T09:00:00+05:30",
    )

    assert not_over[0] == 2
    assert "not over yet" in not_over[2]
    assert backwards[0] == 2
    assert "before" in backwards[2]


def test_bill_bills_yesterday_by_default_and_says_so_in_json(tmp_path: Path) -> None:
    from bench.population import FIRST_DAY, seed

    from prepaidgrid.adapters.db.engine import make_engine
    from prepaidgrid.adapters.db.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'bill.db'}"
    engine = make_engine(url)
    upgrade(engine)
    seed(engine, 300)
    engine.dispose()

    code, out, err = run("bill", "--json", "--db", url, "--at", "2025-07-02T00:30:00+05:30")
    again = run("bill", "--json", "--db", url, "--at", "2025-07-02T00:30:00+05:30")

    assert code == 0, err
    (day,) = json.loads(out)
    assert (day["day"], day["accounts"], day["billed"]) == (FIRST_DAY.isoformat(), 300, 300)
    assert day["charged_paise"] > 0
    assert json.loads(again[1])[0]["billed"] == 0


def test_an_officer_is_added_from_the_command_line_and_shows_in_the_audit_log(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded(db)
    monkeypatch.setenv("OFFICER_PASSWORD", "a long passphrase")

    added = run(
        "officer", "add", "--username", "Ravi.Kumar", "--role", "division_officer",
        "--division", "DANAPUR", "--password-env", "OFFICER_PASSWORD", "--db", db,
    )  # fmt: skip
    no_division = run(
        "officer", "add", "--username", "sita", "--role", "division_officer",
        "--password-env", "OFFICER_PASSWORD", "--db", db,
    )  # fmt: skip
    audit = run("officer", "audit", "--db", db, "--json")

    assert added[0] == 0, added[2]
    assert "officer ravi.kumar added: division_officer, DANAPUR" in added[1]
    assert no_division[0] == 2
    assert "at least one division" in no_division[2]
    assert json.loads(audit[1]) == []  # adding is not an officer's action; logging in is
