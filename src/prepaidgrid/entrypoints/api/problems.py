"""Errors as problem details (RFC 9457): `application/problem+json` with type, title,
status and detail. A refused request changes nothing."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

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
    (NotFound, 404),
    (Conflict, 409),
    (InvalidInput, 422),
    (NotConfigured, 503),
]


def status_of(error: DomainError) -> int:
    for kind, status in STATUS:
        if isinstance(error, kind):
            return status
    return 422


def problem(status: int, title: str, detail: str) -> JSONResponse:
    slug = title.lower().replace(" ", "-")
    return JSONResponse(
        {
            "type": f"https://prepaidgrid.org/problems/{slug}",
            "title": title,
            "status": status,
            "detail": detail,
        },
        status_code=status,
        media_type=PROBLEM,
        headers={"WWW-Authenticate": "Signature"} if status == 401 else None,
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_request: Request, error: DomainError) -> JSONResponse:
        return problem(status_of(error), _title(type(error).__name__), str(error))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, error: RequestValidationError) -> JSONResponse:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
            for e in error.errors()
        )
        return problem(422, "Invalid request", details or "the request is not valid")


def _title(name: str) -> str:
    words, word = [], ""
    for char in name:
        if char.isupper() and word:
            words.append(word)
            word = ""
        word += char
    words.append(word)
    return " ".join([words[0], *(w.lower() for w in words[1:])])
