"""The database itself refuses what would break the ledger, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.exc import DBAPIError

from prepaidgrid.adapters.db.tables import journals, postings
from prepaidgrid.adapters.db.verify import verify_ledger

pytestmark = pytest.mark.integration
NOW = datetime(2025, 8, 5, 6, 30, tzinfo=UTC)


def write_journal(engine: Engine, key: str, amounts: list[tuple[str, int]]) -> None:
    journal_id = uuid.uuid4()
    with engine.begin() as db:
        db.execute(
            insert(postings),
            [
                {"journal_id": journal_id, "ledger_account": a, "amount_paise": p}
                for a, p in amounts
            ],
        )
        db.execute(
            insert(journals).values(
                id=journal_id, idempotency_key=key, kind="adjustment", posted_at=NOW
            )
        )


def count(engine: Engine, table: str) -> int:
    with engine.connect() as db:
        return int(db.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_the_database_accepts_a_balanced_journal(engine: Engine) -> None:
    write_journal(engine, "ok:1", [("revenue:energy", 500), ("subsidy:receivable", -500)])

    assert count(engine, "postings") == 2
    assert verify_ledger(engine).ok


def test_the_database_refuses_an_unbalanced_journal(engine: Engine) -> None:
    with pytest.raises(DBAPIError, match="unbalanced"):
        write_journal(engine, "bad:1", [("revenue:energy", 500), ("subsidy:receivable", -499)])

    assert count(engine, "postings") == 0
    assert count(engine, "journals") == 0


def test_the_database_refuses_a_journal_of_one_posting(engine: Engine) -> None:
    with pytest.raises(DBAPIError, match="unbalanced"):
        write_journal(engine, "bad:2", [("revenue:energy", 500)])


def test_the_database_refuses_a_zero_posting(engine: Engine) -> None:
    with pytest.raises(DBAPIError, match=r"(?i)nonzero|check"):
        write_journal(
            engine, "bad:3", [("revenue:energy", 0), ("revenue:fixed", 5), ("duty:payable", -5)]
        )


def test_the_database_refuses_a_duplicate_idempotency_key(engine: Engine) -> None:
    write_journal(engine, "dup:1", [("revenue:energy", 500), ("subsidy:receivable", -500)])

    with pytest.raises(DBAPIError, match=r"(?i)unique|duplicate"):
        write_journal(engine, "dup:1", [("revenue:energy", 500), ("subsidy:receivable", -500)])

    assert count(engine, "journals") == 1
    assert count(engine, "postings") == 2


def test_the_database_refuses_postings_without_a_journal(engine: Engine) -> None:
    with pytest.raises(DBAPIError), engine.begin() as db:
        db.execute(
            insert(postings),
            [
                {"journal_id": uuid.uuid4(), "ledger_account": "revenue:energy", "amount_paise": 1},
                {"journal_id": uuid.uuid4(), "ledger_account": "duty:payable", "amount_paise": -1},
            ],
        )

    assert count(engine, "postings") == 0


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE postings SET amount_paise = amount_paise * 2",
        "DELETE FROM postings",
        "UPDATE journals SET memo = 'edited'",
        "DELETE FROM journals",
    ],
)
def test_the_database_refuses_to_edit_or_delete_the_ledger(engine: Engine, statement: str) -> None:
    write_journal(engine, "keep:1", [("revenue:energy", 500), ("subsidy:receivable", -500)])

    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as db:
        db.execute(text(statement))

    assert count(engine, "postings") == 2
    assert verify_ledger(engine).ok


def test_postings_cannot_be_added_to_a_sealed_journal(engine: Engine) -> None:
    write_journal(engine, "seal:1", [("revenue:energy", 500), ("subsidy:receivable", -500)])
    with engine.connect() as db:
        journal_id = db.execute(select(journals.c.id)).scalar_one()

    with pytest.raises(DBAPIError, match="sealed"), engine.begin() as db:
        db.execute(
            insert(postings),
            [
                {"journal_id": journal_id, "ledger_account": "revenue:energy", "amount_paise": 7},
                {"journal_id": journal_id, "ledger_account": "duty:payable", "amount_paise": -7},
            ],
        )


def test_verify_finds_a_materialised_balance_that_drifted(engine: Engine) -> None:
    with engine.begin() as db:
        db.execute(
            text(
                "INSERT INTO org_units (code, level, name_en, name_hi) "
                "VALUES ('S', 'subdivision', 'S', '')"
            )
        )
        db.execute(
            text(
                "INSERT INTO accounts (account_id, consumer_name, mobile, language, category, "
                "discom, sanctioned_load_w, subdivision_code, supply_profile, opened_at) VALUES "
                "('A1', 'x', '9876500000', 'hi', 'DS-II', 'SBPDCL', 1000, 'S', 'bihar', "
                ":now)"
            ),
            {"now": NOW.replace(tzinfo=None) if engine.dialect.name == "sqlite" else NOW},
        )
        db.execute(
            text(
                "INSERT INTO ledger_accounts (code, kind, account_id, balance_paise) "
                "VALUES ('wallet:A1', 'wallet', 'A1', 0)"
            )
        )
    write_journal(engine, "r:1", [("wallet:A1", 5000), ("clearing:app", -5000)])
    assert verify_ledger(engine).ok

    with engine.begin() as db:
        db.execute(
            text("UPDATE ledger_accounts SET balance_paise = 999999 WHERE code = 'wallet:A1'")
        )
    report = verify_ledger(engine)

    assert not report.ok
    assert [c.name for c in report.checks if not c.ok] == ["balances_match_postings"]
