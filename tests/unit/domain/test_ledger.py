"""Ledger journals: every builder balances, whatever the amounts."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prepaidgrid.domain.ledger import (
    ChargeAmounts,
    Journal,
    JournalKind,
    LedgerError,
    PaymentChannel,
    PaymentRef,
    Posting,
    charge_journal,
    instalment_journal,
    opening_journal,
    recharge_journal,
    reversal_journal,
    wallet,
)

AT = datetime(2025, 8, 5, 6, 30, tzinfo=UTC)
paise = st.integers(1, 10**11)
channels = st.sampled_from(list(PaymentChannel))


def balances(journal: Journal) -> bool:
    return sum(p.amount_paise for p in journal.postings) == 0 and all(
        p.amount_paise != 0 for p in journal.postings
    )


@given(amount=paise, share=st.integers(0, 10**11), channel=channels)
def test_a_recharge_and_its_reversal_balance_and_cancel_out(
    amount: int, share: int, channel: PaymentChannel
) -> None:
    share = min(share, amount)
    ref = PaymentRef(channel, "ref-1")

    credit = recharge_journal("A", amount, ref, AT, share)
    undo = reversal_journal("A", amount, ref, AT, share)

    assert balances(credit)
    assert balances(undo)
    totals: dict[str, int] = {}
    for posting in (*credit.postings, *undo.postings):
        totals[posting.ledger_account] = (
            totals.get(posting.ledger_account, 0) + posting.amount_paise
        )
    assert set(totals.values()) == {0}


@given(
    energy=st.integers(0, 10**8),
    subsidy=st.integers(0, 10**8),
    rebate=st.integers(0, 10**8),
    tod=st.integers(-(10**6), 10**6),
    fixed=st.integers(0, 10**7),
    duty=st.integers(0, 10**7),
)
def test_a_charge_journal_balances_and_debits_the_wallet_by_the_total(
    energy: int, subsidy: int, rebate: int, tod: int, fixed: int, duty: int
) -> None:
    total = energy - subsidy - rebate + tod + fixed + duty
    amounts = ChargeAmounts(energy, subsidy, rebate, tod, fixed, duty, total)

    journal = charge_journal("A", date(2025, 8, 4), amounts, AT)

    if journal is None:
        assert {energy + tod, subsidy, rebate, fixed, duty, total} == {0}
    else:
        assert balances(journal)
        wallet_lines = [p.amount_paise for p in journal.postings if p.ledger_account == wallet("A")]
        assert sum(wallet_lines) == -total


@given(amount=st.integers(-(10**10), 10**10).filter(bool))
def test_a_migration_opens_either_the_wallet_or_the_arrears(amount: int) -> None:
    journal = opening_journal("A", amount, AT)

    assert balances(journal)
    target = "wallet:A" if amount > 0 else "arrears:A"
    assert Posting(target, amount) in journal.postings


def test_an_unbalanced_journal_cannot_even_be_built() -> None:
    with pytest.raises(LedgerError, match="does not balance"):
        Journal("k", JournalKind.ADJUSTMENT, AT, (Posting("a", 5), Posting("b", -4)))


def test_an_instalment_moves_money_from_wallet_to_arrears() -> None:
    journal = instalment_journal("A", date(2025, 8, 4), 1_000, AT)

    assert set(journal.postings) == {Posting("wallet:A", -1_000), Posting("arrears:A", 1_000)}
