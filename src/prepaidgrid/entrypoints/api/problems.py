"""Errors as problem details (RFC 9457): `application/problem+json` with type, title,
status and detail. A refused request changes nothing."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from prepaidgrid.domain.access import AccessDenied, Forbidden, LockedOut
from prepaidgrid.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from prepaidgrid.domain.payments import CallbackRefused

PROBLEM = "application/problem+json"


class Unauthorized(DomainError):
    """Missing or wrong credentials."""


class NotConfigured(DomainError):
    """The endpoint's secret is not configured on this server."""


STATUS: list[tuple[type[DomainError], int]] = [
    (CallbackRefused, 401),
    (Unauthorized, 401),
    (AccessDenied, 401),
    (Forbidden, 403),
    (LockedOut, 429),
    (NotFound, 404),
    (Conflict, 409),
    (InvalidInput, 422),
    (NotConfigured, 503),
]


class Problem(BaseModel):
    """Problem details (RFC 9457), the body of every refusal."""

    type: str
    title: str
    status: int
    detail: str


# FastAPI's own refusal of a JSON body it cannot decode (it is not UTF-8), before parsing.
UNREADABLE_BODY = "the body cannot be decoded (it is not UTF-8 text)"
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "how to authenticate", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "seconds to wait", "schema": {"type": "string"}}},
}


def documented(refusals: Mapping[int, str]) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each refusal's status and why, sent as problem+json."""
    responses: dict[int | str, dict[str, Any]] = {}
    for status, why in refusals.items():
        response = {
            "description": why,
            "content": {PROBLEM: {"schema": Problem.model_json_schema()}},
        }
        if status in _HEADERS:
            response["headers"] = _HEADERS[status]
        responses[status] = response
    return responses


def status_of(error: DomainError) -> int:
    for kind, status in STATUS:
        if isinstance(error, kind):
            return status
    return 422


def problem(
    status: int, title: str, detail: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    slug = title.lower().replace(" ", "-")
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Signature"}
    return JSONResponse(
        {
            "type": f"https://prepaidgrid.org/problems/{slug}",
            "title": title,
            "status": status,
            "detail": detail,
        },
        status_code=status,
        media_type=PROBLEM,
        headers=headers,
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> JSONResponse:
        headers = None
        if isinstance(error, LockedOut):  # say when to come back
            now = request.app.state.api.app.clock.now()
            headers = {"Retry-After": str(max(1, int((error.until - now).total_seconds())))}
        return problem(status_of(error), _title(type(error).__name__), str(error), headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, error: RequestValidationError) -> JSONResponse:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
            for e in error.errors()
        )
        return problem(422, "Invalid request", details or "the request is not valid")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        """The framework's own refusals (no such route, wrong method, a body that is not
        text) in the API's format; the portal keeps its pages."""
        if not request.url.path.startswith("/api/"):
            return await http_exception_handler(request, error)
        title = HTTPStatus(error.status_code).phrase.capitalize()
        return problem(error.status_code, title, str(error.detail), error.headers)


def _title(name: str) -> str:
    words, word = [], ""
    for char in name:
        if char.isupper() and word:
            words.append(word)
            word = ""
        word += char
    words.append(word)
    return " ".join([words[0], *(w.lower() for w in words[1:])])
