"""Repositories: all the SQL of the use cases, one class per port of services/ports.py."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection as SqlConnection
from sqlalchemy import and_, bindparam, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from prepaidgrid.adapters.db.bulk import instant_for
from prepaidgrid.adapters.db.tables import (
    accounts,
    daily_charges,
    journals,
    ledger_accounts,
    meters,
    org_units,
    outbox,
    payments,
    platform_flags,
    postings,
    supply_changes,
)
from prepaidgrid.domain.accounts import (
    Connection,
    MonthToDate,
    NewConnection,
    OrgLevel,
    OrgUnit,
)
from prepaidgrid.domain.arrears import ArrearsPlan, RecoveryKind
from prepaidgrid.domain.errors import (
    AlreadyExists,
    DuplicateJournal,
    DuplicatePayment,
    InvalidInput,
    NotFound,
    UnknownAccount,
)
from prepaidgrid.domain.ledger import (
    AccountKind,
    Journal,
    PaymentChannel,
    PaymentRef,
    arrears,
    wallet,
)
from prepaidgrid.domain.supply import SupplySnapshot, SupplyState
from prepaidgrid.services.ports import DailyCharge, OutboxMessage, PaymentRecord, SupplyChange

SAFE_MODE = "safe_mode"


def _plan_to_json(plan: ArrearsPlan | None) -> dict[str, Any] | None:
    if plan is None:
        return None
    return {
        "total_paise": plan.total_paise,
        "kind": plan.kind.value,
        "days": plan.days,
        "share_basis_points": plan.share_basis_points,
        "start_day": plan.start_day.isoformat() if plan.start_day else None,
    }


def _plan_from_json(data: dict[str, Any] | None) -> ArrearsPlan | None:
    if not data:
        return None
    return ArrearsPlan(
        total_paise=int(data["total_paise"]),
        kind=RecoveryKind(data["kind"]),
        days=int(data["days"]),
        share_basis_points=int(data["share_basis_points"]),
        start_day=date.fromisoformat(data["start_day"]) if data.get("start_day") else None,
    )


def _connection_query() -> Any:
    wallet_row = ledger_accounts.alias("w")
    arrears_row = ledger_accounts.alias("a")
    return (
        select(
            accounts,
            wallet_row.c.balance_paise.label("wallet_paise"),
            arrears_row.c.balance_paise.label("arrears_paise"),
            meters.c.meter_id,
        )
        .join(wallet_row, wallet_row.c.code == literal("wallet:") + accounts.c.account_id)
        .join(arrears_row, arrears_row.c.code == literal("arrears:") + accounts.c.account_id)
        .outerjoin(
            meters,
            and_(meters.c.account_id == accounts.c.account_id, meters.c.removed_at.is_(None)),
        )
    )


# Built once: building it per call cost a millisecond, more than running it.
_CONNECTION_QUERY = _connection_query()


def _connection_of(row: Any) -> Connection:
    return Connection(
        account_id=row["account_id"],
        category=row["category"],
        discom=row["discom"],
        sanctioned_load_w=row["sanctioned_load_w"],
        supply_profile=row["supply_profile"],
        language=row["language"],
        mobile=row["mobile"],
        wallet_paise=int(row["wallet_paise"]),
        arrears_paise=int(row["arrears_paise"]),
        supply=SupplySnapshot(
            SupplyState(row["supply_state"]), row["zero_at"], row["warned_at"], row["cut_at"]
        ),
        migrated_at=row["migrated_at"],
        meter_id=row["meter_id"],
        arrears_plan=_plan_from_json(row["arrears_plan"]),
    )


class SqlConnections:
    def __init__(self, connection: SqlConnection) -> None:
        self._db = connection

    def add_org_unit(self, unit: OrgUnit) -> None:
        if unit.parent_code is not None:
            parent_level = self._db.execute(
                select(org_units.c.level).where(org_units.c.code == unit.parent_code)
            ).scalar()
            if parent_level is None:
                raise NotFound(f"no parent unit {unit.parent_code!r}")
            if unit.parent_level is None or parent_level != unit.parent_level.value:
                raise InvalidInput(
                    f"a {unit.level.value} belongs to a "
                    f"{unit.parent_level.value if unit.parent_level else 'nothing'}, "
                    f"but {unit.parent_code} is a {parent_level}"
                )
        try:
            with self._db.begin_nested():
                self._db.execute(
                    insert(org_units).values(
                        code=unit.code,
                        level=unit.level.value,
                        name_en=unit.name_en,
                        name_hi=unit.name_hi,
                        parent_code=unit.parent_code,
                    )
                )
        except IntegrityError:
            raise AlreadyExists(f"organisation unit {unit.code} already exists") from None

    def org_units(self) -> list[OrgUnit]:
        depth = {level.value: n for n, level in enumerate(OrgLevel)}
        rows = self._db.execute(select(org_units)).mappings().all()
        units = [
            OrgUnit(r["code"], OrgLevel(r["level"]), r["name_en"], r["name_hi"], r["parent_code"])
            for r in rows
        ]
        return sorted(units, key=lambda u: (depth[u.level.value], u.code))

    def add(self, new: NewConnection, at: datetime) -> None:
        known = self._db.execute(
            select(org_units.c.level).where(org_units.c.code == new.subdivision_code)
        ).scalar()
        if known != "subdivision":
            raise NotFound(f"no subdivision {new.subdivision_code!r}")
        discom = self._discom_of(new.subdivision_code)
        if discom != new.discom:
            raise InvalidInput(
                f"subdivision {new.subdivision_code} belongs to {discom}, not {new.discom}"
            )
        try:
            with self._db.begin_nested():
                self._db.execute(
                    insert(accounts).values(
                        account_id=new.account_id,
                        consumer_name=new.consumer_name,
                        mobile=new.mobile,
                        email=new.email,
                        language=new.language,
                        category=new.category,
                        discom=new.discom,
                        sanctioned_load_w=new.sanctioned_load_w,
                        subdivision_code=new.subdivision_code,
                        supply_profile=new.supply_profile,
                        opened_at=at,
                        supply_state=SupplyState.CONNECTED.value,
                    )
                )
                self._db.execute(
                    insert(ledger_accounts),
                    [
                        {
                            "code": wallet(new.account_id),
                            "kind": AccountKind.WALLET.value,
                            "account_id": new.account_id,
                            "balance_paise": 0,
                        },
                        {
                            "code": arrears(new.account_id),
                            "kind": AccountKind.ARREARS.value,
                            "account_id": new.account_id,
                            "balance_paise": 0,
                        },
                    ],
                )
        except IntegrityError:
            raise AlreadyExists(f"account {new.account_id} already exists") from None

    def _discom_of(self, code: str | None) -> str | None:
        """Walk up the tree (at most four levels) to the DISCOM."""
        for _ in range(len(OrgLevel)):
            row = self._db.execute(
                select(org_units.c.level, org_units.c.parent_code).where(org_units.c.code == code)
            ).first()
            if row is None:
                return None
            if row.level == OrgLevel.DISCOM.value:
                return code
            code = row.parent_code
        return None

    def _select(self, account_id: str, *, for_update: bool) -> Connection:
        query = _CONNECTION_QUERY.where(accounts.c.account_id == account_id)
        if for_update:
            # The account row is the lock that serialises one consumer's money movements.
            query = query.with_for_update(of=accounts)
        row = self._db.execute(query).mappings().first()
        if row is None:
            raise UnknownAccount(f"no account {account_id!r}")
        return _connection_of(row)

    def get_many(self, account_ids: list[str]) -> dict[str, Connection]:
        """Several accounts in one query (unknown ids are simply absent)."""
        found: dict[str, Connection] = {}
        for start in range(0, len(account_ids), 5_000):
            chunk = account_ids[start : start + 5_000]
            rows = self._db.execute(
                _CONNECTION_QUERY.where(accounts.c.account_id.in_(chunk))
            ).mappings()
            found.update((row["account_id"], _connection_of(row)) for row in rows)
        return found

    def get(self, account_id: str) -> Connection:
        return self._select(account_id, for_update=False)

    def lock(self, account_id: str) -> Connection:
        return self._select(account_id, for_update=True)

    def save_supply(self, change: SupplyChange, snapshot: SupplySnapshot) -> None:
        self.save_supplies([(change, snapshot)])

    def save_supplies(self, saved: list[tuple[SupplyChange, SupplySnapshot]]) -> None:
        """Many accounts' new supply snapshots and change records, two statements in all."""
        if not saved:
            return
        self._db.execute(
            update(accounts)
            .where(accounts.c.account_id == bindparam("target"))
            .values(
                supply_state=bindparam("state"),
                zero_at=bindparam("zero"),
                warned_at=bindparam("warned"),
                cut_at=bindparam("cut"),
            ),
            [
                {
                    "target": change.account_id,
                    "state": snapshot.state.value,
                    "zero": snapshot.zero_at,
                    "warned": snapshot.warned_at,
                    "cut": snapshot.cut_at,
                }
                for change, snapshot in saved
            ],
        )
        self._db.execute(
            insert(supply_changes),
            [
                {
                    "account_id": change.account_id,
                    "at": change.at,
                    "from_state": change.from_state,
                    "to_state": change.to_state,
                    "action": change.action,
                    "reasons": list(change.reasons),
                }
                for change, _ in saved
            ],
        )

    def install_meter(
        self, account_id: str, meter_id: str, at: datetime, plan: ArrearsPlan | None
    ) -> None:
        try:
            with self._db.begin_nested():
                self._db.execute(
                    insert(meters).values(meter_id=meter_id, account_id=account_id, installed_at=at)
                )
        except IntegrityError:
            raise AlreadyExists(f"meter {meter_id} is already installed") from None
        self._db.execute(
            update(accounts)
            .where(accounts.c.account_id == account_id)
            .values(migrated_at=at, arrears_plan=_plan_to_json(plan))
        )

    def replace_meter(
        self, account_id: str, old_meter_id: str, new_meter_id: str, at: datetime
    ) -> None:
        retired = self._db.execute(
            update(meters)
            .where(
                meters.c.meter_id == old_meter_id,
                meters.c.account_id == account_id,
                meters.c.removed_at.is_(None),
            )
            .values(removed_at=at)
        )
        if retired.rowcount != 1:
            raise NotFound(f"meter {old_meter_id} is not in service on account {account_id}")
        try:
            with self._db.begin_nested():
                self._db.execute(
                    insert(meters).values(
                        meter_id=new_meter_id, account_id=account_id, installed_at=at
                    )
                )
        except IntegrityError:
            raise AlreadyExists(f"meter {new_meter_id} is already installed") from None


class SqlLedger:
    def __init__(self, connection: SqlConnection) -> None:
        self._db = connection

    def add(self, journal: Journal) -> None:
        journal_id = uuid.uuid4()
        try:
            with self._db.begin_nested():
                # Postings first, the journal last: its insert seals and checks them.
                self._db.execute(
                    insert(postings),
                    [
                        {
                            "journal_id": journal_id,
                            "ledger_account": p.ledger_account,
                            "amount_paise": p.amount_paise,
                        }
                        for p in journal.postings
                    ],
                )
                self._db.execute(
                    insert(journals).values(
                        id=journal_id,
                        idempotency_key=journal.key,
                        kind=journal.kind.value,
                        account_id=journal.account_id,
                        posted_at=journal.posted_at,
                        memo=journal.memo,
                    )
                )
        except IntegrityError as error:
            if "idempotency_key" in str(error.orig) or "uq_journals" in str(error.orig):
                raise DuplicateJournal(f"journal {journal.key} was already posted") from None
            raise

    def has(self, key: str) -> bool:
        found = self._db.execute(
            select(journals.c.id).where(journals.c.idempotency_key == key)
        ).first()
        return found is not None


class SqlPayments:
    def __init__(self, connection: SqlConnection) -> None:
        self._db = connection

    def get(self, ref: PaymentRef) -> PaymentRecord | None:
        row = (
            self._db.execute(
                select(payments).where(
                    payments.c.channel == ref.channel.value, payments.c.reference == ref.reference
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        return PaymentRecord(
            PaymentRef(PaymentChannel(row["channel"]), row["reference"]),
            row["account_id"],
            int(row["amount_paise"]),
            row["status"],
            row["received_at"],
            int(row["arrears_share_paise"]),
        )

    def add(self, payment: PaymentRecord) -> None:
        try:
            with self._db.begin_nested():
                self._db.execute(
                    insert(payments).values(
                        channel=payment.ref.channel.value,
                        reference=payment.ref.reference,
                        account_id=payment.account_id,
                        amount_paise=payment.amount_paise,
                        arrears_share_paise=payment.arrears_share_paise,
                        status=payment.status,
                        received_at=payment.received_at,
                        updated_at=payment.received_at,
                    )
                )
        except IntegrityError:
            raise DuplicatePayment(
                f"payment {payment.ref.channel.value}:{payment.ref.reference} already recorded"
            ) from None

    def set_status(
        self, ref: PaymentRef, status: str, at: datetime, arrears_share_paise: int = 0
    ) -> None:
        self._db.execute(
            update(payments)
            .where(payments.c.channel == ref.channel.value, payments.c.reference == ref.reference)
            .values(status=status, updated_at=at, arrears_share_paise=arrears_share_paise)
        )

    def pending_paise(self, account_id: str) -> int:
        return self.pending_paise_of([account_id]).get(account_id, 0)

    def pending_paise_of(self, account_ids: list[str]) -> dict[str, int]:
        """Pending payments per account; an account with none is absent."""
        if not account_ids:
            return {}
        rows = self._db.execute(
            select(payments.c.account_id, func.sum(payments.c.amount_paise))
            .where(payments.c.account_id.in_(account_ids), payments.c.status == "pending")
            .group_by(payments.c.account_id)
        ).all()
        return {row[0]: int(row[1]) for row in rows}


class SqlCharges:
    def __init__(self, connection: SqlConnection) -> None:
        self._db = connection

    def month_to_date(self, account_id: str, month: date, before: date) -> MonthToDate:
        row = self._db.execute(
            select(
                func.coalesce(func.sum(daily_charges.c.used_wh), 0),
                func.count(),
                func.coalesce(func.max(daily_charges.c.max_demand_w), 0),
                func.max(daily_charges.c.bill_day),
            ).where(
                daily_charges.c.account_id == account_id,
                daily_charges.c.bill_day >= month,
                daily_charges.c.bill_day < before,
            )
        ).one()
        return MonthToDate(int(row[0]), int(row[1]), int(row[2]), row[3])

    def has(self, account_id: str, bill_day: date) -> bool:
        found = self._db.execute(
            select(daily_charges.c.bill_day).where(
                daily_charges.c.account_id == account_id, daily_charges.c.bill_day == bill_day
            )
        ).first()
        return found is not None

    def add(self, charge: DailyCharge) -> None:
        try:
            with self._db.begin_nested():
                self._db.execute(
                    insert(daily_charges).values(
                        account_id=charge.account_id,
                        bill_day=charge.bill_day,
                        used_wh=charge.used_wh,
                        month_used_wh=charge.month_used_wh,
                        max_demand_w=charge.max_demand_w,
                        energy_paise=charge.energy_paise,
                        subsidy_paise=charge.subsidy_paise,
                        rebate_paise=charge.rebate_paise,
                        tod_paise=charge.tod_paise,
                        fixed_paise=charge.fixed_paise,
                        duty_paise=charge.duty_paise,
                        total_paise=charge.total_paise,
                        instalment_paise=charge.instalment_paise,
                        tariff_id=charge.tariff_id,
                        explanation=[dict(line) for line in charge.explanation],
                        posted_at=charge.posted_at,
                    )
                )
        except IntegrityError:
            raise DuplicateJournal(
                f"charges for {charge.account_id} on {charge.bill_day} were already posted"
            ) from None


OUTBOX_COLUMNS = ("dedupe_key", "kind", "account_id", "payload", "created_at")


def outbox_rows(db: SqlConnection, messages: list[OutboxMessage]) -> list[tuple[Any, ...]]:
    """Outbox messages as driver-level rows of OUTBOX_COLUMNS, for the bulk inserts."""
    instant = instant_for(db)
    return [
        (
            m.dedupe_key,
            m.kind,
            m.account_id,
            json.dumps(dict(m.payload), ensure_ascii=False),
            instant(m.created_at),
        )
        for m in messages
    ]


class SqlOutbox:
    def __init__(self, connection: SqlConnection) -> None:
        self._db = connection

    def add(self, message: OutboxMessage) -> bool:
        try:
            with self._db.begin_nested():
                self._db.execute(
                    insert(outbox).values(
                        dedupe_key=message.dedupe_key,
                        kind=message.kind,
                        account_id=message.account_id,
                        payload=dict(message.payload),
                        created_at=message.created_at,
                    )
                )
        except IntegrityError:
            return False
        return True

    def pending(self, kind: str, limit: int) -> list[tuple[int, OutboxMessage]]:
        rows = (
            self._db.execute(
                select(outbox)
                .where(outbox.c.status == "pending", outbox.c.kind == kind)
                .order_by(outbox.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            .mappings()
            .all()
        )
        return [
            (
                int(row["id"]),
                OutboxMessage(
                    row["dedupe_key"],
                    row["kind"],
                    row["account_id"],
                    row["payload"],
                    row["created_at"],
                ),
            )
            for row in rows
        ]

    def mark_sent(self, message_id: int) -> None:
        self._db.execute(update(outbox).where(outbox.c.id == message_id).values(status="sent"))


class SqlPlatform:
    def __init__(self, connection: SqlConnection) -> None:
        self._db = connection

    def is_safe_mode(self) -> bool:
        flag = self._db.execute(
            select(platform_flags.c.is_on).where(platform_flags.c.name == SAFE_MODE)
        ).scalar()
        return bool(flag)

    def set_safe_mode(self, is_on: bool, reason: str, at: datetime) -> None:
        changed = self._db.execute(
            update(platform_flags)
            .where(platform_flags.c.name == SAFE_MODE)
            .values(is_on=is_on, reason=reason, since=at)
        )
        if changed.rowcount == 0:
            self._db.execute(
                insert(platform_flags).values(name=SAFE_MODE, is_on=is_on, reason=reason, since=at)
            )
