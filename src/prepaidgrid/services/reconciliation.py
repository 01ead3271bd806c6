"""Reconcile a channel's settlement file for one IST day against the payments we credited.

    settlement file (CSV) --parse--> lines --compare with the day's credited payments-->
        missing in the file | missing in the ledger | amounts differ | duplicates in the file
        | settled but reversed | credited but not settled by the channel
    --> stored once per (channel, day, file's SHA-256); the same file again gets that answer.

A file is refused whole, with every bad line named, before anything is read or written.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.domain.ledger import PaymentChannel
from prepaidgrid.domain.units import IST, ist_day, ist_midnight
from prepaidgrid.services.ports import Clock

REFERENCE_COLUMN = "reference"
PAISE_COLUMN = "amount_paise"
RUPEES_COLUMN = "amount"
STATUS_COLUMN = "status"
# A line whose status says the money did not reach us settles nothing (any other status,
# or none, is a settlement).
NOT_SETTLED = frozenset({"failed", "refunded", "reversed", "chargeback", "cancelled", "declined"})
MAX_ERRORS_SHOWN = 5
_RUPEES = re.compile(r"[0-9]+(\.[0-9]{1,2})?")
_PAISE = re.compile(r"[0-9]+")


@dataclass(frozen=True, slots=True)
class SettlementLine:
    line: int  # the file's line number (the header is line 1)
    reference: str
    amount_paise: int
    status: str = ""  # lower case; "" when the file has no status column

    @property
    def is_settled(self) -> bool:
        return self.status not in NOT_SETTLED


@dataclass(frozen=True, slots=True)
class LedgerPayment:
    reference: str
    account_id: str
    amount_paise: int
    status: str  # pending, credited, reversed, failed
    received_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class StoredImport:
    imported_at: datetime
    summary: Mapping[str, Any]
    is_new: bool  # False: this file was imported before; `summary` is that import's


class Settlements(Protocol):
    def received_between(
        self, channel: PaymentChannel, start: datetime, end: datetime
    ) -> list[LedgerPayment]:
        """The channel's payments received in [start, end) that were credited (and maybe
        reversed since): the ledger side of a day."""
        ...

    def payments_named(
        self, channel: PaymentChannel, references: Collection[str]
    ) -> dict[str, LedgerPayment]:
        """Those of `references` the channel has a payment for, whatever its day or status."""
        ...

    def find_import(
        self, channel: PaymentChannel, day: date, file_sha256: str
    ) -> StoredImport | None: ...

    def record_import(
        self,
        channel: PaymentChannel,
        day: date,
        file_sha256: str,
        at: datetime,
        summary: Mapping[str, Any],
    ) -> StoredImport:
        """Store the import once (the unique key decides a race); return what is stored."""
        ...


class FindingKind(StrEnum):
    MISSING_IN_FILE = "missing_in_file"  # credited here, the channel did not settle it
    MISSING_IN_LEDGER = "missing_in_ledger"  # settled by the channel, not credited that day
    AMOUNT_DIFFERS = "amount_differs"
    DUPLICATE_IN_FILE = "duplicate_in_file"
    SETTLED_BUT_REVERSED = "settled_but_reversed"  # we took the credit back, they paid it
    NOT_SETTLED_BY_CHANNEL = "not_settled_by_channel"  # file says failed/refunded: still credited
    REVERSED_NOT_SETTLED = "reversed_not_settled"  # consistent: shown, not a difference


DIFFERENCES = frozenset(FindingKind) - {FindingKind.REVERSED_NOT_SETTLED}


@dataclass(frozen=True, slots=True)
class Finding:
    kind: FindingKind
    reference: str
    ledger_paise: int | None = None
    file_paise: int | None = None
    lines: tuple[int, ...] = ()
    account_id: str | None = None
    note: str = ""

    @property
    def is_difference(self) -> bool:
        return self.kind in DIFFERENCES

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "reference": self.reference,
            "ledger_paise": self.ledger_paise,
            "file_paise": self.file_paise,
            "lines": list(self.lines),
            "account_id": self.account_id,
            "note": self.note,
            "is_difference": self.is_difference,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        return cls(
            FindingKind(data["kind"]),
            str(data["reference"]),
            data["ledger_paise"],
            data["file_paise"],
            tuple(int(n) for n in data["lines"]),
            data["account_id"],
            str(data["note"]),
        )


@dataclass(frozen=True, slots=True)
class Totals:
    count: int = 0
    total_paise: int = 0

    def plus(self, amount_paise: int) -> Totals:
        return Totals(self.count + 1, self.total_paise + amount_paise)

    def as_dict(self) -> dict[str, int]:
        return {"count": self.count, "total_paise": self.total_paise}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Totals:
        return cls(int(data["count"]), int(data["total_paise"]))


@dataclass(frozen=True, slots=True)
class Comparison:
    ledger: Totals  # credited and not reversed
    ledger_reversed: Totals
    file: Totals  # settled lines, duplicates included: what the channel says it paid
    file_not_settled: Totals
    matched: Totals  # same reference, same amount, credited
    findings: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class ReconciliationReport:
    channel: PaymentChannel
    settlement_day: date
    file_sha256: str
    imported_at: datetime
    already_imported: bool  # True: the same file was imported before; this is that result
    comparison: Comparison

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.comparison.findings

    @property
    def differences(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.comparison.findings if f.is_difference)

    @property
    def has_differences(self) -> bool:
        return bool(self.differences)

    def as_dict(self) -> dict[str, Any]:
        c = self.comparison
        return {
            "channel": self.channel.value,
            "settlement_day": self.settlement_day.isoformat(),
            "file_sha256": self.file_sha256,
            "imported_at": self.imported_at.isoformat(),
            "already_imported": self.already_imported,
            "has_differences": self.has_differences,
            "ledger": c.ledger.as_dict(),
            "ledger_reversed": c.ledger_reversed.as_dict(),
            "file": c.file.as_dict(),
            "file_not_settled": c.file_not_settled.as_dict(),
            "matched": c.matched.as_dict(),
            "difference_paise": c.file.total_paise - c.ledger.total_paise,
            "counts": {kind.value: sum(f.kind is kind for f in c.findings) for kind in FindingKind},
            "findings": [f.as_dict() for f in c.findings],
        }

    @classmethod
    def from_summary(
        cls, summary: Mapping[str, Any], imported_at: datetime, *, already_imported: bool
    ) -> ReconciliationReport:
        comparison = Comparison(
            Totals.from_dict(summary["ledger"]),
            Totals.from_dict(summary["ledger_reversed"]),
            Totals.from_dict(summary["file"]),
            Totals.from_dict(summary["file_not_settled"]),
            Totals.from_dict(summary["matched"]),
            tuple(Finding.from_dict(f) for f in summary["findings"]),
        )
        return cls(
            PaymentChannel(summary["channel"]),
            date.fromisoformat(summary["settlement_day"]),
            str(summary["file_sha256"]),
            imported_at,
            already_imported,
            comparison,
        )


# ------------------------------------------------------------------------- the file


def parse_settlement_file(
    content: bytes, name: str = "the settlement file"
) -> list[SettlementLine]:
    """Every line of a settlement CSV, or InvalidInput naming each bad line and column.

    A header row is required: `reference` and one of `amount_paise` (whole paise) or
    `amount` (rupees, at most two decimals, read exactly); `status` is optional and other
    columns are ignored. A UTF-8 BOM, CRLF line ends and blank lines are tolerated.
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise InvalidInput(f"{name} is refused: line {line} is not UTF-8 text") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    errors: list[str] = []
    lines: list[SettlementLine] = []
    try:
        header = next((row for row in reader if any(cell.strip() for cell in row)), None)
        if header is None:
            raise InvalidInput(f"{name} is refused: it is empty (a header row is required)")
        columns = _columns(header, reader.line_num, name)
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            parsed = _line(row, reader.line_num, len(header), columns, errors)
            if parsed is not None:
                lines.append(parsed)
    except csv.Error as error:
        errors.append(f"line {reader.line_num}: not valid CSV ({error})")
    if errors:
        shown = "; ".join(errors[:MAX_ERRORS_SHOWN])
        more = len(errors) - MAX_ERRORS_SHOWN
        raise InvalidInput(
            f"{name} is refused, nothing was imported: {shown}"
            + (f"; and {more} more bad lines" if more > 0 else "")
        )
    return lines


def _columns(header: list[str], line: int, name: str) -> dict[str, int]:
    names = [cell.strip().lower() for cell in header]
    known = (REFERENCE_COLUMN, PAISE_COLUMN, RUPEES_COLUMN, STATUS_COLUMN)
    for column in known:
        if names.count(column) > 1:
            raise InvalidInput(f"{name} is refused: line {line} names column {column!r} twice")
    if REFERENCE_COLUMN not in names:
        raise InvalidInput(
            f"{name} is refused: line {line}, the header, has no {REFERENCE_COLUMN!r} column "
            f"(it has {', '.join(repr(n) for n in names)})"
        )
    if (PAISE_COLUMN in names) == (RUPEES_COLUMN in names):
        raise InvalidInput(
            f"{name} is refused: line {line}, the header, needs exactly one of "
            f"{PAISE_COLUMN!r} (whole paise) or {RUPEES_COLUMN!r} (rupees)"
        )
    return {column: names.index(column) for column in known if column in names}


def _line(
    row: list[str], line: int, width: int, columns: dict[str, int], errors: list[str]
) -> SettlementLine | None:
    if any(cell.strip() for cell in row[width:]):
        errors.append(f"line {line}: {len(row)} fields, but the header names {width}")
        return None
    before = len(errors)

    def cell(column: str) -> str:
        index = columns[column]
        if index >= len(row):
            errors.append(f"line {line}, column {column}: missing ({len(row)} fields)")
            return ""
        return row[index].strip()

    reference = cell(REFERENCE_COLUMN)
    if len(errors) == before and not reference:
        errors.append(f"line {line}, column {REFERENCE_COLUMN}: empty")
    elif len(reference) > 100:
        errors.append(f"line {line}, column {REFERENCE_COLUMN}: longer than 100 characters")
    amount = _amount(line, columns, cell, errors)
    status = cell(STATUS_COLUMN).lower() if STATUS_COLUMN in columns else ""
    if len(errors) > before or amount is None:
        return None
    return SettlementLine(line, reference, amount, status)


def _amount(
    line: int, columns: dict[str, int], cell: Callable[[str], str], errors: list[str]
) -> int | None:
    column = PAISE_COLUMN if PAISE_COLUMN in columns else RUPEES_COLUMN
    before = len(errors)
    text = cell(column)
    if len(errors) > before:
        return None
    if column == PAISE_COLUMN:
        if not _PAISE.fullmatch(text):
            errors.append(f"line {line}, column {column}: {text!r} is not a whole number of paise")
            return None
        paise = int(text)
    else:
        if not _RUPEES.fullmatch(text):
            errors.append(
                f"line {line}, column {column}: {text!r} is not rupees with at most two "
                "decimals (e.g. 500.00, without separators)"
            )
            return None
        paise = int(Decimal(text) * 100)  # exact: at most two decimals
    if paise <= 0:
        errors.append(f"line {line}, column {column}: {text!r} must be more than zero")
        return None
    return paise


# ------------------------------------------------------------------------- the comparison


def compare_settlement(
    ledger: Sequence[LedgerPayment],
    lines: Sequence[SettlementLine],
    elsewhere: Mapping[str, LedgerPayment] | None = None,
) -> Comparison:
    """Match a day's credited (or reversed) payments with the file's lines by reference.

    `elsewhere` holds the channel's other payments named by the file (another day, pending,
    failed), to say why a settled reference is missing from the day's ledger.
    """
    elsewhere = elsewhere or {}
    by_reference: dict[str, list[SettlementLine]] = {}
    for line in lines:
        by_reference.setdefault(line.reference, []).append(line)
    ours = {payment.reference: payment for payment in ledger}
    findings: list[Finding] = []
    matched = Totals()
    for reference, found in by_reference.items():
        if len(found) > 1:
            findings.append(
                Finding(
                    FindingKind.DUPLICATE_IN_FILE,
                    reference,
                    ours[reference].amount_paise if reference in ours else None,
                    sum(line.amount_paise for line in found),
                    tuple(line.line for line in found),
                    ours[reference].account_id if reference in ours else None,
                    f"{len(found)} lines for one reference",
                )
            )
        line = next((line for line in found if line.is_settled), found[0])
        payment = ours.get(reference)
        if payment is None:
            if line.is_settled:
                findings.append(_missing_in_ledger(line, elsewhere.get(reference)))
        elif payment.status == "reversed":
            kind = (
                FindingKind.SETTLED_BUT_REVERSED
                if line.is_settled
                else FindingKind.REVERSED_NOT_SETTLED
            )
            findings.append(_finding(kind, payment, line, f"reversed {_ist(payment.updated_at)}"))
        elif not line.is_settled:
            findings.append(
                _finding(
                    FindingKind.NOT_SETTLED_BY_CHANNEL, payment, line, f"file says {line.status}"
                )
            )
        elif line.amount_paise != payment.amount_paise:
            findings.append(_finding(FindingKind.AMOUNT_DIFFERS, payment, line))
        else:
            matched = matched.plus(payment.amount_paise)
    for payment in ledger:
        if payment.reference not in by_reference:
            kind = (
                FindingKind.REVERSED_NOT_SETTLED
                if payment.status == "reversed"
                else FindingKind.MISSING_IN_FILE
            )
            note = f"received {_ist(payment.received_at)}"
            findings.append(_finding(kind, payment, None, note))
    order = list(FindingKind)
    findings.sort(key=lambda f: (order.index(f.kind), f.reference))
    return Comparison(
        ledger=_totals(p.amount_paise for p in ledger if p.status != "reversed"),
        ledger_reversed=_totals(p.amount_paise for p in ledger if p.status == "reversed"),
        file=_totals(line.amount_paise for line in lines if line.is_settled),
        file_not_settled=_totals(line.amount_paise for line in lines if not line.is_settled),
        matched=matched,
        findings=tuple(findings),
    )


def _finding(
    kind: FindingKind, payment: LedgerPayment, line: SettlementLine | None, note: str = ""
) -> Finding:
    return Finding(
        kind,
        payment.reference,
        payment.amount_paise,
        None if line is None else line.amount_paise,
        () if line is None else (line.line,),
        payment.account_id,
        note,
    )


def _missing_in_ledger(line: SettlementLine, ours: LedgerPayment | None) -> Finding:
    if ours is None:
        note = "no such payment here"
    elif ours.status in ("credited", "reversed"):
        note = f"{ours.status} here, received on {ist_day(ours.received_at)} (another day)"
    else:
        note = f"{ours.status} here since {_ist(ours.updated_at)}"
    return Finding(
        FindingKind.MISSING_IN_LEDGER,
        line.reference,
        None if ours is None else ours.amount_paise,
        line.amount_paise,
        (line.line,),
        None if ours is None else ours.account_id,
        note,
    )


def _totals(amounts: Iterable[int]) -> Totals:
    totals = Totals()
    for amount in amounts:
        totals = totals.plus(amount)
    return totals


def _ist(at: datetime) -> str:
    return at.astimezone(IST).strftime("%Y-%m-%d %H:%M IST")


# ------------------------------------------------------------------------- the use case


@dataclass(frozen=True, slots=True)
class ImportSettlement:
    channel: PaymentChannel
    settlement_day: date  # IST
    content: bytes  # the file as received
    file_name: str = "the settlement file"


def import_settlement(
    cmd: ImportSettlement, settlements: Settlements, clock: Clock
) -> ReconciliationReport:
    """Reconcile one settlement file and keep its findings; the same file again is answered
    from what was kept (and says so), however often or concurrently it is imported."""
    at = clock.now()
    if cmd.settlement_day >= ist_day(at):
        raise InvalidInput(
            f"{cmd.settlement_day} is not over yet in IST: a day is reconciled once it has ended"
        )
    sha256 = hashlib.sha256(cmd.content).hexdigest()
    stored = settlements.find_import(cmd.channel, cmd.settlement_day, sha256)
    if stored is not None:
        return ReconciliationReport.from_summary(
            stored.summary, stored.imported_at, already_imported=True
        )
    lines = parse_settlement_file(cmd.content, cmd.file_name)
    start = ist_midnight(cmd.settlement_day)
    ledger = settlements.received_between(
        cmd.channel, start, ist_midnight(cmd.settlement_day + timedelta(days=1))
    )
    day_references = {payment.reference for payment in ledger}
    elsewhere = settlements.payments_named(
        cmd.channel, {line.reference for line in lines} - day_references
    )
    report = ReconciliationReport(
        cmd.channel,
        cmd.settlement_day,
        sha256,
        at,
        already_imported=False,
        comparison=compare_settlement(ledger, lines, elsewhere),
    )
    kept = settlements.record_import(cmd.channel, cmd.settlement_day, sha256, at, report.as_dict())
    if kept.is_new:
        return report
    return ReconciliationReport.from_summary(kept.summary, kept.imported_at, already_imported=True)
