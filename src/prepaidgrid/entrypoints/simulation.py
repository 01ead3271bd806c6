"""`prepaidgrid simulate`: a city of simulated meters against the real platform.

    simulated meters (asyncio gateways) --MQTT--> broker --> head-end worker --> database
          ^                                                        |
          +------------- relay commands (QoS 1) <-- outbox <--------+
    scheduler (this module, on the simulated clock):
        00:30 IST   meter data -> daily usage (VEE) -> billing of the day before
        10:00-13:00 the cut sweep (accounts in grace whose cut time has come)
        hourly      consumers decide to recharge (app, counter), SMS leave the outbox

Everything the platform does goes through its use cases and the head-end, exactly as in
production; only the meters, the consumers and the clock are simulated. Time runs as fast
as the pipeline allows: before each billing run the scheduler waits until the head-end has
committed every message the meters sent, so a day is never billed on half its reads.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.read_models import (
    account_positions,
    average_daily_charge_paise,
    cuts_due,
)
from prepaidgrid.adapters.db.tables import (
    daily_usage,
    interval_blocks,
    payments,
    register_reads,
    rejected_messages,
    relay_commands,
    supply_changes,
)
from prepaidgrid.adapters.db.verify import verify_ledger
from prepaidgrid.adapters.headend.broker import EmbeddedBroker, free_port
from prepaidgrid.adapters.headend.worker import HeadEndWorker, WorkerConfig, broker_address
from prepaidgrid.bootstrap import App
from prepaidgrid.domain.accounts import NewConnection, OrgLevel, OrgUnit
from prepaidgrid.domain.errors import DomainError
from prepaidgrid.domain.ledger import PaymentRef
from prepaidgrid.domain.units import IST
from prepaidgrid.services.billing_run import bill_day
from prepaidgrid.services.meter_usage import compute_daily_usage
from prepaidgrid.services.onboarding import (
    InstallSmartMeter,
    ReplaceMeter,
    add_org_units,
    install_smart_meter,
    open_connection,
    replace_meter,
)
from prepaidgrid.services.outbox import dispatch_outbox
from prepaidgrid.services.ports import OutboxMessage
from prepaidgrid.services.recharges import ApplyRecharge, apply_recharge
from prepaidgrid.services.supply import EvaluateSupply, evaluate_supply
from prepaidgrid.simulator import (
    BrokerAddress,
    Consumer,
    Fleet,
    RechargeHabit,
    Scenario,
    SimulatedMeter,
    decide_recharge,
    load_scenario,
    mqtt_links,
)

TICK = timedelta(minutes=15)
BILLING_AT = (0, 30)  # 00:30 IST, for the day before
CUT_HOURS = range(10, 13)  # the sweep runs through the window; the policy decides
TYPICAL_DAY_PAISE = 40_00  # what a consumer guesses a day costs before any bill
# Opening credit, in days of typical use: early payers keep a cushion, late ones run dry
OPENING_DAYS = {
    RechargeHabit.EARLY: 20,
    RechargeHabit.COUNTER_ONLY: 6,
    RechargeHabit.LATE: 1,
    RechargeHabit.NEVER: 1,
}
CATCH_UP_SECONDS = 120.0

Progress = Callable[[datetime, str], None]


@dataclass(frozen=True)
class SimulationConfig:
    scenario: str = "patna-2021-09"
    scale: float = 0.001
    days: int = 3
    mqtt_url: str | None = None  # None: an embedded broker on a free port
    seed: int | None = None
    sms_log: Path | None = None  # every SMS the platform sends, one JSON line each
    upload_hours: int | None = None  # every meter uploads its blocks this often (None: mixed)


@dataclass
class SimulationReport:
    scenario: str
    scale: float
    days: int
    broker: str
    meters: int = 0
    divisions: int = 0
    wall_seconds: float = 0.0
    messages_published: int = 0
    messages_processed: int = 0  # committed by the head-end, duplicates included
    messages_duplicate: int = 0  # redeliveries absorbed (at-least-once: a meter's resend)
    register_reads: int = 0
    interval_blocks: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    usage_days: dict[str, int] = field(default_factory=dict)
    billing: dict[str, Any] = field(default_factory=dict)
    recharges: dict[str, dict[str, int]] = field(default_factory=dict)
    supply_changes: dict[str, int] = field(default_factory=dict)
    relay_commands: dict[str, int] = field(default_factory=dict)
    sms_sent: int = 0
    meter_replacements: int = 0
    ledger_ok: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Simulation:
    def __init__(
        self, app: App, config: SimulationConfig, progress: Progress | None = None
    ) -> None:
        self.app = app
        self.config = config
        self.progress = progress or (lambda _at, _text: None)
        kwargs: dict[str, Any] = {"scale": config.scale, "upload_hours": config.upload_hours}
        if config.seed is not None:
            kwargs["seed"] = config.seed
        self.scenario: Scenario = load_scenario(config.scenario, **kwargs)
        self.clock = SettableClock(self.scenario.starts_at - timedelta(days=1))
        # accounts open the day before; the meters' data (and billing) starts on this day
        self.first_day = self.scenario.starts_at.astimezone(IST).date()
        self.consumers = {c.account_id: c for c in self.scenario.consumers}
        self.rngs = {
            c.account_id: random.Random(f"{self.scenario.seed}:recharge:{c.account_id}")
            for c in self.scenario.consumers
        }
        self.recharge_counts: Counter[str] = Counter()
        self.billing_totals: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        self.swaps_done: set[str] = set()
        # the scenario's meter replacements, so that each tick need not scan every consumer
        self.swaps_pending = [c for c in self.scenario.consumers if c.meter.replacement]
        self.sms_sent = 0
        self.report = SimulationReport(
            config.scenario, config.scale, config.days, config.mqtt_url or "embedded"
        )

    # -- setup: the DISCOM's books before the first reading --------------------------------------
    def setup(self) -> None:
        """The org tree, one account and meter per consumer, and their opening credit."""
        scenario = self.scenario
        circle = "PESU"  # Patna Electric Supply Undertaking
        units = [
            OrgUnit(scenario.discom, OrgLevel.DISCOM, scenario.discom),
            OrgUnit(circle, OrgLevel.CIRCLE, "Patna (PESU)", "पटना (पेसू)", scenario.discom),
        ]
        for division in scenario.divisions:
            units.append(
                OrgUnit(
                    division.code, OrgLevel.DIVISION, division.name_en, division.name_hi, circle
                )
            )
            units.append(
                OrgUnit(
                    f"{division.code}-S1",
                    OrgLevel.SUBDIVISION,
                    f"{division.name_en} subdivision 1",
                    f"{division.name_hi} उपखंड 1",
                    division.code,
                )
            )
        add_org_units(units, self.app.uow())
        total = len(scenario.consumers)
        for n, consumer in enumerate(scenario.consumers, start=1):
            self._open(consumer, n)
            if n % 50 == 0 or n == total:
                self.progress(self.clock.now(), f"accounts opened {n}/{total}")
        self.report.meters = total
        self.report.divisions = len(scenario.divisions)

    def _open(self, consumer: Consumer, n: int) -> None:
        app, clock = self.app, self.clock
        open_connection(
            NewConnection(
                consumer.account_id,
                f"Consumer {n}",
                f"9{n:09d}",
                consumer.category,
                consumer.sanctioned_load_w,
                f"{consumer.division_code}-S1",
                self.scenario.discom,
            ),
            app.uow(),
            clock,
        )
        # the postpaid credit carried over opens the wallet: no account starts at zero
        opening_paise = OPENING_DAYS[consumer.recharge_habit] * TYPICAL_DAY_PAISE
        install_smart_meter(
            InstallSmartMeter(consumer.account_id, consumer.meter.meter_id, opening_paise),
            app.uow(),
            clock,
            app.policies,
        )

    # -- the run -------------------------------------------------------------------------------
    def run(self) -> SimulationReport:
        started = time.monotonic()
        with self._broker() as url:
            asyncio.run(self._run(url))
        self.report.wall_seconds = round(time.monotonic() - started, 2)
        self._collect()
        return self.report

    @contextmanager
    def _broker(self) -> Iterator[str]:
        if self.config.mqtt_url:
            yield self.config.mqtt_url
            return
        with EmbeddedBroker(port=free_port()) as broker:
            yield broker.url

    async def _run(self, url: str) -> None:
        host, port = broker_address(url)
        start = self.scenario.starts_at
        end = start + timedelta(days=self.config.days, minutes=45)  # through the last billing
        meters = [SimulatedMeter(c.meter, start) for c in self.scenario.consumers]
        fleet = Fleet(meters, links=mqtt_links(BrokerAddress(host, port)))
        self.clock.set(start)
        run_id = f"{self.scenario.discom}-{int(time.time())}"
        worker = HeadEndWorker(
            WorkerConfig(
                url,
                client_id=f"prepaidgrid-sim-headend-{run_id}",
                shared_group=None if self.config.mqtt_url is None else "sim-headend",
                mqtt_version=3 if self.config.mqtt_url is None else 5,  # amqtt: 3.1.1 only
                command_seconds=0.2,
            ),
            self.app.new_uow,
            self.clock,
            self.app.policies,
        ).start()
        self.worker, self.fleet = worker, fleet
        try:
            async with fleet:
                await fleet.run(end, tick=TICK, on_step=self._on_step)
                await self._catch_up()
            await self._catch_up()  # the answers to commands the fleet finished as it closed
        finally:
            worker.stop()
        self.report.messages_published = fleet.stats.total_published
        self.report.messages_processed = worker.stats.processed
        self.report.messages_duplicate = worker.stats.duplicates

    async def _on_step(self, now: datetime) -> None:
        self.clock.set(now)
        local = now.astimezone(IST)
        self._register_swaps(now)
        yesterday = local.date() - timedelta(days=1)
        if (local.hour, local.minute) == BILLING_AT and yesterday >= self.first_day:
            await self._catch_up()
            self._bill(yesterday)
        if local.hour in CUT_HOURS:
            self._sweep(now)
        if local.minute == 0:
            self._recharges(now)
            self._send_sms()
            self.progress(now, self._status())

    async def _catch_up(self) -> None:
        """Wait until the head-end has committed every message the meters have sent."""
        deadline = time.monotonic() + CATCH_UP_SECONDS
        while (behind := self.fleet.stats.total_published - self._stored()) > 0:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the head-end is {behind:,} messages behind after "
                    f"{CATCH_UP_SECONDS:.0f} s: is the broker up, and does it queue without limits "
                    "(Mosquitto: max_queued_messages 0; see docs/deploy.md)?"
                )
            await asyncio.sleep(0.05)

    def _stored(self) -> int:
        """Distinct messages committed: a resent message is processed twice, stored once."""
        stats = self.worker.stats
        return stats.processed - stats.duplicates

    def _register_swaps(self, now: datetime) -> None:
        """The field crew's swap is registered just before the meter is changed, so that
        the new meter's first message is never refused as unknown."""
        for consumer in list(self.swaps_pending):
            swap = consumer.meter.replacement
            assert swap is not None
            if now + TICK >= self.scenario.starts_at + swap.after:
                replace_meter(
                    ReplaceMeter(consumer.account_id, consumer.meter.meter_id, swap.new_meter_id),
                    self.app.uow(),
                    self.clock,
                )
                self.swaps_pending.remove(consumer)
                self.swaps_done.add(consumer.account_id)

    def _bill(self, day: date) -> None:
        usage = compute_daily_usage(day, self.app.uow(), self.clock)
        billed = bill_day(
            day,
            self.app.new_uow,
            self.clock,
            self.app.tariffs,
            self.app.policies,
            new_reader=self.app.new_reader,
        )
        for key, value in _counts(usage).items():
            self.billing_totals[f"usage_{key}"] += value
        for key, value in _counts(billed).items():
            self.billing_totals[key] += value

    def _sweep(self, now: datetime) -> None:
        for account_id in cuts_due(self.app.engine, now):
            try:
                evaluate_supply(
                    EvaluateSupply(account_id), self.app.uow(), self.clock, self.app.policies
                )
            except DomainError as error:
                self.skipped[f"sweep: {type(error).__name__}"] += 1

    def _recharges(self, now: datetime) -> None:
        positions = account_positions(self.app.engine)
        spends = average_daily_charge_paise(self.app.engine)
        for account_id, consumer in self.consumers.items():
            position = positions.get(account_id)
            if position is None:
                continue
            recharge = decide_recharge(
                consumer.recharge_habit,
                balance_paise=position.balance_paise,
                daily_spend_paise=spends.get(account_id, TYPICAL_DAY_PAISE),
                is_disconnected=position.supply_state in ("disconnect_sent", "disconnected"),
                at=now,
                rng=self.rngs[account_id],
            )
            if recharge is None:
                continue
            self.recharge_counts[account_id] += 1
            reference = f"SIM-{account_id}-{self.recharge_counts[account_id]:04d}"
            apply_recharge(
                ApplyRecharge(
                    account_id, recharge.amount_paise, PaymentRef(recharge.channel, reference)
                ),
                self.app.uow(),
                self.clock,
                self.app.policies,
            )

    def _send_sms(self) -> None:
        log = self.config.sms_log

        def send(message: OutboxMessage) -> None:
            self.sms_sent += 1
            if log is not None:
                with log.open("a", encoding="utf-8") as out:
                    line = {"at": self.clock.now().isoformat(), **message.payload}
                    out.write(json.dumps(line, ensure_ascii=False) + "\n")

        while dispatch_outbox("sms", send, self.app.uow(), batch=500):
            pass

    def _status(self) -> str:
        return (
            f"{self.fleet.stats.total_published:,} sent, {self._stored():,} stored, "
            f"{sum(self.recharge_counts.values()):,} recharges"
        )

    # -- the report ----------------------------------------------------------------------------
    def _collect(self) -> None:
        report, engine = self.report, self.app.engine
        with engine.connect() as db:

            def grouped(column: Any) -> dict[str, int]:
                query = select(column, func.count()).group_by(column)
                return {str(k): int(v) for k, v in db.execute(query)}

            report.register_reads = int(
                db.scalar(select(func.count()).select_from(register_reads)) or 0
            )
            report.interval_blocks = int(
                db.scalar(select(func.count()).select_from(interval_blocks)) or 0
            )
            report.rejected = grouped(rejected_messages.c.reason)
            report.usage_days = grouped(daily_usage.c.method)
            report.relay_commands = grouped(relay_commands.c.status)
            report.supply_changes = grouped(supply_changes.c.to_state)
            rows = db.execute(
                select(payments.c.channel, func.count(), func.sum(payments.c.amount_paise))
                .where(payments.c.status == "credited")
                .group_by(payments.c.channel)
            )
            report.recharges = {
                str(channel): {"count": int(n), "paise": int(paise or 0)}
                for channel, n, paise in rows
            }
        report.billing = dict(sorted(self.billing_totals.items())) | {
            "sweep_errors": dict(self.skipped)
        }
        report.sms_sent = self.sms_sent
        report.meter_replacements = len(self.swaps_done)
        report.ledger_ok = verify_ledger(engine).ok


def _counts(result: object) -> dict[str, int]:
    """The integer fields of a run result (and dicts of them, flattened)."""
    counts: dict[str, int] = {}
    fields: dict[str, Any] = {}
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        fields = dataclasses.asdict(result)
    for key, value in fields.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            counts[key] = value
        elif isinstance(value, dict):
            for inner, number in value.items():
                if isinstance(number, int):
                    counts[f"{key}.{inner}"] = number
    return counts
