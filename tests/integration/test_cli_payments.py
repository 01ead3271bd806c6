"""`prepaidgrid payments` as an officer uses it, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.tables import settlement_imports
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.domain.ledger import PaymentChannel, PaymentRef
from prepaidgrid.entrypoints.cli_payments import payments_app
from prepaidgrid.services.recharges import (
    ApplyRecharge,
    RecordPendingPayment,
    apply_recharge,
    record_pending_payment,
)
from tests.conftest import database_url, ist
from tests.integration.headend_support import POLICIES, install_meters

pytestmark = pytest.mark.integration
runner = CliRunner()
ACCOUNT = "ACC-0000"
NEXT_MORNING = "2025-07-02T12:00"  # IST


@pytest.fixture
def db(engine: Engine) -> str:
    """A database with one account and two BBPS credits on 1 July: ₹1,00,000 and ₹250."""
    clock = SettableClock(ist(2025, 6, 30, 12))
    install_meters(engine, 1, clock)
    for reference, paise, hour in [("BB-1", 1_00_000_00, 9), ("BB-2", 250_00, 10)]:
        clock.set(ist(2025, 7, 1, hour))
        apply_recharge(
            ApplyRecharge(ACCOUNT, paise, PaymentRef(PaymentChannel.BBPS, reference)),
            SqlUnitOfWork(engine),
            clock,
            POLICIES,
        )
    return database_url(engine)


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(payments_app, list(args))
    return result.exit_code, result.stdout, result.stderr


def settlement(tmp_path: Path, text: str, name: str = "settlement.csv") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return str(path)


def reconcile(db: str, file: str, *extra: str) -> tuple[int, str, str]:
    return run(
        "reconcile",
        "--channel",
        "bbps",
        "--day",
        "2025-07-01",
        "--file",
        file,
        "--db",
        db,
        "--at",
        NEXT_MORNING,
        *extra,
    )


def imports(engine: Engine) -> int:
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(settlement_imports))
        return int(count.scalar_one())


def test_reconcile_prints_the_totals_in_indian_rupees_and_each_difference(
    db: str, tmp_path: Path
) -> None:
    file = settlement(tmp_path, "reference,amount\nBB-1,100000.00\nBB-9,75.50\n")

    code, out, err = reconcile(db, file)

    assert code == 0, err
    assert "₹1,00,250.00" in out  # the ledger's side
    assert "₹1,00,075.50" in out  # the file's side
    assert "missing in file" in out
    assert "BB-2" in out
    assert "missing in ledger" in out
    assert "BB-9" in out
    assert "2 differences" in out


def test_strict_exits_1_on_a_difference_and_0_when_the_file_agrees(db: str, tmp_path: Path) -> None:
    differs = settlement(tmp_path, "reference,amount_paise\nBB-1,10000000\n", "differs.csv")
    agrees = settlement(
        tmp_path, "reference,amount_paise\nBB-1,10000000\nBB-2,25000\n", "agrees.csv"
    )

    code_differs, _, _ = reconcile(db, differs, "--strict")
    code_agrees, out, err = reconcile(db, agrees, "--strict")

    assert code_differs == 1
    assert code_agrees == 0, err
    assert "no differences" in out


def test_json_output_is_the_summary_and_a_second_import_says_it_was_imported_before(
    engine: Engine, db: str, tmp_path: Path
) -> None:
    file = settlement(tmp_path, "reference,amount_paise\nBB-1,10000000\nBB-2,24900\n")

    _, first, _ = reconcile(db, file, "--json")
    code, again, err = reconcile(db, file, "--json")

    assert code == 0, err
    first_summary, second_summary = json.loads(first), json.loads(again)
    assert first_summary["already_imported"] is False
    assert second_summary["already_imported"] is True
    assert second_summary["imported_at"] == first_summary["imported_at"]
    assert first_summary["ledger"] == {"count": 2, "total_paise": 1_00_250_00}
    assert first_summary["file"] == {"count": 2, "total_paise": 1_00_249_00}
    assert [(f["kind"], f["reference"]) for f in first_summary["findings"]] == [
        ("amount_differs", "BB-2")
    ]
    assert imports(engine) == 1


def test_a_malformed_file_exits_2_naming_the_line_and_column_and_stores_nothing(
    engine: Engine, db: str, tmp_path: Path
) -> None:
    file = settlement(tmp_path, "reference,amount\nBB-1,100000.00\nBB-2,250.005\n")

    code, out, err = reconcile(db, file, "--strict")

    assert code == 2
    assert out == ""
    assert "error: settlement.csv is refused, nothing was imported" in err
    assert "line 3, column amount: '250.005'" in err
    assert imports(engine) == 0


def test_show_prints_one_payments_life_and_where_it_waits(engine: Engine, db: str) -> None:
    clock = SettableClock(ist(2025, 7, 1, 11))
    record_pending_payment(
        RecordPendingPayment(ACCOUNT, 900_00, PaymentRef(PaymentChannel.BBPS, "BB-3")),
        SqlUnitOfWork(engine),
        clock,
    )

    code, out, err = run(
        "show", "--channel", "bbps", "--reference", "BB-3", "--db", db, "--at", "2025-07-01T13:05"
    )
    json_code, as_json, _ = run(
        "show", "--channel", "bbps", "--reference", "BB-1", "--db", db, "--json"
    )

    assert code == 0, err
    assert "status pending" in out
    assert "₹900.00" in out
    assert "waiting at pending" in out
    assert "(2 h 5 min)" in out
    timeline = json.loads(as_json)
    assert json_code == 0
    assert [stage["stage"] for stage in timeline["stages"]] == [
        "received",
        "credited",
        "sms_queued",
    ]
    assert timeline["amount_paise"] == 1_00_000_00
    assert timeline["stuck"]["stage"] == "sms_queued"


def test_show_refuses_an_unknown_payment_with_exit_2(db: str) -> None:
    code, out, err = run("show", "--channel", "app", "--reference", "ORD-NONE", "--db", db)

    assert code == 2
    assert out == ""
    assert err.strip() == "error: no payment app:ORD-NONE"
