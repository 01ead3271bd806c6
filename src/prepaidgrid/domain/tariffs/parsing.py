"""Build a TariffVersion from an already-loaded tariff document (a TOML file's dict).

Pure: the adapter reads the file; this checks every key and type and says exactly which
one is wrong, because a tariff file is configuration a DISCOM edits and a typo must not
bill anyone. Unknown keys are refused for the same reason. Figures are integers only
(paise, paise/kWh, units, basis points): money never passes through a float.

Schema (see src/prepaidgrid/tariffs/*.toml):

    id, name, discoms = [...], effective_from, effective_to, unconfirmed = ["dotted.path"]
    [categories.CODE]            name, name_hi
    [[categories.CODE.slabs]]    upto_units (all but the last), rate_paise_per_kwh,
                                 subsidy_paise_per_kwh
    [categories.CODE.rebate]     paise_per_kwh | basis_points + base ("gross" | "net")
    [categories.CODE.fixed]      paise_per_month, basis ("per_kw" | "per_connection"),
                                 demand_floor_pct
    [categories.CODE.duty]       basis_points, base (a DutyBase value)
    [categories.CODE.free_units] units_per_30_days, effective_from
    [[categories.CODE.tod_bands]] name, percent, start_hour, end_hour
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.domain.tariffs.model import (
    CategoryTariff,
    Duty,
    DutyBase,
    FixedBasis,
    FixedCharge,
    FreeUnits,
    Rebate,
    RebateBase,
    Slab,
    TariffVersion,
    TodBand,
)
from prepaidgrid.domain.units import WH_PER_KWH

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")


class _Table:
    """One table of the document, remembering its dotted path for error messages."""

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, Mapping):
            raise InvalidInput(f"{path or 'the tariff'} must be a table")
        self.data: Mapping[str, object] = data
        self.path = path
        self.read: set[str] = set()

    def _at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def _get(self, key: str, required: bool) -> object:
        self.read.add(key)
        if key not in self.data and required:
            raise InvalidInput(f"{self._at(key)} is missing")
        return self.data.get(key)

    def integer(self, key: str, default: int | None = None) -> int:
        value = self._get(key, default is None)
        if value is None and default is not None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"{self._at(key)} must be a whole number, got {value!r}")
        return value

    def optional_integer(self, key: str) -> int | None:
        return None if key not in self.data else self.integer(key)

    def text(self, key: str, default: str | None = None) -> str:
        value = self._get(key, default is None)
        if value is None and default is not None:
            return default
        if not isinstance(value, str):
            raise InvalidInput(f"{self._at(key)} must be text, got {value!r}")
        return value

    def day(self, key: str) -> date:
        value = self._get(key, True)
        if isinstance(value, datetime) or not isinstance(value, date):
            raise InvalidInput(f"{self._at(key)} must be a date (YYYY-MM-DD), got {value!r}")
        return value

    def optional_day(self, key: str) -> date | None:
        return None if key not in self.data else self.day(key)

    def choice(self, key: str, enum: type[E], default: E) -> E:
        value = self.text(key, default.value)
        try:
            return enum(value)
        except ValueError:
            allowed = ", ".join(member.value for member in enum)
            raise InvalidInput(f"{self._at(key)} must be one of {allowed}, got {value!r}") from None

    def texts(self, key: str) -> tuple[str, ...]:
        value = self._get(key, False) or []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise InvalidInput(f"{self._at(key)} must be a list of text")
        return tuple(value)

    def table(self, key: str) -> _Table | None:
        value = self._get(key, False)
        return None if value is None else _Table(value, self._at(key))

    def tables(self, key: str) -> list[_Table]:
        value = self._get(key, False) or []
        if not isinstance(value, list):
            raise InvalidInput(f"{self._at(key)} must be an array of tables")
        return [_Table(item, f"{self._at(key)}.{index}") for index, item in enumerate(value)]

    def done(self) -> None:
        extra = sorted(set(self.data) - self.read)
        if extra:
            raise InvalidInput(f"{self._at(extra[0])} is not a known tariff key")


def parse_tariff(document: Mapping[str, object]) -> TariffVersion:
    """The TariffVersion a tariff document describes, or InvalidInput naming the bad key."""
    top = _Table(document, "")
    tariff_id = top.text("id")
    effective_from = top.day("effective_from")
    effective_to = top.optional_day("effective_to")
    if effective_to is not None and effective_to < effective_from:
        raise InvalidInput(f"tariff {tariff_id}: effective_to is before effective_from")
    # Days are priced as differences of month-to-date bills: a month must have one tariff.
    if effective_from.day != 1:
        raise InvalidInput(f"tariff {tariff_id}: effective_from must be the 1st of a month")
    if effective_to is not None and (effective_to + timedelta(days=1)).day != 1:
        raise InvalidInput(f"tariff {tariff_id}: effective_to must be the last day of a month")
    discoms = top.texts("discoms")
    if not discoms:
        raise InvalidInput(f"tariff {tariff_id}: discoms must name at least one DISCOM")
    categories_table = top.table("categories")
    if categories_table is None:
        raise InvalidInput(f"tariff {tariff_id}: categories is missing")
    categories = {
        code: _category(code, _Table(data, f"categories.{code}"))
        for code, data in categories_table.data.items()
    }
    categories_table.read.update(categories)
    unconfirmed = top.texts("unconfirmed")
    for path in unconfirmed:
        if not resolves(document, path):
            raise InvalidInput(f"tariff {tariff_id}: unconfirmed path {path!r} is not in the file")
    version = TariffVersion(
        id=tariff_id,
        discoms=discoms,
        effective_from=effective_from,
        effective_to=effective_to,
        categories=MappingProxyType(categories),
        unconfirmed=unconfirmed,
        name=top.text("name", ""),
    )
    top.text("source", "")  # where the figures come from: for people, not the engine
    top.done()
    return version


def resolves(document: Mapping[str, object], dotted_path: str) -> bool:
    """Whether a dotted path ('categories.DS-II.slabs.0.rate_paise_per_kwh') names a value."""
    node: object = document
    for part in dotted_path.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True


def _category(code: str, table: _Table) -> CategoryTariff:
    slabs = tuple(_slab(slab) for slab in table.tables("slabs"))
    category = CategoryTariff(
        code=code,
        name=table.text("name"),
        name_hi=table.text("name_hi", ""),
        slabs=slabs,
        rebate=_optional(table.table("rebate"), _rebate),
        fixed=_optional(table.table("fixed"), _fixed),
        duty=_optional(table.table("duty"), _duty),
        free_units=_optional(table.table("free_units"), _free_units),
        tod_bands=tuple(_band(band) for band in table.tables("tod_bands")),
    )
    table.done()
    return category


def _optional(table: _Table | None, build: Callable[[_Table], T]) -> T | None:
    if table is None:
        return None
    result = build(table)
    table.done()
    return result


def _slab(table: _Table) -> Slab:
    upto_units = table.optional_integer("upto_units")
    slab = Slab(
        upto_wh=None if upto_units is None else upto_units * WH_PER_KWH,
        paise_per_kwh=table.integer("rate_paise_per_kwh"),
        subsidy_paise_per_kwh=table.integer("subsidy_paise_per_kwh", 0),
    )
    table.done()
    return slab


def _rebate(table: _Table) -> Rebate:
    return Rebate(
        paise_per_kwh=table.integer("paise_per_kwh", 0),
        basis_points=table.integer("basis_points", 0),
        base=table.choice("base", RebateBase, RebateBase.NET),
    )


def _fixed(table: _Table) -> FixedCharge:
    return FixedCharge(
        paise_per_month=table.integer("paise_per_month"),
        basis=table.choice("basis", FixedBasis, FixedBasis.PER_KW),
        demand_floor_pct=table.integer("demand_floor_pct", 75),
    )


def _duty(table: _Table) -> Duty:
    return Duty(
        basis_points=table.integer("basis_points"),
        base=table.choice("base", DutyBase, DutyBase.ENERGY_GROSS),
    )


def _free_units(table: _Table) -> FreeUnits:
    return FreeUnits(
        wh_per_30_days=table.integer("units_per_30_days") * WH_PER_KWH,
        effective_from=table.day("effective_from"),
    )


def _band(table: _Table) -> TodBand:
    band = TodBand(
        name=table.text("name"),
        percent=table.integer("percent"),
        start_hour=table.integer("start_hour"),
        end_hour=table.integer("end_hour"),
    )
    table.done()
    return band
