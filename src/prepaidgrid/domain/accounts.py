"""Consumers, their connections (prepaid accounts) and the organisation they belong to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from prepaidgrid.domain.arrears import ArrearsPlan
from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.domain.supply import SupplySnapshot

ACCOUNT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
MOBILE = re.compile(r"^[6-9][0-9]{9}$")  # Indian mobile numbers


class OrgLevel(StrEnum):
    DISCOM = "discom"
    CIRCLE = "circle"
    DIVISION = "division"
    SUBDIVISION = "subdivision"


@dataclass(frozen=True, slots=True)
class OrgUnit:
    """A node of DISCOM > circle > division > subdivision; reports roll up along it."""

    code: str
    level: OrgLevel
    name_en: str
    name_hi: str = ""
    parent_code: str | None = None

    def __post_init__(self) -> None:
        if not ACCOUNT_ID.match(self.code):
            raise InvalidInput(f"unit code {self.code!r}: 1-40 letters, digits, - or _")
        if not self.name_en.strip():
            raise InvalidInput(f"unit {self.code} needs an English name")
        if (self.level is OrgLevel.DISCOM) != (self.parent_code is None):
            raise InvalidInput(
                f"{self.level.value} {self.code}: a DISCOM has no parent, every other unit has one"
            )

    @property
    def parent_level(self) -> OrgLevel | None:
        """The level a parent must have: the one right above."""
        order = list(OrgLevel)
        index = order.index(self.level)
        return order[index - 1] if index else None


@dataclass(frozen=True, slots=True)
class NewConnection:
    """A consumer's connection as the DISCOM registers it (before any smart meter)."""

    account_id: str
    consumer_name: str
    mobile: str
    category: str  # tariff category code, e.g. "DS-II"
    sanctioned_load_w: int
    subdivision_code: str
    discom: str  # "SBPDCL"
    supply_profile: str = "bihar"
    language: str = "hi"
    email: str | None = None

    def __post_init__(self) -> None:
        if not ACCOUNT_ID.match(self.account_id):
            raise InvalidInput(f"account id {self.account_id!r}: 1-40 letters, digits, - or _")
        if not MOBILE.match(self.mobile):
            raise InvalidInput(f"mobile {self.mobile!r} is not a 10-digit Indian mobile number")
        if self.sanctioned_load_w <= 0:
            raise InvalidInput("sanctioned load must be positive")
        if self.language not in ("hi", "en"):
            raise InvalidInput("language must be 'hi' or 'en'")


@dataclass(frozen=True, slots=True)
class Connection:
    """One prepaid account as services see it: its facts, balances and supply state."""

    account_id: str
    category: str
    discom: str
    sanctioned_load_w: int
    supply_profile: str
    language: str
    mobile: str
    wallet_paise: int
    arrears_paise: int  # negative while arrears are outstanding
    supply: SupplySnapshot
    migrated_at: datetime | None  # None until the smart meter's migration is posted
    meter_id: str | None
    arrears_plan: ArrearsPlan | None

    @property
    def is_prepaid(self) -> bool:
        return self.migrated_at is not None

    @property
    def outstanding_arrears_paise(self) -> int:
        return max(0, -self.arrears_paise)


@dataclass(frozen=True, slots=True)
class MonthToDate:
    """What has been billed in a month so far for one account."""

    used_wh: int = 0
    days_billed: int = 0
    max_demand_w: int = 0
    last_day: date | None = None
