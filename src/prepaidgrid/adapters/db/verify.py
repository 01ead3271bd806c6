"""`prepaidgrid ledger verify`: prove, from the rows themselves, that every invariant holds."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine, text

# Each check is a query returning the offending rows (at most a few are shown).
CHECKS: dict[str, tuple[str, str]] = {
    "journals_balance": (
        "every journal has at least two postings summing to zero",
        """SELECT j.idempotency_key, count(p.id), coalesce(sum(p.amount_paise), 0)
             FROM journals j LEFT JOIN postings p ON p.journal_id = j.id
            GROUP BY j.id, j.idempotency_key
           HAVING count(p.id) < 2 OR coalesce(sum(p.amount_paise), 0) <> 0""",
    ),
    "postings_have_journals": (
        "every posting belongs to a journal",
        """SELECT p.id, p.ledger_account FROM postings p
            WHERE NOT EXISTS (SELECT 1 FROM journals j WHERE j.id = p.journal_id)""",
    ),
    "no_zero_postings": (
        "no posting is zero",
        "SELECT p.id, p.ledger_account FROM postings p WHERE p.amount_paise = 0",
    ),
    "ledger_sums_to_zero": (
        "all postings together sum to zero",
        """SELECT coalesce(sum(amount_paise), 0) FROM postings
           HAVING coalesce(sum(amount_paise), 0) <> 0""",
    ),
    "balances_match_postings": (
        "every materialised consumer balance equals the sum of its postings",
        """SELECT a.code, a.balance_paise, coalesce(s.total, 0) FROM ledger_accounts a
             LEFT JOIN (SELECT ledger_account, sum(amount_paise) AS total FROM postings
                         GROUP BY ledger_account) s ON s.ledger_account = a.code
            WHERE a.balance_paise IS NOT NULL AND a.balance_paise <> coalesce(s.total, 0)""",
    ),
    "utility_accounts_not_materialised": (
        "the utility's own accounts carry no balance row (never a hot row)",
        """SELECT code, kind FROM ledger_accounts
            WHERE kind NOT IN ('wallet', 'arrears') AND balance_paise IS NOT NULL""",
    ),
    "credited_payments_posted_once": (
        "every credited or reversed payment has exactly one recharge journal",
        """SELECT p.channel, p.reference, count(j.id) FROM payments p
             LEFT JOIN journals j
               ON j.idempotency_key = 'recharge:' || p.channel || ':' || p.reference
            WHERE p.status IN ('credited', 'reversed')
            GROUP BY p.channel, p.reference HAVING count(j.id) <> 1""",
    ),
    "uncredited_payments_not_posted": (
        "no pending or failed payment has a recharge journal",
        """SELECT p.channel, p.reference, p.status FROM payments p
             JOIN journals j
               ON j.idempotency_key = 'recharge:' || p.channel || ':' || p.reference
            WHERE p.status IN ('pending', 'failed')""",
    ),
    "reversed_payments_reversed_once": (
        "every reversed payment has exactly one reversal journal",
        """SELECT p.channel, p.reference, count(j.id) FROM payments p
             LEFT JOIN journals j
               ON j.idempotency_key = 'reversal:' || p.channel || ':' || p.reference
            WHERE p.status = 'reversed'
            GROUP BY p.channel, p.reference HAVING count(j.id) <> 1""",
    ),
    "charges_match_journals": (
        "every billed day's total equals its charge journal's wallet debit",
        """SELECT c.account_id, c.bill_day, c.total_paise, coalesce(-w.amount, 0)
             FROM daily_charges c
             LEFT JOIN (SELECT j.idempotency_key AS k, p.amount_paise AS amount
                          FROM journals j JOIN postings p ON p.journal_id = j.id
                         WHERE j.kind = 'charge' AND p.ledger_account LIKE 'wallet:%') w
               ON w.k = 'charge:' || c.account_id || ':' || CAST(c.bill_day AS VARCHAR(10))
            WHERE c.journal_id IS NULL AND c.total_paise <> coalesce(-w.amount, 0)""",
    ),
    "charge_runs_match_journals": (
        "every day billed by a run equals its wallet debit in the run's journal",
        """SELECT c.account_id, c.bill_day, c.total_paise + c.instalment_paise,
                  coalesce(-w.amount, 0)
             FROM daily_charges c
             LEFT JOIN (SELECT p.journal_id, p.ledger_account, sum(p.amount_paise) AS amount
                          FROM postings p JOIN journals j ON j.id = p.journal_id
                         WHERE j.kind = 'charge_run' AND p.ledger_account LIKE 'wallet:%'
                         GROUP BY p.journal_id, p.ledger_account) w
               ON w.journal_id = c.journal_id AND w.ledger_account = 'wallet:' || c.account_id
            WHERE c.journal_id IS NOT NULL
              AND c.total_paise + c.instalment_paise <> coalesce(-w.amount, 0)""",
    ),
    "charge_run_postings_have_days": (
        "every wallet debit of a billing run belongs to a billed day of that run",
        """SELECT p.journal_id, p.ledger_account FROM postings p
             JOIN journals j ON j.id = p.journal_id
            WHERE j.kind = 'charge_run' AND p.ledger_account LIKE 'wallet:%'
              AND NOT EXISTS (SELECT 1 FROM daily_charges c
                               WHERE c.journal_id = p.journal_id
                                 AND 'wallet:' || c.account_id = p.ledger_account)""",
    ),
}


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    description: str
    violations: int
    examples: list[list[str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.violations == 0


@dataclass(frozen=True, slots=True)
class VerifyReport:
    checks: list[CheckResult]
    journals: int
    postings: int

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "journals": self.journals,
            "postings": self.postings,
            "checks": [
                {
                    "name": c.name,
                    "description": c.description,
                    "ok": c.ok,
                    "violations": c.violations,
                    "examples": c.examples,
                }
                for c in self.checks
            ],
        }


def verify_ledger(engine: Engine, max_examples: int = 5) -> VerifyReport:
    results = []
    with engine.connect() as db:
        for name, (description, query) in CHECKS.items():
            rows = db.execute(text(query)).all()
            results.append(
                CheckResult(
                    name,
                    description,
                    len(rows),
                    [[str(value) for value in row] for row in rows[:max_examples]],
                )
            )
        journals = int(db.execute(text("SELECT count(*) FROM journals")).scalar_one())
        postings = int(db.execute(text("SELECT count(*) FROM postings")).scalar_one())
    return VerifyReport(results, journals, postings)
