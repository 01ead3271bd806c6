"""Validated settings, read once in bootstrap.py (environment prefix PREPAIDGRID_)."""

from __future__ import annotations

from pydantic import Field, model_validator
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
    # Notifications (docs/notifications.md). No gateway URL: SMS are appended as JSON lines
    # to `sms_file` (and printed with `sms_console`). No SMTP host: no e-mail is sent.
    sms_gateway_url: str | None = None
    sms_api_key: str | None = None
    sms_dlt_entity_id: str = ""  # the principal entity id registered on the DLT platform
    sms_sender_id: str = ""  # the DLT-registered header, e.g. "PGRIDB"
    # template -> DLT template id, as JSON: {"zero_balance": "1107161234567890123", ...}
    sms_dlt_template_ids: dict[str, str] = Field(default_factory=dict)
    sms_timeout_s: float = 10.0
    sms_file: str = "prepaidgrid-sms.jsonl"  # "" for none
    sms_console: bool = False
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "prepaidgrid <no-reply@localhost>"
    smtp_starttls: bool = False
    notify_poll_s: float = 5.0  # how often `serve` looks for due messages
    notify_parallel: int = 8  # messages in flight at once per dispatcher

    @model_validator(mode="after")
    def _gateway_complete(self) -> Settings:
        if self.sms_gateway_url:
            missing = [
                f"PREPAIDGRID_{name.upper()}"
                for name in ("sms_api_key", "sms_dlt_entity_id", "sms_sender_id")
                if not getattr(self, name)
            ]
            if missing:
                raise ValueError(f"an SMS gateway URL needs {', '.join(missing)} as well")
        return self
