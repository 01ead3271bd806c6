"""The simulated UPI gateway's payment page (demo and browser tests only): where a real
gateway would take the consumer, it shows the amount and Pay / Decline buttons; paying makes
the gateway send our webhook its signed callback, exactly as a real one would."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from prepaidgrid.adapters.payments.simulated import SimulatedGateway
from prepaidgrid.domain.payments import GatewayEvent
from prepaidgrid.entrypoints.portal.web import Form, Page, PageDep
from prepaidgrid.services.ports import PaymentOrder

router = APIRouter(prefix="/simulated-gateway", include_in_schema=False)


def _gateway(current: Page) -> SimulatedGateway | None:
    gateway = current.context.gateway
    return gateway if isinstance(gateway, SimulatedGateway) else None


def _order(current: Page, order_id: str) -> PaymentOrder | None:
    with current.context.app.new_reader() as uow:
        return uow.orders.get(order_id)


@router.get("/pay", response_class=HTMLResponse)
def pay_page(current: PageDep, order: str) -> Response:
    found = _order(current, order)
    if _gateway(current) is None or found is None:
        t = current.t
        return current.render("error.html", 404, title=t("errors.not_found"), message=order)
    return current.render("gateway_pay.html", order=found)


@router.post("/pay", response_class=HTMLResponse)
def pay(current: PageDep, form: Form) -> Response:
    order_id = str(form.get("order") or "")
    found = _order(current, order_id)
    gateway = _gateway(current)
    if gateway is None or found is None:
        t = current.t
        return current.render("error.html", 404, title=t("errors.not_found"), message=order_id)
    event = GatewayEvent.CAPTURED if form.get("outcome") == "pay" else GatewayEvent.FAILED
    gateway.pay(order_id, event)
    return current.redirect(f"/portal/accounts/{found.account_id}/recharge?order={order_id}")
