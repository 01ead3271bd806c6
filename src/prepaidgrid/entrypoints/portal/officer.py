"""The officers' pages: the division dashboard, consumer and meter search, an account's
statement and command log with the manual actions (each with a reason, audited), the
command log, the audit log and the system's health.

An officer sees only their divisions (admins and auditors see all): an account elsewhere
is "not found" (404), exactly as one that does not exist, so its existence is not revealed.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from prepaidgrid.adapters.db.consumer_read_models import SqlConsumerPortal
from prepaidgrid.adapters.db.health_read_model import health_facts
from prepaidgrid.adapters.db.officer_read_models import SqlOfficerDesk
from prepaidgrid.adapters.db.payment_read_models import SqlPaymentHistory
from prepaidgrid.domain.access import Forbidden, Officer, Permission
from prepaidgrid.domain.errors import DomainError, InvalidInput
from prepaidgrid.domain.ledger import PaymentChannel, PaymentRef
from prepaidgrid.domain.units import IST, format_rupees, parse_rupees
from prepaidgrid.entrypoints.portal.health import health_checks
from prepaidgrid.entrypoints.portal.web import Form, Page, PageDep
from prepaidgrid.services.officer_actions import Adjustment, SupplyOrder, act_on_account
from prepaidgrid.services.payment_timeline import payment_timeline

router = APIRouter(prefix="/portal/officer", include_in_schema=False)


def _desk(current: Page) -> SqlOfficerDesk:
    return SqlOfficerDesk(current.context.app.engine)


def _signed_in(current: Page) -> Officer | None:
    return current.officer


def _away(current: Page) -> Response:
    return current.redirect("/portal/officer/login")


def _not_found(current: Page) -> Response:
    t = current.t
    return current.render(
        "error.html", 404, title=t("errors.not_found"), message=t("officer.not_found")
    )


def _forbidden(current: Page, detail: str) -> Response:
    return current.render("error.html", 403, title=current.t("officer.forbidden"), message=detail)


@router.get("/", response_class=HTMLResponse)
def dashboard(current: PageDep) -> Response:
    officer = _signed_in(current)
    if officer is None:
        return _away(current)
    now = current.context.app.clock.now()
    board = _desk(current).dashboard(officer.scope, now.astimezone(IST).date(), now)
    names = {d.code: d for d in _desk(current).divisions(officer.scope)}
    return current.render("officer_dashboard.html", board=board, names=names, rupees=format_rupees)


@router.get("/search", response_class=HTMLResponse)
def search(current: PageDep, q: str = "") -> Response:
    officer = _signed_in(current)
    if officer is None:
        return _away(current)
    query = q.strip()[:100]
    hits = _desk(current).search(query, officer.scope) if query else []
    return current.render("officer_search.html", q=query, hits=hits, rupees=format_rupees)


def _visible(current: Page, officer: Officer, account_id: str) -> bool:
    division = _desk(current).division_of(account_id)
    return division is not None and officer.sees(division)


def _account_page(
    current: Page, officer: Officer, account_id: str, status: int = 200, **notes: str | None
) -> Response:
    now = current.context.app.clock.now()
    overview = SqlConsumerPortal(current.context.app.engine).overview(
        account_id, now.astimezone(IST).date()
    )
    if overview is None:
        return _not_found(current)
    desk = _desk(current)
    return current.render(
        "officer_account.html",
        status,
        o=overview,
        lines=desk.account_statement(account_id, limit=50),
        commands=desk.command_log(officer.scope, limit=20, account_id=account_id),
        may_act=officer.may(Permission.ACT_ON_SUPPLY),
        may_adjust=officer.may(Permission.ADJUST_BALANCE),
        request_id=secrets.token_urlsafe(16),
        error=notes.get("error"),
        done=notes.get("done"),
        rupees=format_rupees,
        ist=IST,
    )


@router.get("/accounts/{account_id}", response_class=HTMLResponse)
def account(current: PageDep, account_id: str) -> Response:
    officer = _signed_in(current)
    if officer is None:
        return _away(current)
    if not _visible(current, officer, account_id):
        return _not_found(current)
    return _account_page(current, officer, account_id)


@router.post("/accounts/{account_id}/{action}", response_class=HTMLResponse)
def act(current: PageDep, form: Form, account_id: str, action: str) -> Response:
    officer = _signed_in(current)
    if officer is None:
        return _away(current)
    if not _visible(current, officer, account_id) or action not in (
        "reconnect",
        "disconnect",
        "adjust",
    ):
        return _not_found(current)
    app = current.context.app
    reason = str(form.get("reason") or "")
    try:
        cmd: SupplyOrder | Adjustment = (
            Adjustment(
                account_id,
                parse_rupees(str(form.get("amount_rupees") or ""), signed=True),
                reason,
                str(form.get("request_id") or ""),
            )
            if action == "adjust"
            else SupplyOrder(account_id, reason)
        )
        done = act_on_account(action, cmd, officer, app.new_uow(), app.clock, app.policies)
    except Forbidden as error:
        return _forbidden(current, str(error))
    except (DomainError, ValueError) as error:
        status = 422 if isinstance(error, (InvalidInput, ValueError)) else 409
        return _account_page(current, officer, account_id, status, error=str(error))
    return _account_page(current, officer, account_id, done=f"{action}: {done.detail}")


@router.get("/payments/{channel}/{reference}", response_class=HTMLResponse)
def payment(current: PageDep, channel: str, reference: str) -> Response:
    """One payment's life: received, confirmed, credited, reconnect command, relay ack; or
    where it is stuck, and since when."""
    officer = _signed_in(current)
    if officer is None:
        return _away(current)
    try:
        ref = PaymentRef(PaymentChannel(channel), reference)
    except ValueError:
        return _not_found(current)
    app = current.context.app
    life = payment_timeline(SqlPaymentHistory(app.engine), ref, app.clock.now())
    if life.account_id is not None and not _visible(current, officer, life.account_id):
        return _not_found(current)
    if life.account_id is None and not life.stages:
        return _not_found(current)
    return current.render("officer_payment.html", life=life, rupees=format_rupees)


@router.get("/commands", response_class=HTMLResponse)
def commands(current: PageDep) -> Response:
    officer = _signed_in(current)
    if officer is None:
        return _away(current)
    log = _desk(current).command_log(officer.scope, limit=200)
    return current.render("officer_commands.html", commands=log, ist=IST)


@router.get("/audit", response_class=HTMLResponse)
def audit_log(current: PageDep) -> Response:
    officer = _signed_in(current)
    if officer is None:
        return _away(current)
    if not officer.may(Permission.READ_AUDIT):
        return _forbidden(current, current.t("officer.forbidden"))
    with current.context.app.new_reader() as uow:
        entries = uow.access.audit_entries(200)
    return current.render("officer_audit.html", entries=entries, ist=IST)


@router.get("/health", response_class=HTMLResponse)
def health(current: PageDep) -> Response:
    officer = _signed_in(current)
    if officer is None:
        return _away(current)
    app = current.context.app
    facts = health_facts(app.engine)
    checks = health_checks(facts, app.clock.now())
    return current.render(
        "officer_health.html",
        checks=[(c.name, c.is_ok, c.detail) for c in checks],
        waiting=facts.outbox_waiting,
        oldest=facts.oldest_waiting_at,
    )
