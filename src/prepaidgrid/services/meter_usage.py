"""Daily consumption per metered account from stored meter data (VEE), and its billing.

`compute_daily_usage` turns each account's stored reads into one `daily_usage` row per IST
day: reads are stitched across meter replacements, vetted in time order (spikes and
backwards reads never price a day), and the day's used Wh is the register's rise between
its two midnights, or an estimate when a midnight is unknown. `bill_metered_day` posts
each stored day through `post_daily_charge`. See docs/meter-data.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import NamedTuple, TypeVar

from prepaidgrid.domain.errors import DomainError, InvalidInput
from prepaidgrid.domain.meter_protocol import Block
from prepaidgrid.domain.meterdata import (
    DEFAULT_VEE,
    BandHours,
    DailyUsage,
    MeterSwap,
    ReadCheck,
    ReadVerdict,
    RegisterRead,
    UsageMethod,
    VeeSettings,
    continue_across_swaps,
    daily_load_profile,
    daily_usage,
    validate_read,
)
from prepaidgrid.domain.supply import SupplyState
from prepaidgrid.domain.units import IST, ist_day, ist_midnight
from prepaidgrid.services.charges import PostDailyCharge, post_daily_charge
from prepaidgrid.services.ports import (
    Clock,
    DailyUsageRow,
    MeteredAccount,
    MeterReplaced,
    MeterSpell,
    PolicyBook,
    TariffBook,
    UnitOfWork,
)

ONE_DAY = timedelta(days=1)
ONE_MICROSECOND = timedelta(microseconds=1)
LONGEST_BLOCK = timedelta(minutes=30)  # a block starting this long before midnight reaches it
CHUNK_ACCOUNTS = 500  # accounts per transaction

# Assumed use of a day that has no reads and no actual day to average (FALLBACK). These
# are planning assumptions for Bihar connections, not tariff figures: docs/meter-data.md.
FALLBACK_WH_PER_DAY: Mapping[str, int] = {
    "KJ": 1_500,  # Kutir Jyoti (BPL households): about 45 units a month
    "DS-I": 4_000,  # rural domestic: about 120 units a month
    "DS-II": 5_000,  # urban domestic: about 150 units a month
    "NDS-I": 8_000,  # rural non-domestic (shops): about 240 units a month
    "NDS-II": 10_000,  # urban non-domestic: about 300 units a month
}
DEFAULT_FALLBACK_WH = 4_000  # a category the table does not name
_HOURS_PER_DAY = 24

# Verdicts that keep a read from pricing any day; they are recorded in the day's flags.
_REFUSED = frozenset({ReadVerdict.BACKWARDS, ReadVerdict.SPIKE, ReadVerdict.CONFLICT})
_ESTIMATED = frozenset({UsageMethod.AVERAGE, UsageMethod.FALLBACK})
UNUSABLE_READS = "unusable_reads"  # the flag of a day estimated because its reads contradict


@dataclass
class UsageRun:
    """What `compute_daily_usage` did for one day; counts are accounts."""

    day: date
    accounts: int = 0  # metered accounts looked at
    actual: int = 0  # rows stored from the register at both midnights
    estimated: int = 0  # rows stored as an estimate (average or category fallback)
    flagged: int = 0  # stored rows whose reads raised a VEE flag (also counted above)
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> accounts left as they were
    examples: dict[str, str] = field(default_factory=dict)  # reason -> one account's detail

    def skip(self, reason: str, account_id: str, detail: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        self.examples.setdefault(reason, f"{account_id}: {detail}")


@dataclass
class BillRun:
    """What `bill_metered_day` did for one day; counts are accounts."""

    day: date
    accounts: int = 0  # daily usage rows of the day
    billed: int = 0  # charges posted by this run
    already_billed: int = 0  # charged before (by an earlier run or another path)
    charged_paise: int = 0  # the day's charges posted by this run (energy, fixed, duty...)
    instalment_paise: int = 0  # arrears instalments recovered with them
    entered_grace: int = 0  # accounts this run's charge took from credit into grace
    errors: dict[str, int] = field(default_factory=dict)  # DomainError type -> accounts
    examples: dict[str, str] = field(default_factory=dict)  # error type -> one account's detail


def fallback_wh(category: str, sanctioned_load_w: int) -> int:
    """The category's assumed daily use, never above what the sanctioned load allows."""
    figure = FALLBACK_WH_PER_DAY.get(category, DEFAULT_FALLBACK_WH)
    return min(figure, sanctioned_load_w * _HOURS_PER_DAY)


def compute_daily_usage(
    day: date,
    uow: UnitOfWork,
    clock: Clock,
    settings: VeeSettings = DEFAULT_VEE,
    *,
    tariffs: TariffBook | None = None,
    chunk_size: int = CHUNK_ACCOUNTS,
) -> UsageRun:
    """Store every metered account's consumption on IST `day`, one transaction per chunk.

    A day already billed keeps its row (an estimate is trued up later by posting the
    difference, never by re-pricing the day). With `tariffs`, the day's interval blocks
    are split into the tariff's time-of-day bands; without, `band_wh` stays empty.
    """
    if chunk_size < 1:
        raise InvalidInput(f"chunk size must be at least 1, got {chunk_size}")
    at = clock.now()
    run = UsageRun(day)
    with uow:
        accounts = uow.meter_data.metered_accounts()
    run.accounts = len(accounts)
    the_day = _Day.of(day, at, settings)
    bands = _BandBook(tariffs, day)
    for offset in range(0, len(accounts), chunk_size):
        with uow:
            rows, skips = _chunk(accounts[offset : offset + chunk_size], the_day, uow, bands)
            uow.meter_data.put_daily_usage(rows)
            uow.commit()
        for row in rows:
            _count(run, row)
        for account_id, reason, detail in skips:
            run.skip(reason, account_id, detail)
    return run


def bill_metered_day(
    day: date,
    new_uow: Callable[[], UnitOfWork],
    clock: Clock,
    tariffs: TariffBook,
    policies: PolicyBook,
) -> BillRun:
    """Post the charge of every account with a daily usage row for `day`, once each.

    Each account is its own `post_daily_charge` (own transaction, idempotent per
    account-day), so a refused account is counted and the run goes on.
    """
    with new_uow() as uow:
        rows = uow.meter_data.daily_usage_on(day)
    run = BillRun(day, accounts=len(rows))
    for row in rows:
        command = PostDailyCharge(row.account_id, day, row.used_wh, row.max_demand_w)
        try:
            result = post_daily_charge(command, new_uow(), clock, tariffs, policies)
        except DomainError as error:
            reason = type(error).__name__
            run.errors[reason] = run.errors.get(reason, 0) + 1
            run.examples.setdefault(reason, f"{row.account_id}: {error}")
            continue
        if not result.is_new:
            run.already_billed += 1
            continue
        run.billed += 1
        run.charged_paise += result.total_paise
        run.instalment_paise += result.instalment_paise
        balance_before = result.balance_paise + result.total_paise + result.instalment_paise
        if result.supply_state is SupplyState.GRACE and balance_before > 0:
            run.entered_grace += 1
    return run


# -- one chunk of accounts -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Day:
    """The day computed, the run's instant, and the span of reads the day needs: its
    estimate history, its two midnights and their tolerance."""

    day: date
    at: datetime
    settings: VeeSettings
    start: datetime
    end: datetime

    @classmethod
    def of(cls, day: date, at: datetime, settings: VeeSettings) -> _Day:
        first = day - timedelta(days=settings.estimate_days + 1)
        return cls(day, at, settings, ist_midnight(first), ist_midnight(day + 2 * ONE_DAY))

    @property
    def opening(self) -> datetime:
        return ist_midnight(self.day)

    @property
    def closing(self) -> datetime:
        return ist_midnight(self.day + ONE_DAY)

    def describes(self, read: RegisterRead) -> bool:
        """The read measures energy used in the day: after its opening midnight, up to
        and including its closing one."""
        return self.opening < read.read_at <= self.closing


class _Stored(NamedTuple):
    """A chunk's meter data, per meter id."""

    reads: Mapping[str, list[RegisterRead]]
    replaced: Mapping[str, list[MeterReplaced]]
    blocks: Mapping[str, list[Block]]


class _BandBook:
    """The time-of-day bands of each (DISCOM, category) on the day, looked up once."""

    def __init__(self, tariffs: TariffBook | None, day: date) -> None:
        self._tariffs, self._day = tariffs, day
        self._bands: dict[tuple[str, str], tuple[BandHours, ...]] = {}

    def of(self, account: MeteredAccount) -> tuple[BandHours, ...]:
        if self._tariffs is None:
            return ()
        key = (account.discom, account.category)
        if key not in self._bands:
            try:
                version = self._tariffs.in_force(account.discom, self._day)
                self._bands[key] = tuple(version.category(account.category).tod_bands)
            except DomainError:  # not priced on this day: billing will say so
                self._bands[key] = ()
        return self._bands[key]


def _chunk(
    chunk: Sequence[MeteredAccount], the_day: _Day, uow: UnitOfWork, bands: _BandBook
) -> tuple[list[DailyUsageRow], list[tuple[str, str, str]]]:
    """The accounts' rows, and (account, reason, detail) for each row left as it is."""
    day = the_day.day
    skips: list[tuple[str, str, str]] = []
    due: list[MeteredAccount] = []
    for account in chunk:
        first_day = ist_day(account.migrated_at)
        if first_day > day:
            skips.append((account.account_id, "not_prepaid_yet", f"prepaid from {first_day}"))
        elif uow.charges.has(account.account_id, day):
            skips.append((account.account_id, "billed", f"{day} is billed; its row is kept"))
        else:
            due.append(account)
    meter_ids = {spell.meter_id for account in due for spell in _serving(account, the_day)}
    stored = _Stored(
        _by_meter(uow.meter_data.register_reads(meter_ids, the_day.start, the_day.end)),
        _by_meter(uow.meter_data.meter_replacements(meter_ids)),
        uow.meter_data.interval_blocks(meter_ids, the_day.opening - LONGEST_BLOCK, the_day.closing),
    )
    return [_account_day(account, the_day, stored, bands.of(account)) for account in due], skips


def _account_day(
    account: MeteredAccount, the_day: _Day, stored: _Stored, bands: Sequence[BandHours]
) -> DailyUsageRow:
    day, settings = the_day.day, the_day.settings
    spells = _serving(account, the_day)
    in_service = [spell for spell in spells if spell.installed_at < the_day.closing]
    meter_id = (in_service or [spells[0]])[-1].meter_id
    fallback = fallback_wh(account.category, account.sanctioned_load_w)
    band_wh = _band_wh(spells, stored.blocks, day, bands)
    flags: set[str] = set()
    try:
        swaps = _swaps(spells, stored.reads, stored.replaced)
        own = [read for spell in spells for read in stored.reads.get(spell.meter_id, [])]
        stand_ins = _first_read_stand_ins(account, own, the_day)
        stitched = continue_across_swaps([*stand_ins, *own], swaps)
        accepted, checks = _vet(stitched, account.sanctioned_load_w, settings)
        (usage,) = daily_usage(accepted, day, day, fallback_wh=fallback, settings=settings)
    except InvalidInput as error:  # e.g. a swap record the reads contradict
        note = f"estimated: reads unusable ({error}); category fallback"
        usage = DailyUsage(day, fallback, UsageMethod.FALLBACK, note=note)
        swaps, stand_ins, accepted, checks = [], [], [], []
        flags.add(UNUSABLE_READS)
    note = usage.note + _swap_note(swaps, day)
    if stand_ins:
        note += "; new meter: its first read stands for the register before it"
    for read, check in checks:
        if the_day.describes(read):
            flags.update(flag.value for flag in check.flags)
            if check.verdict in _REFUSED:
                flags.add(check.verdict.value)
    # The MD register resets monthly and the tariff takes the month's maximum, so the
    # highest value read in the day is all billing needs.
    demands = [read.max_demand_w or 0 for read in accepted if the_day.describes(read)]
    return DailyUsageRow(
        account_id=account.account_id,
        usage_day=day,
        meter_id=meter_id,
        used_wh=usage.used_wh,
        method=usage.method,
        opening_wh=usage.opening_wh,
        closing_wh=usage.closing_wh,
        max_demand_w=max(demands, default=0),
        band_wh=band_wh,
        flags=tuple(sorted(flags)),
        note=note,
        computed_at=the_day.at,
    )


def _serving(account: MeteredAccount, the_day: _Day) -> tuple[MeterSpell, ...]:
    """The account's meters whose time on it overlaps the reads' span (at least the last)."""
    spells = tuple(
        spell
        for spell in account.meters
        if spell.installed_at < the_day.end
        and (spell.removed_at is None or spell.removed_at >= the_day.start)
    )
    return spells or account.meters[-1:]


def _swaps(
    spells: Sequence[MeterSpell],
    reads: Mapping[str, list[RegisterRead]],
    replaced: Mapping[str, list[MeterReplaced]],
) -> list[MeterSwap]:
    """A MeterSwap for each change of meter among `spells`.

    The old meter's METER_REPLACED event gives its final register; without the event, its
    last read stands as the final register (energy after it is not charged). The event's
    instant is by the old meter's clock, so it is moved, if need be, to lie between the old
    meter's last read and the new meter's first: the reads decide the order.
    """
    swaps: list[MeterSwap] = []
    for old, new in pairwise(spells):
        old_reads, new_reads = reads.get(old.meter_id, []), reads.get(new.meter_id, [])
        events = replaced.get(old.meter_id, [])
        if events:
            final_wh, swapped_at = events[-1].final_import_wh, events[-1].occurred_at
        else:
            final_wh = old_reads[-1].import_wh if old_reads else 0
            swapped_at = old.removed_at or new.installed_at
        if old_reads and swapped_at <= old_reads[-1].read_at:
            last = old_reads[-1]
            # at the last read's own instant only if that read is the final register
            is_final = last.import_wh == final_wh
            swapped_at = last.read_at if is_final else last.read_at + ONE_MICROSECOND
        if new_reads and swapped_at > new_reads[0].read_at:
            swapped_at = new_reads[0].read_at  # contradicting reads: the domain refuses them
        swaps.append(MeterSwap(old.meter_id, new.meter_id, swapped_at, final_wh))
    return swaps


def _first_read_stand_ins(
    account: MeteredAccount, reads: Sequence[RegisterRead], the_day: _Day
) -> list[RegisterRead]:
    """Until the first meter's first read, its register is taken to be that read's value,
    as the domain takes a replacement meter's: energy before the first read is never
    charged, and the days from the installation day (prepaid from its start) are priced
    instead of estimated with no register to true them up against.

    Only the day's own midnights get the stand-in: a partial installation day must not
    feed the averages that estimate later days.
    """
    first = account.meters[0]
    since = ist_midnight(ist_day(first.installed_at))
    own = [read for read in reads if read.meter_id == first.meter_id]
    if not own or since < the_day.start:
        return []  # installed before the span: its first read may not be among these
    earliest = min(own, key=lambda read: read.read_at)
    return [
        RegisterRead(first.meter_id, midnight, earliest.import_wh)
        for midnight in (the_day.opening, the_day.closing)
        if since <= midnight < earliest.read_at
    ]


def _vet(
    reads: Iterable[RegisterRead], sanctioned_load_w: int, settings: VeeSettings
) -> tuple[list[RegisterRead], list[tuple[RegisterRead, ReadCheck]]]:
    """(accepted, every check): each read judged against the last accepted one, in time order.

    The stitched reads form one register, so across a swap the last accepted read is
    compared as if the new meter had read it.
    """
    accepted: list[RegisterRead] = []
    checks: list[tuple[RegisterRead, ReadCheck]] = []
    last: RegisterRead | None = None
    for read in sorted(reads, key=lambda r: r.read_at):
        if last is not None and last.meter_id != read.meter_id:
            last = RegisterRead(read.meter_id, last.read_at, last.import_wh)
        check = validate_read(last, read, sanctioned_load_w, settings)
        checks.append((read, check))
        if check.is_stored:
            accepted.append(read)
        if check.advances_register:
            last = read
    return accepted, checks


def _band_wh(
    spells: Sequence[MeterSpell],
    blocks: Mapping[str, list[Block]],
    day: date,
    bands: Sequence[BandHours],
) -> dict[str, int]:
    """The day's block energy per band, summed over the meters that served it."""
    if not bands:
        return {}
    totals = {band.name: 0 for band in bands}
    for spell in spells:
        try:
            profiles = daily_load_profile(blocks.get(spell.meter_id, []), bands)
        except InvalidInput:
            continue  # contradicting blocks price no band; the register still prices the day
        for profile in profiles:
            if profile.day == day:
                for name, wh in profile.band_wh:
                    totals[name] += wh
    return totals


def _swap_note(swaps: Iterable[MeterSwap], day: date) -> str:
    return "".join(
        f"; meter {swap.old_meter_id} replaced by {swap.new_meter_id} at"
        f" {swap.swapped_at.astimezone(IST):%H:%M} IST"
        for swap in swaps
        if ist_day(swap.swapped_at) == day
    )


_Keyed = TypeVar("_Keyed", RegisterRead, MeterReplaced)


def _by_meter(items: Iterable[_Keyed]) -> dict[str, list[_Keyed]]:
    grouped: dict[str, list[_Keyed]] = {}
    for item in items:
        grouped.setdefault(item.meter_id, []).append(item)
    return grouped


def _count(run: UsageRun, row: DailyUsageRow) -> None:
    if row.method in _ESTIMATED:
        run.estimated += 1
    else:
        run.actual += 1
    if row.flags:
        run.flagged += 1
    if UNUSABLE_READS in row.flags:
        run.examples.setdefault(UNUSABLE_READS, f"{row.account_id}: {row.note}")
