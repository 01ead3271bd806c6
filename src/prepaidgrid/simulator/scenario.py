"""Named fleets to simulate: Patna's 13 divisions of September 2021, scaled down at will.

The division table (meters installed, connections cut, money recovered) is the news
report's, shipped as package data. Everything else is invented but plausible: the mix of
tariff categories, household sizes and cooling appliances, sanctioned loads, recharge
habits and meter quirks. A division's share of late and never-paying consumers follows
its reported cut rate (cuts / meters installed).
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from typing import Protocol

from prepaidgrid.domain.errors import InvalidInput, NotFound
from prepaidgrid.domain.units import IST, require_utc
from prepaidgrid.simulator.load_profiles import (
    DS_II,
    KUTIR_JYOTI,
    NDS_II,
    CoolingTier,
    HouseholdProfile,
)
from prepaidgrid.simulator.meters import MeterSpec, Replacement, SimulatedMeter
from prepaidgrid.simulator.recharge_habits import RechargeHabit

DEFAULT_DISCOM = "SBPDCL"  # South Bihar Power Distribution Company: Patna's DISCOM
DEFAULT_SEED = 20210924  # the report's date
REPLACEMENT_METER_ID = "SM99000001"  # no division has the number 99


class UnknownScenario(NotFound):
    pass


@dataclass(frozen=True, slots=True)
class Division:
    code: str  # ours, for account ids; the report names divisions only
    name_en: str
    name_hi: str
    smart_meters_installed: int
    connections_cut_sep_2021: int | None  # None: misprinted in the report
    revenue_after_recharge_paise: int

    @property
    def cut_share(self) -> float | None:
        if self.connections_cut_sep_2021 is None:
            return None
        return self.connections_cut_sep_2021 / self.smart_meters_installed


@dataclass(frozen=True, slots=True)
class Consumer:
    account_id: str  # PTN-{division code}-{n:05d}; its meter is SM{division number:02d}{n:06d}
    division_code: str
    category: str  # tariff category: DS-II, KJ or NDS-II
    sanctioned_load_w: int
    recharge_habit: RechargeHabit
    meter: MeterSpec  # with the household's load profile

    @property
    def has_smartphone(self) -> bool:
        return self.recharge_habit is not RechargeHabit.COUNTER_ONLY


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    discom: str
    seed: int
    scale: float
    starts_at: datetime  # the scenario's natural start, UTC
    divisions: tuple[Division, ...]
    consumers: tuple[Consumer, ...]

    def division(self, code: str) -> Division:
        for division in self.divisions:
            if division.code == code:
                return division
        raise NotFound(f"scenario {self.name} has no division {code!r}")

    def consumers_in(self, division_code: str) -> tuple[Consumer, ...]:
        return tuple(c for c in self.consumers if c.division_code == division_code)

    def meters(self, started_at: datetime | None = None) -> list[SimulatedMeter]:
        """Fresh simulated meters for every consumer, all starting at the same instant."""
        start = require_utc(started_at or self.starts_at)
        return [SimulatedMeter(consumer.meter, start) for consumer in self.consumers]


# -- Patna, September 2021 ----------------------------------------------------------------------

PATNA_CSV = "patna-divisions-2021-09.csv"
_PATNA_CODES = {
    "Nutan Rajdhani": "NRJ",
    "Dakbungalow": "DKB",
    "Patliputra": "PPT",
    "Gardanibag": "GDB",
    "Ashiana Nagar": "ASN",
    "Danapur": "DNP",
    "Khagaul": "KHG",
    "Bankipur": "BKP",
    "Rajendra Nagar": "RJN",
    "Kankarbagh": "KKB",
    "Kankarbagh-2": "KKB2",
    "Gulzarbagh": "GZB",
    "Patna City": "PTC",
}
_AFFLUENT = {"NRJ", "PPT", "BKP", "RJN"}  # more air conditioners
_OLD_CITY = {"PTC", "GZB"}  # bazaars: more shops
_PERI_URBAN = {"DNP", "KHG"}  # more Kutir Jyoti households
_DS_II_LOADS_KW = {CoolingTier.FAN: (1, 2), CoolingTier.COOLER: (2, 3), CoolingTier.AC: (3, 4, 5)}
_PERSONS = (2, 3, 4, 5, 6, 7, 8)
_PERSON_WEIGHTS = (10, 17, 24, 21, 14, 8, 6)


def read_divisions() -> tuple[Division, ...]:
    """The report's table, from the package's copy of docs/reference/{PATNA_CSV}."""
    text = files("prepaidgrid.simulator").joinpath("data", PATNA_CSV).read_text("utf-8")
    divisions = []
    for row in csv.DictReader(text.splitlines()):
        cut = row["connections_cut_sep_2021"].strip()
        divisions.append(
            Division(
                code=_PATNA_CODES[row["division_en"]],
                name_en=row["division_en"],
                name_hi=row["division_hi"],
                smart_meters_installed=int(row["smart_meters_installed"]),
                connections_cut_sep_2021=int(cut) if cut else None,
                revenue_after_recharge_paise=int(row["revenue_after_recharge_inr"]) * 100,
            )
        )
    return tuple(divisions)


def meters_at_scale(installed: int, scale: float) -> int:
    """round(installed x scale), but at least one meter in a division when scale > 0."""
    if scale <= 0:
        return 0
    return max(1, round(installed * scale))


def _patna(
    name: str, *, scale: float, seed: int, discom: str, replacement_after: timedelta | None
) -> Scenario:
    divisions = read_divisions()
    known = [d for d in divisions if d.connections_cut_sep_2021 is not None]
    average_cut_share = sum(d.connections_cut_sep_2021 or 0 for d in known) / sum(
        d.smart_meters_installed for d in known
    )
    consumers: list[Consumer] = []
    for number, division in enumerate(divisions, start=1):
        cut_share = division.cut_share
        for n in range(1, meters_at_scale(division.smart_meters_installed, scale) + 1):
            account_id = f"PTN-{division.code}-{n:05d}"
            consumers.append(
                _consumer(
                    random.Random(f"{name}:{seed}:{account_id}"),
                    division.code,
                    account_id,
                    f"SM{number:02d}{n:06d}",
                    discom,
                    average_cut_share if cut_share is None else cut_share,
                )
            )
    if replacement_after is not None and consumers:
        index = random.Random(f"{name}:{seed}:replacement").randrange(len(consumers))
        chosen = consumers[index]
        replacement = Replacement(replacement_after, REPLACEMENT_METER_ID)
        consumers[index] = replace(chosen, meter=replace(chosen.meter, replacement=replacement))
    return Scenario(
        name=name,
        discom=discom,
        seed=seed,
        scale=scale,
        starts_at=datetime(2021, 9, 1, tzinfo=IST).astimezone(UTC),
        divisions=divisions,
        consumers=tuple(consumers),
    )


def _consumer(
    rng: random.Random,
    division: str,
    account_id: str,
    meter_id: str,
    discom: str,
    cut_share: float,
) -> Consumer:
    """One consumer from their own generator: the same account at every scale."""
    if division in _OLD_CITY:
        category_weights = (76, 6, 18)
    elif division in _PERI_URBAN:
        category_weights = (78, 14, 8)
    else:
        category_weights = (86, 6, 8)
    category = rng.choices((DS_II, KUTIR_JYOTI, NDS_II), category_weights)[0]
    if category == KUTIR_JYOTI:
        tier_weights = (90, 10, 0)
    elif category == NDS_II:
        tier_weights = (30, 30, 40)
    elif division in _AFFLUENT:
        tier_weights = (20, 40, 40)
    else:
        tier_weights = (35, 40, 25)
    cooling = rng.choices(tuple(CoolingTier), tier_weights)[0]
    persons = rng.choices(_PERSONS, _PERSON_WEIGHTS)[0]
    if category == DS_II:
        sanctioned_kw = _DS_II_LOADS_KW[cooling]
    else:
        sanctioned_kw = (1,) if category == KUTIR_JYOTI else (2, 3, 4, 5)
    counter_share = (0.4 if category == KUTIR_JYOTI else 0.2) * (1 - cut_share)
    habit = rng.choices(
        (RechargeHabit.NEVER, RechargeHabit.LATE, RechargeHabit.COUNTER_ONLY, RechargeHabit.EARLY),
        (0.1 * cut_share, 0.9 * cut_share, counter_share, 1 - cut_share - counter_share),
    )[0]
    block_minutes, blocks_per_upload = rng.choices(((15, 1), (15, 4), (30, 1)), (70, 20, 10))[0]
    meter = MeterSpec(
        discom=discom,
        meter_id=meter_id,
        household=HouseholdProfile(category, persons, cooling),
        seed=account_id,
        block_minutes=block_minutes,
        blocks_per_upload=blocks_per_upload,
        initial_import_wh=rng.randrange(0, 3_000_000),  # up to 3,000 kWh since installation
        drift_ppm=rng.uniform(-25.0, 25.0),  # up to about 2 seconds a day
        power_factor_permille=rng.randint(880, 980),
        dropout_per_block=0.002,  # about one network drop-out every five days
        tamper_per_block=0.00002,  # about one tamper or cover-open a year
    )
    return Consumer(
        account_id=account_id,
        division_code=division,
        category=category,
        sanctioned_load_w=rng.choice(sanctioned_kw) * 1000,
        recharge_habit=habit,
        meter=meter,
    )


class ScenarioBuilder(Protocol):
    def __call__(
        self,
        name: str,
        *,
        scale: float,
        seed: int,
        discom: str,
        replacement_after: timedelta | None,
    ) -> Scenario: ...


_SCENARIOS: dict[str, ScenarioBuilder] = {"patna-2021-09": _patna}
MAX_UPLOAD_HOURS = 24  # a day of 15-minute blocks is 96, within a reading's 200
SCENARIO_NAMES = tuple(_SCENARIOS)


def load_scenario(
    name: str,
    *,
    scale: float = 0.01,
    seed: int = DEFAULT_SEED,
    discom: str = DEFAULT_DISCOM,
    replacement_after: timedelta | None = timedelta(days=1, hours=11),
    upload_hours: int | None = None,
) -> Scenario:
    """The named scenario with round(installed x scale) meters per division.

    One consumer's meter is replaced `replacement_after` the fleet's start (None: never).
    The same name, scale and seed always give the same consumers and meters.
    `upload_hours` makes every meter upload its blocks in one message every that many
    hours (None: the scenario's own mix, mostly one message per block): the same meters,
    energy and days in far fewer messages, for a month at scale.
    """
    if upload_hours is not None and not 1 <= upload_hours <= MAX_UPLOAD_HOURS:
        raise InvalidInput(f"upload hours must be 1 to {MAX_UPLOAD_HOURS}, got {upload_hours}")
    builder = _SCENARIOS.get(name)
    if builder is None:
        raise UnknownScenario(
            f"no scenario {name!r}; the scenarios are: {', '.join(SCENARIO_NAMES)}"
        )
    if not (scale >= 0 and scale < float("inf")):
        raise InvalidInput(f"scale must be a finite number >= 0, got {scale}")
    scenario = builder(
        name, scale=scale, seed=seed, discom=discom, replacement_after=replacement_after
    )
    if upload_hours is None:
        return scenario
    return replace(
        scenario,
        consumers=tuple(
            replace(
                c,
                meter=replace(
                    c.meter, blocks_per_upload=upload_hours * 60 // c.meter.block_minutes
                ),
            )
            for c in scenario.consumers
        ),
    )
