"""Cash counters' rules: signed receipts, cashier sessions and lockout, the day-end sums."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prepaidgrid.domain.counter import (
    LOCKOUT,
    CashierSession,
    Receipt,
    ReceiptRefused,
    SeqGap,
    SessionRefused,
    TakenReceipt,
    after_failed_login,
    canonical_bytes,
    day_end_totals,
    is_locked,
    issue_session_token,
    parse_receipt_number,
    read_session_token,
    receipt_number,
    sequence_gaps,
    sign_receipt,
    verify_receipt,
)
from prepaidgrid.domain.errors import InvalidInput
from tests.conftest import ist

KEY = bytes.fromhex("11" * 32)
OTHER_KEY = bytes.fromhex("22" * 32)
AT = ist(2025, 7, 1, 10, 30)

ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,30}", fullmatch=True)
receipts = st.builds(
    Receipt,
    counter_id=ids,
    seq=st.integers(1, 10**9),
    cashier_id=ids,
    account_id=ids,
    amount_paise=st.integers(1, 10**9),
    issued_at=st.datetimes(
        min_value=datetime(2020, 1, 1),  # noqa: DTZ001 (hypothesis adds the zone)
        max_value=datetime(2035, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ).map(lambda at: at.replace(microsecond=0)),
)


def receipt(**changes: object) -> Receipt:
    base = Receipt("PAT-C1", 42, "RAM", "ACC-0001", 50_000, AT)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_a_receipt_number_names_its_counter_and_sequence() -> None:
    assert receipt_number("PAT-C1", 42) == "PAT-C1-0000042"
    assert parse_receipt_number("PAT-C1-0000042") == ("PAT-C1", 42)
    assert receipt().receipt_no == "PAT-C1-0000042"


@pytest.mark.parametrize(
    "text", ["PAT-C1-42", "PAT-C1", "-0000001", "PAT-C1-0000000", "x y-0000001"]
)
def test_malformed_receipt_numbers_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_receipt_number(text)


def test_the_canonical_bytes_are_documented_lines() -> None:
    assert canonical_bytes(receipt()) == (
        b"prepaidgrid-counter-receipt/v1\nPAT-C1\n42\nRAM\nACC-0001\n50000\n2025-07-01T05:00:00Z"
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"seq": 0},
        {"amount_paise": 0},
        {"amount_paise": -100},
        {"account_id": "ACC\n0001"},
        {"cashier_id": ""},
        {"issued_at": AT + timedelta(microseconds=5)},
        {"issued_at": datetime(2025, 7, 1, 10, 30)},  # noqa: DTZ001 (the point: no zone)
    ],
)
def test_a_receipt_that_cannot_be_signed_unambiguously_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        receipt(**bad)


@given(receipts)
def test_a_receipt_signed_with_its_counters_key_verifies(taken: Receipt) -> None:
    verify_receipt(KEY, taken, sign_receipt(KEY, taken))


@given(receipts)
def test_a_receipt_signed_with_another_counters_key_is_refused(taken: Receipt) -> None:
    with pytest.raises(ReceiptRefused):
        verify_receipt(KEY, taken, sign_receipt(OTHER_KEY, taken))


@given(
    receipts,
    st.sampled_from(["counter_id", "seq", "cashier_id", "account_id", "amount_paise", "issued_at"]),
    st.integers(1, 10**6),
)
def test_changing_any_field_of_a_signed_receipt_is_detected(
    taken: Receipt, field: str, delta: int
) -> None:
    signature = sign_receipt(KEY, taken)
    value = getattr(taken, field)
    if isinstance(value, str):
        changed = f"{value}X"[:40] if len(value) < 40 else value[:-1]
    elif isinstance(value, datetime):
        changed = value + timedelta(seconds=delta)
    else:
        changed = value + delta
    tampered = dataclasses.replace(taken, **{field: changed})

    with pytest.raises(ReceiptRefused):
        verify_receipt(KEY, tampered, signature)


@pytest.mark.parametrize("signature", ["", "zz" * 32, "é" * 64, sign_receipt(KEY, receipt())[:-1]])
def test_garbage_signatures_are_refused(signature: str) -> None:
    with pytest.raises(ReceiptRefused):
        verify_receipt(KEY, receipt(), signature)


SECRET = b"session-secret"


@given(ids, ids, st.integers(1, 12 * 3600))
def test_a_session_token_names_its_cashier_and_counter_until_it_expires(
    cashier_id: str, counter_id: str, age_s: int
) -> None:
    issued = CashierSession(cashier_id, counter_id, AT + timedelta(hours=12))
    token = issue_session_token(SECRET, issued)

    read = read_session_token(SECRET, token, AT + timedelta(seconds=age_s - 1))

    assert read == issued
    with pytest.raises(SessionRefused, match="expired"):
        read_session_token(SECRET, token, AT + timedelta(hours=12))


@given(st.text(min_size=1, max_size=3), st.sampled_from([0, 1, 2]))
def test_a_session_token_altered_anywhere_is_refused(junk: str, part: int) -> None:
    token = issue_session_token(SECRET, CashierSession("RAM", "PAT-C1", AT + timedelta(hours=1)))
    pieces = token.split(".")
    pieces[part] += junk

    with pytest.raises(SessionRefused):
        read_session_token(SECRET, ".".join(pieces), AT)
    with pytest.raises(SessionRefused):
        read_session_token(b"another secret", token, AT)


def test_the_fifth_wrong_password_in_a_row_locks_the_cashier_for_fifteen_minutes() -> None:
    failed, until = 0, None
    for _ in range(4):
        failed, until = after_failed_login(failed, AT)
        assert until is None

    failed, until = after_failed_login(failed, AT)

    assert (failed, until) == (0, AT + LOCKOUT)
    assert is_locked(until, AT + LOCKOUT - timedelta(seconds=1))
    assert not is_locked(until, AT + LOCKOUT)


def taken(seq: int, paise: int, offline: bool = False) -> TakenReceipt:
    return TakenReceipt(receipt_number("C1", seq), seq, paise, offline)


def test_the_day_end_counts_cash_online_and_offline() -> None:
    totals = day_end_totals([taken(5, 20_000, True), taken(2, 50_000), taken(3, 1_050)])

    assert (totals.count, totals.total_paise) == (3, 71_050)
    assert (totals.online_count, totals.online_paise) == (2, 51_050)
    assert (totals.offline_count, totals.offline_paise) == (1, 20_000)
    assert (totals.first_receipt_no, totals.last_receipt_no) == ("C1-0000002", "C1-0000005")


def test_a_day_with_no_receipts_has_zero_totals() -> None:
    totals = day_end_totals([])

    assert (totals.count, totals.total_paise, totals.first_receipt_no) == (0, 0, None)


@given(st.lists(st.tuples(st.integers(1, 10**7), st.booleans()), max_size=50))
def test_online_and_offline_cash_add_up_to_the_total(amounts: list[tuple[int, bool]]) -> None:
    totals = day_end_totals(
        taken(n + 1, paise, offline) for n, (paise, offline) in enumerate(amounts)
    )

    assert totals.online_paise + totals.offline_paise == totals.total_paise
    assert totals.total_paise == sum(paise for paise, _ in amounts)
    assert totals.online_count + totals.offline_count == totals.count == len(amounts)


def test_gaps_are_the_runs_of_numbers_not_received() -> None:
    assert sequence_gaps([1, 2, 4, 5, 9], 1, 10) == [SeqGap(3, 3), SeqGap(6, 8), SeqGap(10, 10)]
    assert sequence_gaps([], 3, 4) == [SeqGap(3, 4)]
    assert sequence_gaps([1, 2, 3], 1, 3) == []
    assert sequence_gaps([], 1, 0) == []


@given(st.sets(st.integers(1, 60)), st.integers(1, 30), st.integers(0, 30))
def test_gaps_and_received_numbers_cover_the_window_exactly_once(
    received: set[int], low: int, span: int
) -> None:
    high = low + span

    gaps = sequence_gaps(received, low, high)

    missing = [seq for gap in gaps for seq in range(gap.first_seq, gap.last_seq + 1)]
    assert sorted(missing + [s for s in received if low <= s <= high]) == list(range(low, high + 1))
    assert all(a.last_seq + 1 < b.first_seq for a, b in itertools.pairwise(gaps))
