"""The officer API: log in with a password, then the division dashboard, search, an
account, the manual actions (each with a reason, audited) and the audit log. Scoped as the
portal is: an account outside the officer's divisions is 404; a role that may not act, 403.
Authorization: `Bearer <token>` from POST /officer/sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from prepaidgrid.adapters.db.consumer_read_models import SqlConsumerPortal
from prepaidgrid.adapters.db.officer_read_models import SqlOfficerDesk
from prepaidgrid.adapters.passwords import Argon2Hasher
from prepaidgrid.domain.access import AccessDenied, Forbidden, Officer, Permission
from prepaidgrid.domain.errors import UnknownAccount
from prepaidgrid.domain.units import IST
from prepaidgrid.entrypoints.api.consumer import AccountPath, SessionOut, visitor_behind
from prepaidgrid.entrypoints.api.deps import Api, api
from prepaidgrid.entrypoints.api.problems import documented
from prepaidgrid.services.access import OfficerLogin, log_out, officer_log_in
from prepaidgrid.services.officer_actions import Adjustment, SupplyOrder, act_on_account

router = APIRouter(prefix="/api/v1/officer", tags=["officers"])
Context = Annotated[Api, Depends(api)]
HASHER = Argon2Hasher()

R401 = documented({401: "no, ended or expired session token; or a wrong password"})
R403 = documented({403: "the officer's role does not allow this"})
R404 = documented({404: "no such account in the officer's divisions"})
R409 = documented({409: "the supply rules do not allow it now (the reasons say why)"})
R400 = documented({400: "the body is not readable JSON"})
R422 = documented({422: "malformed request, or a reason or amount out of bounds"})
R429 = documented({429: "five wrong passwords in a row: locked for 15 minutes"})
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="OfficerSession",
    description="The token from POST /api/v1/officer/sessions.",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def signed_in_officer(context: Context, credentials: Credentials = None) -> Officer:
    officer = visitor_behind(context, credentials).officer
    if officer is None:
        raise AccessDenied("this is a consumer's session, not an officer's")
    return officer


SignedIn = Annotated[Officer, Depends(signed_in_officer)]


class PasswordLogin(BaseModel):
    username: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9._-]{2,39}$", examples=["ravi.kumar"])
    password: str = Field(min_length=1, max_length=200)


@router.post(
    "/sessions",
    status_code=201,
    response_model=SessionOut,
    responses={**R422, **R400, **R401, **R429},
)
def log_in(body: PasswordLogin, context: Context) -> SessionOut:
    """An officer's session, 8 hours. Every try is in the audit log."""
    app = context.app
    logged_in = officer_log_in(
        OfficerLogin(body.username, body.password), app.new_uow, app.clock, HASHER
    )
    return SessionOut(token=logged_in.token, expires_at=logged_in.session.expires_at)


@router.delete("/sessions/current", status_code=204, responses=R401)
def log_out_now(context: Context, _officer: SignedIn, credentials: Credentials = None) -> None:
    """End this session."""
    if credentials is not None:
        log_out(credentials.credentials, context.app.new_uow(), context.app.clock)


def _desk(context: Api) -> SqlOfficerDesk:
    return SqlOfficerDesk(context.app.engine)


@router.get("/dashboard", responses=R401)
def dashboard(context: Context, officer: SignedIn) -> dict[str, Any]:
    """Per division and in total: meters, accounts by supply state, cuts due today,
    pending relay commands, today's collections by channel (paise)."""
    now = context.app.clock.now()
    board = _desk(context).dashboard(officer.scope, now.astimezone(IST).date(), now)

    def row(r: Any) -> dict[str, Any]:
        return {
            "division_code": r.division_code,
            "meters_in_service": r.meters_in_service,
            "accounts_by_state": dict(r.accounts_by_state),
            "cuts_due_today": r.cuts_due_today,
            "relay_commands_pending": r.relay_commands_pending,
            "collections": [
                {"channel": c.channel, "payments": c.payment_count, "amount_paise": c.amount_paise}
                for c in r.collections
            ],
        }

    return {
        "day": board.day.isoformat(),
        "divisions": [row(r) for r in board.divisions],
        "total": row(board.total),
    }


class AccountHitOut(BaseModel):
    account_id: str
    consumer_name: str
    meter_id: str | None
    division_code: str
    supply_state: str
    wallet_paise: int


@router.get("/accounts", response_model=list[AccountHitOut], responses={**R401, **R422})
def search(
    context: Context,
    officer: SignedIn,
    q: Annotated[str, Query(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")],
) -> list[AccountHitOut]:
    """By account id (or a prefix of 3+), meter id, mobile, or a name (3+ letters)."""
    return [
        AccountHitOut(
            account_id=h.account_id,
            consumer_name=h.consumer_name,
            meter_id=h.meter_id,
            division_code=h.division_code,
            supply_state=h.supply_state,
            wallet_paise=h.wallet_paise,
        )
        for h in _desk(context).search(q, officer.scope)
    ]


def _visible(context: Api, officer: Officer, account_id: str) -> None:
    if not officer.sees(_desk(context).division_of(account_id)):
        raise UnknownAccount(f"no account {account_id} in your divisions")


@router.get("/accounts/{account_id}", responses={**R422, **R401, **R404})
def account(account_id: AccountPath, context: Context, officer: SignedIn) -> dict[str, Any]:
    """The account's balance and supply, and its wallet's latest postings."""
    _visible(context, officer, account_id)
    today = context.app.clock.now().astimezone(IST).date()
    o = SqlConsumerPortal(context.app.engine).overview(account_id, today)
    if o is None:
        raise UnknownAccount(f"no account {account_id} in your divisions")
    return {
        "account_id": o.account_id,
        "consumer_name": o.consumer_name,
        "meter_id": o.meter_id,
        "supply_state": o.supply_state.value,
        "cut_at": o.cut_at.isoformat() if o.cut_at else None,
        "wallet_paise": o.wallet_paise,
        "arrears_paise": o.arrears_paise,
        "postings": [
            {
                "at": line.at.isoformat(),
                "kind": line.journal_kind,
                "memo": line.memo,
                "amount_paise": line.amount_paise,
                "balance_after_paise": line.balance_after_paise,
            }
            for line in _desk(context).account_statement(account_id, limit=50)
        ],
    }


# 5 to 500 characters once stripped, no control characters but tab and line breaks
REASON_PATTERN = (
    r"^\s*[^\s\x00-\x1f\x7f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]{3,}[^\s\x00-\x1f\x7f]\s*$"
)


class Reason(BaseModel):
    # 5 to 500 characters once stripped, as services/officer_actions.py takes it
    reason: str = Field(max_length=500, pattern=REASON_PATTERN)


class AdjustmentIn(Reason):
    amount_paise: int = Field(
        ge=-1_000_000, le=1_000_000, examples=[-7_550], json_schema_extra={"not": {"const": 0}}
    )
    request_id: str = Field(min_length=8, max_length=64, description="idempotency: one per form")


class ActionOut(BaseModel):
    account_id: str
    supply_state: str
    wallet_paise: int
    detail: str


ACTION_RESPONSES = {**R400, **R401, **R403, **R404, **R409, **R422}


@router.post(
    "/accounts/{account_id}/reconnect", response_model=ActionOut, responses=ACTION_RESPONSES
)
def reconnect(
    account_id: AccountPath, body: Reason, context: Context, officer: SignedIn
) -> ActionOut:
    """Send the reconnect command now, whatever the balance; audited with the reason."""
    return _act(context, officer, account_id, "reconnect", body)


@router.post(
    "/accounts/{account_id}/disconnect", response_model=ActionOut, responses=ACTION_RESPONSES
)
def disconnect(
    account_id: AccountPath, body: Reason, context: Context, officer: SignedIn
) -> ActionOut:
    """Cut now an account the supply rules would cut now; otherwise 409 with the reasons."""
    return _act(context, officer, account_id, "disconnect", body)


@router.post(
    "/accounts/{account_id}/adjustments", response_model=ActionOut, responses=ACTION_RESPONSES
)
def adjust(
    account_id: AccountPath, body: AdjustmentIn, context: Context, officer: SignedIn
) -> ActionOut:
    """Credit (+) or debit (-) the wallet; the same request id adjusts once."""
    return _act(context, officer, account_id, "adjust", body)


def _act(context: Api, officer: Officer, account_id: str, action: str, body: Reason) -> ActionOut:
    _visible(context, officer, account_id)
    app = context.app
    cmd: SupplyOrder | Adjustment = (
        Adjustment(account_id, body.amount_paise, body.reason, body.request_id)
        if isinstance(body, AdjustmentIn)
        else SupplyOrder(account_id, body.reason)
    )
    done = act_on_account(action, cmd, officer, app.new_uow(), app.clock, app.policies)
    return ActionOut(
        account_id=done.account_id,
        supply_state=done.state.value,
        wallet_paise=done.balance_paise,
        detail=done.detail,
    )


class AuditOut(BaseModel):
    at: datetime
    actor: str
    action: str
    target: str
    reason: str


@router.get("/audit", response_model=list[AuditOut], responses={**R401, **R403, **R422})
def audit_log(
    context: Context,
    officer: SignedIn,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    target: Annotated[str | None, Query(max_length=100)] = None,
) -> list[AuditOut]:
    """Every officer action, newest first (admins and auditors)."""
    if not officer.may(Permission.READ_AUDIT):
        raise Forbidden(f"a {officer.role.value} may not read the audit log")
    with context.app.new_reader() as uow:
        entries = uow.access.audit_entries(limit, target=target)
    return [
        AuditOut(at=e.at, actor=e.actor, action=e.action, target=e.target, reason=e.reason)
        for e in entries
    ]
