"""Onboarding: register the organisation and connections, install a smart prepaid meter."""

from __future__ import annotations

from dataclasses import dataclass

from prepaidgrid.domain.accounts import NewConnection, OrgUnit
from prepaidgrid.domain.arrears import ArrearsPlan, RecoveryKind
from prepaidgrid.domain.errors import InvalidInput, InvalidTransition
from prepaidgrid.domain.ledger import opening_journal
from prepaidgrid.domain.supply import SupplyDecision
from prepaidgrid.domain.units import ist_day, require_paise
from prepaidgrid.services.ports import Clock, PolicyBook, UnitOfWork
from prepaidgrid.services.supply import settle_supply


def add_org_units(units: list[OrgUnit], uow: UnitOfWork) -> None:
    with uow:
        for unit in units:
            uow.connections.add_org_unit(unit)
        uow.commit()


def list_org_units(uow: UnitOfWork) -> list[OrgUnit]:
    """Every unit, parents before children."""
    with uow:
        return uow.connections.org_units()


def open_connection(new: NewConnection, uow: UnitOfWork, clock: Clock) -> None:
    with uow:
        uow.connections.add(new, clock.now())
        uow.commit()


@dataclass(frozen=True, slots=True)
class InstallSmartMeter:
    """Convert a postpaid connection: the credit opens the wallet, arrears get a plan."""

    account_id: str
    meter_id: str
    postpaid_balance_paise: int = 0  # > 0 credit carried over, < 0 arrears
    recovery: RecoveryKind = RecoveryKind.DAILY_INSTALMENTS
    instalment_days: int = 300
    share_basis_points: int = 2500


def install_smart_meter(
    cmd: InstallSmartMeter, uow: UnitOfWork, clock: Clock, policies: PolicyBook
) -> SupplyDecision:
    """Post the migration and the meter in one transaction: no cut can precede the credit."""
    require_paise(cmd.postpaid_balance_paise, positive=False)
    if not cmd.meter_id.strip():
        raise InvalidInput("a meter id is required")
    at = clock.now()
    with uow:
        connection = uow.connections.lock(cmd.account_id)
        if connection.is_prepaid:
            raise InvalidTransition(f"account {cmd.account_id} already has a smart prepaid meter")
        plan = None
        if cmd.postpaid_balance_paise != 0:
            uow.ledger.add(opening_journal(cmd.account_id, cmd.postpaid_balance_paise, at))
        if cmd.postpaid_balance_paise < 0:
            plan = ArrearsPlan(
                total_paise=-cmd.postpaid_balance_paise,
                kind=cmd.recovery,
                days=cmd.instalment_days,
                share_basis_points=cmd.share_basis_points
                if cmd.recovery is RecoveryKind.RECHARGE_SHARE
                else 0,
                start_day=ist_day(at),
            )
        uow.connections.install_meter(cmd.account_id, cmd.meter_id, at, plan)
        migrated = uow.connections.get(cmd.account_id)
        decision = settle_supply(uow, migrated, migrated.wallet_paise, at, policies)
        uow.commit()
    return decision


@dataclass(frozen=True, slots=True)
class ReplaceMeter:
    """A field crew swapped the account's meter: the old one's reads stay the account's."""

    account_id: str
    old_meter_id: str
    new_meter_id: str


def replace_meter(cmd: ReplaceMeter, uow: UnitOfWork, clock: Clock) -> None:
    if not cmd.new_meter_id.strip():
        raise InvalidInput("a new meter id is required")
    if cmd.new_meter_id == cmd.old_meter_id:
        raise InvalidInput(f"meter {cmd.old_meter_id} cannot replace itself")
    with uow:
        uow.connections.lock(cmd.account_id)
        uow.connections.replace_meter(
            cmd.account_id, cmd.old_meter_id, cmd.new_meter_id, clock.now()
        )
        uow.commit()
