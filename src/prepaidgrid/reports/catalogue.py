"""The reports by name, read in one snapshot from an engine (SQLite beside its writer)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import Final

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import OperationalError, ProgrammingError

from prepaidgrid.adapters.db.tables import org_units
from prepaidgrid.domain.errors import NotFound
from prepaidgrid.reports.divisions import division_report, rollout_report
from prepaidgrid.reports.model import Month, Report
from prepaidgrid.reports.money import ageing_report, collections_report


class NothingToReport(NotFound):
    """The database has no divisions (not set up yet), or none the reader may see."""


Builder = Callable[[Connection, Month, Collection[str] | None, datetime], Report]
REPORTS: Final[dict[str, Builder]] = {
    "divisions": lambda db, month, scope, _now: division_report(db, month, scope),
    "collections": lambda db, month, scope, _now: collections_report(db, month, scope),
    "ageing": ageing_report,
    "rollout": lambda db, month, scope, _now: rollout_report(db, month, scope),
}


def read_report(
    engine: Engine, name: str, month: Month, scope: Collection[str] | None, now: datetime
) -> Report:
    """Report `name` for `month` over the divisions in `scope` (None: all)."""
    build = REPORTS.get(name)
    if build is None:
        raise NotFound(f"no report {name!r}; known: {', '.join(REPORTS)}")
    try:
        with engine.connect() as db:
            db.execution_options(prepaidgrid_read_only=True)  # SQLite: a deferred BEGIN
            with db.begin():
                divisions = db.scalar(
                    select(func.count())
                    .select_from(org_units)
                    .where(org_units.c.level == "division")
                )
                if not divisions:
                    raise NothingToReport(
                        "the database has no divisions yet: set up the org units "
                        "(`prepaidgrid org`) or run `prepaidgrid simulate` / "
                        "डेटाबेस में अभी कोई प्रमंडल नहीं है"
                    )
                return build(db, month, scope, now)
    except (OperationalError, ProgrammingError) as error:
        if "org_units" in str(error):
            raise NothingToReport(
                "the database has no tables: run `prepaidgrid db upgrade` first / "
                "डेटाबेस में तालिकाएँ नहीं हैं: पहले `prepaidgrid db upgrade` चलाएँ"
            ) from None
        raise
