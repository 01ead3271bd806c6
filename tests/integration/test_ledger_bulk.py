"""Bulk journals (one posting per consumer, as billing writes them) keep every ledger rule."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.exc import DBAPIError

from prepaidgrid.adapters.db.tables import accounts, journals, ledger_accounts, org_units, postings
from prepaidgrid.adapters.db.verify import verify_ledger
from tests.conftest import fresh_postgres

pytestmark = pytest.mark.integration
NOW = datetime(2025, 8, 5, 6, 30, tzinfo=UTC)
WALLETS = 20_000

Amounts = Sequence[tuple[str, int]]


@pytest.fixture
def postgres() -> Iterator[Engine]:
    """For what only PostgreSQL has: statement triggers, and concurrent writers."""
    yield from fresh_postgres()


def open_wallets(engine: Engine, count: int) -> list[str]:
    """`count` consumers, each with an empty materialised wallet."""
    ids = [f"B{n}" for n in range(count)]
    with engine.begin() as db:
        db.execute(insert(org_units).values(code="S", level="subdivision", name_en="S", name_hi=""))
        db.execute(
            insert(accounts),
            [
                {
                    "account_id": account_id,
                    "consumer_name": "x",
                    "mobile": "9876500000",
                    "language": "hi",
                    "category": "DS-II",
                    "discom": "SBPDCL",
                    "sanctioned_load_w": 1000,
                    "subdivision_code": "S",
                    "supply_profile": "bihar",
                    "opened_at": NOW,
                }
                for account_id in ids
            ],
        )
        db.execute(
            insert(ledger_accounts),
            [
                {
                    "code": f"wallet:{account_id}",
                    "kind": "wallet",
                    "account_id": account_id,
                    "balance_paise": 0,
                }
                for account_id in ids
            ],
        )
    return [f"wallet:{account_id}" for account_id in ids]


def billing_lines(wallets: list[str]) -> Amounts:
    """A charge to every wallet, and the revenue line that balances them."""
    charges = [(wallet, -(n % 997 + 1)) for n, wallet in enumerate(wallets)]
    return [*charges, ("revenue:energy", -sum(amount for _, amount in charges))]


def write_journals(
    engine: Engine, batch: dict[str, Amounts], late: Amounts = ()
) -> list[uuid.UUID]:
    """The protocol: every posting first, then the journal rows (which check and seal them).

    `late` postings go to the first journal after it was written, as a buggy writer would.
    """
    ids = {key: uuid.uuid4() for key in batch}
    journal_rows = [
        {"id": journal_id, "idempotency_key": key, "kind": "charge", "posted_at": NOW}
        for key, journal_id in ids.items()
    ]
    with engine.begin() as db:
        db.execute(
            insert(postings),
            [
                {"journal_id": ids[key], "ledger_account": a, "amount_paise": p}
                for key, amounts in batch.items()
                for a, p in amounts
            ],
        )
        db.execute(insert(journals), journal_rows)
        if late:
            first = journal_rows[0]["id"]
            db.execute(
                insert(postings),
                [{"journal_id": first, "ledger_account": a, "amount_paise": p} for a, p in late],
            )
    return list(ids.values())


def write_journal(engine: Engine, key: str, amounts: Amounts) -> uuid.UUID:
    [journal_id] = write_journals(engine, {key: amounts})
    return journal_id


def wallet_balances(engine: Engine) -> dict[str, int]:
    with engine.connect() as db:
        rows = db.execute(
            select(ledger_accounts.c.code, ledger_accounts.c.balance_paise).where(
                ledger_accounts.c.balance_paise.is_not(None)
            )
        )
        return {code: int(balance) for code, balance in rows}


def count(engine: Engine, table: str) -> int:
    with engine.connect() as db:
        return int(db.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_a_bulk_journal_commits_and_every_wallet_balance_equals_its_postings(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    wallets = open_wallets(engine, WALLETS)
    lines = billing_lines(wallets)

    started = time.perf_counter()
    write_journal(engine, "bill:2025-08-05", lines)
    elapsed = time.perf_counter() - started

    timing = f"{engine.dialect.name}: one journal of {len(lines)} postings in {elapsed:.2f}s"
    with capsys.disabled():  # measured, never asserted
        print(f"\n{timing}")  # noqa: T201
    assert wallet_balances(engine) == dict(lines[:-1])
    assert count(engine, "postings") == WALLETS + 1
    assert verify_ledger(engine).ok


def test_an_unbalanced_bulk_journal_is_refused_and_writes_nothing(engine: Engine) -> None:
    wallets = open_wallets(engine, WALLETS)
    lines = billing_lines(wallets)
    off_by_a_paisa = [*lines[:-1], (lines[-1][0], lines[-1][1] + 1)]

    with pytest.raises(DBAPIError, match="unbalanced"):
        write_journal(engine, "bill:bad", off_by_a_paisa)

    assert count(engine, "postings") == 0
    assert count(engine, "journals") == 0
    assert set(wallet_balances(engine).values()) == {0}


@pytest.mark.parametrize(
    "amounts", [[("wallet:B0", -500)], [("wallet:B0", -500), ("wallet:B1", 499)]]
)
def test_a_journal_of_one_posting_or_an_unbalanced_pair_is_refused(
    engine: Engine, amounts: Amounts
) -> None:
    open_wallets(engine, 2)

    with pytest.raises(DBAPIError, match="unbalanced"):
        write_journal(engine, "bill:one", amounts)

    assert count(engine, "postings") == 0
    assert wallet_balances(engine) == {"wallet:B0": 0, "wallet:B1": 0}


def test_a_journal_written_before_its_postings_is_refused(engine: Engine) -> None:
    with pytest.raises(DBAPIError, match="unbalanced"), engine.begin() as db:
        db.execute(
            insert(journals).values(
                id=uuid.uuid4(), idempotency_key="empty", kind="charge", posted_at=NOW
            )
        )

    assert count(engine, "journals") == 0


def test_one_unbalanced_journal_among_several_inserted_together_refuses_them_all(
    engine: Engine,
) -> None:
    wallets = open_wallets(engine, 1_000)
    bad_lines = [*billing_lines(wallets)[:-1], ("revenue:energy", 1)]

    with pytest.raises(DBAPIError, match="unbalanced"):
        write_journals(engine, {"bill:good": billing_lines(wallets), "bill:bad": bad_lines})

    assert count(engine, "postings") == 0
    assert set(wallet_balances(engine).values()) == {0}


def test_a_posting_added_to_a_sealed_bulk_journal_is_refused(engine: Engine) -> None:
    wallets = open_wallets(engine, 2_000)
    lines = billing_lines(wallets)
    journal_id = write_journal(engine, "bill:2025-08-05", lines)
    before = wallet_balances(engine)

    with pytest.raises(DBAPIError, match="sealed"), engine.begin() as db:
        db.execute(
            insert(postings),
            [
                {"journal_id": journal_id, "ledger_account": "wallet:B0", "amount_paise": 7},
                {"journal_id": journal_id, "ledger_account": "revenue:energy", "amount_paise": -7},
            ],
        )

    assert wallet_balances(engine) == before
    assert count(engine, "postings") == len(lines)
    assert verify_ledger(engine).ok


def test_postings_written_after_their_journal_in_the_same_transaction_are_refused(
    engine: Engine,
) -> None:
    wallets = open_wallets(engine, 2_000)
    balanced_late_lines = [("wallet:B0", 5), ("revenue:energy", -5)]

    with pytest.raises(DBAPIError, match="sealed"):
        write_journals(engine, {"bill:1": billing_lines(wallets)}, late=balanced_late_lines)

    assert count(engine, "journals") == 0
    assert count(engine, "postings") == 0
    assert set(wallet_balances(engine).values()) == {0}


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE postings SET amount_paise = amount_paise * 2",
        "DELETE FROM postings",
        "UPDATE journals SET memo = 'edited'",
        "DELETE FROM journals",
    ],
)
def test_bulk_postings_cannot_be_edited_or_deleted(engine: Engine, statement: str) -> None:
    wallets = open_wallets(engine, 2_000)
    write_journal(engine, "bill:2025-08-05", billing_lines(wallets))
    before = wallet_balances(engine)

    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as db:
        db.execute(text(statement))

    assert wallet_balances(engine) == before
    assert verify_ledger(engine).ok


def test_postgresql_checks_the_ledger_once_per_statement(postgres: Engine) -> None:
    with postgres.connect() as db:
        rows = db.execute(
            text(
                "SELECT t.tgname, (t.tgtype & 1) = 1 FROM pg_trigger t"
                " JOIN pg_class c ON c.oid = t.tgrelid"
                " WHERE c.relnamespace = current_schema()::regnamespace"
                " AND c.relname IN ('journals', 'postings') AND NOT t.tgisinternal"
            )
        )
        per_row = {name: bool(is_per_row) for name, is_per_row in rows}

    assert per_row == {
        "journals_balanced": False,
        "postings_journal_sealed": False,
        "postings_maintain_balance": False,
        "journals_append_only": True,
        "postings_append_only": True,
        "journals_no_truncate": False,
        "postings_no_truncate": False,
    }


def test_postings_racing_their_journals_seal_wait_for_it_and_are_refused(
    postgres: Engine,
) -> None:
    engine = postgres  # SQLite has one writer at a time: no race to test
    open_wallets(engine, 2)
    journal_id = uuid.uuid4()
    late: list[BaseException] = []

    def add_late_postings() -> None:
        try:
            with engine.begin() as db:
                db.execute(
                    insert(postings),
                    [
                        {
                            "journal_id": journal_id,
                            "ledger_account": "wallet:B1",
                            "amount_paise": 9,
                        },
                        {
                            "journal_id": journal_id,
                            "ledger_account": "duty:payable",
                            "amount_paise": -9,
                        },
                    ],
                )
        except DBAPIError as error:
            late.append(error)

    with engine.connect() as sealing:
        transaction = sealing.begin()
        sealing.execute(
            insert(postings),
            [
                {"journal_id": journal_id, "ledger_account": "wallet:B0", "amount_paise": 5},
                {"journal_id": journal_id, "ledger_account": "revenue:energy", "amount_paise": -5},
            ],
        )
        sealing.execute(
            insert(journals).values(
                id=journal_id, idempotency_key="race", kind="charge", posted_at=NOW
            )
        )
        racer = threading.Thread(target=add_late_postings)
        racer.start()
        racer.join(timeout=1)
        is_waiting = racer.is_alive()
        transaction.commit()
    racer.join(timeout=30)

    assert is_waiting
    assert len(late) == 1
    assert "sealed" in str(late[0])
    assert wallet_balances(engine) == {"wallet:B0": 5, "wallet:B1": 0}
    assert verify_ledger(engine).ok
