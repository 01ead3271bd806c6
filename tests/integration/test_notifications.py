"""Notifications end to end: alerts queued after billing, delivered by SMTP to a real server
and by a real HTTP SMS gateway, retried, deferred for quiet hours, kept in the inbox."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.health_read_model import health_facts
from prepaidgrid.adapters.db.notification_repository import SqlNotifyUnitOfWork
from prepaidgrid.adapters.db.tables import daily_charges, deliveries, notification_attempts, outbox
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.adapters.db.verify import verify_ledger
from prepaidgrid.adapters.notifiers.sms_http import HttpSmsGateway, SmsGatewayConfig
from prepaidgrid.adapters.notifiers.smtp import SmtpConfig, SmtpMailer
from prepaidgrid.bootstrap import App
from prepaidgrid.domain.accounts import NewConnection
from prepaidgrid.domain.errors import AlreadyExists
from prepaidgrid.domain.ledger import PaymentChannel, PaymentRef
from prepaidgrid.domain.notifications import AlertPreferences
from prepaidgrid.domain.units import format_rupees
from prepaidgrid.entrypoints.cli import app as cli
from prepaidgrid.entrypoints.portal.health import health_checks
from prepaidgrid.entrypoints.scheduler import NightlyBilling, NotificationDispatch
from prepaidgrid.services.alerts import queue_alerts
from prepaidgrid.services.charges import PostDailyCharge, post_daily_charge
from prepaidgrid.services.notify import DispatchRun, dispatch_notifications, inbox_of
from prepaidgrid.services.onboarding import (
    InstallSmartMeter,
    add_org_units,
    install_smart_meter,
    open_connection,
)
from prepaidgrid.services.ports import Notifiers, OutboxMessage, SendFailed, SendRefused, Sms
from prepaidgrid.services.recharges import ApplyRecharge, apply_recharge
from prepaidgrid.services.supply import (
    EvaluateSupply,
    RecordRelayAck,
    evaluate_supply,
    record_relay_ack,
)
from tests.conftest import database_url, ist, org_chain
from tests.integration.accounts_support import POLICIES, TARIFFS, cut_off_account, new_account
from tests.integration.api_support import Platform
from tests.integration.portal_support import log_in_consumer, portal_client
from tests.integration.test_billing_run import put_usage

pytestmark = pytest.mark.integration

JULY_1 = date(2025, 7, 1)
THRESHOLD_PAISE = 49_000  # ₹490: every test consumer's balance is below it after a day
DLT_IDS = {
    t: f"11070000000000000{n:02d}"
    for n, t in enumerate(["recharge_received", "low_balance", "zero_balance", "daily_summary"])
}


# -- real servers -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Inbox:
    """aiosmtpd handler: keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


class GatewayStub:
    """A real HTTP SMS gateway on 127.0.0.1: answers the statuses given, in turn (the last
    one for ever), and keeps every request."""

    def __init__(self, statuses: list[int], delay_s: float = 0.0) -> None:
        self.statuses, self.delay_s = statuses, delay_s
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.requests.append((dict(self.headers), body))
                time.sleep(stub.delay_s)
                status = stub.statuses[min(len(stub.requests), len(stub.statuses)) - 1]
                answer = json.dumps({"message_id": f"gw-{len(stub.requests)}"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/sms"

    def __enter__(self) -> GatewayStub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def http_gateway(stub: GatewayStub) -> HttpSmsGateway:
    return HttpSmsGateway(
        SmsGatewayConfig(stub.url, "key-1", "1101000000000000001", "PGRIDB", DLT_IDS, 5.0)
    )


class RecordingSms:
    def __init__(self) -> None:
        self.sent: list[Sms] = []
        self._lock = threading.Lock()

    def send_sms(self, sms: Sms) -> str:
        with self._lock:
            self.sent.append(sms)
        return f"rec-{len(self.sent)}"


# -- consumers ----------------------------------------------------------------------------------


def consumer(
    engine: Engine,
    clock: SettableClock,
    account_id: str,
    *,
    language: str = "en",
    email: str | None = None,
    recharge_paise: int = 50_000,
    preferences: AlertPreferences | None = None,
) -> str:
    with contextlib.suppress(AlreadyExists):
        add_org_units(org_chain("SUB-1"), SqlUnitOfWork(engine))
    connection = NewConnection(
        account_id,
        "Test",
        "98765" + account_id[-5:],
        "DS-II",
        2000,
        "SUB-1",
        "SBPDCL",
        language=language,
        email=email,
    )
    open_connection(connection, SqlUnitOfWork(engine), clock)
    install_smart_meter(
        # a rupee of postpaid credit: no cut warning before the first recharge
        InstallSmartMeter(account_id, f"M-{account_id}", postpaid_balance_paise=100),
        SqlUnitOfWork(engine),
        clock,
        POLICIES,
    )
    recharge(engine, clock, account_id, recharge_paise, "first")
    with SqlUnitOfWork(engine) as uow:
        uow.care.save_preferences(
            account_id,
            preferences or AlertPreferences(low_balance_paise=THRESHOLD_PAISE),
            clock.now(),
        )
        uow.commit()
    return account_id


def recharge(engine: Engine, clock: SettableClock, account_id: str, paise: int, ref: str) -> None:
    apply_recharge(
        ApplyRecharge(account_id, paise, PaymentRef(PaymentChannel.APP, f"{account_id}-{ref}")),
        SqlUnitOfWork(engine),
        clock,
        POLICIES,
    )


def charge(engine: Engine, clock: SettableClock, account_id: str, day: date, wh: int) -> None:
    clock.set(ist(day.year, day.month, day.day, 0, 30) + timedelta(days=1))
    post_daily_charge(
        PostDailyCharge(account_id, day, wh), SqlUnitOfWork(engine), clock, TARIFFS, POLICIES
    )


def balance(engine: Engine, account_id: str) -> int:
    with SqlUnitOfWork(engine) as uow:
        return uow.connections.get(account_id).wallet_paise


def charges_of(engine: Engine, account_id: str) -> list[int]:
    with engine.connect() as db:
        return list(
            db.execute(
                select(daily_charges.c.total_paise)
                .where(daily_charges.c.account_id == account_id)
                .order_by(daily_charges.c.bill_day)
            ).scalars()
        )


def dispatch(
    engine: Engine, clock: SettableClock, sms: Any, mailer: SmtpMailer | None = None
) -> DispatchRun:
    return dispatch_notifications(
        lambda: SqlNotifyUnitOfWork(engine), clock, Notifiers(sms, mailer), lambda: 0.0
    )


def rows(engine: Engine, template: str) -> list[dict[str, Any]]:
    """The outbox messages of a template with their delivery, oldest first."""
    with engine.connect() as db:
        found = db.execute(
            select(
                outbox,
                deliveries.c.status.label("delivery"),
                deliveries.c.attempts,
                deliveries.c.next_attempt_at,
                deliveries.c.provider_message_id,
            )
            .outerjoin(deliveries, deliveries.c.outbox_id == outbox.c.id)
            .order_by(outbox.c.id)
        ).mappings()
        return [dict(r) for r in found if r["payload"]["template"] == template]


# -- the tests ----------------------------------------------------------------------------------


def test_low_balance_email_reaches_an_smtp_server_in_hindi_and_english_with_the_right_figures(
    engine: Engine, smtp_server: tuple[int, Inbox]
) -> None:
    port, server = smtp_server
    clock = SettableClock(ist(2025, 6, 30, 12))
    english = consumer(engine, clock, "EN-00001", email="ravi@example.com")
    hindi = consumer(engine, clock, "HI-00002", language="hi", email="sita@example.com")
    for account_id in (english, hindi):
        with SqlUnitOfWork(engine) as uow:
            uow.care.save_preferences(
                account_id,
                AlertPreferences(low_balance_paise=THRESHOLD_PAISE, is_email_on=True),
                clock.now(),
            )
            uow.commit()
        for n, wh in enumerate((9_000, 12_000, 10_000)):
            charge(engine, clock, account_id, JULY_1 + timedelta(days=n), wh)
    clock.set(ist(2025, 7, 4, 9))
    sms = RecordingSms()

    run = queue_alerts(date(2025, 7, 3), lambda: SqlNotifyUnitOfWork(engine), clock)
    dispatch(engine, clock, sms, SmtpMailer(SmtpConfig("127.0.0.1", port, "bills@discom.in")))

    assert run.low_balance == 4  # an SMS and an e-mail each
    received = {m["To"]: m for m in server.messages}
    assert set(received) == {"ravi@example.com", "sita@example.com"}
    assert received["ravi@example.com"]["Subject"] == "Low electricity balance"
    assert received["sita@example.com"]["Subject"] == "बिजली बैलेंस कम है"
    for account_id, address, words in (
        (english, "ravi@example.com", "At your recent use that lasts about"),
        (hindi, "sita@example.com", "दिन चलेगा"),
    ):
        left, paid = balance(engine, account_id), 50_000
        recent = charges_of(engine, account_id)
        assert 0 < left < THRESHOLD_PAISE, "the test's consumers must be low"
        body = received[address].get_content()
        assert words in body
        assert format_rupees(left) in body
        assert format_rupees(paid) in body
        assert f"{left * 100 // paid}%" in body
        assert f" {left * len(recent) // sum(recent)} " in body  # days left at the mean
        assert received[address]["Message-ID"].endswith("@prepaidgrid.local>")
    low = sorted(s.mobile for s in sms.sent if s.template == "low_balance")
    assert low == ["9876500001", "9876500002"]
    inbox = inbox_of(english, "9876500001", SqlNotifyUnitOfWork(engine, read_only=True))
    assert [e.template for e in inbox].count("low_balance") == 1  # SMS and e-mail: one entry


def test_a_failing_sms_gateway_is_retried_with_backoff_and_delivered_once(engine: Engine) -> None:
    clock = SettableClock(ist(2025, 7, 1, 12))
    account_id = consumer(engine, clock, "GW-00001")  # its recharge SMS is queued

    with GatewayStub([503, 503, 200]) as stub:
        first = dispatch(engine, clock, http_gateway(stub))
        again = dispatch(engine, clock, http_gateway(stub))  # not due yet: nothing sent
        clock.advance(timedelta(seconds=30))
        second = dispatch(engine, clock, http_gateway(stub))
        after_second = rows(engine, "recharge_received")[0]
        clock.advance(timedelta(seconds=60))
        third = dispatch(engine, clock, http_gateway(stub))
        clock.advance(timedelta(hours=2))
        dispatch(engine, clock, http_gateway(stub))  # delivered: never sent again

    assert first.by_status == {"pending": 1}
    assert again.claimed == 0
    assert second.by_status == {"pending": 1}
    assert after_second["next_attempt_at"] == ist(2025, 7, 1, 12, 1) + timedelta(seconds=30)
    assert third.by_status == {"sent": 1}
    assert len(stub.requests) == 3
    keys = {headers["Idempotency-Key"] for headers, _ in stub.requests}
    assert keys == {f"sms:recharge:app:{account_id}-first"}
    _, body = stub.requests[-1]
    assert body["dlt_entity_id"] == "1101000000000000001"
    assert body["dlt_template_id"] == DLT_IDS["recharge_received"]
    assert body["sender"] == "PGRIDB"
    assert body["mobile"] == "919876500001"
    delivered = rows(engine, "recharge_received")[0]
    assert (delivered["delivery"], delivered["attempts"]) == ("sent", 3)
    assert delivered["provider_message_id"] == "gw-3"
    assert delivered["status"] == "sent"  # the outbox row is closed too
    with engine.connect() as db:
        outcomes = db.execute(
            select(notification_attempts.c.outcome).order_by(notification_attempts.c.id)
        ).scalars()
        assert list(outcomes) == ["retry", "retry", "sent"]


def test_a_gateway_that_always_fails_never_blocks_billing_and_fails_the_health_check_saying_since_when(  # noqa: E501
    engine: Engine,
) -> None:
    clock = SettableClock(ist(2025, 6, 30, 12))
    awake = AlertPreferences(  # quiet hours end before the nightly run: SMS go at once
        low_balance_paise=THRESHOLD_PAISE, quiet_from=dt_time(22), quiet_until=dt_time(0, 30)
    )
    ids = [consumer(engine, clock, f"BL-{n:05d}", preferences=awake) for n in range(3)]
    put_usage(engine, {(a, JULY_1): 8_000 for a in ids})
    clock.set(ist(2025, 7, 2, 0, 40))
    app = App(
        engine,
        clock,
        TARIFFS,
        POLICIES,
        lambda: SqlUnitOfWork(engine),
        lambda: SqlUnitOfWork(engine, read_only=True),
    )
    # bill only 1 July: the last night the server was up was 30 June
    with SqlUnitOfWork(engine) as uow:
        assert uow.billing.latest_billed_day() is None

    with GatewayStub([503], delay_s=0.2) as stub:
        notify = NotificationDispatch(app, Notifiers(http_gateway(stub)), poll_seconds=0.01)
        notify.start()
        waited = time.monotonic()
        while not stub.requests:  # the gateway is being hammered while billing runs
            assert time.monotonic() - waited < 30, "the dispatcher sent nothing"
            time.sleep(0.01)
        nightly = NightlyBilling(app)
        nightly.tick()
        notify.stop()
        for _ in range(3):  # two more retries, each when due
            clock.advance(timedelta(hours=1))
            dispatch(engine, clock, http_gateway(stub))

    assert [run.day for run in nightly.runs][-1] == JULY_1
    assert len(charges_of(engine, ids[0])) == 1
    assert verify_ledger(engine).ok
    assert nightly.alerts
    assert nightly.alerts[-1].low_balance == 3
    checks = {c.name: c for c in health_checks(health_facts(engine), clock.now())}
    sms = checks["SMS gateway"]
    assert not sms.is_ok
    assert sms.since == ist(2025, 7, 2, 0, 40)  # the first failure
    assert "since 02-07-2025 00:40 IST" in sms.detail
    assert "503" in sms.detail
    assert all(r["delivery"] == "pending" for r in rows(engine, "recharge_received"))


def test_quiet_hours_defer_a_low_balance_alert_but_not_the_cut_warning(engine: Engine) -> None:
    clock = SettableClock(ist(2025, 6, 30, 12))
    low = consumer(engine, clock, "QU-00001")
    empty = consumer(engine, clock, "QU-00002", recharge_paise=2_000)
    charge(engine, clock, low, JULY_1, 12_000)
    charge(engine, clock, empty, JULY_1, 12_000)  # below zero: the cut warning is queued
    clock.set(ist(2025, 7, 2, 0, 45))  # quiet hours: 22:00-07:00 by default
    sms = RecordingSms()

    queued = queue_alerts(JULY_1, lambda: SqlNotifyUnitOfWork(engine), clock)
    dispatch(engine, clock, sms)
    at_night = [s.template for s in sms.sent]
    clock.set(ist(2025, 7, 2, 6, 59))
    dispatch(engine, clock, sms)
    before_seven = [s.template for s in sms.sent]
    clock.set(ist(2025, 7, 2, 7, 0))
    dispatch(engine, clock, sms)

    assert queued.low_balance == 1
    assert "zero_balance" in at_night
    assert "low_balance" not in at_night
    assert "low_balance" not in before_seven
    assert [s.template for s in sms.sent].count("low_balance") == 1
    assert rows(engine, "low_balance")[0]["delivery"] == "sent"


def test_a_low_balance_alert_goes_once_per_recharge_cycle_and_again_after_a_new_recharge(
    engine: Engine,
) -> None:
    clock = SettableClock(ist(2025, 6, 30, 12))
    account_id = consumer(engine, clock, "CY-00001")
    new_uow = lambda: SqlNotifyUnitOfWork(engine)  # noqa: E731

    charge(engine, clock, account_id, JULY_1, 12_000)
    first = queue_alerts(JULY_1, new_uow, clock)
    charge(engine, clock, account_id, date(2025, 7, 2), 5_000)
    same_cycle = queue_alerts(date(2025, 7, 2), new_uow, clock)
    recharge(engine, clock, account_id, 1_000, "top-up")  # ₹10: still low, a new cycle
    charge(engine, clock, account_id, date(2025, 7, 3), 5_000)
    new_cycle = queue_alerts(date(2025, 7, 3), new_uow, clock)
    again = queue_alerts(date(2025, 7, 3), new_uow, clock)

    assert (first.low_balance, same_cycle.low_balance, new_cycle.low_balance) == (1, 0, 1)
    assert again.low_balance == 0
    alerts = rows(engine, "low_balance")
    assert len(alerts) == 2
    assert alerts[1]["payload"]["params"]["recharge"] == "₹10.00"
    assert alerts[1]["payload"]["params"]["share"] == "100"  # more left than the top-up


def test_an_alert_the_consumer_switched_off_is_not_sent_but_is_in_the_inbox(
    engine: Engine,
) -> None:
    clock = SettableClock(ist(2025, 6, 30, 12))
    quiet = AlertPreferences(low_balance_paise=THRESHOLD_PAISE, is_sms_on=False)
    account_id = consumer(engine, clock, "OFF-00001", preferences=quiet)
    charge(engine, clock, account_id, JULY_1, 12_000)
    clock.set(ist(2025, 7, 2, 9))
    sms = RecordingSms()

    queue_alerts(JULY_1, lambda: SqlNotifyUnitOfWork(engine), clock)
    dispatch(engine, clock, sms)

    assert "low_balance" not in [s.template for s in sms.sent]
    assert rows(engine, "low_balance")[0]["delivery"] == "skipped"
    inbox = inbox_of(account_id, "9876500001", SqlNotifyUnitOfWork(engine, read_only=True))
    assert "low_balance" in [e.template for e in inbox]


def test_a_message_claimed_by_a_dispatcher_that_died_is_sent_once_after_its_lease(
    engine: Engine,
) -> None:
    clock = SettableClock(ist(2025, 7, 1, 12))
    consumer(engine, clock, "LE-00001")
    sms = RecordingSms()
    with SqlNotifyUnitOfWork(engine) as uow:  # a dispatcher claims, then dies
        uow.notifications.enrol([], [])
        uow.commit()
    dispatch_claim_only(engine, clock)

    dispatch(engine, clock, sms)  # leased: not taken again
    leased = len(sms.sent)
    clock.advance(timedelta(minutes=6))
    dispatch(engine, clock, sms)
    dispatch(engine, clock, sms)

    assert leased == 0
    assert [s.template for s in sms.sent] == ["recharge_received"]


def dispatch_claim_only(engine: Engine, clock: SettableClock) -> None:
    from prepaidgrid.services.notify import LEASE, enrol_new_messages

    with SqlNotifyUnitOfWork(engine) as uow:
        enrol_new_messages(uow, clock.now())
        uow.commit()
    with SqlNotifyUnitOfWork(engine) as uow:
        assert uow.notifications.claim(clock.now(), clock.now() + LEASE, 10)
        uow.commit()


def test_two_dispatchers_at_once_send_each_message_once(engine: Engine) -> None:
    clock = SettableClock(ist(2025, 7, 1, 12))
    for n in range(12):
        consumer(engine, clock, f"TW-{n:05d}")
    sms = RecordingSms()

    def work() -> None:
        for _ in range(4):
            dispatch_notifications(
                lambda: SqlNotifyUnitOfWork(engine),
                clock,
                Notifiers(sms),
                lambda: 0.0,
                batch=3,
                parallel=3,
            )

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    keys = [s.idempotency_key for s in sms.sent]
    assert len(keys) == 12
    assert len(set(keys)) == 12


def test_login_codes_never_land_in_the_inbox(engine: Engine) -> None:
    clock = SettableClock(ist(2025, 7, 1, 12))
    account_id = consumer(engine, clock, "LC-00001")
    with SqlUnitOfWork(engine) as uow:
        uow.outbox.add(_code_message(account_id, clock.now()))
        uow.commit()

    dispatch(engine, clock, RecordingSms())

    inbox = inbox_of(account_id, "9876500001", SqlNotifyUnitOfWork(engine, read_only=True))
    assert [e.template for e in inbox] == ["recharge_received"]


def _code_message(account_id: str, at: datetime) -> Any:
    return OutboxMessage(
        "sms:login_code:1",
        "sms",
        account_id,
        {
            "template": "login_code",
            "language": "en",
            "mobile": "9876500001",
            "params": {"code": "123456"},
            "text": "123456 is your code",
        },
        at,
    )


def test_a_consumer_reads_their_messages_on_the_portal_but_not_another_consumers(
    platform: Platform,
) -> None:
    engine, clock = platform.engine, platform.clock
    mine = new_account(engine, clock, 10_000, mobile="9876500001")
    theirs = new_account(engine, clock, 10_000, mobile="9123456780")
    dispatch(engine, clock, RecordingSms())  # the recharge SMS: sent, and in the inbox
    client = portal_client(platform)
    log_in_consumer(platform, client, "9876500001")

    page = client.get(f"/portal/accounts/{mine}/inbox")
    other = client.get(f"/portal/accounts/{theirs}/inbox")

    assert page.status_code == 200
    assert "Recharge received" in page.text or "रिचार्ज प्राप्त" in page.text
    assert "₹100.00" in page.text  # the recharge SMS's own words
    assert "login code" not in page.text
    assert "लॉगिन कोड है" not in page.text
    assert f'href="/portal/accounts/{mine}/inbox"' in page.text
    assert other.status_code == 404


def test_the_cli_sends_due_sms_to_the_file_sink_and_reports_their_state(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = SettableClock(ist(2025, 7, 1, 12))
    account_id = consumer(engine, clock, "CLI-00001")
    sink = tmp_path / "sms.jsonl"
    monkeypatch.setenv("PREPAIDGRID_SMS_FILE", str(sink))
    url = database_url(engine)
    runner = CliRunner()

    sent = runner.invoke(
        cli, ["notify", "dispatch", "--once", "--json", "--db", url, "--at", "2025-07-01T12:00"]
    )
    status = runner.invoke(
        cli, ["notify", "status", "--json", "--db", url, "--at", "2025-07-01T12:00"]
    )

    assert sent.exit_code == 0, sent.output
    assert json.loads(sent.output)["by_status"] == {"sent": 1}
    lines = [json.loads(line) for line in sink.read_text(encoding="utf-8").splitlines()]
    assert [(m["template"], m["key"]) for m in lines] == [
        ("recharge_received", f"sms:recharge:app:{account_id}-first")
    ]
    assert status.exit_code == 0, status.output
    assert json.loads(status.output)["deliveries"] == {"sms": {"sent": 1}}


def test_a_cycle_from_zero_to_reconnection_warns_disconnects_and_reconnects_once_each(
    engine: Engine,
) -> None:
    clock = SettableClock(ist(2025, 7, 1, 9))
    account_id = cut_off_account(engine, clock)  # below zero on 2 July, cut on 3 July
    evaluate_supply(EvaluateSupply(account_id), SqlUnitOfWork(engine), clock, POLICIES)

    clock.set(ist(2025, 7, 3, 18))
    recharge(engine, clock, account_id, 20_000, "back")
    record_relay_ack(RecordRelayAck(account_id, True), SqlUnitOfWork(engine), clock, POLICIES)
    record_relay_ack(RecordRelayAck(account_id, True), SqlUnitOfWork(engine), clock, POLICIES)

    with engine.connect() as db:
        templates = [
            p["template"]
            for p in db.execute(
                select(outbox.c.payload)
                .where(outbox.c.account_id == account_id, outbox.c.kind == "sms")
                .order_by(outbox.c.id)
            ).scalars()
        ]
    assert templates == [
        "zero_balance",  # the meter was installed on ₹0: a cycle of its own
        "recharge_received",  # the opening ₹20 ended it
        "zero_balance",
        "disconnected",
        "recharge_received",
        "reconnected",
    ]


def test_an_sms_the_gateway_refuses_fails_at_once_and_is_never_sent_again(engine: Engine) -> None:
    clock = SettableClock(ist(2025, 7, 1, 12))
    consumer(engine, clock, "RF-00001")

    with GatewayStub([400]) as stub:
        first = dispatch(engine, clock, http_gateway(stub))
        clock.advance(timedelta(hours=3))
        later = dispatch(engine, clock, http_gateway(stub))

    assert first.by_status == {"failed": 1}
    assert later.claimed == 0
    assert len(stub.requests) == 1
    refused = rows(engine, "recharge_received")[0]
    assert (refused["delivery"], refused["status"]) == ("failed", "failed")
    checks = {c.name: c for c in health_checks(health_facts(engine), clock.now())}
    assert checks["SMS gateway"].is_ok  # one refusal is the message's fault, not the gateway's


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, SendRefused),
        (404, SendRefused),
        (401, SendFailed),
        (429, SendFailed),
        (503, SendFailed),
    ],
)
def test_the_gateways_answer_decides_between_giving_up_and_trying_again(
    status: int, error: type[Exception]
) -> None:
    sms = Sms("9876500001", "नमस्ते", "low_balance", "hi", "sms:low_balance:A-1:7")

    with GatewayStub([status]) as stub, pytest.raises(error, match=str(status)):
        http_gateway(stub).send_sms(sms)

    assert stub.requests[0][1]["unicode"] is True


def test_an_sms_without_a_dlt_template_id_is_refused_before_it_is_sent() -> None:
    sms = Sms("9876500001", "hello", "mobile_changed", "en", "sms:mobile_changed:1")

    with GatewayStub([200]) as stub, pytest.raises(SendRefused, match="DLT template"):
        http_gateway(stub).send_sms(sms)

    assert stub.requests == []


def test_only_consumers_who_opted_in_get_the_daily_summary_with_the_days_figures(
    engine: Engine,
) -> None:
    clock = SettableClock(ist(2025, 6, 30, 12))
    wants = consumer(
        engine, clock, "DS-00001", preferences=AlertPreferences(is_daily_summary_on=True)
    )
    not_asked = consumer(engine, clock, "DS-00002")
    for account_id in (wants, not_asked):
        charge(engine, clock, account_id, JULY_1, 7_460)
    clock.set(ist(2025, 7, 2, 8))
    sms = RecordingSms()

    run = queue_alerts(JULY_1, lambda: SqlNotifyUnitOfWork(engine), clock)
    dispatch(engine, clock, sms)

    assert run.summaries == 1
    [summary] = [s for s in sms.sent if s.template == "daily_summary"]
    assert summary.mobile == "9876500001"
    [charged] = charges_of(engine, wants)
    assert "01-07-2025: 7.5 units used" in summary.text
    assert f"{format_rupees(charged)} charged" in summary.text
    assert f"Balance: {format_rupees(balance(engine, wants))}" in summary.text


def test_an_smtp_server_that_is_down_is_retried_and_fails_the_e_mail_check(
    engine: Engine,
) -> None:
    clock = SettableClock(ist(2025, 7, 1, 12))
    ids = [consumer(engine, clock, f"SM-0000{n}", email=f"c{n}@example.com") for n in range(3)]
    with SqlUnitOfWork(engine) as uow:
        for n, account_id in enumerate(ids):
            uow.outbox.add(
                OutboxMessage(
                    f"email:notice:{n}",
                    "email",
                    account_id,
                    {
                        "template": "email_changed",
                        "language": "en",
                        "to": f"c{n}@example.com",
                        "subject": "Notice",
                        "text": "Your e-mail address was changed.",
                        "params": {},
                    },
                    clock.now(),
                )
            )
        uow.commit()
    nobody = SmtpMailer(SmtpConfig("127.0.0.1", free_port(), timeout_s=2))

    run = dispatch(engine, clock, RecordingSms(), nobody)

    assert run.by_status == {"pending": 3, "sent": 3}  # the e-mails wait; the SMS went
    checks = {c.name: c for c in health_checks(health_facts(engine), clock.now())}
    assert not checks["e-mail"].is_ok
    assert "ConnectionRefusedError" in checks["e-mail"].detail
    assert checks["SMS gateway"].is_ok
