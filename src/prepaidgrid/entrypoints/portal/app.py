"""The portal on the API's server: pages under /portal, vendored assets under /portal/static."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from prepaidgrid.entrypoints.api.deps import api
from prepaidgrid.entrypoints.portal import (
    care,
    consumer,
    gateway_page,
    inbox,
    login,
    officer,
    officer_complaints,
    reports,
)
from prepaidgrid.entrypoints.portal.web import HERE, CsrfRefused, page


def install_portal(app: FastAPI) -> None:
    @app.middleware("http")
    async def no_control_characters(request: Request, call_next: Any) -> Response:
        """A path with a control character names nothing we store (and PostgreSQL refuses
        a NUL outright): not found, before any page looks it up."""
        if request.url.path.startswith("/portal/") and not request.url.path.isprintable():
            return HTMLResponse("not found", status_code=404)
        response: Response = await call_next(request)
        return response

    app.mount("/portal/static", StaticFiles(directory=HERE / "static"), name="portal-static")
    app.include_router(login.router)
    app.include_router(consumer.router)
    app.include_router(care.router)
    app.include_router(inbox.router)
    app.include_router(gateway_page.router)
    app.include_router(officer.router)
    app.include_router(officer_complaints.router)
    app.include_router(reports.router)

    @app.get("/", include_in_schema=False)
    def root() -> Response:
        return RedirectResponse("/portal/", status_code=307)

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, error: CsrfRefused) -> HTMLResponse:
        current = await run_in_threadpool(page, request, api(request))
        return await run_in_threadpool(
            current.render, "error.html", 403, title=current.t("errors.csrf"), message=str(error)
        )
