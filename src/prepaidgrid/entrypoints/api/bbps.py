"""BBPS biller API: fetch, validate, payment, status by reference, reversal.

Every call carries the BBPS operating unit's key in `X-BBPS-Key` (production adds mutual
TLS at the reverse proxy, docs/deploy.md)."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from prepaidgrid.domain.accounts import ACCOUNT_ID
from prepaidgrid.entrypoints.api.deps import Api, api, require_key
from prepaidgrid.entrypoints.api.problems import UNREADABLE_BODY, documented
from prepaidgrid.services import bbps
from prepaidgrid.services.gateway import MAX_RECHARGE_PAISE

Context = Annotated[Api, Depends(api)]
# A security scheme, so that the schema says which calls need the key; checked below (401).
bbps_key = APIKeyHeader(
    name="X-BBPS-Key",
    scheme_name="BBPSKey",
    description="The BBPS operating unit's key.",
    auto_error=False,
)


def bbps_caller(context: Context, x_bbps_key: Annotated[str | None, Depends(bbps_key)]) -> Api:
    require_key(x_bbps_key, context.settings.bbps_api_key, "BBPS key (X-BBPS-Key)")
    return context


Caller = Annotated[Api, Depends(bbps_caller)]
router = APIRouter(prefix="/api/v1/bbps", tags=["recharge: BBPS biller"])

REFUSALS = {
    401: "missing or wrong X-BBPS-Key",
    404: "no such consumer or payment",
    409: "the reference is recorded for another account or amount",
    422: "malformed request, or an amount out of range",
    503: "BBPS is not configured on this server",
}
PROBLEMS = documented(REFUSALS)
BODY_PROBLEMS = documented({400: UNREADABLE_BODY, **REFUSALS})
# Text is checked at the edge: PostgreSQL refuses a NUL in text, which would be a 500.
BBPS_REF = r"^[A-Za-z0-9._:-]{1,100}$"


class FetchIn(BaseModel):
    account_id: str = Field(pattern=ACCOUNT_ID.pattern, examples=["SBPDCL-PAT-000123"])


class BillOut(BaseModel):
    account_id: str
    balance_paise: int
    due_paise: int
    supply_state: str
    min_paise: int
    max_paise: int


class ValidateIn(FetchIn):
    # The range is checked by the service, which says it in rupees; the schema shows it too.
    amount_paise: int = Field(
        gt=0,
        examples=[50_000],
        json_schema_extra={"minimum": bbps.MIN_RECHARGE_PAISE, "maximum": MAX_RECHARGE_PAISE},
    )


class PaymentIn(ValidateIn):
    bbps_ref: str = Field(pattern=BBPS_REF, examples=["BBPS-7781"])


class ReversalIn(BaseModel):
    bbps_ref: str = Field(pattern=BBPS_REF, examples=["BBPS-7781"])


class PaymentOut(BaseModel):
    bbps_ref: str
    account_id: str
    amount_paise: int
    status: str
    balance_paise: int | None = None
    supply_state: str | None = None


@router.post("/fetch", response_model=BillOut, responses=BODY_PROBLEMS)
def fetch(body: FetchIn, caller: Caller) -> BillOut:
    bill = bbps.fetch_bill(body.account_id, caller.app.new_uow())
    return BillOut(**_fields(bill))


@router.post("/validate", response_model=BillOut, responses=BODY_PROBLEMS)
def validate(body: ValidateIn, caller: Caller) -> BillOut:
    bbps.validate_amount(body.amount_paise)
    return BillOut(**_fields(bbps.fetch_bill(body.account_id, caller.app.new_uow())))


@router.post("/payments", response_model=PaymentOut, responses=BODY_PROBLEMS)
async def pay(body: PaymentIn, caller: Caller) -> PaymentOut:
    """Credited once per `bbps_ref`: a retry returns the same answer and credits nothing."""
    app = caller.app
    payment = await run_in_threadpool(
        bbps.post_payment,
        body.bbps_ref,
        body.account_id,
        body.amount_paise,
        app.new_uow,
        app.clock,
        app.policies,
    )
    return PaymentOut(**_fields(payment))


@router.get("/payments/{bbps_ref}", response_model=PaymentOut, responses=PROBLEMS)
def status(
    bbps_ref: Annotated[str, Path(pattern=BBPS_REF, examples=["BBPS-7781"])], caller: Caller
) -> PaymentOut:
    return PaymentOut(**_fields(bbps.payment_status(bbps_ref, caller.app.new_uow())))


@router.post("/reversals", response_model=PaymentOut, responses=BODY_PROBLEMS)
async def reverse(body: ReversalIn, caller: Caller) -> PaymentOut:
    app = caller.app
    payment = await run_in_threadpool(
        bbps.reverse_payment, body.bbps_ref, app.new_uow, app.clock, app.policies
    )
    return PaymentOut(**_fields(payment))


def _fields(value: object) -> dict[str, Any]:
    return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}  # type: ignore[arg-type]
