"""Logging in and out of the portal: consumers by mobile and one-time code, officers by
password. A refused try re-renders the form with the reason, and changes nothing else."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from prepaidgrid.adapters.passwords import Argon2Hasher
from prepaidgrid.domain.access import (
    AccessDenied,
    LockedOut,
)
from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.entrypoints.api.problems import NotConfigured
from prepaidgrid.entrypoints.portal.web import SESSION_COOKIE, Form, Page, PageDep, code_refusal
from prepaidgrid.services.access import (
    LoggedIn,
    OfficerLogin,
    RequestCode,
    VerifyCode,
    log_out,
    officer_log_in,
    request_login_code,
    verify_login_code,
)

router = APIRouter(prefix="/portal", include_in_schema=False)
HASHER = Argon2Hasher()


def _secret(current: Page) -> bytes:
    secret = current.context.settings.session_secret
    if not secret:
        raise NotConfigured("the session secret is not configured on this server")
    return secret.encode()


def _signed_in(current: Page, logged_in: LoggedIn, to: str) -> Response:
    current.cookies[SESSION_COOKIE] = logged_in.token
    return current.redirect(to)


def _login_page(
    current: Page,
    status: int,
    step: str,
    mobile: str,
    *,
    error: str | None = None,
    notice: str | None = None,
) -> Response:
    return current.render(
        "login.html", status, step=step, mobile=mobile, error=error, notice=notice
    )


@router.get("/login", response_class=HTMLResponse)
def login_form(current: PageDep) -> Response:
    if current.visitor is not None:
        return current.redirect("/portal/officer/" if current.officer else "/portal/")
    return _login_page(current, 200, "mobile", "")


@router.post("/login/code", response_class=HTMLResponse)
def send_code(current: PageDep, form: Form) -> Response:
    mobile = str(form.get("mobile") or "")
    app = current.context.app
    try:
        sent = request_login_code(RequestCode(mobile), app.new_uow(), app.clock, _secret(current))
    except InvalidInput as error:
        return _login_page(current, 422, "mobile", mobile, error=str(error))
    except LockedOut as error:
        return _login_page(current, 429, "mobile", mobile, error=code_refusal(current, error))
    notice = current.t("login.code_sent", mobile=sent.mobile, minutes=sent.valid_minutes)
    return _login_page(current, 200, "code", sent.mobile, notice=notice)


@router.post("/login/verify", response_class=HTMLResponse)
def verify_code(current: PageDep, form: Form) -> Response:
    mobile = str(form.get("mobile") or "")
    code = str(form.get("code") or "")
    app = current.context.app
    try:
        logged_in = verify_login_code(
            VerifyCode(mobile, code), app.new_uow(), app.clock, _secret(current)
        )
    except (InvalidInput, AccessDenied, LockedOut) as error:
        status = 429 if isinstance(error, LockedOut) else 401
        return _login_page(current, status, "code", mobile, error=code_refusal(current, error))
    return _signed_in(current, logged_in, "/portal/")


@router.get("/officer/login", response_class=HTMLResponse)
def officer_login_form(current: PageDep) -> Response:
    if current.officer is not None:
        return current.redirect("/portal/officer/")
    return current.render("officer_login.html", username="", error=None)


@router.post("/officer/login", response_class=HTMLResponse)
def officer_login(current: PageDep, form: Form) -> Response:
    username = str(form.get("username") or "")
    app = current.context.app
    try:
        logged_in = officer_log_in(
            OfficerLogin(username, str(form.get("password") or "")),
            app.new_uow,
            app.clock,
            HASHER,
        )
    except (AccessDenied, LockedOut) as error:
        status = 429 if isinstance(error, LockedOut) else 401
        return current.render("officer_login.html", status, username=username, error=str(error))
    return _signed_in(current, logged_in, "/portal/officer/")


@router.post("/logout")
def logout(current: PageDep, _form: Form) -> Response:
    token = current.request.cookies.get(SESSION_COOKIE)
    if token:
        log_out(token, current.context.app.new_uow(), current.context.app.clock)
    response = current.redirect("/portal/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
