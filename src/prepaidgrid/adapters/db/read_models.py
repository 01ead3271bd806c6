"""Read-only views over many accounts at once, for schedulers and reports (no locks taken).

The use cases lock one account at a time; a scheduler first needs to know *which* accounts
to visit. These queries answer that in one round trip each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, and_, func, literal, select

from prepaidgrid.adapters.db.tables import accounts, daily_charges, ledger_accounts, meters


@dataclass(frozen=True, slots=True)
class Position:
    balance_paise: int
    supply_state: str
    meter_id: str | None


def account_positions(engine: Engine) -> dict[str, Position]:
    """Every account's wallet balance, supply state and meter in service."""
    wallet = ledger_accounts.alias("w")
    query = (
        select(
            accounts.c.account_id,
            wallet.c.balance_paise,
            accounts.c.supply_state,
            meters.c.meter_id,
        )
        .join(wallet, wallet.c.code == literal("wallet:") + accounts.c.account_id)
        .outerjoin(
            meters,
            and_(meters.c.account_id == accounts.c.account_id, meters.c.removed_at.is_(None)),
        )
    )
    with engine.connect() as db:
        return {
            row.account_id: Position(int(row.balance_paise), row.supply_state, row.meter_id)
            for row in db.execute(query)
        }


def cuts_due(engine: Engine, at: datetime) -> list[str]:
    """Accounts in grace whose cut time has come: the cut sweep's work list."""
    query = (
        select(accounts.c.account_id)
        .where(accounts.c.supply_state == "grace", accounts.c.cut_at <= at)
        .order_by(accounts.c.cut_at, accounts.c.account_id)
    )
    with engine.connect() as db:
        return [str(account_id) for account_id in db.execute(query).scalars()]


def average_daily_charge_paise(engine: Engine) -> dict[str, int]:
    """Each billed account's mean daily charge so far: what a consumer thinks a day costs."""
    query = select(daily_charges.c.account_id, func.avg(daily_charges.c.total_paise)).group_by(
        daily_charges.c.account_id
    )
    with engine.connect() as db:
        return {str(row[0]): round(float(row[1])) for row in db.execute(query)}
