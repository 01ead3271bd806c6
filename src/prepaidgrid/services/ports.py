"""The ports services depend on: small Protocols named for their domain role.

Each has a SQL implementation in adapters/db and a recording fake in tests/fakes.py.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import TracebackType
from typing import Protocol, Self

import numpy as np
from numpy.typing import NDArray

from prepaidgrid.domain.accounts import Connection, MonthToDate, NewConnection, OrgUnit
from prepaidgrid.domain.arrears import ArrearsPlan
from prepaidgrid.domain.ledger import Journal, PaymentChannel, PaymentRef
from prepaidgrid.domain.meter_protocol import Block, Event, Reading
from prepaidgrid.domain.meterdata import RegisterRead, UsageMethod
from prepaidgrid.domain.payments import GatewayEvent, OrderStatus
from prepaidgrid.domain.supply import IsNoCutDay, SupplyPolicy, SupplySnapshot
from prepaidgrid.domain.tariffs import TariffVersion


class Clock(Protocol):
    def now(self) -> datetime: ...


class TariffBook(Protocol):
    def in_force(self, discom: str, day: date) -> TariffVersion: ...


class PolicyBook(Protocol):
    def policy(self, name: str) -> SupplyPolicy: ...

    def no_cut_days(self, name: str) -> IsNoCutDay: ...


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    ref: PaymentRef
    account_id: str
    amount_paise: int
    status: str  # pending | credited | reversed | failed
    received_at: datetime
    arrears_share_paise: int = 0


@dataclass(frozen=True, slots=True)
class DailyCharge:
    account_id: str
    bill_day: date
    used_wh: int
    month_used_wh: int  # month-to-date after this day
    max_demand_w: int
    energy_paise: int
    subsidy_paise: int
    rebate_paise: int
    tod_paise: int
    fixed_paise: int
    duty_paise: int
    total_paise: int
    instalment_paise: int
    tariff_id: str
    explanation: tuple[Mapping[str, object], ...]
    posted_at: datetime


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """An effect that leaves the database (relay command, SMS), written with its cause."""

    dedupe_key: str
    kind: str  # "relay_command" | "sms"
    account_id: str
    payload: Mapping[str, object]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SupplyChange:
    account_id: str
    at: datetime
    from_state: str
    to_state: str
    action: str | None
    reasons: tuple[str, ...] = field(default_factory=tuple)


class Connections(Protocol):
    def add_org_unit(self, unit: OrgUnit) -> None: ...

    def org_units(self) -> list[OrgUnit]: ...

    def add(self, new: NewConnection, at: datetime) -> None:
        """Raises AlreadyExists for a known account id, UnknownOrgUnit-style NotFound otherwise."""
        ...

    def get(self, account_id: str) -> Connection: ...

    def lock(self, account_id: str) -> Connection:
        """Get, holding the account's row lock until the unit of work ends."""
        ...

    def save_supply(self, change: SupplyChange, snapshot: SupplySnapshot) -> None: ...

    def install_meter(
        self, account_id: str, meter_id: str, at: datetime, plan: ArrearsPlan | None
    ) -> None: ...

    def replace_meter(
        self, account_id: str, old_meter_id: str, new_meter_id: str, at: datetime
    ) -> None:
        """Retire the account's meter in service and install another; NotFound if
        `old_meter_id` is not the account's meter in service, AlreadyExists if the new one
        is known."""
        ...


class Ledger(Protocol):
    def add(self, journal: Journal) -> None:
        """Append a journal; raises DuplicateJournal if its key was used before."""
        ...

    def has(self, key: str) -> bool: ...


class Payments(Protocol):
    def get(self, ref: PaymentRef) -> PaymentRecord | None: ...

    def add(self, payment: PaymentRecord) -> None:
        """Raises DuplicatePayment when (channel, reference) exists."""
        ...

    def set_status(
        self, ref: PaymentRef, status: str, at: datetime, arrears_share_paise: int = 0
    ) -> None: ...

    def pending_paise(self, account_id: str) -> int: ...


class Charges(Protocol):
    def month_to_date(self, account_id: str, month: date, before: date) -> MonthToDate: ...

    def has(self, account_id: str, bill_day: date) -> bool: ...

    def add(self, charge: DailyCharge) -> None: ...


class Outbox(Protocol):
    def add(self, message: OutboxMessage) -> bool:
        """Queue a message once per dedupe key; False if it was already queued."""
        ...

    def pending(self, kind: str, limit: int) -> list[tuple[int, OutboxMessage]]:
        """The oldest undelivered messages of a kind, locked against other dispatchers."""
        ...

    def mark_sent(self, message_id: int) -> None: ...


@dataclass(frozen=True, slots=True)
class MeterInfo:
    meter_id: str
    account_id: str
    discom: str
    sanctioned_load_w: int


@dataclass(frozen=True, slots=True)
class RejectedMessage:
    received_at: datetime
    topic: str
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class MeterSpell:
    """One meter's time on an account; removed_at is None while it is in service."""

    meter_id: str
    installed_at: datetime
    removed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MeteredAccount:
    """A prepaid account with a meter in service, as daily usage needs it."""

    account_id: str
    category: str
    discom: str
    sanctioned_load_w: int
    migrated_at: datetime  # prepaid from this instant's IST day on
    meters: tuple[MeterSpell, ...]  # every meter it has had, in installation order


@dataclass(frozen=True, slots=True)
class MeterReplaced:
    """A METER_REPLACED event: the old meter's register when it was taken off."""

    meter_id: str  # the old meter, which sent the event
    occurred_at: datetime  # by the meter's clock
    final_import_wh: int


@dataclass(frozen=True, slots=True)
class DailyUsageRow:
    """One account's consumption on one IST day, as billing takes it."""

    account_id: str
    usage_day: date
    meter_id: str  # the meter serving at the day's end
    used_wh: int
    method: UsageMethod
    opening_wh: int | None  # the connection's register at the opening midnight, if known
    closing_wh: int | None  # ... and at the closing midnight
    max_demand_w: int  # highest MD register read in the day (0: none read)
    band_wh: Mapping[str, int]  # Wh per time-of-day band from the day's blocks; may be empty
    flags: tuple[str, ...]  # VEE verdicts and flags found in the day's reads, sorted
    note: str  # one line: how the figure was found
    computed_at: datetime


class MeterData(Protocol):
    """The head-end's storage: messages once, register reads, interval blocks, events;
    and what VEE derives from them, daily usage."""

    def known_meters(self, meter_ids: set[str]) -> dict[str, MeterInfo]: ...

    def record_messages(
        self, keys: list[tuple[str, str, str]], received_at: datetime
    ) -> set[tuple[str, str]]:
        """Insert (meter_id, msg_id, channel) keys; return the ones that were new."""
        ...

    def add_reads(self, readings: list[Reading], received_at: datetime) -> int: ...

    def add_events(self, events: list[Event], received_at: datetime) -> int: ...

    def add_rejections(self, rejections: list[RejectedMessage]) -> None: ...

    def metered_accounts(self) -> list[MeteredAccount]:
        """Prepaid (migrated) accounts with a meter in service, by account id."""
        ...

    def register_reads(
        self, meter_ids: Collection[str], start: datetime, end: datetime
    ) -> list[RegisterRead]:
        """Stored reads of these meters with start <= read_at < end, by meter and time."""
        ...

    def meter_replacements(self, meter_ids: Collection[str]) -> list[MeterReplaced]:
        """METER_REPLACED events of these meters that carry a final register."""
        ...

    def interval_blocks(
        self, meter_ids: Collection[str], start: datetime, end: datetime
    ) -> dict[str, list[Block]]:
        """Blocks of these meters starting in [start, end), per meter, in time order."""
        ...

    def put_daily_usage(self, rows: list[DailyUsageRow]) -> None:
        """Insert each row, or replace the row already held for its account and day."""
        ...

    def daily_usage_on(self, day: date) -> list[DailyUsageRow]:
        """Every account's row for one day, by account id."""
        ...

    def daily_usage_of(
        self, account_id: str, first_day: date, last_day: date
    ) -> list[DailyUsageRow]:
        """One account's rows from first_day to last_day inclusive, by day."""
        ...


@dataclass(frozen=True, slots=True)
class RelayCommandRow:
    command_id: str
    account_id: str
    meter_id: str
    discom: str
    action: str
    status: str  # queued | sent | acknowledged | failed | expired
    created_at: datetime
    expires_at: datetime
    attempts: int
    next_attempt_at: datetime


class RelayCommands(Protocol):
    def add(self, command: RelayCommandRow) -> bool:
        """Track a new command; False if its id is already tracked."""
        ...

    def get(self, command_id: str) -> RelayCommandRow | None: ...

    def due(self, at: datetime, limit: int) -> list[RelayCommandRow]:
        """Queued or sent commands whose next attempt is due, locked for this dispatcher."""
        ...

    def mark_sent(self, command_id: str, at: datetime, next_attempt_at: datetime) -> None: ...

    def finish(self, command_id: str, status: str, at: datetime, detail: str) -> None: ...


class Platform(Protocol):
    def is_safe_mode(self) -> bool: ...

    def set_safe_mode(self, is_on: bool, reason: str, at: datetime) -> None: ...


class UnitOfWork(Protocol):
    @property
    def connections(self) -> Connections: ...

    @property
    def ledger(self) -> Ledger: ...

    @property
    def payments(self) -> Payments: ...

    @property
    def charges(self) -> Charges: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def platform(self) -> Platform: ...

    @property
    def meter_data(self) -> MeterData: ...

    @property
    def relay_commands(self) -> RelayCommands: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...


# -- the billing run (services/billing_run.py): columns, not objects ----------------------------

Int64s = NDArray[np.int64]


class AlreadyBilled(Exception):
    """A day of an account in the batch was charged by another run meanwhile: the batch's
    transaction wrote nothing and must be rolled back."""


@dataclass(frozen=True, slots=True)
class BillingInputs:
    """A partition's accounts still to bill for a day, as columns: row i of every field is
    one account (sorted by account id). Read outside the transaction that writes the
    partition, so it holds nothing that can change meanwhile but the usage of the day: no
    balance and no supply state (the writing transaction reads those, after its postings)."""

    account_ids: list[str]
    categories: list[str]
    discoms: list[str]
    first_day_ordinals: Int64s  # the IST day the account became prepaid, date.toordinal()
    sanctioned_load_w: Int64s
    used_wh: Int64s  # the day's consumption (daily_usage)
    max_demand_w: Int64s  # the day's highest demand
    mtd_used_wh: Int64s  # the month before the day (daily_charges)
    mtd_max_demand_w: Int64s
    arrears_plans: Mapping[int, ArrearsPlan]  # row -> plan, for the few accounts with one

    def __len__(self) -> int:
        return len(self.account_ids)


@dataclass(frozen=True, slots=True)
class PostedBatch:
    """What one partition posts: a daily_charges row per account, and one journal holding a
    wallet debit per account, the instalment moves, and the utility's side summed."""

    day: date
    posted_at: datetime
    journal_key: str
    account_ids: list[str]
    tariff_ids: list[str]
    used_wh: Int64s
    month_used_wh: Int64s
    max_demand_w: Int64s  # month-to-date, after the day
    energy_paise: Int64s
    subsidy_paise: Int64s
    rebate_paise: Int64s
    tod_paise: Int64s
    fixed_paise: Int64s
    duty_paise: Int64s
    total_paise: Int64s
    instalment_paise: Int64s


@dataclass(frozen=True, slots=True)
class SupplyEffects:
    """What one supply decision writes (services/supply.py `supply_effects`)."""

    account_id: str
    change: SupplyChange | None  # None: the snapshot stays as it was
    snapshot: SupplySnapshot
    messages: tuple[OutboxMessage, ...]


class BulkBilling(Protocol):
    def unbilled_accounts(self, day: date) -> list[str]:
        """Prepaid accounts with a daily usage row for `day` and no charge yet, sorted."""
        ...

    def partition_inputs(self, day: date, first_id: str, last_id: str) -> BillingInputs:
        """The unbilled accounts of `day` between two ids (inclusive). The run reads the
        next partition while it writes this one, in a transaction of its own."""
        ...

    def lock_partition(self, first_id: str, last_id: str) -> None:
        """Lock the accounts between two ids (inclusive) until commit, before anything else
        the partition's transaction writes (a recharge locks its account first, too)."""
        ...

    def arrears_paise_of(self, account_ids: list[str]) -> dict[str, int]:
        """The arrears balances (negative while owed) of a few accounts, as of now."""
        ...

    def charged_at_zero(self, day: date, first_id: str, last_id: str) -> list[str]:
        """Connected prepaid accounts between two ids (inclusive), charged for `day`,
        whose wallet is at or below zero now: those whose supply state must change."""
        ...

    def write_partition(self, batch: PostedBatch) -> None:
        """Insert the batch's daily charges and its journal (postings first, journal last).
        Raises AlreadyBilled if one of its account-days has been charged already."""
        ...

    def connections_of(self, account_ids: list[str]) -> dict[str, Connection]:
        """Several accounts at once, as `Connections.get` reads one."""
        ...

    def pending_paise_of(self, account_ids: list[str]) -> dict[str, int]:
        """Pending payments per account (absent: none), as `Payments.pending_paise`."""
        ...

    def apply_supply_effects(self, effects: list[SupplyEffects]) -> None:
        """Write many accounts' supply changes and outbox messages in a few statements
        (a message whose dedupe key exists is skipped, as `Outbox.add` does)."""
        ...

    def estimated_accounts(self, first_day: date, last_day: date) -> list[str]:
        """Accounts with a billed day between the two (inclusive) whose usage is still an
        estimate, sorted."""
        ...

    def billed_days(self, account_id: str, first_day: date, last_day: date) -> set[date]:
        """The days between the two (inclusive) the account has been charged for."""
        ...

    def month_max_demand_w(self, account_id: str, first_day: date, last_day: date) -> int:
        """The highest month-to-date demand billed between the two days (0 if none)."""
        ...

    def latest_billed_day(self) -> date | None:
        """The newest day with any charge posted (None before the first run)."""
        ...

    def prepaid_without_usage(self, day: date) -> int:
        """Prepaid accounts (in service by `day`) that have no daily usage row for it."""
        ...


class BillingUnitOfWork(UnitOfWork, Protocol):
    @property
    def billing(self) -> BulkBilling: ...


# -- payment channels (services/gateway.py, bbps.py, counter.py) --------------------------------


@dataclass(frozen=True, slots=True)
class PaymentOrder:
    """An app or website recharge at the gateway; its id is the payment's reference."""

    order_id: str
    channel: PaymentChannel
    account_id: str
    amount_paise: int
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    gateway_txn_id: str | None = None


class PaymentOrders(Protocol):
    def add(self, order: PaymentOrder) -> None: ...

    def get(self, order_id: str) -> PaymentOrder | None: ...

    def lock(self, order_id: str) -> PaymentOrder | None:
        """The order, locked until the transaction ends (None if there is none)."""
        ...

    def set_status(
        self, order_id: str, status: OrderStatus, at: datetime, gateway_txn_id: str | None
    ) -> None: ...

    def unsettled(self, updated_before: datetime, limit: int) -> list[PaymentOrder]:
        """Orders still created or pending, last changed before the instant, oldest first."""
        ...


class PaymentEvents(Protocol):
    def add(self, ref: PaymentRef, stage: str, at: datetime, detail: str = "") -> None:
        """Append one step of a payment's life (the officers' timeline)."""
        ...


class ChannelUnitOfWork(UnitOfWork, Protocol):
    @property
    def orders(self) -> PaymentOrders: ...

    @property
    def payment_events(self) -> PaymentEvents: ...


@dataclass(frozen=True, slots=True)
class GatewayStatus:
    """What the gateway says of an order when asked (the same news as its webhook)."""

    event: GatewayEvent
    gateway_txn_id: str
    amount_paise: int


class PaymentGateway(Protocol):
    def start(self, order: PaymentOrder) -> str:
        """Register the order with the gateway; the URL the consumer pays at."""
        ...

    def status(self, order_id: str) -> GatewayStatus | None:
        """The order's state at the gateway; None if the gateway has no news of it yet."""
        ...


# -- notification delivery (issue 7) ------------------------------------------------------------


class NotifierError(Exception):
    """A message was not handed over.

    NotifierError
     +-- SendRefused   the gateway refused it (4xx, a bad address): never tried again
     +-- SendFailed    down, busy or timed out (5xx, network): tried again later
    """


class SendRefused(NotifierError):
    pass


class SendFailed(NotifierError):
    pass


@dataclass(frozen=True, slots=True)
class Sms:
    mobile: str
    text: str
    template: str  # picks the DLT template id
    language: str
    idempotency_key: str  # the outbox key: a gateway that dedupes by it sends once


@dataclass(frozen=True, slots=True)
class Email:
    to: str
    subject: str
    text: str
    language: str
    idempotency_key: str  # becomes the Message-ID: a receiver can drop a resend


class SmsGateway(Protocol):
    def send_sms(self, sms: Sms) -> str:
        """Hand the SMS over; the provider's message id. Raises SendRefused or SendFailed."""
        ...


class Mailer(Protocol):
    def send_email(self, email: Email) -> str:
        """Hand the e-mail over; its message id. Raises SendRefused or SendFailed."""
        ...


@dataclass(frozen=True, slots=True)
class Notifiers:
    """The channels messages leave by; no mailer: e-mail is not configured."""

    sms: SmsGateway
    mailer: Mailer | None = None
