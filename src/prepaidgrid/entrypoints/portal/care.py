"""The consumer-care pages of an account: complaints, alert settings, and a new mobile
number or e-mail address confirmed by a one-time code.

As on the other consumer pages, an account (or complaint) that is not the visitor's is
"not found" (404). A refused form is shown again with the reason (422) and writes nothing.
"""

from __future__ import annotations

import re
from datetime import time

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from prepaidgrid.adapters.db.consumer_read_models import mask_mobile
from prepaidgrid.domain.access import (
    AccessDenied,
    LockedOut,
    require_mobile,
)
from prepaidgrid.domain.complaints import (
    MAX_DESCRIPTION_CHARS,
    ComplaintCategory,
    InvalidComplaint,
    reopen_by,
    require_category,
    require_description,
    require_payment_reference,
)
from prepaidgrid.domain.errors import InvalidInput, InvalidTransition, NotFound
from prepaidgrid.domain.notifications import (
    MAX_LOW_BALANCE_PAISE,
    AlertPreferences,
    ContactKind,
    require_email,
)
from prepaidgrid.domain.units import IST
from prepaidgrid.entrypoints.api.problems import NotConfigured
from prepaidgrid.entrypoints.portal.web import Form, Page, PageDep, code_refusal
from prepaidgrid.services.care import (
    FileComplaint,
    RequestContactCode,
    SaveAlertPreferences,
    VerifyContactCode,
    alert_preferences_of,
    complaint_of,
    complaints_of,
    contact_details,
    file_complaint,
    new_client_key,
    request_contact_code,
    save_alert_preferences,
    verify_contact_code,
)
from prepaidgrid.services.complaint_desk import ReopenComplaint, reopen_complaint

router = APIRouter(prefix="/portal", include_in_schema=False)
_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)(?::00)?")
_RUPEES = re.compile(r"(\d{1,7})(?:\.(\d{1,2}))?")


def _mobile(current: Page) -> str | None:
    """The logged-in consumer's mobile; None for an officer or nobody."""
    if current.visitor is None or current.officer is not None:
        return None
    return current.visitor.mobile


def _away(current: Page) -> Response:
    return current.redirect("/portal/officer/" if current.officer else "/portal/login")


def _not_found(current: Page) -> Response:
    message = current.t("errors.not_found")
    return current.render("error.html", 404, title=message, message=message)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


# -- complaints ---------------------------------------------------------------------------------


def _complaints_page(
    current: Page,
    account_id: str,
    mobile: str,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    app = current.context.app
    found = complaints_of(account_id, mobile, app.new_reader())
    return current.render(
        "care_complaints.html",
        status,
        account_id=account_id,
        complaints=found,
        categories=list(ComplaintCategory),
        values=values or {"client_key": new_client_key()},
        errors=errors or {},
        max_chars=MAX_DESCRIPTION_CHARS,
        now=app.clock.now(),
        ist=IST,
    )


@router.get("/accounts/{account_id}/complaints", response_class=HTMLResponse)
def complaints_page(current: PageDep, account_id: str) -> Response:
    if (mobile := _mobile(current)) is None:
        return _away(current)
    try:
        return _complaints_page(current, account_id, mobile)
    except NotFound:
        return _not_found(current)


@router.post("/accounts/{account_id}/complaints", response_class=HTMLResponse)
def post_complaint(current: PageDep, form: Form, account_id: str) -> Response:
    if (mobile := _mobile(current)) is None:
        return _away(current)
    names = ("category", "description", "payment_reference", "client_key")
    values = {name: _text(form, name) for name in names}
    values["client_key"] = values["client_key"] or new_client_key()
    errors = _complaint_errors(current, values)
    app = current.context.app
    try:
        if errors:
            return _complaints_page(current, account_id, mobile, 422, values, errors)
        filed = file_complaint(
            FileComplaint(
                account_id,
                mobile,
                values["category"],
                values["description"],
                values["payment_reference"],
                values["client_key"],
            ),
            app.new_uow(),
            app.clock,
            app.tariffs,
            app.policies,
        )
    except NotFound:
        return _not_found(current)
    except InvalidInput:  # only a form key gone bad is left to refuse here
        errors = {"description": current.t("errors.csrf")}
        return _complaints_page(current, account_id, mobile, 422, values, errors)
    number = filed.complaint.number
    return current.redirect(f"/portal/accounts/{account_id}/complaints/{number}?filed=1")


def _complaint_errors(current: Page, values: dict[str, str]) -> dict[str, str]:
    """Every field's mistake at once, in the visitor's language."""
    errors: dict[str, str] = {}
    checks = (
        (require_category, "category"),
        (require_description, "description"),
        (require_payment_reference, "payment_reference"),
    )
    for check, name in checks:
        try:
            check(values[name])
        except InvalidComplaint as error:
            key = f"complaints.error.{error.reason}"
            errors[error.field] = current.t(key, max=MAX_DESCRIPTION_CHARS)
    return errors


@router.get("/accounts/{account_id}/complaints/{number}", response_class=HTMLResponse)
def complaint_page(current: PageDep, account_id: str, number: str, filed: int = 0) -> Response:
    if (mobile := _mobile(current)) is None:
        return _away(current)
    return _complaint_page(current, account_id, mobile, number, is_just_filed=bool(filed))


def _complaint_page(
    current: Page,
    account_id: str,
    mobile: str,
    number: str,
    status: int = 200,
    *,
    is_just_filed: bool = False,
    error: str | None = None,
) -> Response:
    app = current.context.app
    try:
        detail = complaint_of(account_id, mobile, number, app.new_reader())
    except NotFound:
        return _not_found(current)
    return current.render(
        "care_complaint.html",
        status,
        account_id=account_id,
        c=detail.complaint,
        events=detail.events,
        reopen_until=reopen_by(detail.complaint),
        is_just_filed=is_just_filed,
        error=error,
        now=app.clock.now(),
        ist=IST,
    )


@router.post("/accounts/{account_id}/complaints/{number}/reopen", response_class=HTMLResponse)
def reopen(current: PageDep, form: Form, account_id: str, number: str) -> Response:
    """The consumer says the resolution did not fix it (within 7 days of it)."""
    if (mobile := _mobile(current)) is None:
        return _away(current)
    app = current.context.app
    cmd = ReopenComplaint(account_id, mobile, number, _text(form, "note"))
    try:
        reopen_complaint(cmd, app.new_uow(), app.clock)
    except NotFound:
        return _not_found(current)
    except (InvalidInput, InvalidTransition):
        message = current.t("complaints.reopen_refused")
        return _complaint_page(current, account_id, mobile, number, 409, error=message)
    return current.redirect(f"/portal/accounts/{account_id}/complaints/{number}")


# -- alert preferences --------------------------------------------------------------------------


def _alerts_page(
    current: Page,
    account_id: str,
    mobile: str,
    status: int = 200,
    values: dict[str, object] | None = None,
    error: str | None = None,
    *,
    is_saved: bool = False,
) -> Response:
    view = alert_preferences_of(account_id, mobile, current.context.app.new_reader())
    if values is None:
        p = view.preferences
        values = {
            "daily_summary": p.is_daily_summary_on,
            "low_balance": p.is_low_balance_on,
            "threshold_rupees": _rupees(p.low_balance_paise),
            "sms": p.is_sms_on,
            "email": p.is_email_on,
            "quiet_from": p.quiet_from.strftime("%H:%M"),
            "quiet_until": p.quiet_until.strftime("%H:%M"),
        }
    return current.render(
        "care_alerts.html",
        status,
        account_id=account_id,
        v=values,
        email=view.email,
        error=error,
        is_saved=is_saved,
    )


def _rupees(paise: int) -> str:
    return str(paise // 100) if paise % 100 == 0 else f"{paise / 100:.2f}"


@router.get("/accounts/{account_id}/alerts", response_class=HTMLResponse)
def alerts_page(current: PageDep, account_id: str, saved: int = 0) -> Response:
    if (mobile := _mobile(current)) is None:
        return _away(current)
    try:
        return _alerts_page(current, account_id, mobile, is_saved=bool(saved))
    except NotFound:
        return _not_found(current)


@router.post("/accounts/{account_id}/alerts", response_class=HTMLResponse)
def save_alerts(current: PageDep, form: Form, account_id: str) -> Response:
    if (mobile := _mobile(current)) is None:
        return _away(current)
    values: dict[str, object] = {
        name: _text(form, name) == "on" for name in ("daily_summary", "low_balance", "sms", "email")
    }
    for name in ("threshold_rupees", "quiet_from", "quiet_until"):
        values[name] = _text(form, name).strip()
    app = current.context.app
    try:
        preferences = _preferences(current, values)
        if isinstance(preferences, str):
            return _alerts_page(current, account_id, mobile, 422, values, preferences)
        save_alert_preferences(
            SaveAlertPreferences(account_id, mobile, preferences), app.new_uow(), app.clock
        )
    except NotFound:
        return _not_found(current)
    except InvalidInput:  # e-mail alerts without an e-mail address
        error = current.t("alerts.error.email_needed")
        return _alerts_page(current, account_id, mobile, 422, values, error)
    return current.redirect(f"/portal/accounts/{account_id}/alerts?saved=1")


def _preferences(current: Page, values: dict[str, object]) -> AlertPreferences | str:
    """The preferences the form asks for, or what is wrong with it (translated)."""
    amount = _RUPEES.fullmatch(str(values["threshold_rupees"]).replace(",", ""))
    paise = int(amount.group(1)) * 100 + int((amount.group(2) or "").ljust(2, "0")) if amount else 0
    if not 0 < paise <= MAX_LOW_BALANCE_PAISE:
        return current.t("alerts.error.threshold")
    times: list[time] = []
    for name in ("quiet_from", "quiet_until"):
        found = _TIME.fullmatch(str(values[name]))
        if found is None:
            return current.t("alerts.error.time")
        times.append(time(int(found.group(1)), int(found.group(2))))
    if times[0] == times[1]:
        return current.t("alerts.error.same_times")
    return AlertPreferences(
        is_daily_summary_on=bool(values["daily_summary"]),
        is_low_balance_on=bool(values["low_balance"]),
        low_balance_paise=paise,
        is_sms_on=bool(values["sms"]),
        is_email_on=bool(values["email"]),
        quiet_from=times[0],
        quiet_until=times[1],
    )


# -- a new mobile number or e-mail address ------------------------------------------------------


def _secret(current: Page) -> bytes:
    secret = current.context.settings.session_secret
    if not secret:
        raise NotConfigured("the session secret is not configured on this server")
    return secret.encode()


def _contact_page(
    current: Page,
    account_id: str,
    mobile: str,
    status: int = 200,
    *,
    step: str = "",  # "mobile" or "email": the code for it was sent, type it
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    changed: str = "",  # "mobile" or "email": it has just been changed
) -> Response:
    details = contact_details(account_id, mobile, current.context.app.new_reader())
    if changed == "mobile":
        notice = current.t("contact.changed_mobile", value=mask_mobile(details.mobile))
    elif changed == "email":
        notice = current.t("contact.changed_email", value=details.email or "")
    return current.render(
        "care_contact.html",
        status,
        account_id=account_id,
        mobile_masked=mask_mobile(details.mobile),
        email=details.email,
        step=step,
        values=values or {},
        errors=errors or {},
        notice=notice,
    )


@router.get("/accounts/{account_id}/contact", response_class=HTMLResponse)
def contact_page(current: PageDep, account_id: str, changed: str = "") -> Response:
    if (mobile := _mobile(current)) is None:
        return _away(current)
    try:
        return _contact_page(current, account_id, mobile, changed=changed)
    except NotFound:
        return _not_found(current)


def _kind(form: FormData) -> ContactKind:
    return ContactKind.EMAIL if _text(form, "kind") == "email" else ContactKind.MOBILE


@router.post("/accounts/{account_id}/contact/code", response_class=HTMLResponse)
def send_contact_code(current: PageDep, form: Form, account_id: str) -> Response:
    if (mobile := _mobile(current)) is None:
        return _away(current)
    kind = _kind(form)
    new_value = _text(form, f"new_{kind.value}")
    values = {f"new_{kind.value}": new_value}
    app = current.context.app
    try:
        try:
            require_mobile(new_value) if kind is ContactKind.MOBILE else require_email(new_value)
        except InvalidInput:
            error = {kind.value: current.t(f"contact.error.{kind.value}")}
            return _contact_page(current, account_id, mobile, 422, values=values, errors=error)
        sent = request_contact_code(
            RequestContactCode(account_id, mobile, kind, new_value),
            app.new_uow(),
            app.clock,
            _secret(current),
        )
    except NotFound:
        return _not_found(current)
    except InvalidInput:  # the number or address the account has already
        error = {kind.value: current.t(f"contact.error.same_{kind.value}")}
        return _contact_page(current, account_id, mobile, 422, values=values, errors=error)
    except LockedOut as error:
        said = {kind.value: code_refusal(current, error)}
        return _contact_page(current, account_id, mobile, 429, values=values, errors=said)
    notice = current.t(
        f"contact.code_sent_{kind.value}", target=sent.target, minutes=sent.valid_minutes
    )
    return _contact_page(current, account_id, mobile, step=kind.value, notice=notice)


@router.post("/accounts/{account_id}/contact/verify", response_class=HTMLResponse)
def verify_contact(current: PageDep, form: Form, account_id: str) -> Response:
    if (mobile := _mobile(current)) is None or current.visitor is None:
        return _away(current)
    kind = _kind(form)
    app = current.context.app
    command = VerifyContactCode(
        account_id, mobile, kind, _text(form, "code"), current.visitor.session.token_digest
    )
    try:
        verify_contact_code(command, app.new_uow(), app.clock, _secret(current))
    except NotFound:
        return _not_found(current)
    except (InvalidInput, AccessDenied, LockedOut) as error:
        status = 429 if isinstance(error, LockedOut) else 422
        said = {"code": code_refusal(current, error)}
        return _contact_page(current, account_id, mobile, status, step=kind.value, errors=said)
    return current.redirect(f"/portal/accounts/{account_id}/contact?changed={kind.value}")
