"""The consumer API (the app): log in by mobile and one-time code, then read one's own
connections — balance, days left, daily use, the statement, recharges. Recharge through
POST /api/v1/orders. Authorization: `Bearer <token>` from POST /consumer/sessions; the API
takes no cookies, so it needs no CSRF token (the portal's pages do)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from prepaidgrid.adapters.db.consumer_read_models import SqlConsumerPortal
from prepaidgrid.domain.access import AccessDenied
from prepaidgrid.domain.accounts import ACCOUNT_ID
from prepaidgrid.domain.errors import InvalidInput, UnknownAccount
from prepaidgrid.domain.units import IST
from prepaidgrid.entrypoints.api.deps import Api, api
from prepaidgrid.entrypoints.api.problems import NotConfigured, documented
from prepaidgrid.services.access import (
    RequestCode,
    VerifyCode,
    Visitor,
    log_out,
    request_login_code,
    verify_login_code,
    visitor_of,
)

router = APIRouter(prefix="/api/v1", tags=["consumers"])
Context = Annotated[Api, Depends(api)]
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ConsumerSession",
    description="The token from POST /api/v1/consumer/sessions.",
)

R401 = documented({401: "no, ended or expired session token; or a wrong code"})
R404 = documented({404: "no such account among this consumer's connections"})
R400 = documented({400: "the body is not readable JSON"})
R422 = documented({422: "malformed request"})
R429 = documented({429: "too many codes or wrong tries: locked out for a while"})
R503 = documented({503: "the session secret is not configured on this server"})


def _secret(context: Api) -> bytes:
    if not context.settings.session_secret:
        raise NotConfigured("the session secret is not configured on this server")
    return context.settings.session_secret.encode()


def visitor_behind(context: Api, credentials: HTTPAuthorizationCredentials | None) -> Visitor:
    """The live session behind a bearer token (a consumer's or an officer's), else 401."""
    if credentials is None:
        raise AccessDenied("no session token: log in first")
    visitor = visitor_of(credentials.credentials, context.app.new_uow(), context.app.clock)
    if visitor is None:
        raise AccessDenied("this session has ended or expired: log in again")
    return visitor


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def consumer_mobile(context: Context, credentials: Credentials = None) -> str:
    mobile = visitor_behind(context, credentials).mobile
    if mobile is None:
        raise AccessDenied("this is an officer's session, not a consumer's")
    return mobile


Mobile = Annotated[str, Depends(consumer_mobile)]


MOBILE_PATTERN = r"^(\+91 ?)?[6-9][0-9]{9}$"  # as domain/access.py's require_mobile takes it
AccountPath = Annotated[str, Path(pattern=ACCOUNT_ID.pattern, examples=["SBPDCL-PAT-000123"])]


class CodeRequest(BaseModel):
    mobile: str = Field(pattern=MOBILE_PATTERN, examples=["9876500001"])


class CodeSent(BaseModel):
    mobile: str
    valid_minutes: int


class CodeLogin(BaseModel):
    mobile: str = Field(pattern=MOBILE_PATTERN, examples=["9876500001"])
    code: str = Field(min_length=6, max_length=6, pattern=r"^[0-9]{6}$")


class SessionOut(BaseModel):
    token: str
    token_type: str = "bearer"
    expires_at: datetime


@router.post(
    "/consumer/login-codes",
    status_code=202,
    response_model=CodeSent,
    responses={**R400, **R422, **R429, **R503},
)
def ask_for_code(body: CodeRequest, context: Context) -> CodeSent:
    """Send a 6-digit code by SMS to a registered mobile (an unknown one gets the same
    answer and no SMS). At most 3 codes in 15 minutes."""
    app = context.app
    sent = request_login_code(RequestCode(body.mobile), app.new_uow(), app.clock, _secret(context))
    return CodeSent(mobile=sent.mobile, valid_minutes=sent.valid_minutes)


@router.post(
    "/consumer/sessions",
    status_code=201,
    response_model=SessionOut,
    responses={**R400, **R401, **R422, **R429, **R503},
)
def log_in(body: CodeLogin, context: Context) -> SessionOut:
    """A session for the right code within 5 minutes; 5 wrong tries lock the mobile out."""
    app = context.app
    logged_in = verify_login_code(
        VerifyCode(body.mobile, body.code), app.new_uow(), app.clock, _secret(context)
    )
    return SessionOut(token=logged_in.token, expires_at=logged_in.session.expires_at)


@router.delete("/consumer/sessions/current", status_code=204, responses=R401)
def log_out_now(context: Context, _mobile: Mobile, credentials: Credentials = None) -> None:
    """End this session."""
    if credentials is not None:
        log_out(credentials.credentials, context.app.new_uow(), context.app.clock)


class AccountOut(BaseModel):
    account_id: str
    consumer_name: str
    supply_state: str
    wallet_paise: int


class OverviewOut(AccountOut):
    meter_id: str | None
    category: str
    sanctioned_load_w: int
    mobile_masked: str
    supply_zero_at: datetime | None
    cut_at: datetime | None
    arrears_paise: int
    average_daily_charge_paise: int
    days_left: int | None


def _own(context: Api, mobile: str, account_id: str) -> SqlConsumerPortal:
    portal = SqlConsumerPortal(context.app.engine)
    if all(a.account_id != account_id for a in portal.accounts_of_mobile(mobile)):
        raise UnknownAccount(f"no account {account_id} among your connections")
    return portal


@router.get("/consumer/accounts", response_model=list[AccountOut], responses=R401)
def my_accounts(context: Context, mobile: Mobile) -> list[AccountOut]:
    portal = SqlConsumerPortal(context.app.engine)
    return [
        AccountOut(
            account_id=a.account_id,
            consumer_name=a.consumer_name,
            supply_state=a.supply_state.value,
            wallet_paise=a.wallet_paise,
        )
        for a in portal.accounts_of_mobile(mobile)
    ]


@router.get(
    "/consumer/accounts/{account_id}",
    response_model=OverviewOut,
    responses={**R422, **R401, **R404},
)
def my_account(account_id: AccountPath, context: Context, mobile: Mobile) -> OverviewOut:
    today = context.app.clock.now().astimezone(IST).date()
    o = _own(context, mobile, account_id).overview(account_id, today)
    if o is None:
        raise UnknownAccount(f"no account {account_id} among your connections")
    return OverviewOut(
        account_id=o.account_id,
        consumer_name=o.consumer_name,
        supply_state=o.supply_state.value,
        wallet_paise=o.wallet_paise,
        meter_id=o.meter_id,
        category=o.category,
        sanctioned_load_w=o.sanctioned_load_w,
        mobile_masked=o.mobile_masked,
        supply_zero_at=o.zero_at,
        cut_at=o.cut_at,
        arrears_paise=o.arrears_paise,
        average_daily_charge_paise=o.average_daily_charge_paise,
        days_left=o.days_left,
    )


class DayUseOut(BaseModel):
    day: date
    used_wh: int
    is_estimated: bool


@router.get(
    "/consumer/accounts/{account_id}/daily-use",
    response_model=list[DayUseOut],
    responses={**R401, **R404, **R422},
)
def my_daily_use(
    account_id: AccountPath,
    context: Context,
    mobile: Mobile,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> list[DayUseOut]:
    """Each day's use (Wh), the last `days` days before today (IST)."""
    today = context.app.clock.now().astimezone(IST).date()
    rows = _own(context, mobile, account_id).daily_use(
        account_id, today - timedelta(days=days), today - timedelta(days=1)
    )
    return [DayUseOut(day=r.day, used_wh=r.used_wh, is_estimated=r.is_estimated) for r in rows]


class StatementDayOut(BaseModel):
    bill_day: date
    used_wh: int
    energy_paise: int
    tod_paise: int
    fixed_paise: int
    duty_paise: int
    subsidy_paise: int
    rebate_paise: int
    instalment_paise: int
    total_paise: int
    tariff_id: str
    is_billed_on_estimate: bool
    lines: list[dict[str, Any]]


@router.get(
    "/consumer/accounts/{account_id}/statement",
    response_model=list[StatementDayOut],
    responses={**R401, **R404, **R422},
)
def my_statement(
    account_id: AccountPath,
    context: Context,
    mobile: Mobile,
    month: Annotated[str | None, Query(pattern=r"^[12][0-9]{3}-(0[1-9]|1[0-2])$")] = None,
) -> list[StatementDayOut]:
    """Each day's deduction in the month (YYYY-MM, default this one), with the stored
    explanation lines (the portal's statement page also rebuilds them for run-billed days)."""
    today = context.app.clock.now().astimezone(IST).date()
    try:
        first = date.fromisoformat(f"{month}-01") if month else today.replace(day=1)
    except ValueError:
        raise InvalidInput(f"month is YYYY-MM, not {month!r}") from None
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    days = _own(context, mobile, account_id).statement(account_id, first, last)
    return [
        StatementDayOut(
            bill_day=d.bill_day,
            used_wh=d.used_wh,
            energy_paise=d.energy_paise,
            tod_paise=d.tod_paise,
            fixed_paise=d.fixed_paise,
            duty_paise=d.duty_paise,
            subsidy_paise=d.subsidy_paise,
            rebate_paise=d.rebate_paise,
            instalment_paise=d.instalment_paise,
            total_paise=d.total_paise,
            tariff_id=d.tariff_id,
            is_billed_on_estimate=d.is_billed_on_estimate,
            lines=[
                {"code": line.code, "label": line.label, "amount_paise": line.amount_paise}
                for line in d.lines
            ],
        )
        for d in days
    ]


class RechargeOut(BaseModel):
    channel: str
    reference: str
    amount_paise: int
    status: str
    received_at: datetime
    receipt_no: str | None


@router.get(
    "/consumer/accounts/{account_id}/recharges",
    response_model=list[RechargeOut],
    responses={**R422, **R401, **R404},
)
def my_recharges(account_id: AccountPath, context: Context, mobile: Mobile) -> list[RechargeOut]:
    rows = _own(context, mobile, account_id).recharges(account_id, limit=50)
    return [
        RechargeOut(
            channel=r.channel.value,
            reference=r.reference,
            amount_paise=r.amount_paise,
            status=r.status,
            received_at=r.received_at,
            receipt_no=r.receipt_no,
        )
        for r in rows
    ]
