"""Gateway orders and the payment timeline, in SQL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection as SqlConnection
from sqlalchemy import RowMapping, insert, select, update

from prepaidgrid.adapters.db.tables import payment_events, payment_orders
from prepaidgrid.domain.errors import AlreadyExists
from prepaidgrid.domain.ledger import PaymentChannel, PaymentRef
from prepaidgrid.domain.payments import OrderStatus
from prepaidgrid.services.ports import PaymentOrder


class SqlPaymentOrders:
    def __init__(self, connection: SqlConnection) -> None:
        self._db = connection

    def add(self, order: PaymentOrder) -> None:
        if self.get(order.order_id) is not None:
            raise AlreadyExists(f"order {order.order_id} exists")
        self._db.execute(
            insert(payment_orders).values(
                order_id=order.order_id,
                channel=order.channel.value,
                account_id=order.account_id,
                amount_paise=order.amount_paise,
                status=order.status.value,
                gateway_txn_id=order.gateway_txn_id,
                created_at=order.created_at,
                updated_at=order.updated_at,
            )
        )

    def get(self, order_id: str) -> PaymentOrder | None:
        row = (
            self._db.execute(select(payment_orders).where(payment_orders.c.order_id == order_id))
            .mappings()
            .first()
        )
        return None if row is None else _order(row)

    def lock(self, order_id: str) -> PaymentOrder | None:
        query = select(payment_orders).where(payment_orders.c.order_id == order_id)
        if self._db.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self._db.execute(query).mappings().first()
        return None if row is None else _order(row)

    def set_status(
        self, order_id: str, status: OrderStatus, at: datetime, gateway_txn_id: str | None
    ) -> None:
        values: dict[str, object] = {"status": status.value, "updated_at": at}
        if gateway_txn_id is not None:
            values["gateway_txn_id"] = gateway_txn_id
        self._db.execute(
            update(payment_orders).where(payment_orders.c.order_id == order_id).values(**values)
        )

    def unsettled(self, updated_before: datetime, limit: int) -> list[PaymentOrder]:
        rows = self._db.execute(
            select(payment_orders)
            .where(
                payment_orders.c.status.in_((OrderStatus.CREATED.value, OrderStatus.PENDING.value)),
                payment_orders.c.updated_at < updated_before,
            )
            .order_by(payment_orders.c.updated_at)
            .limit(limit)
        ).mappings()
        return [_order(row) for row in rows]


def _order(row: RowMapping) -> PaymentOrder:
    return PaymentOrder(
        order_id=row["order_id"],
        channel=PaymentChannel(row["channel"]),
        account_id=row["account_id"],
        amount_paise=int(row["amount_paise"]),
        status=OrderStatus(row["status"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        gateway_txn_id=row["gateway_txn_id"],
    )


class SqlPaymentEvents:
    def __init__(self, connection: SqlConnection) -> None:
        self._db = connection

    def add(self, ref: PaymentRef, stage: str, at: datetime, detail: str = "") -> None:
        self._db.execute(
            insert(payment_events).values(
                channel=ref.channel.value,
                reference=ref.reference,
                stage=stage,
                at=at,
                detail=detail,
            )
        )
