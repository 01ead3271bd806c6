"""The officers' complaint pages: the list of their divisions' complaints (overdue first,
filtered by status, category or lateness), and one complaint with its diagnosis, history
and the forms to take it up, note, resolve or close it (CSRF-checked; each audited and
told to the consumer by SMS).

A complaint outside the officer's divisions is "not found" (404), as on the account pages;
auditors and cashiers read, and see no forms.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from prepaidgrid.adapters.db.complaint_read_model import ComplaintFilter, SqlComplaintList
from prepaidgrid.domain.access import Forbidden
from prepaidgrid.domain.complaints import (
    ComplaintCategory,
    ComplaintStatus,
    level_name,
)
from prepaidgrid.domain.errors import DomainError, InvalidInput, NotFound
from prepaidgrid.domain.units import IST, format_rupees
from prepaidgrid.entrypoints.portal.web import Form, Page, PageDep
from prepaidgrid.services.complaint_desk import (
    ACTIONS,
    ComplaintMove,
    complaint_case,
    move_complaint,
)

router = APIRouter(prefix="/portal/officer/complaints", include_in_schema=False)


def _not_found(current: Page) -> Response:
    t = current.t
    return current.render(
        "error.html", 404, title=t("errors.not_found"), message=t("officer.not_found")
    )


def _status(value: str) -> ComplaintStatus | None:
    return ComplaintStatus(value) if value in set(ComplaintStatus) else None


def _category(value: str) -> ComplaintCategory | None:
    return ComplaintCategory(value) if value in set(ComplaintCategory) else None


@router.get("/", response_class=HTMLResponse)
def complaints_list(
    current: PageDep, status: str = "", category: str = "", overdue: int = 0
) -> Response:
    officer = current.officer
    if officer is None:
        return current.redirect("/portal/officer/login")
    now = current.context.app.clock.now()
    wanted = ComplaintFilter(_status(status), _category(category), bool(overdue))
    rows = SqlComplaintList(current.context.app.engine).complaints(officer.scope, wanted, now)
    return current.render(
        "officer_complaints.html",
        rows=rows,
        wanted=wanted,
        statuses=list(ComplaintStatus),
        categories=list(ComplaintCategory),
        now=now,
    )


def _case_page(
    current: Page,
    number: str,
    status: int = 200,
    *,
    done: str | None = None,
    error: str | None = None,
) -> Response:
    officer = current.officer
    assert officer is not None
    app = current.context.app
    try:
        case = complaint_case(number, officer, app.new_reader())
    except NotFound:
        return _not_found(current)
    usage = case.diagnosis.usage if case.diagnosis else None
    peak_wh = 1
    if usage is not None:
        peak_wh = max([1] + [max(d.used_wh or 0, d.similar_median_wh or 0) for d in usage.days])
    return current.render(
        "officer_complaint.html",
        status,
        case=case,
        c=case.complaint,
        d=case.diagnosis,
        peak_wh=peak_wh,
        level_name=level_name,
        done=done,
        error=error,
        now=app.clock.now(),
        rupees=format_rupees,
        ist=IST,
    )


@router.get("/{number}", response_class=HTMLResponse)
def complaint_page(current: PageDep, number: str) -> Response:
    if current.officer is None:
        return current.redirect("/portal/officer/login")
    return _case_page(current, number)


@router.post("/{number}/{action}", response_class=HTMLResponse)
def act(current: PageDep, form: Form, number: str, action: str) -> Response:
    officer = current.officer
    if officer is None:
        return current.redirect("/portal/officer/login")
    if action not in ACTIONS:
        return _not_found(current)
    t = current.t
    app = current.context.app
    note = form.get("note")
    cmd = ComplaintMove(number, action, note if isinstance(note, str) else "")
    try:
        move_complaint(cmd, officer, app.new_uow(), app.clock)
    except NotFound:
        return _not_found(current)
    except Forbidden:
        return current.render(
            "error.html", 403, title=t("officer.forbidden"), message=t("officer.forbidden")
        )
    except DomainError as error:
        status = 422 if isinstance(error, InvalidInput) else 409
        return _case_page(current, number, status, error=str(error))
    return _case_page(current, number, done=t("complaints.officer.done." + action))
