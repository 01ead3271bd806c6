"""App and website recharges: payment orders, the gateway's signed webhook, order status."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from prepaidgrid.domain.accounts import ACCOUNT_ID
from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.domain.ledger import PaymentChannel
from prepaidgrid.domain.payments import SIGNATURE_HEADER, GatewayEvent, verify_callback
from prepaidgrid.entrypoints.api.deps import Api, api
from prepaidgrid.entrypoints.api.problems import UNREADABLE_BODY, NotConfigured, documented
from prepaidgrid.services.bbps import MIN_RECHARGE_PAISE
from prepaidgrid.services.gateway import (
    MAX_RECHARGE_PAISE,
    CreateOrder,
    GatewayCallback,
    UnknownOrder,
    create_order,
    settle_order,
)
from prepaidgrid.services.ports import PaymentOrder

router = APIRouter(prefix="/api/v1", tags=["recharge: app and website"])
Context = Annotated[Api, Depends(api)]
# Text is checked at the edge: PostgreSQL refuses a NUL in text, which would be a 500.
ORDER_ID = r"^[A-Za-z0-9_-]{1,40}$"
GATEWAY_TXN_ID = r"^[ -~]{1,100}$"  # printable ASCII


class OrderRequest(BaseModel):
    account_id: str = Field(pattern=ACCOUNT_ID.pattern, examples=["SBPDCL-PAT-000123"])
    # The range is checked by the service, which says it in rupees; the schema shows it too.
    amount_paise: int = Field(
        gt=0,
        examples=[50_000],
        json_schema_extra={"minimum": MIN_RECHARGE_PAISE, "maximum": MAX_RECHARGE_PAISE},
    )
    channel: Literal["app", "website"] = "website"


class OrderOut(BaseModel):
    order_id: str
    account_id: str
    amount_paise: int
    channel: str
    status: str
    pay_url: str | None = None


class CallbackBody(BaseModel):
    event: GatewayEvent
    order_id: str = Field(pattern=ORDER_ID)
    gateway_txn_id: str = Field(pattern=GATEWAY_TXN_ID)
    amount_paise: int = Field(gt=0)


class CallbackOut(BaseModel):
    order_id: str
    status: str
    changed: bool


REFUSALS = {
    401: "unsigned, forged or stale (replayed) callback",
    404: "no such account or order",
    409: "contradicts what is recorded (amount, or a failure after a capture)",
    422: "malformed request, or an amount out of range",
    503: "the channel's secret is not configured",
}
PROBLEMS = documented(REFUSALS)


@router.post(
    "/orders",
    status_code=201,
    response_model=OrderOut,
    responses=documented({400: UNREADABLE_BODY, **REFUSALS}),
)
def post_order(body: OrderRequest, context: Context) -> OrderOut:
    """Start an app or website recharge (quick pay by account number: no login needed, as
    the money can only go to the account named). Pay at `pay_url`."""
    if context.gateway is None:
        raise NotConfigured("no payment gateway is configured on this server")
    created = create_order(
        CreateOrder(body.account_id, body.amount_paise, PaymentChannel(body.channel)),
        context.app.new_uow(),
        context.app.clock,
        context.gateway,
    )
    return _order_out(created.order, created.pay_url)


@router.get("/orders/{order_id}", response_model=OrderOut, responses=PROBLEMS)
def get_order(
    order_id: Annotated[str, Path(pattern=ORDER_ID, examples=["ORD0123456789ABCDEF"])],
    context: Context,
) -> OrderOut:
    with context.app.new_uow() as uow:
        order = uow.orders.get(order_id)
    if order is None:
        raise UnknownOrder(f"no order {order_id}")
    return _order_out(order)


def _order_out(order: PaymentOrder, pay_url: str | None = None) -> OrderOut:
    return OrderOut(
        order_id=order.order_id,
        account_id=order.account_id,
        amount_paise=order.amount_paise,
        channel=order.channel.value,
        status=order.status.value,
        pay_url=pay_url,
    )


@router.post("/channels/gateway/webhook", response_model=CallbackOut, responses=PROBLEMS)
async def gateway_webhook(request: Request, context: Context) -> CallbackOut:
    """The gateway's callback, signed: `X-Prepaidgrid-Signature: t=<unix>,v1=<hex>` with
    HMAC-SHA256 over `{t}.{body}`. Checked before anything is read; a repeat is harmless."""
    secret = context.settings.gateway_webhook_secret
    if not secret:
        raise NotConfigured("the gateway webhook secret is not configured on this server")
    body = await request.body()
    verify_callback(
        secret.encode(),
        request.headers.get(SIGNATURE_HEADER),
        body,
        context.app.clock.now(),
        window_s=context.settings.webhook_window_s,
    )
    try:
        parsed = CallbackBody.model_validate(json.loads(body))
    except (ValueError, ValidationError) as error:
        raise InvalidInput(f"the callback's body is not a payment event: {error}") from None
    settled = await run_in_threadpool(
        settle_order,
        GatewayCallback(parsed.order_id, parsed.event, parsed.gateway_txn_id, parsed.amount_paise),
        context.app.new_uow,
        context.app.clock,
        context.app.policies,
    )
    return CallbackOut(
        order_id=settled.order_id, status=settled.status.value, changed=settled.changed
    )
