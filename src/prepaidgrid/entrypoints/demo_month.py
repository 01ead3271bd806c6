"""The scripted demonstration: a month of prepaid life for a handful of Patna consumers.

Accelerated time on a settable clock: billing at 00:30 IST for the day before, cut sweeps
inside the 10:00-13:00 window, recharges (some late, one pending, one reversed by the bank),
a day of safe mode, and simulated meters that confirm every relay command at once.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.bootstrap import App
from prepaidgrid.domain.accounts import NewConnection, OrgLevel, OrgUnit
from prepaidgrid.domain.ledger import PaymentChannel, PaymentRef
from prepaidgrid.domain.supply import SupplyState
from prepaidgrid.domain.units import IST, format_rupees
from prepaidgrid.services.charges import PostDailyCharge, post_daily_charge
from prepaidgrid.services.onboarding import (
    InstallSmartMeter,
    add_org_units,
    install_smart_meter,
    open_connection,
)
from prepaidgrid.services.outbox import dispatch_outbox
from prepaidgrid.services.platform import SetSafeMode, set_safe_mode
from prepaidgrid.services.ports import OutboxMessage
from prepaidgrid.services.recharges import (
    ApplyRecharge,
    RecordPendingPayment,
    ReverseRecharge,
    apply_recharge,
    record_pending_payment,
    reverse_recharge,
)
from prepaidgrid.services.supply import (
    EvaluateSupply,
    RecordRelayAck,
    evaluate_supply,
    record_relay_ack,
)

MONTH = date(2025, 7, 1)
DIVISIONS = [
    ("DAKBUNGALOW", "Dakbungalow", "डाकबंगला"),
    ("DANAPUR", "Danapur", "दानापुर"),
    ("KHAGAUL", "Khagaul", "खगौल"),
    ("PATNA-CITY", "Patna City", "पटना सिटी"),
    ("KANKARBAGH", "Kankarbagh", "कंकड़बाग"),
]


@dataclass(frozen=True)
class Consumer:
    account_id: str
    name: str
    category: str
    load_w: int
    division: str
    daily_kwh: float
    postpaid_balance_paise: int
    opening_recharge_paise: int
    story: str
    language: str = "hi"


CONSUMERS = [
    Consumer(
        "ASHA-001",
        "Asha Devi",
        "DS-II",
        2000,
        "DAKBUNGALOW",
        6.0,
        0,
        150_000,
        "recharges ₹1,500 on the 1st and is never cut",
        "en",
    ),
    Consumer(
        "RAMESH-002",
        "Ramesh Kumar",
        "DS-II",
        1000,
        "DANAPUR",
        5.0,
        -300_000,
        30_000,
        "₹3,000 postpaid arrears over 300 days; runs out, is cut, recharges, is back",
    ),
    Consumer(
        "SUNITA-003",
        "Sunita Kumari",
        "DS-I",
        1000,
        "KHAGAUL",
        3.0,
        1_195_400,
        0,
        "₹11,954 postpaid credit migrated as the opening balance: never cut",
    ),
    Consumer(
        "MOHAN-004",
        "Mohan Paswan",
        "KJ",
        500,
        "PATNA-CITY",
        1.5,
        0,
        2_000,
        "pays by BBPS; the bank reverses it on a Friday night: cut waits for Monday",
    ),
    Consumer(
        "FARID-005",
        "Farid Alam",
        "DS-II",
        1000,
        "KANKARBAGH",
        4.0,
        0,
        25_000,
        "a BBPS payment is pending on his cut day: no cut while it is pending",
    ),
]


@dataclass
class DemoLog:
    events: list[tuple[datetime, str, str]] = field(default_factory=list)
    sms: list[OutboxMessage] = field(default_factory=list)
    relay_commands: list[OutboxMessage] = field(default_factory=list)
    on_event: Callable[[datetime, str, str], None] | None = None

    def add(self, at: datetime, account_id: str, text: str) -> None:
        self.events.append((at, account_id, text))
        if self.on_event:
            self.on_event(at, account_id, text)


def ist(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=IST)


class DemoMonth:
    def __init__(self, app: App, clock: SettableClock, log: DemoLog) -> None:
        self.app, self.clock, self.log = app, clock, log
        self.rng = {c.account_id: random.Random(c.account_id) for c in CONSUMERS}
        self.farid_paid = False
        self.ramesh_recharges = 0
        self.safe_mode_day: date | None = None

    def at(self, when: datetime) -> None:
        self.clock.set(when)

    def setup(self) -> None:
        self.at(ist(MONTH - timedelta(days=1), 18))
        units = [
            OrgUnit(
                "SBPDCL",
                OrgLevel.DISCOM,
                "South Bihar Power Distribution Co.",
                "दक्षिण बिहार पावर डिस्ट्रीब्यूशन कंपनी",
            ),
            OrgUnit("PESU-WEST", OrgLevel.CIRCLE, "PESU West", "पेसू पश्चिम", "SBPDCL"),
        ]
        for code, name_en, name_hi in DIVISIONS:
            units.append(OrgUnit(code, OrgLevel.DIVISION, name_en, name_hi, "PESU-WEST"))
            units.append(
                OrgUnit(f"{code}-1", OrgLevel.SUBDIVISION, f"{name_en} 1", f"{name_hi} 1", code)
            )
        add_org_units(units, self.app.uow())
        for n, c in enumerate(CONSUMERS, start=1):
            open_connection(
                NewConnection(
                    c.account_id,
                    c.name,
                    f"98765{n:05d}",
                    c.category,
                    c.load_w,
                    f"{c.division}-1",
                    "SBPDCL",
                    "bihar",
                    c.language,
                ),
                self.app.uow(),
                self.clock,
            )
            install_smart_meter(
                InstallSmartMeter(c.account_id, f"SM{n:07d}", c.postpaid_balance_paise),
                self.app.uow(),
                self.clock,
                self.app.policies,
            )
            self.log.add(self.clock.now(), c.account_id, f"smart meter installed: {c.story}")
            if c.opening_recharge_paise:
                self.recharge(
                    c.account_id,
                    c.opening_recharge_paise,
                    PaymentChannel.APP,
                    f"UPI-{c.account_id}-0",
                )

    def recharge(
        self, account_id: str, amount_paise: int, channel: PaymentChannel, reference: str
    ) -> None:
        result = apply_recharge(
            ApplyRecharge(account_id, amount_paise, PaymentRef(channel, reference)),
            self.app.uow(),
            self.clock,
            self.app.policies,
        )
        self.log.add(
            self.clock.now(),
            account_id,
            f"recharge {format_rupees(amount_paise)} via {channel.value}: {result.outcome.value},"
            f" balance {format_rupees(result.balance_paise or 0)}",
        )
        self.deliver()

    def deliver(self) -> None:
        """Simulated head-end: relay commands reach meters, which confirm at once."""
        commands: list[OutboxMessage] = []
        dispatch_outbox("relay_command", commands.append, self.app.uow())
        for command in commands:
            self.log.relay_commands.append(command)
            is_closed = command.payload["action"] == "reconnect"
            decision = record_relay_ack(
                RecordRelayAck(command.account_id, is_closed),
                self.app.uow(),
                self.clock,
                self.app.policies,
            )
            verb = "restored (relay closed)" if is_closed else "CUT (relay open)"
            self.log.add(
                self.clock.now(), command.account_id, f"supply {verb}; state {decision.state.value}"
            )
        dispatch_outbox("sms", self.log.sms.append, self.app.uow())

    def state(self, account_id: str) -> tuple[SupplyState, int, datetime | None]:
        with self.app.uow() as uow:
            connection = uow.connections.get(account_id)
        return connection.supply.state, connection.wallet_paise, connection.supply.cut_at

    def bill(self, day: date) -> None:
        self.at(ist(day + timedelta(days=1), 0, 30))
        for c in CONSUMERS:
            used_wh = int(c.daily_kwh * 1000 * self.rng[c.account_id].uniform(0.7, 1.3))
            before = self.state(c.account_id)[0]
            result = post_daily_charge(
                PostDailyCharge(c.account_id, day, used_wh, max_demand_w=c.load_w // 2),
                self.app.uow(),
                self.clock,
                self.app.tariffs,
                self.app.policies,
            )
            if result.supply_state is not before:
                _, _, cut_at = self.state(c.account_id)
                when = cut_at.astimezone(IST).strftime("%a %d %b %H:%M") if cut_at else "-"
                self.log.add(
                    self.clock.now(),
                    c.account_id,
                    f"balance {format_rupees(result.balance_paise)} after billing "
                    f"{day}: {result.supply_state.value}, cut scheduled {when} IST,"
                    " SMS sent",
                )
        self.deliver()

    def sweep(self, day: date, hour: int, minute: int = 0) -> None:
        self.at(ist(day, hour, minute))
        for c in CONSUMERS:
            decision = evaluate_supply(
                EvaluateSupply(c.account_id), self.app.uow(), self.clock, self.app.policies
            )
            if decision.action is not None and decision.action.value == "hold":
                self.log.add(
                    self.clock.now(),
                    c.account_id,
                    "cut due but held: " + "; ".join(decision.reasons),
                )
        self.deliver()

    def morning(self, day: date) -> None:
        """Before the cut window: payments people make early, and a gateway outage."""
        farid, _, farid_cut = self.state("FARID-005")
        is_cut_day = farid_cut is not None and farid_cut.astimezone(IST).date() == day
        if farid is SupplyState.GRACE and is_cut_day and not self.farid_paid:
            self.farid_paid = True
            self.at(ist(day, 9, 30))
            ref = PaymentRef(PaymentChannel.BBPS, "BBPS-FARID-1")
            record_pending_payment(
                RecordPendingPayment("FARID-005", 50_000, ref), self.app.uow(), self.clock
            )
            self.log.add(
                self.clock.now(),
                "FARID-005",
                "BBPS payment ₹500 initiated: pending at the bank",
            )
        if day == date(2025, 7, 9):
            self.at(ist(day, 9, 0))
            self.recharge("MOHAN-004", 20_000, PaymentChannel.BBPS, "BBPS-MOHAN-1")
        if self.safe_mode_day is None and day >= date(2025, 7, 16) and self.cut_due_on(day):
            self.safe_mode_day = day
            self.at(ist(day, 8, 0))
            set_safe_mode(SetSafeMode(True, "payment gateway down"), self.app.uow(), self.clock)
            self.log.add(
                self.clock.now(),
                "-",
                "SAFE MODE ON: payment gateway down, consumers cannot pay: no cuts",
            )

    def cut_due_on(self, day: date) -> bool:
        for consumer in CONSUMERS:
            state, _, cut_at = self.state(consumer.account_id)
            if state is SupplyState.GRACE and cut_at and cut_at.astimezone(IST).date() <= day:
                return True
        return False

    def evening(self, day: date) -> None:
        """After the window: settlements, counter recharges, a bank reversal."""
        if self.farid_paid and self.state("FARID-005")[0] is SupplyState.GRACE:
            with self.app.uow() as uow:
                pending = uow.payments.pending_paise("FARID-005")
            if pending:
                self.at(ist(day, 14, 0))
                self.recharge("FARID-005", 50_000, PaymentChannel.BBPS, "BBPS-FARID-1")
        if self.safe_mode_day and day == self.safe_mode_day + timedelta(days=1):
            self.at(ist(day, 13, 30))
            set_safe_mode(SetSafeMode(False, "gateway recovered"), self.app.uow(), self.clock)
            self.log.add(
                self.clock.now(),
                "-",
                "safe mode off: gateway recovered; held cuts were rescheduled",
            )
        if day == date(2025, 7, 14):
            self.at(ist(day, 18, 0))
            self.recharge("MOHAN-004", 30_000, PaymentChannel.COUNTER, "RCPT-PC-0001")
        if self.state("RAMESH-002")[0] is SupplyState.DISCONNECTED:
            self.at(ist(day, 18, 30))
            self.ramesh_recharges += 1
            self.recharge(
                "RAMESH-002",
                40_000,
                PaymentChannel.COUNTER,
                f"RCPT-DNP-{self.ramesh_recharges:04d}",
            )
        if day == date(2025, 7, 11):
            self.at(ist(day, 21, 0))
            result = reverse_recharge(
                ReverseRecharge(PaymentRef(PaymentChannel.BBPS, "BBPS-MOHAN-1")),
                self.app.uow(),
                self.clock,
                self.app.policies,
            )
            _, _, cut_at = self.state("MOHAN-004")
            when = cut_at.astimezone(IST).strftime("%a %d %b %H:%M") if cut_at else "-"
            self.log.add(
                self.clock.now(),
                "MOHAN-004",
                f"bank reversed BBPS ₹200 (Friday night): balance "
                f"{format_rupees(result.balance_paise or 0)}, {result.supply_state}, "
                f"cut scheduled {when} IST",
            )
            self.deliver()

    def run(self, days: int, on_day: Callable[[date], None] | None = None) -> None:
        self.setup()
        for offset in range(days):
            day = MONTH + timedelta(days=offset)
            if offset:
                self.bill(day - timedelta(days=1))
            self.morning(day)
            for hour, minute in ((10, 0), (11, 0), (12, 0), (12, 55)):
                self.sweep(day, hour, minute)
            self.evening(day)
            if on_day:
                on_day(day)
        self.bill(MONTH + timedelta(days=days - 1))
