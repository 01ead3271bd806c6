"""What a consumer sees of their own account in the portal: balance, use, statement, recharges.

Read side only. Each method reads in one transaction (given a Connection, the caller's),
with a fixed number of queries whatever the account holds. Amounts are as stored: integer
paise, integer Wh, UTC instants (`_at`) and IST days (`day`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, literal, or_, select

from prepaidgrid.adapters.db.payment_read_models import _ReadModel
from prepaidgrid.adapters.db.tables import (
    accounts,
    counter_receipts,
    daily_charges,
    daily_usage,
    interval_blocks,
    journals,
    ledger_accounts,
    meters,
    payments,
)
from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.domain.ledger import PaymentChannel
from prepaidgrid.domain.meterdata import UsageMethod
from prepaidgrid.domain.supply import SupplyState
from prepaidgrid.domain.tariffs import ChargeLine
from prepaidgrid.domain.units import ist_midnight, round_half_up
from prepaidgrid.services.statement import ChargedDay

AVERAGE_OVER_DAYS = 7  # billed days behind "days left": recent enough to follow the season
_ESTIMATES = (UsageMethod.AVERAGE.value, UsageMethod.FALLBACK.value)


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """One connection registered to a mobile number: the portal's account picker."""

    account_id: str
    consumer_name: str
    supply_state: SupplyState
    wallet_paise: int


@dataclass(frozen=True, slots=True)
class ConsumerOverview:
    account_id: str
    consumer_name: str
    meter_id: str | None  # the meter in service; None before installation
    category: str
    sanctioned_load_w: int
    language: str
    mobile_masked: str  # "98xxxxx001": never the whole number on a page
    email: str | None
    supply_state: SupplyState
    zero_at: datetime | None  # when the balance reached zero (grace started)
    cut_at: datetime | None  # the cut scheduled (or made) for this grace
    wallet_paise: int  # prepaid money; negative: the consumer owes
    arrears_paise: int  # old postpaid dues still outstanding, as a positive amount owed
    average_daily_charge_paise: int  # per day over the recent billed days, instalments in
    days_left: int | None  # whole days the wallet lasts at that rate; None: no rate or credit


@dataclass(frozen=True, slots=True)
class DayUse:
    """One IST day's consumption as meter data holds it (an estimate until trued up)."""

    day: date
    used_wh: int
    method: UsageMethod
    is_estimated: bool  # average or fallback: provisional, to be trued up against reads
    meter_id: str  # the meter serving at the day's end
    max_demand_w: int
    band_wh: Mapping[str, int]  # {time-of-day band: Wh}; empty without bands
    flags: tuple[str, ...]  # VEE findings that day ("clock_skew", "spike", ...)
    note: str


@dataclass(frozen=True, slots=True)
class Block:
    """One interval block of the load profile (15 or 30 minutes from `start_at`)."""

    start_at: datetime
    minutes: int
    used_wh: int
    meter_id: str


@dataclass(frozen=True, slots=True)
class StatementDay:
    """One day's deduction as billing posted it.

    total = energy + tod + fixed + duty - subsidy - rebate (subsidy and rebate are stored
    positive: what the state and the DISCOM took off). The arrears instalment is deducted
    from the wallet beside the total, not inside it.
    """

    bill_day: date
    used_wh: int  # the energy billed (an estimate's figure stays here after a true-up)
    month_used_wh: int  # month to date, this day included
    max_demand_w: int
    energy_paise: int
    tod_paise: int  # time-of-day surcharge (negative: an off-peak discount)
    fixed_paise: int
    duty_paise: int
    subsidy_paise: int
    rebate_paise: int
    total_paise: int
    instalment_paise: int
    tariff_id: str
    posted_at: datetime
    usage_method: UsageMethod | None  # how meter data holds the day now; None: no usage row
    is_billed_on_estimate: bool
    is_settled: bool  # billed on an estimate, since trued up (the difference posted apart)
    lines: tuple[ChargeLine, ...]  # the stored explanation; empty when the run wrote none

    def charged(self) -> ChargedDay:
        """What the statement's explanation (services/statement.py) needs of the day."""
        return ChargedDay(
            self.bill_day,
            self.used_wh,
            self.month_used_wh,
            self.max_demand_w,
            self.energy_paise,
            self.tod_paise,
            self.fixed_paise,
            self.duty_paise,
            self.subsidy_paise,
            self.rebate_paise,
            self.total_paise,
            self.tariff_id,
            self.lines,
        )


@dataclass(frozen=True, slots=True)
class RechargeRow:
    channel: PaymentChannel
    reference: str  # the channel's id; a counter's receipt number
    amount_paise: int
    arrears_share_paise: int  # of the amount, what went to old dues instead of the wallet
    status: str  # pending, credited, reversed or failed
    received_at: datetime
    credited_at: datetime | None  # its recharge journal's posting; None: never credited
    updated_at: datetime  # the last change of status
    receipt_no: str | None  # paid in cash at a counter
    receipt_issued_at: datetime | None  # the counter's clock: when the cash was taken


def mask_mobile(mobile: str) -> str:
    """Keep the first two and last three digits: enough to recognise, not to misuse."""
    if len(mobile) <= 5:
        return "x" * len(mobile)
    return mobile[:2] + "x" * (len(mobile) - 5) + mobile[-3:]


def _ledger_code(prefix: str) -> Any:
    return literal(prefix) + accounts.c.account_id


def _days_left(wallet_paise: int, average_paise: int) -> int | None:
    if average_paise <= 0 or wallet_paise <= 0:
        return None
    return wallet_paise // average_paise


def _average_paise(day_totals: Sequence[int]) -> int:
    return round_half_up(sum(day_totals), len(day_totals)) if day_totals else 0


def _charge_line(line: Mapping[str, Any]) -> ChargeLine:
    quantity, rate = line.get("quantity_wh"), line.get("rate_paise_per_kwh")
    return ChargeLine(
        code=str(line["code"]),
        label=str(line["label"]),
        amount_paise=int(line["amount_paise"]),
        quantity_wh=None if quantity is None else int(quantity),
        rate_paise_per_kwh=None if rate is None else int(rate),
        label_hi=str(line.get("label_hi", "")),
    )


def _statement_day(row: Any) -> StatementDay:
    method = None if row.method is None else UsageMethod(row.method)
    is_estimated = method is not None and method.value in _ESTIMATES
    # true_up_month rewrites a billed estimate's usage row (and only that: a billed day's
    # row is otherwise kept), so a measured row computed after the posting was settled.
    is_settled = method is not None and not is_estimated and row.computed_at > row.posted_at
    return StatementDay(
        bill_day=row.bill_day,
        used_wh=int(row.used_wh),
        month_used_wh=int(row.month_used_wh),
        max_demand_w=int(row.max_demand_w),
        energy_paise=int(row.energy_paise),
        tod_paise=int(row.tod_paise),
        fixed_paise=int(row.fixed_paise),
        duty_paise=int(row.duty_paise),
        subsidy_paise=int(row.subsidy_paise),
        rebate_paise=int(row.rebate_paise),
        total_paise=int(row.total_paise),
        instalment_paise=int(row.instalment_paise),
        tariff_id=row.tariff_id,
        posted_at=row.posted_at,
        usage_method=method,
        is_billed_on_estimate=is_estimated or is_settled,
        is_settled=is_settled,
        lines=tuple(_charge_line(line) for line in row.explanation or ()),
    )


def _recharge_row(row: Any) -> RechargeRow:
    return RechargeRow(
        channel=PaymentChannel(row.channel),
        reference=row.reference,
        amount_paise=int(row.amount_paise),
        arrears_share_paise=int(row.arrears_share_paise),
        status=row.status,
        received_at=row.received_at,
        credited_at=row.credited_at,
        updated_at=row.updated_at,
        receipt_no=row.receipt_no,
        receipt_issued_at=row.issued_at,
    )


def _overview_query() -> Any:
    wallet_row, arrears_row = ledger_accounts.alias("w"), ledger_accounts.alias("a")
    return (
        select(
            accounts,
            meters.c.meter_id,
            func.coalesce(wallet_row.c.balance_paise, 0).label("wallet_paise"),
            func.coalesce(arrears_row.c.balance_paise, 0).label("arrears_balance_paise"),
        )
        .select_from(accounts)
        .outerjoin(wallet_row, wallet_row.c.code == _ledger_code("wallet:"))
        .outerjoin(arrears_row, arrears_row.c.code == _ledger_code("arrears:"))
        .outerjoin(
            meters,
            and_(meters.c.account_id == accounts.c.account_id, meters.c.removed_at.is_(None)),
        )
    )


def _statement_query() -> Any:
    return (
        select(daily_charges, daily_usage.c.method, daily_usage.c.computed_at)
        .select_from(daily_charges)
        .outerjoin(
            daily_usage,
            and_(
                daily_usage.c.account_id == daily_charges.c.account_id,
                daily_usage.c.usage_day == daily_charges.c.bill_day,
            ),
        )
    )


def _recharges_query() -> Any:
    recharge_key = literal("recharge:") + payments.c.channel + literal(":") + payments.c.reference
    return (
        select(
            payments,
            journals.c.posted_at.label("credited_at"),
            counter_receipts.c.receipt_no,
            counter_receipts.c.issued_at,
        )
        .select_from(payments)
        .outerjoin(journals, journals.c.idempotency_key == recharge_key)
        .outerjoin(
            counter_receipts,
            # a counter's payment is referenced by its receipt number (services/counter.py)
            and_(
                payments.c.channel == PaymentChannel.COUNTER.value,
                counter_receipts.c.receipt_no == payments.c.reference,
            ),
        )
    )


# Built once, not per call (as repositories.py does with its connection query).
_OVERVIEW_QUERY = _overview_query()
_STATEMENT_QUERY = _statement_query()
_RECHARGES_QUERY = _recharges_query()


class SqlConsumerPortal(_ReadModel):
    """The consumer portal's read side, one account (or one mobile's accounts) at a time.

    It trusts its caller to have checked that the logged-in mobile owns `account_id`.
    """

    def accounts_of_mobile(self, mobile: str) -> list[AccountSummary]:
        """The connections registered to `mobile` (a household may have two)."""
        query = _OVERVIEW_QUERY.where(accounts.c.mobile == mobile).order_by(accounts.c.account_id)
        with self._reading() as db:
            return [
                AccountSummary(
                    row.account_id,
                    row.consumer_name,
                    SupplyState(row.supply_state),
                    int(row.wallet_paise),
                )
                for row in db.execute(query)
            ]

    def overview(self, account_id: str, today: date) -> ConsumerOverview | None:
        """The account's front page on IST day `today`; None if there is no such account.

        The average is over the last seven billed days before `today`, of what each took
        from the wallet (the day's total plus any arrears instalment), rounded half up.
        """
        recent = (
            select(daily_charges.c.total_paise, daily_charges.c.instalment_paise)
            .where(daily_charges.c.account_id == account_id, daily_charges.c.bill_day < today)
            .order_by(daily_charges.c.bill_day.desc())
            .limit(AVERAGE_OVER_DAYS)
        )
        with self._reading() as db:
            row = db.execute(_OVERVIEW_QUERY.where(accounts.c.account_id == account_id)).first()
            if row is None:
                return None
            day_totals = [int(total) + int(instalment) for total, instalment in db.execute(recent)]
        wallet_paise, average_paise = int(row.wallet_paise), _average_paise(day_totals)
        return ConsumerOverview(
            account_id=row.account_id,
            consumer_name=row.consumer_name,
            meter_id=row.meter_id,
            category=row.category,
            sanctioned_load_w=int(row.sanctioned_load_w),
            language=row.language,
            mobile_masked=mask_mobile(row.mobile),
            email=row.email,
            supply_state=SupplyState(row.supply_state),
            zero_at=row.zero_at,
            cut_at=row.cut_at,
            wallet_paise=wallet_paise,
            # the arrears account is negative while dues are outstanding (docs/ledger.md)
            arrears_paise=max(0, -int(row.arrears_balance_paise)),
            average_daily_charge_paise=average_paise,
            days_left=_days_left(wallet_paise, average_paise),
        )

    def daily_use(self, account_id: str, first_day: date, last_day: date) -> list[DayUse]:
        """The IST days from `first_day` to `last_day` (inclusive) that meter data holds."""
        query = (
            select(daily_usage)
            .where(
                daily_usage.c.account_id == account_id,
                daily_usage.c.usage_day >= first_day,
                daily_usage.c.usage_day <= last_day,
            )
            .order_by(daily_usage.c.usage_day)
        )
        with self._reading() as db:
            return [
                DayUse(
                    day=row.usage_day,
                    used_wh=int(row.used_wh),
                    method=UsageMethod(row.method),
                    is_estimated=row.method in _ESTIMATES,
                    meter_id=row.meter_id,
                    max_demand_w=int(row.max_demand_w),
                    band_wh={str(band): int(wh) for band, wh in dict(row.band_wh).items()},
                    flags=tuple(str(flag) for flag in row.flags),
                    note=row.note,
                )
                for row in db.execute(query)
            ]

    def half_hourly(self, account_id: str, day: date) -> list[Block]:
        """The interval blocks starting in IST `day`, from each meter the account had that
        day (both meters, on the day of a replacement), in time order."""
        start, end = ist_midnight(day), ist_midnight(day + timedelta(days=1))
        query = (
            select(
                interval_blocks.c.block_start,
                interval_blocks.c.minutes,
                interval_blocks.c.import_wh,
                interval_blocks.c.meter_id,
            )
            .join(meters, meters.c.meter_id == interval_blocks.c.meter_id)
            .where(
                meters.c.account_id == account_id,
                meters.c.installed_at < end,
                or_(meters.c.removed_at.is_(None), meters.c.removed_at > start),
                interval_blocks.c.block_start >= start,
                interval_blocks.c.block_start < end,
            )
            .order_by(interval_blocks.c.block_start, interval_blocks.c.meter_id)
        )
        with self._reading() as db:
            return [
                Block(row.block_start, int(row.minutes), int(row.import_wh), row.meter_id)
                for row in db.execute(query)
            ]

    def statement(self, account_id: str, first_day: date, last_day: date) -> list[StatementDay]:
        """The billed days from `first_day` to `last_day` (inclusive), oldest first.

        True-up differences are journals of their own (kind `true_up`), not statement days.
        """
        query = _STATEMENT_QUERY.where(
            daily_charges.c.account_id == account_id,
            daily_charges.c.bill_day >= first_day,
            daily_charges.c.bill_day <= last_day,
        ).order_by(daily_charges.c.bill_day)
        with self._reading() as db:
            return [_statement_day(row) for row in db.execute(query)]

    def recharges(self, account_id: str, limit: int = 50) -> list[RechargeRow]:
        """The account's payments, newest first, whatever their status."""
        if limit < 1:
            raise InvalidInput(f"limit must be at least 1, got {limit}")
        query = (
            _RECHARGES_QUERY.where(payments.c.account_id == account_id)
            .order_by(payments.c.received_at.desc(), payments.c.id.desc())
            .limit(limit)
        )
        with self._reading() as db:
            return [_recharge_row(row) for row in db.execute(query)]
