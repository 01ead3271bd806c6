"""Validated settings, read once in bootstrap.py (environment prefix PREPAIDGRID_)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./prepaidgrid.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PREPAIDGRID_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    # Payment channels (docs/payments.md). No defaults: a channel without its secret is
    # refused (503), never run with a guessable one. `make demo` sets its own.
    gateway_webhook_secret: str | None = None  # HMAC-SHA256 key shared with the gateway
    bbps_api_key: str | None = None  # the BBPS operating unit's key (X-BBPS-Key)
    officer_api_key: str | None = None  # until officer logins (issue 6): X-Officer-Key
    session_secret: str | None = None  # signs cashier (and later officer) session tokens
    webhook_window_s: int = 300  # a signed callback further from our clock is refused
