"""The one composition root: settings in, wired engine, unit of work and ports out."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from prepaidgrid.adapters.books import PackagedPolicyBook, PackagedTariffBook
from prepaidgrid.adapters.clock import SystemClock
from prepaidgrid.adapters.db.engine import make_engine
from prepaidgrid.adapters.db.migrate import current_revision, head_revision
from prepaidgrid.adapters.db.notification_repository import SqlNotifyUnitOfWork
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.adapters.notifiers.sms_file import FileSmsSink
from prepaidgrid.adapters.notifiers.sms_http import HttpSmsGateway, SmsGatewayConfig
from prepaidgrid.adapters.notifiers.smtp import SmtpConfig, SmtpMailer
from prepaidgrid.config import Settings
from prepaidgrid.domain.errors import DomainError
from prepaidgrid.services.ports import Clock, Mailer, Notifiers, SmsGateway


class SchemaNotReady(DomainError):
    """The database is not at the schema this code expects."""


@dataclass(frozen=True)
class App:
    engine: Engine
    clock: Clock
    tariffs: PackagedTariffBook
    policies: PackagedPolicyBook
    new_uow: Callable[[], SqlUnitOfWork]
    # a transaction that only reads, beside the writer (the billing run reads ahead with it)
    new_reader: Callable[[], SqlUnitOfWork]
    # how SMS and e-mail leave (None: an App built by hand, e.g. in a test, sends nothing)
    notifiers: Notifiers | None = None

    def uow(self) -> SqlUnitOfWork:
        return self.new_uow()

    def notify_uow(self) -> SqlNotifyUnitOfWork:
        """A unit of work with the notification store (deliveries, inbox, alerts)."""
        return SqlNotifyUnitOfWork(self.engine)

    def notify_reader(self) -> SqlNotifyUnitOfWork:
        """The same, for reading only, beside the writer."""
        return SqlNotifyUnitOfWork(self.engine, read_only=True)


def bootstrap(settings: Settings, clock: Clock | None = None, *, check_schema: bool = True) -> App:
    engine = make_engine(settings.database_url)
    if check_schema:
        at, head = current_revision(engine), head_revision()
        if at != head:
            raise SchemaNotReady(
                f"database schema is at {at or 'nothing'}, expected {head}: "
                "run `prepaidgrid db upgrade` first"
            )
    return App(
        engine=engine,
        clock=clock or SystemClock(),
        tariffs=PackagedTariffBook(),
        policies=PackagedPolicyBook(),
        new_uow=lambda: SqlUnitOfWork(engine),
        new_reader=lambda: SqlUnitOfWork(engine, read_only=True),
        notifiers=build_notifiers(settings),
    )


def build_notifiers(settings: Settings) -> Notifiers:
    """The SMS gateway if one is configured, else the file/console sink; SMTP if a host is
    configured, else no e-mail."""
    sms: SmsGateway
    if settings.sms_gateway_url:
        sms = HttpSmsGateway(
            SmsGatewayConfig(
                url=settings.sms_gateway_url,
                api_key=settings.sms_api_key or "",
                dlt_entity_id=settings.sms_dlt_entity_id,
                sender_id=settings.sms_sender_id,
                dlt_template_ids=dict(settings.sms_dlt_template_ids),
                timeout_s=settings.sms_timeout_s,
            )
        )
    else:
        sms = FileSmsSink(
            Path(settings.sms_file) if settings.sms_file else None,
            sys.stdout if settings.sms_console else None,
        )
    mailer: Mailer | None = None
    if settings.smtp_host:
        mailer = SmtpMailer(
            SmtpConfig(
                host=settings.smtp_host,
                port=settings.smtp_port,
                sender=settings.smtp_from,
                user=settings.smtp_user,
                password=settings.smtp_password,
                is_starttls=settings.smtp_starttls,
            )
        )
    return Notifiers(sms, mailer)
