"""The packaged tariff and policy files as the TariffBook and PolicyBook ports (cached)."""

from __future__ import annotations

from datetime import date
from functools import cache

from prepaidgrid.adapters.profile_files import load_policy
from prepaidgrid.adapters.tariff_files import tariff_in_force
from prepaidgrid.domain.calendars import no_cut_days
from prepaidgrid.domain.supply import IsNoCutDay, SupplyPolicy
from prepaidgrid.domain.tariffs import TariffVersion


class PackagedTariffBook:
    def in_force(self, discom: str, day: date) -> TariffVersion:
        return _tariff_in_force(discom, day)


class PackagedPolicyBook:
    def policy(self, name: str) -> SupplyPolicy:
        return _policy(name)

    def no_cut_days(self, name: str) -> IsNoCutDay:
        return _no_cut_days(name)


@cache
def _tariff_in_force(discom: str, day: date) -> TariffVersion:
    return tariff_in_force(discom, day)


@cache
def _policy(name: str) -> SupplyPolicy:
    return load_policy(name)


@cache
def _no_cut_days(name: str) -> IsNoCutDay:
    return no_cut_days(_policy(name))
