"""The officers' report page: the division table for a month with its chart and downloads.

A division officer sees only their divisions' rows (and totals over those rows); admins and
auditors see every division; cashiers are not shown reports. Downloads are the same
reports the CLI writes (reports/), scoped the same way.
"""

from __future__ import annotations

import json
from datetime import datetime, time

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from prepaidgrid.domain.access import Officer, Role
from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.domain.units import IST, format_rupees, ist_day
from prepaidgrid.entrypoints.portal.web import Page, PageDep
from prepaidgrid.reports.catalogue import REPORTS, NothingToReport, read_report
from prepaidgrid.reports.files import report_file
from prepaidgrid.reports.formats import Format, human_cell, is_total
from prepaidgrid.reports.model import Month, Report

router = APIRouter(prefix="/portal/officer/reports", include_in_schema=False)
DOWNLOADS = (Format.CSV, Format.XLSX, Format.PDF, Format.JSON)
SHOWN = ("division_en", "connections_cut", "revenue_after_cut_paise", "smart_meters_installed")


def _reader(current: Page) -> Officer | Response:
    officer = current.officer
    if officer is None:
        return current.redirect("/portal/officer/login")
    if officer.role is Role.CASHIER:
        t = current.t
        return current.render(
            "error.html", 403, title=t("officer.forbidden"), message=t("reports.not_for_cashiers")
        )
    return officer


def _month(current: Page, text: str) -> Month:
    if not text:
        return Month(ist_day(current.context.app.clock.now()).replace(day=1))
    return Month.parse(text)


def _problem(current: Page, status: int, key: str) -> Response:
    t = current.t
    return current.render("error.html", status, title=t("errors.bad_input"), message=t(key))


@router.get("/", response_class=HTMLResponse)
def reports_page(current: PageDep, month: str = "") -> Response:
    officer = _reader(current)
    if isinstance(officer, Response):
        return officer
    try:
        the_month = _month(current, month.strip()[:20])
        app = current.context.app
        now = app.clock.now()
        divisions = read_report(app.engine, "divisions", the_month, officer.scope, now)
        collections = read_report(app.engine, "collections", the_month, officer.scope, now)
    except InvalidInput:
        return _problem(current, 422, "reports.bad_month")
    except NothingToReport:
        return _problem(current, 404, "reports.nothing")
    columns = [divisions.column(key) for key in SHOWN]
    hindi = current.lang == "hi"
    rows = []
    for row in divisions.rows:
        name = row.value(divisions.columns, "division_hi" if hindi else "division_en")
        cells = [str(name)] + [
            human_cell(c, row.value(divisions.columns, c.key)) for c in columns[1:]
        ]
        rows.append({"cells": cells, "is_total": is_total(row), "level": row.level})
    return current.render(
        "officer_reports.html",
        month=the_month.label,
        headings=[c.title_hi if hindi else c.title_en for c in columns],
        rows=rows,
        chart=_collections_chart(collections, current.t("reports.rupees")),
        collected=[
            (
                datetime.fromisoformat(str(row.value(collections.columns, "day"))).strftime(
                    "%d-%m-%Y"
                ),
                format_rupees(int(row.value(collections.columns, "total_paise"))),
            )
            for row in collections.rows_at("day")
        ],
        downloads=[
            (fmt.value, f"divisions.{fmt.value}?month={the_month.label}") for fmt in DOWNLOADS
        ],
        others=[
            (name, f"{name}.{fmt.value}?month={the_month.label}", fmt.value)
            for name in ("collections", "ageing", "rollout")
            for fmt in (Format.CSV, Format.XLSX, Format.PDF)
        ],
    )


def _collections_chart(report: Report, label: str) -> str:
    """charts.js's data-series: one bar per IST day, the day's credited rupees."""
    xs, ys = [], []
    for row in report.rows_at("day"):
        day = datetime.fromisoformat(str(row.value(report.columns, "day"))).date()
        xs.append(int(datetime.combine(day, time(), tzinfo=IST).timestamp()))
        ys.append(int(row.value(report.columns, "total_paise")) / 100)
    return json.dumps({"x": xs, "y": ys, "label": label, "kind": "bars"})


@router.get("/{name}.{extension}")
def download(current: PageDep, name: str, extension: str, month: str = "") -> Response:
    officer = _reader(current)
    if isinstance(officer, Response):
        return officer
    if name not in REPORTS or extension not in {fmt.value for fmt in DOWNLOADS}:
        t = current.t
        return current.render("error.html", 404, title=t("errors.not_found"), message="")
    fmt = Format(extension)
    try:
        the_month = _month(current, month.strip()[:20])
        app = current.context.app
        report = read_report(app.engine, name, the_month, officer.scope, app.clock.now())
    except InvalidInput:
        return _problem(current, 422, "reports.bad_month")
    except NothingToReport:
        return _problem(current, 404, "reports.nothing")
    content = report_file(report, fmt)
    filename = f"{name}-{the_month.label}.{fmt.value}"
    return Response(
        content,
        media_type=fmt.media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
