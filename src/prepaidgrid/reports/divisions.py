"""The division MIS (the news report's table) and the meter rollout, from the database.

Definitions (docs/reports.md), for an IST calendar month [start, end):

- connections cut: distinct connections whose supply change to `disconnected` (the meter
  confirmed the relay opened) falls in the month; `cut_commands` counts those sent a cut
  (`disconnect_sent`), confirmed or not.
- revenue from recharges after a cut: the credited recharges whose ledger journal is
  posted in the month while the connection stood cut, i.e. its latest supply change at or
  before that instant went to `disconnect_sent` or `disconnected` (the reconnection that
  the recharge itself causes, at the same instant, is not counted as "before"). Reversed
  payments are left out. The full recharge amount counts, arrears share included.
- smart meters installed: meters in service at the month's end (installed before it,
  not removed by then).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from sqlalchemy import Connection, and_, func, literal, or_, select
from sqlalchemy.sql import Select

from prepaidgrid.adapters.db.tables import accounts, journals, meters, payments, supply_changes
from prepaidgrid.reports.model import Column, Kind, Month, Report, Row, total_row
from prepaidgrid.reports.org import DivisionPlace, division_of_account, divisions_in, placed
from prepaidgrid.reports.sql_time import ist_month_text

CUT_STATES = ("disconnect_sent", "disconnected")

_PLACE_COLUMNS = (
    Column("discom", "DISCOM", "डिस्कॉम"),
    Column("circle", "Circle", "सर्किल"),
    Column("division", "Division code", "प्रमंडल कोड"),
    Column("division_en", "Division", "प्रमंडल"),
    Column("division_hi", "Division (Hindi)", "प्रमंडल (हिंदी)"),
)
DIVISION_COLUMNS = (
    *_PLACE_COLUMNS,
    Column("connections_cut", "Connections cut", "कटे कनेक्शन", Kind.COUNT),
    Column("cut_commands", "Cut commands sent", "कटौती आदेश भेजे", Kind.COUNT),
    Column("recharges_after_cut", "Recharges after a cut", "कटौती के बाद रिचार्ज", Kind.COUNT),
    Column(
        "revenue_after_cut_paise",
        "Revenue from recharges after a cut",
        "कटौती के बाद रिचार्ज से राजस्व",
        Kind.PAISE,
    ),
    Column("smart_meters_installed", "Smart meters installed", "लगे स्मार्ट मीटर", Kind.COUNT),
)
ROLLOUT_COLUMNS = (
    Column("month", "Month", "महीना"),
    *_PLACE_COLUMNS,
    Column("installed", "Meters installed", "लगाए गए मीटर", Kind.COUNT),
    Column("removed", "Meters removed", "हटाए गए मीटर", Kind.COUNT),
    Column("in_service", "In service at month end", "माह के अंत में चालू", Kind.LEVEL),
)


@dataclass(frozen=True, slots=True)
class DivisionFigures:
    connections_cut: int = 0
    cut_commands: int = 0
    recharges_after_cut: int = 0
    revenue_after_cut_paise: int = 0
    smart_meters_installed: int = 0


def division_report(db: Connection, month: Month, scope: Collection[str] | None) -> Report:
    """Per division, then per circle and DISCOM: cuts, revenue after cuts, meters."""
    places = divisions_in(db, scope)
    figures = _division_figures(db, month, [p.code for p in places])

    def cells(place: DivisionPlace) -> tuple[int, ...]:
        f = figures.get(place.code, DivisionFigures())
        return (
            f.connections_cut,
            f.cut_commands,
            f.recharges_after_cut,
            f.revenue_after_cut_paise,
            f.smart_meters_installed,
        )

    rows = with_totals(places, DIVISION_COLUMNS, cells)
    return Report(
        "divisions",
        "Division report: cuts, revenue after cuts, smart meters",
        "प्रमंडल रिपोर्ट: कटौती, कटौती के बाद राजस्व, स्मार्ट मीटर",
        month,
        DIVISION_COLUMNS,
        tuple(rows),
        (
            "Connections cut: distinct connections whose meter confirmed a cut in the month.",
            "Revenue after a cut: recharges credited in the month while the connection stood "
            "cut (cut sent or confirmed); reversed payments excluded.",
            "Smart meters installed: meters in service at the month's end.",
        ),
    )


def _division_figures(db: Connection, month: Month, codes: list[str]) -> dict[str, DivisionFigures]:
    start, end = month.starts_at, month.ends_at
    division = division_of_account.label("division")

    def cut_count(state: str) -> Select[tuple[str, int]]:
        return (
            select(division, func.count(func.distinct(supply_changes.c.account_id)))
            .select_from(
                placed.join(supply_changes, supply_changes.c.account_id == accounts.c.account_id)
            )
            .where(
                supply_changes.c.to_state == state,
                supply_changes.c.at >= start,
                supply_changes.c.at < end,
            )
            .group_by(division)
        )

    latest = supply_changes.alias("latest")
    state_then = (
        select(latest.c.to_state)
        .where(
            latest.c.account_id == payments.c.account_id,
            or_(
                latest.c.at < journals.c.posted_at,
                and_(latest.c.at == journals.c.posted_at, latest.c.to_state.in_(CUT_STATES)),
            ),
        )
        .order_by(latest.c.at.desc(), latest.c.id.desc())
        .limit(1)
        .correlate(payments, journals)
        .scalar_subquery()
    )
    recharge_key = literal("recharge:") + payments.c.channel + literal(":") + payments.c.reference
    revenue = (
        select(division, func.count(), func.sum(payments.c.amount_paise))
        .select_from(
            placed.join(payments, payments.c.account_id == accounts.c.account_id).join(
                journals, journals.c.idempotency_key == recharge_key
            )
        )
        .where(
            payments.c.status == "credited",
            journals.c.posted_at >= start,
            journals.c.posted_at < end,
            state_then.in_(CUT_STATES),
        )
        .group_by(division)
    )
    installed = (
        select(division, func.count())
        .select_from(placed.join(meters, meters.c.account_id == accounts.c.account_id))
        .where(
            meters.c.installed_at < end,
            or_(meters.c.removed_at.is_(None), meters.c.removed_at >= end),
        )
        .group_by(division)
    )
    found: dict[str, dict[str, int]] = {code: {} for code in codes}
    for key, query in (
        ("connections_cut", cut_count("disconnected")),
        ("cut_commands", cut_count("disconnect_sent")),
        ("smart_meters_installed", installed),
    ):
        for code, count in db.execute(query.where(division_of_account.in_(codes))):
            found[str(code)][key] = int(count)
    for code, count, paise in db.execute(revenue.where(division_of_account.in_(codes))):
        found[str(code)]["recharges_after_cut"] = int(count)
        found[str(code)]["revenue_after_cut_paise"] = int(paise or 0)
    return {code: DivisionFigures(**values) for code, values in found.items()}


def rollout_report(db: Connection, month: Month, scope: Collection[str] | None) -> Report:
    """Meters installed and removed per division per month, from the first installation
    up to `month`, with the meters in service at each month's end (cumulative)."""
    places = divisions_in(db, scope)
    codes = [p.code for p in places]
    dialect = db.dialect.name
    division = division_of_account.label("division")
    changes: dict[tuple[str, str], list[int]] = {}
    for column, slot in ((meters.c.installed_at, 0), (meters.c.removed_at, 1)):
        when = ist_month_text(column, dialect).label("month")
        query = (
            select(division, when, func.count())
            .select_from(placed.join(meters, meters.c.account_id == accounts.c.account_id))
            .where(column.is_not(None), column < month.ends_at, division_of_account.in_(codes))
            .group_by(division, when)
        )
        for code, label, count in db.execute(query):
            changes.setdefault((str(label), str(code)), [0, 0])[slot] += int(count)
    months = sorted({label for label, _ in changes})
    if not months:
        return _rollout(month, [])
    rows: list[Row] = []
    in_service = dict.fromkeys(codes, 0)
    current = Month.parse(months[0])
    while current <= month:
        month_rows = []
        for place in places:
            installed, removed = changes.get((current.label, place.code), [0, 0])
            in_service[place.code] += installed - removed
            month_rows.append(
                Row(
                    "division",
                    (
                        current.label,
                        *_place_cells(place),
                        installed,
                        removed,
                        in_service[place.code],
                    ),
                )
            )
        rows.extend(month_rows)
        rows.append(
            total_row(
                ROLLOUT_COLUMNS,
                month_rows,
                "total",
                {"month": current.label, "division_en": "Total"},
            )
        )
        current = current.next
    return _rollout(month, rows)


def _rollout(month: Month, rows: list[Row]) -> Report:
    return Report(
        "rollout",
        "Smart meter rollout by division",
        "प्रमंडलवार स्मार्ट मीटर प्रगति",
        month,
        ROLLOUT_COLUMNS,
        tuple(rows),
        ("In service: meters installed and not removed by the month's end (cumulative).",),
    )


def _place_cells(place: DivisionPlace) -> tuple[str, ...]:
    return (place.discom_code, place.circle_code, place.code, place.name_en, place.name_hi)


def with_totals(
    places: list[DivisionPlace],
    columns: tuple[Column, ...],
    figures: Callable[[DivisionPlace], tuple[int, ...]],
) -> list[Row]:
    """Division rows, a total row after each circle's, and one after each DISCOM's."""
    rows: list[Row] = []
    discom_rows: list[Row] = []
    circle_rows: list[Row] = []
    for n, place in enumerate(places):
        row = Row("division", (*_place_cells(place), *figures(place)))
        rows.append(row)
        circle_rows.append(row)
        discom_rows.append(row)
        following = places[n + 1] if n + 1 < len(places) else None
        if following is None or (following.discom_code, following.circle_code) != (
            place.discom_code,
            place.circle_code,
        ):
            rows.append(
                total_row(
                    columns,
                    circle_rows,
                    "circle",
                    {
                        "discom": place.discom_code,
                        "circle": place.circle_code,
                        "division_en": f"{place.circle_name} circle total",
                        "division_hi": "सर्किल योग",
                    },
                )
            )
            circle_rows = []
        if following is None or following.discom_code != place.discom_code:
            rows.append(
                total_row(
                    columns,
                    discom_rows,
                    "discom",
                    {
                        "discom": place.discom_code,
                        "division_en": f"{place.discom_name} total",
                        "division_hi": "डिस्कॉम योग",
                    },
                )
            )
            discom_rows = []
    return rows
