"""Settlement reconciliation on real databases: exactly the planted differences, to the paisa."""

from __future__ import annotations

import contextlib
import itertools
import uuid
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from prepaidgrid.adapters.books import PackagedPolicyBook
from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.payment_read_models import SqlSettlements
from prepaidgrid.adapters.db.tables import accounts, settlement_imports
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.domain.accounts import NewConnection
from prepaidgrid.domain.errors import AlreadyExists, InvalidInput
from prepaidgrid.domain.ledger import PaymentChannel, PaymentRef
from prepaidgrid.services.onboarding import (
    InstallSmartMeter,
    add_org_units,
    install_smart_meter,
    open_connection,
)
from prepaidgrid.services.recharges import (
    ApplyRecharge,
    RecordPendingPayment,
    ReverseRecharge,
    apply_recharge,
    record_pending_payment,
    reverse_recharge,
)
from prepaidgrid.services.reconciliation import (
    ImportSettlement,
    ReconciliationReport,
    import_settlement,
    parse_settlement_file,
)
from tests.conftest import ist, org_chain

pytestmark = pytest.mark.integration

POLICIES = PackagedPolicyBook()
BBPS = PaymentChannel.BBPS
DAY = date(2025, 7, 1)
NEXT_MORNING = ist(2025, 7, 2, 12)


def open_account(engine: Engine, account_id: str = "ACC-1") -> str:
    """A connected prepaid account with ₹1,000 of migrated credit."""
    clock = SettableClock(ist(2020, 1, 1, 12))
    with contextlib.suppress(AlreadyExists):
        add_org_units(org_chain("SUB-1"), SqlUnitOfWork(engine))
    open_connection(
        NewConnection(account_id, "Test", "9876500001", "DS-II", 2000, "SUB-1", "SBPDCL"),
        SqlUnitOfWork(engine),
        clock,
    )
    install_smart_meter(
        InstallSmartMeter(account_id, f"M-{account_id}", postpaid_balance_paise=100_000),
        SqlUnitOfWork(engine),
        clock,
        POLICIES,
    )
    return account_id


def credit(
    engine: Engine, reference: str, amount_paise: int, at: datetime, channel: PaymentChannel = BBPS
) -> None:
    apply_recharge(
        ApplyRecharge("ACC-1", amount_paise, PaymentRef(channel, reference)),
        SqlUnitOfWork(engine),
        SettableClock(at),
        POLICIES,
    )


def reverse(engine: Engine, reference: str, at: datetime) -> None:
    reverse_recharge(
        ReverseRecharge(PaymentRef(BBPS, reference)),
        SqlUnitOfWork(engine),
        SettableClock(at),
        POLICIES,
    )


def reconcile(
    engine: Engine, content: str | bytes, *, day: date = DAY, at: datetime = NEXT_MORNING
) -> ReconciliationReport:
    data = content.encode() if isinstance(content, str) else content
    return import_settlement(
        ImportSettlement(BBPS, day, data, "settlement.csv"),
        SqlSettlements(engine),
        SettableClock(at),
    )


def found(report: ReconciliationReport) -> set[tuple[str, str]]:
    return {(finding.kind.value, finding.reference) for finding in report.findings}


def stored_imports(engine: Engine) -> int:
    with engine.connect() as db:
        return int(db.execute(select(func.count()).select_from(settlement_imports)).scalar_one())


def test_reconciliation_finds_exactly_the_planted_differences(engine: Engine) -> None:
    open_account(engine)
    for n, (reference, paise) in enumerate(
        [
            ("B-1", 50_000),
            ("B-2", 25_000),
            ("B-3", 10_000),
            ("B-4", 30_000),
            ("B-6", 40_000),
            ("B-7", 15_000),
            ("B-8", 20_000),
        ]
    ):
        credit(engine, reference, paise, ist(2025, 7, 1, 9, n))
    credit(engine, "B-11", 99_900, ist(2025, 7, 1, 10), PaymentChannel.APP)  # another channel
    reverse(engine, "B-6", ist(2025, 7, 1, 15))
    reverse(engine, "B-7", ist(2025, 7, 1, 15))
    credit(engine, "B-9", 6_000, ist(2025, 7, 2, 10))  # the next day
    record_pending_payment(
        RecordPendingPayment("ACC-1", 7_000, PaymentRef(BBPS, "B-10")),
        SqlUnitOfWork(engine),
        SettableClock(ist(2025, 7, 1, 11)),
    )
    file = (
        "reference,amount,status,bank_ref\n"
        "B-1,500.00,SUCCESS,x1\n"  # line 2: matches
        "B-2,249.50,SUCCESS,x2\n"  # line 3: 50 paise short
        "B-4,300.00,SUCCESS,x4\n"  # lines 4 and 6: twice
        "B-5,120.00,SUCCESS,x5\n"  # line 5: never paid here
        "B-4,300.00,SUCCESS,x4\n"
        "B-6,400.00,SUCCESS,x6\n"  # line 7: we reversed it, they paid it
        "B-8,200.00,refunded,x8\n"  # line 8: they refunded it, we still hold the credit
        "B-9,60,SUCCESS,x9\n"  # line 9: credited the next day
        "B-10,70.00,SUCCESS,x10\n"  # line 10: pending here
    )

    report = reconcile(engine, file)

    assert found(report) == {
        ("amount_differs", "B-2"),
        ("missing_in_file", "B-3"),
        ("duplicate_in_file", "B-4"),
        ("missing_in_ledger", "B-5"),
        ("missing_in_ledger", "B-9"),
        ("missing_in_ledger", "B-10"),
        ("settled_but_reversed", "B-6"),
        ("not_settled_by_channel", "B-8"),
        ("reversed_not_settled", "B-7"),
    }
    assert {f.reference for f in report.differences} == {
        "B-2",
        "B-3",
        "B-4",
        "B-5",
        "B-9",
        "B-10",
        "B-6",
        "B-8",
    }
    by_reference = {f.reference: f for f in report.findings if f.kind.value != "duplicate_in_file"}
    assert (by_reference["B-2"].ledger_paise, by_reference["B-2"].file_paise) == (25_000, 24_950)
    assert by_reference["B-2"].lines == (3,)
    assert by_reference["B-5"].note == "no such payment here"
    assert "another day" in by_reference["B-9"].note
    assert by_reference["B-10"].note.startswith("pending here")
    [duplicate] = [f for f in report.findings if f.kind.value == "duplicate_in_file"]
    assert (duplicate.lines, duplicate.file_paise) == ((4, 6), 60_000)
    summary = report.as_dict()
    assert summary["ledger"] == {"count": 5, "total_paise": 135_000}
    assert summary["ledger_reversed"] == {"count": 2, "total_paise": 55_000}
    assert summary["file"] == {"count": 8, "total_paise": 199_950}
    assert summary["file_not_settled"] == {"count": 1, "total_paise": 20_000}
    assert summary["matched"] == {"count": 2, "total_paise": 80_000}
    assert summary["difference_paise"] == 64_950
    assert report.has_differences
    assert stored_imports(engine) == 1


def test_the_ledger_side_is_the_ist_day_not_the_utc_day(engine: Engine) -> None:
    open_account(engine)
    credit(engine, "LATE-EVE", 1_000, ist(2025, 6, 30, 23, 59))
    credit(engine, "MIDNIGHT", 2_000, ist(2025, 7, 1, 0, 0))  # 18:30 UTC on 30 June
    credit(engine, "LAST-MIN", 3_000, ist(2025, 7, 1, 23, 59))
    credit(engine, "NEXT-DAY", 4_000, ist(2025, 7, 2, 0, 0))

    report = reconcile(engine, "reference,amount_paise\r\n")

    assert found(report) == {("missing_in_file", "MIDNIGHT"), ("missing_in_file", "LAST-MIN")}
    assert report.comparison.ledger.total_paise == 5_000


def test_a_file_that_agrees_has_no_differences_whatever_its_bom_crlf_and_extra_columns(
    engine: Engine,
) -> None:
    open_account(engine)
    credit(engine, "UPI-1", 1_23_456_78, ist(2025, 7, 1, 9))
    credit(engine, "UPI-2", 1, ist(2025, 7, 1, 9, 5))
    file = "\ufeffBank Ref,Reference,Amount\r\nz,UPI-1,123456.78\r\n\r\nz,UPI-2,0.01\r\n\r\n"

    report = reconcile(engine, file.encode("utf-8"))

    assert report.findings == ()
    assert not report.has_differences
    assert (
        report.comparison.matched.total_paise == report.comparison.file.total_paise == 1_23_456_79
    )


def test_importing_the_same_file_again_returns_the_stored_summary(engine: Engine) -> None:
    open_account(engine)
    credit(engine, "B-1", 50_000, ist(2025, 7, 1, 9))
    file = "reference,amount_paise\nB-1,50000\nB-2,700\n"
    first = reconcile(engine, file)
    credit(engine, "B-2", 700, ist(2025, 7, 1, 22))  # a late credit would change the answer

    again = reconcile(engine, file, at=NEXT_MORNING + timedelta(hours=3))
    edited = reconcile(engine, file + "B-3,10\n", at=NEXT_MORNING + timedelta(hours=4))

    assert not first.already_imported
    assert again.already_imported
    assert again.imported_at == first.imported_at
    assert {**again.as_dict(), "already_imported": False} == first.as_dict()
    assert found(again) == {("missing_in_ledger", "B-2")}
    assert not edited.already_imported
    assert found(edited) == {("missing_in_ledger", "B-3")}
    assert stored_imports(engine) == 2


class RacingSettlements(SqlSettlements):
    """Never sees an earlier import up front, as when two imports of one file race."""

    def find_import(self, channel: PaymentChannel, day: date, file_sha256: str) -> None:
        return None


def test_the_unique_key_decides_two_imports_of_one_file_that_race(engine: Engine) -> None:
    open_account(engine)
    credit(engine, "B-1", 50_000, ist(2025, 7, 1, 9))
    file = b"reference,amount_paise\nB-1,50000\n"
    racing = RacingSettlements(engine)

    first = import_settlement(
        ImportSettlement(BBPS, DAY, file), racing, SettableClock(NEXT_MORNING)
    )
    second = import_settlement(
        ImportSettlement(BBPS, DAY, file), racing, SettableClock(NEXT_MORNING + timedelta(hours=1))
    )

    assert (first.already_imported, second.already_imported) == (False, True)
    assert second.imported_at == first.imported_at == NEXT_MORNING
    assert stored_imports(engine) == 1


def test_a_day_not_yet_over_is_refused(engine: Engine) -> None:
    with pytest.raises(InvalidInput, match="not over yet"):
        reconcile(engine, "reference,amount\n", day=DAY, at=ist(2025, 7, 1, 23, 59))

    assert stored_imports(engine) == 0


MALFORMED = [
    ("reference,amount\nB-1,500.00\nB-2,5O0\n", "line 3, column amount: '5O0'"),
    ("reference,amount\nB-1,500.001\n", "line 2, column amount: '500.001' is not rupees"),
    ("reference,amount\nB-1,1e3\n", "line 2, column amount: '1e3'"),
    ('reference,amount\nB-1,"1,000.00"\n', "line 2, column amount: '1,000.00'"),
    (
        "reference,amount_paise\nB-1,500.00\n",
        "line 2, column amount_paise: '500.00' is not a whole",
    ),
    ("reference,amount_paise\nB-1,0\n", "line 2, column amount_paise: '0' must be more than zero"),
    ("reference,amount_paise\nB-1,-5\n", "line 2, column amount_paise: '-5'"),
    ("ref,amount\nB-1,5\n", "line 1, the header, has no 'reference' column"),
    ("reference,amount,amount_paise\nB-1,5,500\n", "line 1, the header, needs exactly one of"),
    ("reference,Reference,amount\n", "line 1 names column 'reference' twice"),
    ("", "it is empty (a header row is required)"),
    ("reference,amount\nB-1\n", "line 2, column amount: missing"),
    ("reference,amount\n ,500\n", "line 2, column reference: empty"),
    ("reference,amount\nB-1,500,oops\n", "line 2: 3 fields, but the header names 2"),
    ('reference,amount\nB-1,500\n"B-2,7\n', "line 3: not valid CSV"),
    ("reference,amount\nB-1,x\nB-2,1\nB-3,y\n", "line 2, column amount: 'x' is not rupees"),
]


@pytest.mark.parametrize(("content", "message"), MALFORMED)
def test_a_malformed_file_is_refused_naming_its_line_and_column(content: str, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_settlement_file(content.encode(), "settlement.csv")

    assert message in str(refused.value)
    assert str(refused.value).startswith("settlement.csv is refused")


def test_every_bad_line_is_named_and_text_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(InvalidInput) as bad_lines:
        parse_settlement_file(b"reference,amount\nB-1,x\nB-2,1\nB-3,y\n")
    with pytest.raises(InvalidInput) as not_text:
        parse_settlement_file(b"reference,amount\nB-1,500\nB-2,\xff7\n")

    assert "line 2, column amount" in str(bad_lines.value)
    assert "line 4, column amount" in str(bad_lines.value)
    assert "line 3 is not UTF-8 text" in str(not_text.value)


def test_a_refused_file_writes_nothing(engine: Engine) -> None:
    open_account(engine)
    credit(engine, "B-1", 50_000, ist(2025, 7, 1, 9))

    for content, _ in MALFORMED:
        with pytest.raises(InvalidInput):
            reconcile(engine, content)

    assert stored_imports(engine) == 0


# --------------------------------------------------------------------------- the property

FATES = ("keep", "drop", "change", "duplicate", "reverse_keep", "reverse_drop")
EXPECTED_KIND = {
    "drop": "missing_in_file",
    "change": "amount_differs",
    "duplicate": "duplicate_in_file",
    "reverse_keep": "settled_but_reversed",
    "reverse_drop": "reversed_not_settled",
}
_days = itertools.count()


def rupees(paise: int) -> str:
    return f"{paise // 100}.{paise % 100:02d}"


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    payments=st.lists(st.tuples(st.integers(1, 10_00_000_00), st.sampled_from(FATES)), max_size=8),
    strangers=st.lists(st.integers(1, 5_000_00), max_size=3),
    change_by=st.integers(-500, 500).filter(lambda n: n != 0),
    in_rupees=st.booleans(),
    order=st.randoms(use_true_random=False),
)
def test_the_report_lists_exactly_the_perturbations_of_the_file(
    engine: Engine,
    payments: list[tuple[int, str]],
    strangers: list[int],
    change_by: int,
    in_rupees: bool,
    order: object,
) -> None:
    with engine.connect() as db:
        is_new_database = db.execute(select(func.count()).select_from(accounts)).scalar_one() == 0
    if is_new_database:
        open_account(engine)
    day = date(2024, 1, 1) + timedelta(days=next(_days))
    tag = uuid.uuid4().hex[:8]
    lines: list[tuple[str, int]] = []
    expected: set[tuple[str, str]] = set()
    for n, (paise, fate) in enumerate(payments):
        reference = f"{tag}-{n}"
        credit(engine, reference, paise, ist(day.year, day.month, day.day, 9, n))
        if fate.startswith("reverse"):
            reverse(engine, reference, ist(day.year, day.month, day.day, 20))
        if fate in EXPECTED_KIND:
            expected.add((EXPECTED_KIND[fate], reference))
        if fate in ("keep", "reverse_keep", "duplicate"):
            lines.append((reference, paise))
        if fate == "duplicate":
            lines.append((reference, paise))
        if fate == "change":
            lines.append((reference, paise + change_by if paise + change_by > 0 else paise + 1))
    for n, paise in enumerate(strangers):
        lines.append((f"{tag}-x{n}", paise))
        expected.add(("missing_in_ledger", f"{tag}-x{n}"))
    order.shuffle(lines)  # type: ignore[attr-defined]
    header = "reference,amount" if in_rupees else "reference,amount_paise"
    body = "".join(f"{r},{rupees(p) if in_rupees else p}\n" for r, p in lines)
    when = ist(day.year, day.month, day.day) + timedelta(days=1, hours=12)

    report = reconcile(engine, header + "\n" + body, day=day, at=when)

    assert found(report) == expected
    credited = [(p, f) for p, f in payments if not f.startswith("reverse")]
    assert report.comparison.ledger.total_paise == sum(p for p, _ in credited)
    assert report.comparison.file.total_paise == sum(p for _, p in lines)
    assert report.comparison.matched.total_paise == sum(
        p for p, f in payments if f in ("keep", "duplicate")
    )
    assert report.has_differences == (
        bool(strangers) or any(f not in ("keep", "reverse_drop") for _, f in payments)
    )
