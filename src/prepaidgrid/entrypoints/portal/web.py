"""What every portal page needs: who is asking (the session cookie), in which language,
the CSRF token, and rendering a template with all of it.

Cookies: `pg_session` (the session token: HttpOnly, Secure, SameSite=Lax; the database
keeps only its hash), `pg_csrf` (before login: a random token that the login forms must
echo, double-submit), `pg_lang`. Browsers treat http://127.0.0.1 and localhost as secure,
so Secure cookies work in the demo too.

Every POST carries the CSRF token, in the form (`csrf_token`) or, from htmx, in the
`X-CSRF-Token` header; a missing or wrong one is refused with 403 before anything is read.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.datastructures import FormData

from prepaidgrid.adapters.db.health_read_model import health_facts
from prepaidgrid.domain.access import (
    CodeExpired,
    LockedOut,
    Officer,
    Permission,
    TooManyCodes,
    WrongCode,
)
from prepaidgrid.domain.errors import DomainError
from prepaidgrid.domain.units import IST, format_rupees
from prepaidgrid.entrypoints.api.deps import Api, api
from prepaidgrid.entrypoints.portal.health import Check, health_checks
from prepaidgrid.entrypoints.portal.i18n import LANGUAGES, Translate, negotiate_language, translator
from prepaidgrid.services.access import Visitor, visitor_of

HERE = Path(__file__).parent
SESSION_COOKIE = "pg_session"
CSRF_COOKIE = "pg_csrf"
LANG_COOKIE = "pg_lang"


class CsrfRefused(DomainError):
    """A form without its CSRF token, or with another session's (HTTP 403)."""


@cache
def templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["rupees"] = format_rupees
    env.globals["ist"] = IST  # times are stored in UTC and shown in IST
    return env


@dataclass
class Page:
    """One request's view of the portal: its visitor, language and CSRF token."""

    request: Request
    context: Api
    visitor: Visitor | None
    lang: str
    csrf_token: str
    cookies: dict[str, str] = field(default_factory=dict)  # to set on the response

    @property
    def t(self) -> Translate:
        return translator(self.lang)

    @property
    def officer(self) -> Officer | None:
        return self.visitor.officer if self.visitor else None

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        user = None
        if self.visitor is not None:
            officer = self.visitor.officer
            name = officer.name if officer else _masked(self.visitor.mobile or "")
            user = {"display_name": name, "kind": "officer" if officer else "consumer"}
        values.setdefault("nav", self.nav())
        html = (
            templates()
            .get_template(template)
            .render(
                lang=self.lang,
                t=self.t,
                csrf_token=self.csrf_token,
                user=user,
                health_banner=self.banner(),
                request_path=self.request.url.path,
                request_query=urlencode(
                    [(k, v) for k, v in self.request.query_params.multi_items() if k != "lang"]
                ),
                **values,
            )
        )
        response = HTMLResponse(html, status_code=status)
        self.set_cookies(response)
        return response

    def banner(self) -> str | None:
        """Shown on every page while something is down: to officers, every failing check
        (health.py); to consumers, safe mode (no cuts until it is fixed)."""
        app = self.context.app
        if self.officer is not None:
            checks = health_checks(health_facts(app.engine), app.clock.now())
            down = [c for c in checks if not c.is_ok]
            return "; ".join(self._down(c) for c in down) or None
        with app.new_reader() as uow:
            is_safe_mode = uow.platform.is_safe_mode()
        return self.t("health.safe_mode") if is_safe_mode else None

    def _down(self, check: Check) -> str:
        if check.name == "safe mode":
            return self.t("health.safe_mode")
        if check.since is None:  # e.g. no meter has reported yet: say what is known
            return self.t("health.failing", what=check.name, detail=check.detail)
        when = check.since.astimezone(IST).strftime("%d-%m-%Y %H:%M")
        return self.t("health.down", what=check.name, since=when)

    def redirect(self, url: str) -> RedirectResponse:
        response = RedirectResponse(url, status_code=303)
        self.set_cookies(response)
        return response

    def set_cookies(self, response: Response) -> None:
        for name, value in self.cookies.items():
            response.set_cookie(
                name,
                value,
                httponly=True,
                secure=True,
                samesite="lax",
                path="/",
                max_age=30 * 24 * 3600 if name != SESSION_COOKIE else None,
            )
        response.headers.setdefault("Cache-Control", "no-store")

    def nav(self) -> list[tuple[str, str]]:
        t = self.t
        if self.officer is not None:
            links = [
                ("/portal/officer/", t("nav.dashboard")),
                ("/portal/officer/search", t("nav.search")),
                ("/portal/officer/complaints/", t("nav.complaints")),
                ("/portal/officer/commands", t("nav.commands")),
                ("/portal/officer/health", t("nav.health")),
                ("/portal/officer/reports/", t("nav.reports")),
            ]
            if self.officer.may(Permission.READ_AUDIT):
                links.append(("/portal/officer/audit", t("nav.audit")))
            return links
        if self.visitor is not None:
            return [("/portal/", t("nav.home"))]
        return []


def _masked(mobile: str) -> str:
    return f"{mobile[:2]}xxxxx{mobile[-3:]}" if len(mobile) == 10 else mobile


def page(request: Request, context: Annotated[Api, Depends(api)]) -> Page:
    """Resolve the visitor (one read of the session), the language and the CSRF token."""
    token = request.cookies.get(SESSION_COOKIE)
    visitor = visitor_of(token, context.app.new_uow(), context.app.clock) if token else None
    query_lang = request.query_params.get("lang")
    lang = negotiate_language(
        query_lang,
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language"),
    )
    cookies: dict[str, str] = {}
    if query_lang in LANGUAGES and request.cookies.get(LANG_COOKIE) != lang:
        cookies[LANG_COOKIE] = lang
    if visitor is not None:
        csrf = visitor.session.csrf_token
    else:
        csrf = request.cookies.get(CSRF_COOKIE) or ""
        if len(csrf) < 32:
            csrf = secrets.token_urlsafe(32)
            cookies[CSRF_COOKIE] = csrf
    return Page(request, context, visitor, lang, csrf, cookies)


PageDep = Annotated[Page, Depends(page)]


async def checked_form(request: Request, current: PageDep) -> FormData:
    """The posted form, once its CSRF token matches this visitor's (else 403)."""
    form = await request.form()
    given = str(form.get("csrf_token") or request.headers.get("x-csrf-token") or "")
    expected = current.csrf_token
    if current.visitor is None:
        expected = request.cookies.get(CSRF_COOKIE) or ""  # a fresh token proves nothing
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise CsrfRefused("this form has expired or did not come from this site: try again")
    return form


Form = Annotated[FormData, Depends(checked_form)]


def code_refusal(current: Page, error: Exception) -> str:
    """A refused one-time code (login or contact change), in the visitor's language."""
    t = current.t
    if isinstance(error, TooManyCodes):
        return t("login.too_many_codes")
    if isinstance(error, LockedOut):
        seconds = (error.until - current.context.app.clock.now()).total_seconds()
        return t("login.locked", minutes=max(1, -(-int(seconds) // 60)))
    if isinstance(error, WrongCode):
        return t("login.wrong_code", left=error.tries_left)
    if isinstance(error, CodeExpired):
        return t("login.expired_code")
    return str(error)
