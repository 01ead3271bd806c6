"""E-mail over SMTP (smtplib): a plain-text message in the consumer's language, UTF-8 body
and subject, STARTTLS and login when configured. The Message-ID is derived from the outbox
key, so a message sent twice after a crash carries the same id."""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from prepaidgrid.services.ports import Email, SendFailed, SendRefused


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    sender: str = "prepaidgrid <no-reply@localhost>"
    user: str | None = None
    password: str | None = None
    is_starttls: bool = False
    timeout_s: float = 15.0
    domain: str = "prepaidgrid.local"  # the right-hand side of our Message-IDs


class SmtpMailer:
    def __init__(self, config: SmtpConfig) -> None:
        self._config = config

    def message_of(self, email: Email) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._config.sender
        message["To"] = email.to
        message["Subject"] = email.subject  # encoded as UTF-8 when not ASCII
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = message_id(email.idempotency_key, self._config.domain)
        message["Content-Language"] = email.language
        message.set_content(email.text, charset="utf-8")
        return message

    def send_email(self, email: Email) -> str:
        config, message = self._config, self.message_of(email)
        try:
            with smtplib.SMTP(config.host, config.port, timeout=config.timeout_s) as smtp:
                if config.is_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if config.user:
                    smtp.login(config.user, config.password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            raise SendRefused(f"the SMTP server refused {email.to}") from error
        except smtplib.SMTPDataError as error:  # the message itself: refused for good on 5xx
            detail = f"SMTP {error.smtp_code}: {error.smtp_error!r}"
            if 500 <= error.smtp_code < 600:
                raise SendRefused(detail) from error
            raise SendFailed(detail) from error
        except (OSError, smtplib.SMTPException) as error:
            # down, or our own setup (login, sender) is wrong: every message would fail the
            # same way, so keep them and retry; the health page shows the failures.
            raise SendFailed(f"SMTP: {type(error).__name__}: {error}") from error
        return str(message["Message-ID"])


def message_id(key: str, domain: str) -> str:
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"
