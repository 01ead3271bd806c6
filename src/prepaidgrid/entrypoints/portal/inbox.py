"""An account's inbox on the portal: every message the consumer was sent (by SMS, e-mail or
both), newest first, as it was worded for them. One-time codes are never shown here.

As on the other consumer pages, an account that is not the visitor's is "not found" (404).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from prepaidgrid.adapters.db.notification_repository import SqlNotifyUnitOfWork
from prepaidgrid.domain.errors import NotFound
from prepaidgrid.domain.units import IST
from prepaidgrid.entrypoints.portal.messages_inbox import INBOX_MESSAGES
from prepaidgrid.entrypoints.portal.web import PageDep
from prepaidgrid.services.notify import inbox_of

router = APIRouter(prefix="/portal", include_in_schema=False)
SHOWN = 100


@router.get("/accounts/{account_id}/inbox", response_class=HTMLResponse)
def inbox_page(current: PageDep, account_id: str) -> Response:
    mobile = current.visitor.mobile if current.visitor and not current.officer else None
    if mobile is None:
        return current.redirect("/portal/officer/" if current.officer else "/portal/login")
    app = current.context.app
    try:
        entries = inbox_of(
            account_id,
            mobile,
            SqlNotifyUnitOfWork(app.engine, read_only=True),
            SHOWN,
        )
    except NotFound:
        message = current.t("errors.not_found")
        return current.render("error.html", 404, title=message, message=message)
    labels = {
        e.template: current.t(
            key if (key := f"inbox.kind.{e.template}") in INBOX_MESSAGES else "inbox.kind.other"
        )
        for e in entries
    }
    return current.render(
        "care_inbox.html",
        200,
        account_id=account_id,
        entries=entries,
        labels=labels,
        ist=IST,
        shown=SHOWN,
    )
