"""The consumer's pages: balance and days left, daily use (30 or 90 days) and a day's
half-hourly profile, the deduction statement, recharge and its history.

A consumer sees only the connections registered to the mobile they logged in with; any
other account number is "not found" (404), whether or not it exists.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from prepaidgrid.adapters.db.consumer_read_models import SqlConsumerPortal
from prepaidgrid.domain.errors import DomainError
from prepaidgrid.domain.ledger import PaymentChannel
from prepaidgrid.domain.supply import window_label
from prepaidgrid.domain.units import IST, format_rupees, parse_rupees
from prepaidgrid.entrypoints.portal.web import Form, Page, PageDep
from prepaidgrid.services.gateway import CreateOrder, create_order
from prepaidgrid.services.statement import AccountTerms, explain_days

router = APIRouter(prefix="/portal", include_in_schema=False)


def _today(current: Page) -> date:
    return current.context.app.clock.now().astimezone(IST).date()


def _portal(current: Page) -> SqlConsumerPortal:
    return SqlConsumerPortal(current.context.app.engine)


def _not_found(current: Page) -> Response:
    return current.render(
        "error.html",
        404,
        title=current.t("errors.not_found"),
        message=current.t("errors.not_found"),
    )


def _own(current: Page, account_id: str) -> bool:
    mobile = current.visitor.mobile if current.visitor else None
    if mobile is None:
        return False
    return any(a.account_id == account_id for a in _portal(current).accounts_of_mobile(mobile))


def _login_first(current: Page) -> Response | None:
    if current.visitor is None:
        return current.redirect("/portal/login")
    if current.officer is not None:
        return current.redirect("/portal/officer/")
    return None


@router.get("/", response_class=HTMLResponse)
def home(current: PageDep) -> Response:
    if (away := _login_first(current)) is not None:
        return away
    mobile = current.visitor.mobile if current.visitor else None
    accounts = _portal(current).accounts_of_mobile(mobile or "")
    if len(accounts) == 1:
        return current.redirect(f"/portal/accounts/{accounts[0].account_id}")
    return current.render("consumer_accounts.html", accounts=accounts)


def _chart(points: list[tuple[date | datetime, int]], label: str, kind: str) -> str:
    """The data-series attribute of a .chart: unix seconds and kWh (display only)."""
    xs = []
    for at, _ in points:
        instant = at if isinstance(at, datetime) else datetime.combine(at, time(), tzinfo=IST)
        xs.append(int(instant.timestamp()))
    ys = [round(wh / 1000, 3) for _, wh in points]
    return json.dumps({"x": xs, "y": ys, "label": label, "kind": kind})


@router.get("/accounts/{account_id}", response_class=HTMLResponse)
def account(current: PageDep, account_id: str, days: int = 30) -> Response:
    if (away := _login_first(current)) is not None:
        return away
    if not _own(current, account_id):
        return _not_found(current)
    span = 90 if days >= 90 else 30
    today = _today(current)
    portal = _portal(current)
    overview = portal.overview(account_id, today)
    if overview is None:
        return _not_found(current)
    used = portal.daily_use(account_id, today - timedelta(days=span), today - timedelta(days=1))
    t = current.t
    return current.render(
        "consumer_account.html",
        o=overview,
        span=span,
        used=used,
        chart=_chart([(d.day, d.used_wh) for d in used], t("home.kwh"), "bars"),
        supply_text=_supply_text(current, account_id, overview.supply_state.value, overview.cut_at),
        kwh=_kwh,
        rupees=format_rupees,
    )


def _supply_text(current: Page, account_id: str, state: str, cut_at: datetime | None) -> str:
    """The supply line; in grace, the exact day and window of the coming cut."""
    t = current.t
    if state == "grace" and cut_at is not None:
        app = current.context.app
        with app.new_reader() as uow:
            profile = uow.connections.get(account_id).supply_profile
        window = window_label(app.policies.policy(profile))
        return t("supply.grace", day=cut_at.astimezone(IST).strftime("%d-%m-%Y"), window=window)
    return t(f"supply.{state}")


def _kwh(wh: int) -> str:
    return f"{wh / 1000:.2f}"


@router.get("/accounts/{account_id}/day/{day}", response_class=HTMLResponse)
def day_profile(current: PageDep, account_id: str, day: date) -> Response:
    if (away := _login_first(current)) is not None:
        return away
    if not _own(current, account_id):
        return _not_found(current)
    blocks = _portal(current).half_hourly(account_id, day)
    return current.render(
        "consumer_day.html",
        account_id=account_id,
        day=day,
        blocks=blocks,
        chart=_chart([(b.start_at, b.used_wh) for b in blocks], current.t("home.kwh"), "bars"),
        kwh=_kwh,
        ist=IST,
    )


@router.get("/accounts/{account_id}/statement", response_class=HTMLResponse)
def statement(current: PageDep, account_id: str, month: str | None = None) -> Response:
    if (away := _login_first(current)) is not None:
        return away
    if not _own(current, account_id):
        return _not_found(current)
    today = _today(current)
    try:
        first = date.fromisoformat(f"{month}-01") if month else today.replace(day=1)
    except ValueError:
        first = today.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    days = _portal(current).statement(account_id, first, last)
    app = current.context.app
    with app.new_reader() as uow:
        terms = AccountTerms.of(uow.connections.get(account_id))
    charged = [d.charged() for d in days]
    previous = (first - timedelta(days=1)).replace(day=1)
    return current.render(
        "consumer_statement.html",
        account_id=account_id,
        month=first,
        previous=previous.strftime("%Y-%m"),
        next=None if last >= today else (last + timedelta(days=1)).strftime("%Y-%m"),
        days=days,
        explanations=explain_days(charged, terms, app.tariffs),
        kwh=_kwh,
        rupees=format_rupees,
    )


@router.get("/accounts/{account_id}/recharge", response_class=HTMLResponse)
def recharge_form(current: PageDep, account_id: str, order: str | None = None) -> Response:
    if (away := _login_first(current)) is not None:
        return away
    if not _own(current, account_id):
        return _not_found(current)
    return _recharge_page(current, account_id, 200, notice=_order_news(current, account_id, order))


def _order_news(current: Page, account_id: str, order_id: str | None) -> str | None:
    """Back from the gateway: what became of the order (of this account only)."""
    if not order_id:
        return None
    with current.context.app.new_reader() as uow:
        order = uow.orders.get(order_id[:40])
        if order is None or order.account_id != account_id:
            return None
        balance_paise = uow.connections.get(account_id).wallet_paise
    t = current.t
    if order.status.value == "paid":
        amount = format_rupees(order.amount_paise)
        return t("recharge.done", amount=amount, balance=format_rupees(balance_paise))
    return t(f"recharge.status.{order.status.value}")


def _recharge_page(
    current: Page,
    account_id: str,
    status: int,
    error: str | None = None,
    amount: str = "",
    notice: str | None = None,
) -> Response:
    history = _portal(current).recharges(account_id, limit=20)
    return current.render(
        "consumer_recharge.html",
        status,
        account_id=account_id,
        history=history,
        error=error,
        amount=amount,
        notice=notice,
        rupees=format_rupees,
        ist=IST,
    )


@router.post("/accounts/{account_id}/recharge", response_class=HTMLResponse)
def recharge(current: PageDep, form: Form, account_id: str) -> Response:
    if (away := _login_first(current)) is not None:
        return away
    if not _own(current, account_id):
        return _not_found(current)
    amount = str(form.get("amount_rupees") or "").strip()
    gateway = current.context.gateway
    try:
        amount_paise = parse_rupees(amount)
        if gateway is None:
            raise DomainError("online recharge is not available on this server")
        app = current.context.app
        created = create_order(
            CreateOrder(account_id, amount_paise, PaymentChannel.WEBSITE),
            app.new_uow(),
            app.clock,
            gateway,
        )
    except (DomainError, ValueError) as error:
        return _recharge_page(current, account_id, 422, str(error), amount)
    return current.redirect(created.pay_url)
