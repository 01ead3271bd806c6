"""Platform-wide switches: safe mode stops every new cut while consumers cannot pay."""

from __future__ import annotations

from dataclasses import dataclass

from prepaidgrid.services.ports import Clock, UnitOfWork


@dataclass(frozen=True, slots=True)
class SetSafeMode:
    is_on: bool
    reason: str


def set_safe_mode(cmd: SetSafeMode, uow: UnitOfWork, clock: Clock) -> None:
    with uow:
        uow.platform.set_safe_mode(cmd.is_on, cmd.reason, clock.now())
        uow.commit()
