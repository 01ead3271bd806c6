"""The org tree as reports need it: each division with its circle and DISCOM, and the
connection's division reached through its subdivision (`placed`)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Connection, select

from prepaidgrid.adapters.db.tables import accounts, org_units

sub = org_units.alias("sub")  # the account's subdivision; its parent_code is the division
placed = accounts.join(sub, sub.c.code == accounts.c.subdivision_code)
division_of_account = sub.c.parent_code


@dataclass(frozen=True, slots=True)
class DivisionPlace:
    code: str
    name_en: str
    name_hi: str
    circle_code: str
    circle_name: str
    discom_code: str
    discom_name: str


def divisions_in(db: Connection, scope: Collection[str] | None) -> list[DivisionPlace]:
    """Every division (or those in `scope`), by DISCOM, circle and name."""
    units = {row.code: row for row in db.execute(select(org_units))}
    places: list[DivisionPlace] = []
    for unit in units.values():
        if unit.level != "division" or (scope is not None and unit.code not in scope):
            continue
        circle = units.get(unit.parent_code or "")
        discom = units.get(circle.parent_code or "") if circle is not None else None
        places.append(
            DivisionPlace(
                unit.code,
                unit.name_en,
                unit.name_hi or unit.name_en,
                circle.code if circle is not None else "",
                circle.name_en if circle is not None else "",
                discom.code if discom is not None else "",
                discom.name_en if discom is not None else "",
            )
        )
    places.sort(key=lambda p: (p.discom_code, p.circle_code, p.name_en, p.code))
    return places
