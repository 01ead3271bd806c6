"""What the database itself refuses, per dialect: the ledger's last line of defence.

- a posting of zero paise (CHECK), a duplicate idempotency key (UNIQUE);
- an unbalanced journal, or one with fewer than two postings;
- postings added to a journal after it was sealed;
- any UPDATE, DELETE or TRUNCATE of journals and postings (append-only);
- a materialised consumer balance that drifts from its postings (a trigger keeps it).

Protocol: postings are inserted first and their journal row last. On SQLite the journal's
BEFORE INSERT trigger checks the balance; the deferred foreign key makes a posting without
its journal fail at commit. On PostgreSQL a deferred constraint trigger re-checks every
touched journal at commit, whatever the insert order.
"""

from __future__ import annotations

SQLITE = [
    """
    CREATE TRIGGER journals_must_balance BEFORE INSERT ON journals
    WHEN (SELECT count(*) FROM postings WHERE journal_id = NEW.id) < 2
      OR (SELECT coalesce(sum(amount_paise), 0) FROM postings WHERE journal_id = NEW.id) <> 0
    BEGIN
      SELECT RAISE(ABORT, 'ledger: unbalanced journal (postings must sum to zero)');
    END
    """,
    """
    CREATE TRIGGER postings_journal_sealed BEFORE INSERT ON postings
    WHEN EXISTS (SELECT 1 FROM journals WHERE id = NEW.journal_id)
    BEGIN
      SELECT RAISE(ABORT, 'ledger: journal is sealed, postings are append-only');
    END
    """,
    """
    CREATE TRIGGER postings_maintain_balance AFTER INSERT ON postings
    BEGIN
      UPDATE ledger_accounts SET balance_paise = balance_paise + NEW.amount_paise
      WHERE code = NEW.ledger_account AND balance_paise IS NOT NULL;
    END
    """,
    *[
        f"""
        CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table}
        BEGIN
          SELECT RAISE(ABORT, 'ledger: {table} are append-only ({verb} refused)');
        END
        """
        for table in ("journals", "postings")
        for verb in ("UPDATE", "DELETE")
    ],
]

POSTGRESQL = [
    """
    CREATE FUNCTION ledger_assert_balanced(jid uuid) RETURNS void LANGUAGE plpgsql AS $$
    DECLARE n integer; total bigint;
    BEGIN
      SELECT count(*), coalesce(sum(amount_paise), 0) INTO n, total
        FROM postings WHERE journal_id = jid;
      IF n < 2 OR total <> 0 THEN
        RAISE EXCEPTION 'ledger: unbalanced journal % (% postings, sum %)', jid, n, total
          USING ERRCODE = 'check_violation';
      END IF;
    END $$
    """,
    """
    CREATE FUNCTION ledger_check_posting_journal() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM ledger_assert_balanced(NEW.journal_id); RETURN NULL; END $$
    """,
    """
    CREATE FUNCTION ledger_check_journal() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM ledger_assert_balanced(NEW.id); RETURN NULL; END $$
    """,
    """
    CREATE CONSTRAINT TRIGGER postings_balanced AFTER INSERT ON postings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_posting_journal()
    """,
    """
    CREATE CONSTRAINT TRIGGER journals_balanced AFTER INSERT ON journals
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_journal()
    """,
    """
    CREATE FUNCTION ledger_sealed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM journals WHERE id = NEW.journal_id) THEN
        RAISE EXCEPTION 'ledger: journal % is sealed, postings are append-only', NEW.journal_id
          USING ERRCODE = 'check_violation';
      END IF;
      RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER postings_journal_sealed BEFORE INSERT ON postings
    FOR EACH ROW EXECUTE FUNCTION ledger_sealed()
    """,
    """
    CREATE FUNCTION ledger_maintain_balance() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE ledger_accounts SET balance_paise = balance_paise + NEW.amount_paise
       WHERE code = NEW.ledger_account AND balance_paise IS NOT NULL;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER postings_maintain_balance AFTER INSERT ON postings
    FOR EACH ROW EXECUTE FUNCTION ledger_maintain_balance()
    """,
    """
    CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'ledger: % are append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
    END $$
    """,
    *[
        f"""
        CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION ledger_append_only()
        """
        for table in ("journals", "postings")
    ],
    *[
        f"""
        CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()
        """
        for table in ("journals", "postings")
    ],
]


def statements(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return SQLITE
    if dialect == "postgresql":
        return POSTGRESQL
    raise ValueError(f"unsupported database dialect {dialect!r}")
