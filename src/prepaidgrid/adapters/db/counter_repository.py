"""Cash counters, their cashiers and their receipts, in SQL."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection as SqlConnection
from sqlalchemy import RowMapping, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from prepaidgrid.adapters.db.tables import (
    accounts,
    cashiers,
    counter_receipts,
    counters,
    org_units,
    payments,
)
from prepaidgrid.domain.counter import Receipt
from prepaidgrid.domain.errors import AlreadyExists, NotFound
from prepaidgrid.domain.ledger import PaymentChannel
from prepaidgrid.services.counter import (
    CashierRecord,
    CounterRecord,
    ReceiptView,
    SignedReceipt,
    StoredReceipt,
)


class SqlCounters:
    def __init__(self, connection: SqlConnection) -> None:
        self._db = connection

    def add_counter(self, counter: CounterRecord) -> None:
        level = self._db.execute(
            select(org_units.c.level).where(org_units.c.code == counter.subdivision_code)
        ).scalar()
        if level != "subdivision":
            raise NotFound(f"no subdivision {counter.subdivision_code!r}")
        try:
            with self._db.begin_nested():
                self._db.execute(
                    insert(counters).values(
                        counter_id=counter.counter_id,
                        name=counter.name,
                        subdivision_code=counter.subdivision_code,
                        signing_key=counter.signing_key,
                        created_at=counter.created_at,
                    )
                )
        except IntegrityError:
            raise AlreadyExists(f"counter {counter.counter_id} already exists") from None

    def counter(self, counter_id: str) -> CounterRecord | None:
        row = (
            self._db.execute(select(counters).where(counters.c.counter_id == counter_id))
            .mappings()
            .first()
        )
        if row is None:
            return None
        return CounterRecord(
            row["counter_id"],
            row["name"],
            row["subdivision_code"],
            row["signing_key"],
            row["created_at"],
        )

    def add_cashier(self, cashier: CashierRecord) -> None:
        if self.counter(cashier.counter_id) is None:
            raise NotFound(f"no counter {cashier.counter_id!r}")
        try:
            with self._db.begin_nested():
                self._db.execute(
                    insert(cashiers).values(
                        cashier_id=cashier.cashier_id,
                        name=cashier.name,
                        password_hash=cashier.password_hash,
                        counter_id=cashier.counter_id,
                        active=cashier.active,
                        failed_logins=cashier.failed_logins,
                        locked_until=cashier.locked_until,
                        created_at=cashier.created_at,
                    )
                )
        except IntegrityError:
            raise AlreadyExists(f"cashier {cashier.cashier_id} already exists") from None

    def cashier(self, cashier_id: str, *, lock: bool = False) -> CashierRecord | None:
        query = select(cashiers).where(cashiers.c.cashier_id == cashier_id)
        if lock and self._db.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self._db.execute(query).mappings().first()
        if row is None:
            return None
        return CashierRecord(
            cashier_id=row["cashier_id"],
            name=row["name"],
            counter_id=row["counter_id"],
            password_hash=row["password_hash"],
            active=bool(row["active"]),
            failed_logins=int(row["failed_logins"]),
            locked_until=row["locked_until"],
            created_at=row["created_at"],
        )

    def set_login_state(
        self, cashier_id: str, failed_logins: int, locked_until: datetime | None
    ) -> None:
        self._db.execute(
            update(cashiers)
            .where(cashiers.c.cashier_id == cashier_id)
            .values(failed_logins=failed_logins, locked_until=locked_until)
        )

    def add_receipt(self, stored: StoredReceipt) -> bool:
        receipt = stored.receipt
        try:
            with self._db.begin_nested():
                self._db.execute(
                    insert(counter_receipts).values(
                        receipt_no=receipt.receipt_no,
                        counter_id=receipt.counter_id,
                        seq=receipt.seq,
                        cashier_id=receipt.cashier_id,
                        account_id=receipt.account_id,
                        amount_paise=receipt.amount_paise,
                        issued_at=receipt.issued_at,
                        received_at=stored.received_at,
                        offline=stored.signed.offline,
                        signature=stored.signed.signature,
                    )
                )
        except IntegrityError:
            if self.receipt(receipt.receipt_no) is None:
                raise  # not a repeat: a constraint the service should have checked
            return False
        return True

    def receipt(self, receipt_no: str) -> StoredReceipt | None:
        row = (
            self._db.execute(
                select(counter_receipts).where(counter_receipts.c.receipt_no == receipt_no)
            )
            .mappings()
            .first()
        )
        return None if row is None else _stored(row)

    def receipt_view(self, receipt_no: str) -> ReceiptView | None:
        credited = (
            select(payments.c.id)
            .where(
                payments.c.channel == PaymentChannel.COUNTER.value,
                payments.c.reference == counter_receipts.c.receipt_no,
                payments.c.status == "credited",
            )
            .exists()
        )
        row = (
            self._db.execute(
                select(
                    counter_receipts,
                    counters.c.name.label("counter_name"),
                    counters.c.subdivision_code,
                    cashiers.c.name.label("cashier_name"),
                    accounts.c.consumer_name,
                    credited.label("is_credited"),
                )
                .join(counters, counters.c.counter_id == counter_receipts.c.counter_id)
                .join(cashiers, cashiers.c.cashier_id == counter_receipts.c.cashier_id)
                .join(accounts, accounts.c.account_id == counter_receipts.c.account_id)
                .where(counter_receipts.c.receipt_no == receipt_no)
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        return ReceiptView(
            _stored(row),
            row["counter_name"],
            row["subdivision_code"],
            row["cashier_name"],
            row["consumer_name"],
            bool(row["is_credited"]),
        )

    def receipts_issued(
        self, cashier_id: str, start: datetime, end: datetime
    ) -> list[StoredReceipt]:
        rows = self._db.execute(
            select(counter_receipts)
            .where(
                counter_receipts.c.cashier_id == cashier_id,
                counter_receipts.c.issued_at >= start,
                counter_receipts.c.issued_at < end,
            )
            .order_by(counter_receipts.c.counter_id, counter_receipts.c.seq)
        ).mappings()
        return [_stored(row) for row in rows]

    def sequence_window(self, counter_id: str, start: datetime, end: datetime) -> tuple[int, int]:
        of_counter = counter_receipts.c.counter_id == counter_id
        seq = counter_receipts.c.seq
        before, after, highest = self._db.execute(
            select(
                select(func.max(seq))
                .where(of_counter, counter_receipts.c.issued_at < start)
                .scalar_subquery(),
                select(func.min(seq))
                .where(of_counter, counter_receipts.c.issued_at >= end)
                .scalar_subquery(),
                select(func.max(seq)).where(of_counter).scalar_subquery(),
            )
        ).one()
        low = int(before or 0) + 1
        high = int(after) - 1 if after is not None else int(highest or 0)
        return low, high

    def seqs_between(self, counter_id: str, low: int, high: int) -> list[int]:
        rows = self._db.execute(
            select(counter_receipts.c.seq)
            .where(
                counter_receipts.c.counter_id == counter_id,
                counter_receipts.c.seq.between(low, high),
            )
            .order_by(counter_receipts.c.seq)
        ).scalars()
        return [int(seq) for seq in rows]

    def credited(self, receipt_nos: Iterable[str]) -> set[str]:
        wanted = list(receipt_nos)
        if not wanted:
            return set()
        rows = self._db.execute(
            select(payments.c.reference).where(
                payments.c.channel == PaymentChannel.COUNTER.value,
                payments.c.reference.in_(wanted),
                payments.c.status == "credited",
            )
        ).scalars()
        return set(rows)


def _stored(row: RowMapping) -> StoredReceipt:
    receipt = Receipt(
        counter_id=row["counter_id"],
        seq=int(row["seq"]),
        cashier_id=row["cashier_id"],
        account_id=row["account_id"],
        amount_paise=int(row["amount_paise"]),
        issued_at=row["issued_at"],
    )
    return StoredReceipt(
        SignedReceipt(receipt, row["signature"], bool(row["offline"])), row["received_at"]
    )
