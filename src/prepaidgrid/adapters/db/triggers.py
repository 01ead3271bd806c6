"""What the database itself refuses, per dialect: the ledger's last line of defence.

- a posting of zero paise (CHECK), a duplicate idempotency key (UNIQUE);
- an unbalanced journal, or one with fewer than two postings;
- postings added to a journal after it was sealed;
- any UPDATE, DELETE or TRUNCATE of journals and postings (append-only);
- a materialised consumer balance that drifts from its postings (a trigger keeps it).

Protocol: postings are inserted first and their journal row last; the journal's insert
checks and seals them. A posting inserted once its journal exists is refused ("sealed"),
in the same transaction or any later one, so a journal can never be balanced at its
insert and unbalanced afterwards. A posting whose journal never arrives fails the deferred
foreign key at commit. SQLite checks with row triggers.

PostgreSQL checks per statement, not per row, so a billing journal of 100,000 postings
costs one pass over them (revision 0005; revision 0001 installed row triggers whose
deferred per-posting re-sum of the whole journal was quadratic):

- `journals_balanced`, after each INSERT INTO journals: one grouped query over the new
  journals' postings refuses any journal with fewer than two postings or a non-zero sum;
- `postings_journal_sealed`, after each INSERT INTO postings: refuses the statement if
  any of its journals already exists;
- `postings_maintain_balance`, after each INSERT INTO postings: one grouped UPDATE adds
  each consumer account's new postings to its balance.

A journal being sealed holds a transaction-scoped advisory lock on its id that posting
inserts for the same id wait on (shared), so postings written concurrently with their
journal's seal see it sealed, or make it wait until they are gone (their foreign key
cannot be met by a journal that is not yet committed).
"""

from __future__ import annotations

# Advisory-lock namespace (first key) of journal ids; the second key is hashtext(id).
JOURNAL_LOCK_SPACE = 5_0005

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

# Revision 0001's checks; revision 0005 replaces them, and restores them on downgrade.
POSTGRESQL_ROW_LEVEL = [
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
]

DROP_POSTGRESQL_ROW_LEVEL = [
    "DROP TRIGGER postings_balanced ON postings",
    "DROP TRIGGER journals_balanced ON journals",
    "DROP TRIGGER postings_journal_sealed ON postings",
    "DROP TRIGGER postings_maintain_balance ON postings",
    "DROP FUNCTION ledger_check_posting_journal()",
    "DROP FUNCTION ledger_check_journal()",
    "DROP FUNCTION ledger_assert_balanced(uuid)",
    "DROP FUNCTION ledger_sealed()",
    "DROP FUNCTION ledger_maintain_balance()",
]

# Revision 0005's checks: one pass per statement over its transition table.
POSTGRESQL_STATEMENT_LEVEL = [
    f"""
    CREATE FUNCTION ledger_check_new_journals() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE jid uuid; bad record;
    BEGIN
      -- Sealing: postings for these ids, in flight elsewhere, wait for (or block) this seal.
      FOR jid IN SELECT id FROM new_journals ORDER BY id LOOP
        PERFORM pg_advisory_xact_lock({JOURNAL_LOCK_SPACE}, hashtext(jid::text));
      END LOOP;
      SELECT j.id, count(p.id) AS n, coalesce(sum(p.amount_paise), 0) AS total INTO bad
        FROM new_journals j LEFT JOIN postings p ON p.journal_id = j.id
       GROUP BY j.id
      HAVING count(p.id) < 2 OR coalesce(sum(p.amount_paise), 0) <> 0
       LIMIT 1;
      IF FOUND THEN
        RAISE EXCEPTION 'ledger: unbalanced journal % (% postings, sum %)',
          bad.id, bad.n, bad.total USING ERRCODE = 'check_violation';
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER journals_balanced AFTER INSERT ON journals
    REFERENCING NEW TABLE AS new_journals
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_new_journals()
    """,
    f"""
    CREATE FUNCTION ledger_check_postings_unsealed() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE jid uuid;
    BEGIN
      FOR jid IN SELECT DISTINCT journal_id FROM new_postings ORDER BY journal_id LOOP
        PERFORM pg_advisory_xact_lock_shared({JOURNAL_LOCK_SPACE}, hashtext(jid::text));
        IF EXISTS (SELECT 1 FROM journals WHERE id = jid) THEN
          RAISE EXCEPTION 'ledger: journal % is sealed, postings are append-only', jid
            USING ERRCODE = 'check_violation';
        END IF;
      END LOOP;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER postings_journal_sealed AFTER INSERT ON postings
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_postings_unsealed()
    """,
    """
    CREATE FUNCTION ledger_apply_new_postings() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE ledger_accounts a SET balance_paise = a.balance_paise + d.total
        FROM (SELECT ledger_account, sum(amount_paise) AS total
                FROM new_postings GROUP BY ledger_account) d
       WHERE a.code = d.ledger_account AND a.balance_paise IS NOT NULL;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER postings_maintain_balance AFTER INSERT ON postings
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_apply_new_postings()
    """,
]

DROP_POSTGRESQL_STATEMENT_LEVEL = [
    "DROP TRIGGER journals_balanced ON journals",
    "DROP TRIGGER postings_journal_sealed ON postings",
    "DROP TRIGGER postings_maintain_balance ON postings",
    "DROP FUNCTION ledger_check_new_journals()",
    "DROP FUNCTION ledger_check_postings_unsealed()",
    "DROP FUNCTION ledger_apply_new_postings()",
]

POSTGRESQL_APPEND_ONLY = [
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


# SQLite, revision 0007: consumer balances move when a journal seals, not per posting. A
# posting's balance UPDATE ran once per row (a trigger program per posting); the journal's
# insert, which already checks its postings balance, now applies them in one grouped UPDATE.
# Postings always precede their journal and none can follow it (postings_journal_sealed),
# so every posting reaches its balance exactly once, in the transaction that writes it.
SQLITE_ROW_BALANCE = """
    CREATE TRIGGER postings_maintain_balance AFTER INSERT ON postings
    BEGIN
      UPDATE ledger_accounts SET balance_paise = balance_paise + NEW.amount_paise
      WHERE code = NEW.ledger_account AND balance_paise IS NOT NULL;
    END
    """
SQLITE_JOURNAL_BALANCE = """
    CREATE TRIGGER journals_maintain_balance AFTER INSERT ON journals
    BEGIN
      UPDATE ledger_accounts SET balance_paise = balance_paise + moved.total
        FROM (SELECT ledger_account, sum(amount_paise) AS total FROM postings
               WHERE journal_id = NEW.id GROUP BY ledger_account) AS moved
       WHERE ledger_accounts.code = moved.ledger_account
         AND ledger_accounts.balance_paise IS NOT NULL;
    END
    """


def statements(dialect: str) -> list[str]:
    """The triggers revision 0001 installs (on PostgreSQL, 0005 then goes per statement)."""
    if dialect == "sqlite":
        return SQLITE
    if dialect == "postgresql":
        return [*POSTGRESQL_ROW_LEVEL, *POSTGRESQL_APPEND_ONLY]
    raise ValueError(f"unsupported database dialect {dialect!r}")


# Revision 0010: the officers' audit log is append-only, like the ledger.
SQLITE_AUDIT_APPEND_ONLY = [
    f"""
    CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log
    BEGIN
      SELECT RAISE(ABORT, 'audit: the audit log is append-only ({verb} refused)');
    END
    """
    for verb in ("UPDATE", "DELETE")
]
POSTGRESQL_AUDIT_APPEND_ONLY = [
    """
    CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit: the audit log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
    END $$
    """,
    """
    CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_append_only()
    """,
    """
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()
    """,
]
DROP_AUDIT_APPEND_ONLY = {
    "sqlite": ["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"],
    "postgresql": [
        "DROP TRIGGER audit_log_append_only ON audit_log",
        "DROP TRIGGER audit_log_no_truncate ON audit_log",
        "DROP FUNCTION audit_append_only()",
    ],
}
