"""The nightly billing run: every prepaid account's day, priced as arrays, posted per partition.

    unbilled accounts of the day (sorted) --> partitions of N accounts, each ONE transaction:
      read the partition as columns --> price each (DISCOM, category) group with the kernel
      --> daily_charges rows + one journal (a wallet debit per account, the utility's side
      summed) --> supply: accounts whose balance reached zero start their grace --> commit

Exactly once: a day is billed when its daily_charges row exists, and that row commits with
its postings or not at all. A run killed at any instant leaves whole partitions behind it;
running the day again bills only what is left (`unbilled_accounts`). Several missed days are
billed one day at a time, oldest first (`bill_days`), each posting at the run's own instant,
so a balance a catch-up takes to zero gets its full grace from that instant and the
zero-balance warning, never a cut dated in the past (the May 2025 failure, rules.md).

Only the accounts whose supply state changes (a connected account at or below zero) go
through the per-account supply policy; the priced arrays are never looped over in Python.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, time, timedelta

import numpy as np

from prepaidgrid.domain.arrears import instalment_paise
from prepaidgrid.domain.billing import price_days
from prepaidgrid.domain.errors import DomainError
from prepaidgrid.domain.supply import SupplyState
from prepaidgrid.domain.units import IST, days_in_month
from prepaidgrid.services.ports import (
    AlreadyBilled,
    BillingInputs,
    BillingUnitOfWork,
    Clock,
    Int64s,
    PolicyBook,
    PostedBatch,
    TariffBook,
)
from prepaidgrid.services.supply import settle_supply_many

DEFAULT_PARTITION_SIZE = 20_000


@dataclass
class DayRun:
    """What a day's run did; `skipped` counts accounts left unbilled, by reason."""

    day: date
    accounts: int = 0  # prepaid accounts with usage and no charge when the run started
    billed: int = 0
    charged_paise: int = 0
    instalment_paise: int = 0
    entered_grace: int = 0
    partitions: int = 0
    without_usage: int = 0  # prepaid accounts with no daily usage row for the day
    skipped: dict[str, int] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)

    def skip(self, reason: str, count: int, example: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + count
        self.examples.setdefault(reason, example)

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["day"] = self.day.isoformat()
        return data


def bill_days(
    first: date,
    last: date,
    new_uow: Callable[[], BillingUnitOfWork],
    clock: Clock,
    tariffs: TariffBook,
    policies: PolicyBook,
    *,
    partition_size: int = DEFAULT_PARTITION_SIZE,
    new_reader: Callable[[], BillingUnitOfWork] | None = None,
    on_accounts: Callable[[date, int], None] | None = None,
    on_billed: Callable[[int], None] | None = None,
) -> list[DayRun]:
    """Bill every day from `first` to `last`, oldest first, each as its own day."""
    if last < first:
        raise ValueError(f"the last day {last} is before the first {first}")
    runs = []
    day = first
    while day <= last:
        runs.append(
            bill_day(
                day,
                new_uow,
                clock,
                tariffs,
                policies,
                partition_size=partition_size,
                new_reader=new_reader,
                on_accounts=on_accounts,
                on_billed=on_billed,
            )
        )
        day += timedelta(days=1)
    return runs


def bill_day(
    day: date,
    new_uow: Callable[[], BillingUnitOfWork],
    clock: Clock,
    tariffs: TariffBook,
    policies: PolicyBook,
    *,
    partition_size: int = DEFAULT_PARTITION_SIZE,
    new_reader: Callable[[], BillingUnitOfWork] | None = None,
    on_accounts: Callable[[date, int], None] | None = None,
    on_billed: Callable[[int], None] | None = None,
) -> DayRun:
    """Bill one day for every account not yet billed for it (idempotent, resumable).

    A reader thread reads and prices partition k+1 (`new_reader`: a unit of work that does
    not take the write lock; default `new_uow`) while partition k is written."""
    if partition_size < 1:
        raise ValueError("partition_size must be at least 1")
    run = DayRun(day)
    with new_uow() as uow:
        account_ids = uow.billing.unbilled_accounts(day)
        run.without_usage = uow.billing.prepaid_without_usage(day)
    run.accounts = len(account_ids)
    if on_accounts is not None:
        on_accounts(day, len(account_ids))
    bounds = [
        (account_ids[start], account_ids[min(start + partition_size, len(account_ids)) - 1])
        for start in range(0, len(account_ids), partition_size)
    ]
    reader = new_reader or new_uow

    def priced(first_id: str, last_id: str) -> _Priced:
        with reader() as uow:
            inputs = uow.billing.partition_inputs(day, first_id, last_id)
        return _price(run, inputs, tariffs, first_id)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="billing-reader") as pool:
        ahead = pool.submit(priced, *bounds[0]) if bounds else None
        for number, (first_id, last_id) in enumerate(bounds):
            assert ahead is not None
            partition = ahead.result()
            if number + 1 < len(bounds):
                ahead = pool.submit(priced, *bounds[number + 1])
            try:
                billed = _write_partition(
                    run, first_id, last_id, _given(partition), new_uow, clock, policies
                )
            except AlreadyBilled:  # another run billed some of these meanwhile
                locked_read = _read_locked(day, first_id, last_id, tariffs)
                billed = _write_partition(
                    run, first_id, last_id, locked_read, new_uow, clock, policies
                )
            if on_billed is not None:
                on_billed(billed)
    return run


@dataclass(frozen=True)
class _Priced:
    """A partition read and priced ahead of its transaction (instalments not yet known)."""

    inputs: BillingInputs
    batch: PostedBatch
    rows: Int64s  # the row of `inputs` each batch row came from


def _price(run: DayRun, inputs: BillingInputs, tariffs: TariffBook, first_id: str) -> _Priced:
    batch, rows = price_partition(
        run,
        inputs,
        tariffs,
        journal_key=f"charge-run:{run.day.isoformat()}:{first_id}:{uuid.uuid4().hex}",
        posted_at=_UNPOSTED,
    )
    return _Priced(inputs, batch, rows)


_UNPOSTED = datetime.min.replace(tzinfo=IST)  # replaced by the writing transaction's instant


def _given(partition: _Priced) -> Callable[[BillingUnitOfWork], _Priced]:
    """The partition as read ahead."""
    return lambda _uow: partition


def _read_locked(
    day: date, first_id: str, last_id: str, tariffs: TariffBook
) -> Callable[[BillingUnitOfWork], _Priced]:
    """The partition read again inside its writing transaction, under the lock (its skips
    were counted when it was read ahead)."""

    def read(uow: BillingUnitOfWork) -> _Priced:
        inputs = uow.billing.partition_inputs(day, first_id, last_id)
        return _price(DayRun(day), inputs, tariffs, first_id)

    return read


def _write_partition(
    run: DayRun,
    first_id: str,
    last_id: str,
    priced: Callable[[BillingUnitOfWork], _Priced],
    new_uow: Callable[[], BillingUnitOfWork],
    clock: Clock,
    policies: PolicyBook,
) -> int:
    """Write one partition in one transaction and return how many accounts it billed.
    Raises AlreadyBilled, having written nothing, if another run charged one of its
    account-days since it was read."""
    with new_uow() as uow:
        uow.billing.lock_partition(first_id, last_id)
        partition = priced(uow)
        at = clock.now()
        batch = _with_instalments(partition, uow, run.day, at)
        uow.billing.write_partition(batch)
        # Balances as they are now, after the postings: who reached zero changes state.
        reaching_zero = uow.billing.charged_at_zero(run.day, first_id, last_id)
        decisions = settle_supply_many(
            uow, list(uow.billing.connections_of(reaching_zero).values()), at, policies
        )
        entered = sum(decision.state is SupplyState.GRACE for decision in decisions)
        uow.commit()
    run.partitions += 1
    run.billed += len(batch.account_ids)
    run.charged_paise += int(batch.total_paise.sum())
    run.instalment_paise += int(batch.instalment_paise.sum())
    run.entered_grace += entered
    return len(batch.account_ids)


def _with_instalments(
    partition: _Priced, uow: BillingUnitOfWork, day: date, at: datetime
) -> PostedBatch:
    """The batch at its posting instant, with the arrears instalments of the few accounts on
    a plan, from their arrears balances as of this transaction."""
    batch, inputs = partition.batch, partition.inputs
    on_plan = {
        index: inputs.arrears_plans[row]
        for index, row in enumerate(partition.rows.tolist())
        if row in inputs.arrears_plans
    }
    instalments = np.zeros(len(batch.account_ids), dtype=np.int64)
    if on_plan:
        owed = uow.billing.arrears_paise_of([batch.account_ids[i] for i in on_plan])
        for index, plan in on_plan.items():
            outstanding = max(0, -owed.get(batch.account_ids[index], 0))
            instalments[index] = instalment_paise(plan, day, outstanding)
    return replace(batch, posted_at=at, instalment_paise=instalments)


def price_partition(
    run: DayRun,
    inputs: BillingInputs,
    tariffs: TariffBook,
    *,
    journal_key: str,
    posted_at: datetime,
) -> tuple[PostedBatch, Int64s]:
    """Price every account of the partition that can be billed; count the others in `run`.

    Returns the batch (without arrears instalments: `_with_instalments` adds them) and, for
    each of its rows, the row of `inputs` it came from."""
    day, month = run.day, run.day.replace(day=1)
    count = len(inputs)
    period_start = np.maximum(inputs.first_day_ordinals, month.toordinal())
    days_before = day.toordinal() - period_start
    period_days = days_in_month(month) - (period_start - month.toordinal())
    billable = days_before >= 0
    if not billable.all():
        late = int(np.flatnonzero(~billable)[0])
        run.skip(
            "NotYetPrepaid",
            int((~billable).sum()),
            f"{inputs.account_ids[late]}: became prepaid after {day.isoformat()}",
        )
    fields = ("energy", "subsidy", "rebate", "tod", "fixed", "duty", "total")
    priced = {name: np.zeros(count, dtype=np.int64) for name in fields}
    tariff_ids = [""] * count
    for (discom, category), rows in _groups(inputs, billable).items():
        try:
            version = tariffs.in_force(discom, day)
            tariff = version.category(category)
        except DomainError as error:
            billable[rows] = False
            run.skip(type(error).__name__, len(rows), f"{inputs.account_ids[rows[0]]}: {error}")
            continue
        charges = price_days(
            tariff,
            month,
            period_days=period_days[rows],
            sanctioned_load_w=inputs.sanctioned_load_w[rows],
            days_before=days_before[rows],
            used_before_wh=inputs.mtd_used_wh[rows],
            used_today_wh=inputs.used_wh[rows],
            md_before_w=inputs.mtd_max_demand_w[rows],
            md_today_w=inputs.max_demand_w[rows],
        )
        for name in fields:
            priced[name][rows] = getattr(charges, f"{name}_paise")
        for row in rows.tolist():
            tariff_ids[row] = version.id
    rows = np.flatnonzero(billable)
    batch = PostedBatch(
        day=day,
        posted_at=posted_at,
        journal_key=journal_key,
        account_ids=[inputs.account_ids[i] for i in rows.tolist()],
        tariff_ids=[tariff_ids[i] for i in rows.tolist()],
        used_wh=inputs.used_wh[rows],
        month_used_wh=inputs.mtd_used_wh[rows] + inputs.used_wh[rows],
        max_demand_w=np.maximum(inputs.mtd_max_demand_w[rows], inputs.max_demand_w[rows]),
        energy_paise=priced["energy"][rows],
        subsidy_paise=priced["subsidy"][rows],
        rebate_paise=priced["rebate"][rows],
        tod_paise=priced["tod"][rows],
        fixed_paise=priced["fixed"][rows],
        duty_paise=priced["duty"][rows],
        total_paise=priced["total"][rows],
        instalment_paise=np.zeros(len(rows), dtype=np.int64),
    )
    return batch, rows


def _groups(inputs: BillingInputs, billable: np.ndarray) -> dict[tuple[str, str], Int64s]:
    """Rows per (DISCOM, category): the accounts that share one tariff."""
    keys: dict[tuple[str, str], list[int]] = {}
    for row, key in enumerate(zip(inputs.discoms, inputs.categories, strict=True)):
        if billable[row]:
            keys.setdefault(key, []).append(row)
    return {key: np.asarray(rows, dtype=np.int64) for key, rows in keys.items()}


NIGHTLY_AT = time(0, 30)  # IST: the day before is over and its midnight reads are in
MAX_CATCH_UP_DAYS = 62


def days_due(latest_billed: date | None, yesterday: date) -> list[date]:
    """The days a nightly run must bill, oldest first: every day after the latest billed
    one through yesterday (a server that was down for a week bills the week, day by day),
    or just yesterday on a platform that has never billed. Refuses to reach back further
    than MAX_CATCH_UP_DAYS without an operator deciding it (`prepaidgrid bill --day`)."""
    first = yesterday if latest_billed is None else latest_billed + timedelta(days=1)
    if first < yesterday - timedelta(days=MAX_CATCH_UP_DAYS - 1):
        raise DomainError(
            f"billing is {(yesterday - first).days + 1} days behind (since {first}): more than "
            f"{MAX_CATCH_UP_DAYS}; bill them deliberately with prepaidgrid bill --day/--through"
        )
    return [first + timedelta(days=n) for n in range((yesterday - first).days + 1)]


def is_nightly_due(now: datetime, last_done: date | None) -> bool:
    """True once it is past 00:30 IST on a day whose previous day has not been run."""
    local = now.astimezone(IST)
    yesterday = local.date() - timedelta(days=1)
    return local.time() >= NIGHTLY_AT and (last_done is None or last_done < yesterday)


def run_nightly(
    new_uow: Callable[[], BillingUnitOfWork],
    clock: Clock,
    tariffs: TariffBook,
    policies: PolicyBook,
    compute_usage: Callable[[date], object],
    *,
    partition_size: int = DEFAULT_PARTITION_SIZE,
    new_reader: Callable[[], BillingUnitOfWork] | None = None,
    on_month_end: Callable[[date], object] | None = None,
) -> list[DayRun]:
    """The scheduled run: for each due day, its daily usage from meter data, then its bill;
    after a month's last day, `on_month_end(first day of the month)` (the true-up)."""
    yesterday = clock.now().astimezone(IST).date() - timedelta(days=1)
    with new_uow() as uow:
        latest = uow.billing.latest_billed_day()
    runs = []
    for day in days_due(latest, yesterday):
        compute_usage(day)
        runs.append(
            bill_day(
                day,
                new_uow,
                clock,
                tariffs,
                policies,
                partition_size=partition_size,
                new_reader=new_reader,
            )
        )
        if on_month_end is not None and (day + timedelta(days=1)).day == 1:
            on_month_end(day.replace(day=1))
    return runs
