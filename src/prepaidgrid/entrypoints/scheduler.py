"""The scheduler `serve` runs beside the head-end: the nightly billing run at 00:30 IST, and
after a month's last day its true-up, then the day's alerts; the polling of quiet gateway
orders; and the notification dispatcher every few seconds.

One thread wakes every `poll_seconds`; once it is past 00:30 IST and yesterday has not been
run, it computes each due day's usage from meter data and bills it (catching up missed
days one by one). A failure is logged and tried again at the next wake: the run is
idempotent, so trying again never charges twice. The alerts only queue messages (the
dispatcher, a thread of its own, sends them), so a failing SMS gateway can neither block nor
fail billing; an alerts step that fails is logged and never undoes the run. With several
`serve` processes, each would try; the run's keys keep that safe, and a leader lock (issue 8)
will make it tidy.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from datetime import date, timedelta
from typing import Self

from prepaidgrid.adapters.db.leader import LeaderLock
from prepaidgrid.bootstrap import App
from prepaidgrid.domain.units import IST
from prepaidgrid.services.alerts import AlertRun, queue_alerts
from prepaidgrid.services.billing_run import DayRun, is_nightly_due, run_nightly
from prepaidgrid.services.complaint_desk import Escalation, escalate_overdue
from prepaidgrid.services.gateway import poll_unsettled_orders
from prepaidgrid.services.meter_usage import compute_daily_usage
from prepaidgrid.services.notify import DispatchRun, dispatch_notifications
from prepaidgrid.services.ports import Notifiers, PaymentGateway
from prepaidgrid.services.true_up import true_up_month

log = logging.getLogger("prepaidgrid.scheduler")
DISPATCH_BATCH = 50
DISPATCH_PARALLEL = 8  # SMS in flight at once per dispatcher


class Periodic:
    """A daemon thread that calls `tick()` every `poll_seconds` until stopped; with a
    `leader` lock, only while this process holds it (one scheduler among `serve`s)."""

    def __init__(self, name: str, poll_seconds: float, leader: LeaderLock | None = None) -> None:
        self._poll_seconds = poll_seconds
        self._leader = leader
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def _loop(self) -> None:
        while not self._stop.is_set():
            if self.is_leading():
                self.tick()
            self._stop.wait(self._poll_seconds)

    def is_leading(self) -> bool:
        return self._leader is None or self._leader.holds()

    def tick(self) -> None:
        raise NotImplementedError


class NightlyBilling(Periodic):
    def __init__(
        self, app: App, poll_seconds: float = 60.0, leader: LeaderLock | None = None
    ) -> None:
        super().__init__("nightly-billing", poll_seconds, leader)
        self._app = app
        self.last_done: date | None = None
        self.runs: list[DayRun] = []
        self.alerts: list[AlertRun] = []

    def _true_up(self, month: date) -> None:
        app = self._app
        run = true_up_month(month, app.new_uow, app.clock, app.tariffs, app.policies)
        log.warning("true-up of %s: %s", month.strftime("%Y-%m"), run.as_dict())

    def tick(self) -> None:
        app = self._app
        now = app.clock.now()
        if not is_nightly_due(now, self.last_done):
            return
        try:
            runs = run_nightly(
                app.new_uow,
                app.clock,
                app.tariffs,
                app.policies,
                lambda day: compute_daily_usage(day, app.uow(), app.clock, tariffs=app.tariffs),
                new_reader=app.new_reader,
                on_month_end=self._true_up,
            )
        except Exception:  # the database may be down: the next wake tries again
            log.exception("the nightly billing run failed; it will be tried again")
            return
        self.runs += runs
        for run in runs:
            log.warning(
                "billed %s: %d accounts, %d paise, %d entering grace, skipped %s",
                run.day,
                run.billed,
                run.charged_paise,
                run.entered_grace,
                run.skipped or "none",
            )
        self.last_done = now.astimezone(IST).date() - timedelta(days=1)
        for run in runs:
            self._queue_alerts(run.day)

    def _queue_alerts(self, day: date) -> None:
        app = self._app
        try:
            alerts = queue_alerts(day, app.notify_uow, app.clock, new_reader=app.notify_reader)
        except Exception:  # billing is done and stays done: the alerts are only late
            log.exception("queueing the alerts of %s failed", day)
            return
        self.alerts.append(alerts)
        log.warning(
            "alerts of %s: %d low-balance, %d daily summaries queued",
            day,
            alerts.low_balance,
            alerts.summaries,
        )


class OrderPolling(Periodic):
    """Every `poll_seconds`, ask the gateway about orders whose webhook has not come
    (services/gateway.py): a lost callback must not leave a paid consumer in the dark."""

    def __init__(
        self,
        app: App,
        gateway: PaymentGateway,
        poll_seconds: float = 60.0,
        leader: LeaderLock | None = None,
    ) -> None:
        super().__init__("order-polling", poll_seconds, leader)
        self._app, self._gateway = app, gateway

    def tick(self) -> None:
        try:
            run = poll_unsettled_orders(
                self._app.new_uow, self._app.clock, self._app.policies, self._gateway
            )
        except Exception:  # the database or the gateway may be down: next time
            log.exception("polling the gateway failed; it will be tried again")
            return
        if run.settled:
            log.warning("gateway polling settled %d of %d quiet orders", run.settled, run.asked)


class NotificationDispatch(Periodic):
    """Every `poll_seconds`, send the due SMS and e-mail (services/notify.py). A gateway
    that fails only delays its own messages: they are retried with backoff and the health
    page shows it."""

    def __init__(
        self,
        app: App,
        notifiers: Notifiers,
        poll_seconds: float = 5.0,
        jitter: Callable[[], float] = random.random,
        parallel: int = DISPATCH_PARALLEL,
    ) -> None:
        super().__init__("notification-dispatch", poll_seconds)
        self._app, self._notifiers, self._jitter = app, notifiers, jitter
        self._parallel = parallel
        self.last: DispatchRun | None = None

    def tick(self) -> None:
        try:
            while True:  # a backlog drains at once, one batch at a time
                run = dispatch_notifications(
                    self._app.notify_uow,
                    self._app.clock,
                    self._notifiers,
                    self._jitter,
                    batch=DISPATCH_BATCH,
                    parallel=self._parallel,
                )
                self.last = run
                if run.by_status:
                    log.info("notifications: %s", run.as_dict())
                if run.claimed < DISPATCH_BATCH or self._stopping():
                    return
        except Exception:  # the database may be down: next time
            log.exception("dispatching notifications failed; it will be tried again")

    def _stopping(self) -> bool:
        return self._stop.is_set()


class ComplaintEscalation(Periodic):
    """Every `poll_seconds` (hourly by default), escalate the complaints whose due day has
    ended (services/complaint_desk.py): once per level, however often it runs or however
    many `serve` processes run it; the consumer's SMS waits for the end of quiet hours."""

    def __init__(
        self, app: App, poll_seconds: float = 3600.0, leader: LeaderLock | None = None
    ) -> None:
        super().__init__("complaint-escalation", poll_seconds, leader)
        self._app = app
        self.done: list[Escalation] = []

    def tick(self) -> None:
        try:
            done = escalate_overdue(self._app.uow, self._app.clock)
        except Exception:  # the database may be down: next time
            log.exception("escalating overdue complaints failed; it will be tried again")
            return
        self.done += done
        if done:
            log.warning("escalated %d overdue complaint(s)", len(done))
