"""Cash counters: cashier login, receipts posted (live or synced later), a printable
receipt, and the cashier's day-end. Everything but login needs `Authorization: Bearer
<session token>` from POST /login; a cashier sees and posts only their own counter's."""

from __future__ import annotations

import html
import re
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field, WithJsonSchema

from prepaidgrid.adapters.passwords import Argon2Hasher
from prepaidgrid.domain.counter import (
    CashierLocked,
    CashierSession,
    Receipt,
    SessionRefused,
    WrongCounter,
    read_session_token,
    receipt_number,
)
from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.domain.units import IST, format_rupees, ist_day
from prepaidgrid.entrypoints.api.deps import Api, api
from prepaidgrid.entrypoints.api.problems import UNREADABLE_BODY, NotConfigured, documented, problem
from prepaidgrid.services.counter import (
    MAX_BATCH,
    CashierLogin,
    DayEndQuery,
    PostReceipts,
    ReceiptView,
    SignedReceipt,
    day_end,
    find_receipt,
    log_in,
    post_receipts,
)

router = APIRouter(prefix="/api/v1/counter", tags=["recharge: cash counter"])
Context = Annotated[Api, Depends(api)]
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="CashierSession",  # named, as other routers have bearer tokens of their own
    description="The session token from POST /login.",
)

_401 = "no, forged or expired session token; or a forged or altered receipt"
_403 = "another counter's receipt or cashier"
_404 = "no such account, cashier or receipt (at your counter)"
_409 = "a different receipt is recorded under the same number"
_422 = "malformed request"
_503 = "the session secret is not configured on this server"
# Text is checked at the edge (PostgreSQL refuses a NUL in text, which would be a 500):
# counter, cashier and account ids as `require_id` accepts them, and receipt numbers.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"
RECEIPT_NO = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,59}$"


def _secret(context: Api) -> bytes:
    if not context.settings.session_secret:
        raise NotConfigured("the session secret is not configured on this server")
    return context.settings.session_secret.encode()


def cashier_session(
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> CashierSession:
    secret = _secret(context)
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise SessionRefused("no session token: log in (POST /api/v1/counter/login)")
    return read_session_token(secret, credentials.credentials, context.app.clock.now())


Session = Annotated[CashierSession, Depends(cashier_session)]


def _forbidden(error: WrongCounter) -> JSONResponse:
    return problem(403, "Wrong counter", str(error))


class LoginIn(BaseModel):
    cashier_id: str = Field(pattern=ID_PATTERN, examples=["PAT-C1-RAM"])
    password: str = Field(min_length=1, max_length=200)


class LoginOut(BaseModel):
    token: str
    token_type: str = "bearer"
    cashier_id: str
    counter_id: str
    expires_at: datetime


@router.post(
    "/login",
    response_model=LoginOut,
    responses=documented(
        {
            400: UNREADABLE_BODY,
            401: "wrong cashier id or password",
            422: _422,
            429: "locked after 5 wrong passwords in a row (see Retry-After)",
            503: _503,
        }
    ),
)
def login(body: LoginIn, context: Context) -> Any:
    """A cashier's session token, valid 12 hours. Five wrong passwords in a row lock the
    cashier for 15 minutes (429, with Retry-After in seconds)."""
    secret = _secret(context)
    try:
        logged_in = log_in(
            CashierLogin(body.cashier_id, body.password),
            context.app.new_uow,
            context.app.clock,
            Argon2Hasher(),
            secret,
        )
    except CashierLocked as error:
        response = problem(429, "Cashier locked", str(error))
        wait_s = (error.until - context.app.clock.now()).total_seconds()
        response.headers["Retry-After"] = str(max(1, int(wait_s + 0.999)))
        return response
    session = logged_in.session
    return LoginOut(
        token=logged_in.token,
        cashier_id=session.cashier_id,
        counter_id=session.counter_id,
        expires_at=session.expires_at,
    )


class ReceiptIn(BaseModel):
    """A receipt as the counter signed it (docs/counter.md: the canonical bytes)."""

    receipt_no: str = Field(pattern=RECEIPT_NO, examples=["PAT-C1-0000042"])
    counter_id: str = Field(pattern=ID_PATTERN, examples=["PAT-C1"])
    seq: int = Field(ge=1, examples=[42])
    cashier_id: str = Field(pattern=ID_PATTERN, examples=["PAT-C1-RAM"])
    account_id: str = Field(pattern=ID_PATTERN, examples=["SBPDCL-PAT-000123"])
    amount_paise: int = Field(gt=0, examples=[50_000])
    issued_at: AwareDatetime = Field(examples=["2025-07-01T04:30:00Z"])
    signature: str = Field(pattern=r"^[0-9a-f]{64}$")
    offline: bool = False


class ReceiptsIn(BaseModel):
    receipts: list[ReceiptIn] = Field(min_length=1, max_length=MAX_BATCH)


class PostedOut(BaseModel):
    receipt_no: str
    account_id: str
    amount_paise: int
    outcome: str  # credited | already_credited
    balance_paise: int | None
    supply_state: str | None
    reconnect_queued: bool


class ReceiptsOut(BaseModel):
    receipts: list[PostedOut]


def _signed(body: ReceiptIn) -> SignedReceipt:
    receipt = Receipt(
        body.counter_id,
        body.seq,
        body.cashier_id,
        body.account_id,
        body.amount_paise,
        body.issued_at,
    )
    if receipt.receipt_no != body.receipt_no:
        raise InvalidInput(
            f"receipt number {body.receipt_no!r} does not match counter {body.counter_id} "
            f"and sequence {body.seq} ({receipt.receipt_no})"
        )
    return SignedReceipt(receipt, body.signature, body.offline)


@router.post(
    "/receipts",
    response_model=ReceiptsOut,
    responses=documented(
        {400: UNREADABLE_BODY, 401: _401, 403: _403, 404: _404, 409: _409, 422: _422, 503: _503}
    ),
)
def post_counter_receipts(body: ReceiptsIn, session: Session, context: Context) -> Any:
    """Record and credit counter receipts: one as the cash is taken, or a batch synced
    later. Each is credited once however often it is posted. A batch with one bad receipt
    is refused whole, and nothing of it is written."""
    try:
        posted = post_receipts(
            PostReceipts(session, tuple(_signed(r) for r in body.receipts)),
            context.app.new_uow,
            context.app.clock,
            context.app.policies,
        )
    except WrongCounter as error:
        return _forbidden(error)
    return ReceiptsOut(
        receipts=[
            PostedOut(
                receipt_no=p.receipt_no,
                account_id=p.account_id,
                amount_paise=p.amount_paise,
                outcome=p.outcome.value,
                balance_paise=p.balance_paise,
                supply_state=p.supply_state.value if p.supply_state else None,
                reconnect_queued=p.reconnect_queued,
            )
            for p in posted
        ]
    )


@router.get(
    "/receipts/{receipt_no}",
    response_class=HTMLResponse,
    responses={
        200: {"content": {"text/html": {}}, "description": "the receipt, to print"},
        **documented({401: _401, 404: _404, 422: _422, 503: _503}),
    },
)
def get_receipt(
    receipt_no: Annotated[str, Path(pattern=RECEIPT_NO, examples=["PAT-C1-0000042"])],
    session: Session,
    context: Context,
) -> HTMLResponse:
    """A recorded receipt as a printable page, in Hindi and English."""
    view = find_receipt(receipt_no, session, context.app.new_uow())
    return HTMLResponse(receipt_html(view))


def receipt_html(view: ReceiptView) -> str:
    receipt = view.stored.receipt
    issued = receipt.issued_at.astimezone(IST).strftime("%d-%m-%Y %H:%M IST")
    status = "जमा / Credited" if view.is_credited else "प्रक्रिया में / Being credited"
    if view.stored.signed.offline:
        status += " · ऑफ़लाइन ली गई / taken offline"
    rows = [
        ("रसीद संख्या", "Receipt no.", receipt.receipt_no),
        ("दिनांक", "Date", issued),
        ("काउंटर", "Counter", f"{view.counter_name} ({receipt.counter_id})"),
        ("उपखंड", "Subdivision", view.subdivision_code),
        ("कैशियर", "Cashier", f"{view.cashier_name} ({receipt.cashier_id})"),
        ("उपभोक्ता संख्या", "Account no.", receipt.account_id),
        ("उपभोक्ता", "Consumer", view.consumer_name),
        ("राशि", "Amount", format_rupees(receipt.amount_paise)),
        ("स्थिति", "Status", status),
    ]
    cells = "\n".join(
        f"<tr><th>{html.escape(hi)} / {html.escape(en)}</th><td>{html.escape(value)}</td></tr>"
        for hi, en, value in rows
    )
    code = view.stored.signed.signature[:16]
    return f"""<!doctype html>
<html lang="hi">
<head><meta charset="utf-8"><title>रसीद / Receipt {html.escape(receipt.receipt_no)}</title>
<style>
body {{ font-family: "Noto Sans", "Noto Sans Devanagari", sans-serif; max-width: 80mm; }}
th {{ text-align: left; font-weight: normal; padding-right: 1em; }}
td {{ font-weight: bold; }}
@media print {{ button {{ display: none; }} }}
</style></head>
<body>
<h1>बिजली रिचार्ज नकद रसीद<br>Electricity recharge: cash receipt</h1>
<table>
{cells}
</table>
<p>सत्यापन कोड / Verification code: <code>{receipt.receipt_no}:{code}</code></p>
<p>यह राशि आपके प्रीपेड खाते में जमा की गई है। / This amount is credited to your prepaid account.</p>
<button onclick="window.print()">प्रिंट करें / Print</button>
</body>
</html>
"""


class DayEndOut(BaseModel):
    cashier_id: str
    counter_id: str
    day: date
    count: int
    total_paise: int
    total: str  # the same in rupees, Indian grouping
    online_count: int
    online_paise: int
    offline_count: int
    offline_paise: int
    first_receipt_no: str | None
    last_receipt_no: str | None
    gaps: list[list[str]]  # [first, last] receipt numbers not yet received
    missing_count: int
    uncredited: list[str]


# An IST day as YYYY-MM-DD, from 2000 to 2999: pydantic alone would read `day=0` as a Unix
# time (1 January 1970), and the calendar's own ends have no IST midnight in UTC (a 500).
DAY_PATTERN = r"^2[0-9]{3}-[0-9]{2}-[0-9]{2}$"


def _written_day(value: object) -> object:
    if isinstance(value, str) and not re.fullmatch(DAY_PATTERN, value):
        raise ValueError("a day is written YYYY-MM-DD, from 2000 to 2999")
    return value


IstDay = Annotated[
    date,
    BeforeValidator(_written_day),
    WithJsonSchema({"type": "string", "format": "date", "pattern": DAY_PATTERN}),
]


@router.get(
    "/day-end",
    response_model=DayEndOut,
    responses=documented({401: _401, 403: _403, 404: _404, 422: _422, 503: _503}),
)
def get_day_end(
    session: Session,
    context: Context,
    cashier_id: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="Default: the logged-in cashier.")
    ] = None,
    day: Annotated[IstDay | None, Query(description="IST day; default today.")] = None,
) -> Any:
    """A cashier's day: receipts and cash (online and offline), and the counter's receipt
    numbers of the day the server has not received yet (cash taken, not synced)."""
    query = DayEndQuery(cashier_id or session.cashier_id, day or ist_day(context.app.clock.now()))
    try:
        report = day_end(query, session, context.app.new_uow())
    except WrongCounter as error:
        return _forbidden(error)
    totals = report.totals
    return DayEndOut(
        cashier_id=report.cashier_id,
        counter_id=report.counter_id,
        day=report.day,
        count=totals.count,
        total_paise=totals.total_paise,
        total=format_rupees(totals.total_paise),
        online_count=totals.online_count,
        online_paise=totals.online_paise,
        offline_count=totals.offline_count,
        offline_paise=totals.offline_paise,
        first_receipt_no=totals.first_receipt_no,
        last_receipt_no=totals.last_receipt_no,
        gaps=[
            [
                receipt_number(report.counter_id, g.first_seq),
                receipt_number(report.counter_id, g.last_seq),
            ]
            for g in report.gaps
        ],
        missing_count=report.missing_count,
        uncredited=list(report.uncredited),
    )
