"""Each report's chart: which rows and columns it plots (shared with the portal's
interactive chart), and a PNG of it drawn by matplotlib's Agg backend for the PDF."""

from __future__ import annotations

import io
from dataclasses import dataclass

from prepaidgrid.reports.model import Kind, Report

PAISE_PER_LAKH = 100 * 100_000
CHART_INCHES = (10.0, 4.2)
CHART_ASPECT = CHART_INCHES[1] / CHART_INCHES[0]


@dataclass(frozen=True, slots=True)
class ChartSpec:
    title: str
    row_level: str  # the rows plotted: "division", "day"
    label_key: str  # the x (or y, for horizontal bars) labels
    series: tuple[str, ...]  # stacked columns
    horizontal: bool


SPECS = {
    "divisions": ChartSpec(
        "Revenue from recharges after a cut",
        "division",
        "division_en",
        ("revenue_after_cut_paise",),
        horizontal=True,
    ),
    "collections": ChartSpec(
        "Daily collections by channel",
        "day",
        "day",
        ("app_paise", "website_paise", "counter_paise", "bbps_paise"),
        horizontal=False,
    ),
    "ageing": ChartSpec(
        "Connections below zero, by days below zero",
        "division",
        "division_en",
        ("accounts_0_1", "accounts_2_7", "accounts_8_30", "accounts_over_30"),
        horizontal=True,
    ),
    "rollout": ChartSpec(
        "Smart meters in service at month end",
        "total",
        "month",
        ("in_service",),
        horizontal=False,
    ),
}


@dataclass(frozen=True, slots=True)
class ChartData:
    title: str
    labels: list[str]
    series: dict[str, list[float]]  # column title -> values (money in ₹ lakh)
    horizontal: bool


def chart_data(report: Report) -> ChartData | None:
    spec = SPECS.get(report.name)
    if spec is None:
        return None
    rows = report.rows_at(spec.row_level)
    labels = [str(row.value(report.columns, spec.label_key)) for row in rows]
    columns = [report.column(key) for key in spec.series if key in report.keys]
    is_money = any(column.kind is Kind.PAISE for column in columns)
    largest = max(
        (int(row.value(report.columns, c.key)) for row in rows for c in columns), default=0
    )
    in_lakh = largest >= PAISE_PER_LAKH  # small sums read better in rupees than 0.04 lakh
    scale = (PAISE_PER_LAKH if in_lakh else 100) if is_money else 1
    series = {
        column.title_en: [int(row.value(report.columns, column.key)) / scale for row in rows]
        for column in columns
    }
    title = spec.title + ((" (₹ lakh)" if in_lakh else " (₹)") if is_money else "")
    return ChartData(title, labels, series, spec.horizontal)


def chart_png(report: Report) -> bytes | None:
    """The report's chart as a PNG, or None if it has none or nothing to plot."""
    data = chart_data(report)
    if data is None or not data.labels:
        return None
    from matplotlib.figure import Figure  # Figure + Agg: no pyplot state, thread-safe

    figure = Figure(figsize=CHART_INCHES, dpi=110)
    axes = figure.subplots()
    positions = list(range(len(data.labels)))
    bottom = [0.0] * len(data.labels)
    for name, values in data.series.items():
        if data.horizontal:
            axes.barh(positions, values, left=bottom, label=name)
        else:
            axes.bar(positions, values, bottom=bottom, label=name)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    if data.horizontal:
        axes.set_yticks(positions, data.labels, fontsize=8)
        axes.invert_yaxis()
    else:
        short = [label[-2:] if report.name == "collections" else label for label in data.labels]
        axes.set_xticks(positions, short, fontsize=8)
    if len(data.series) > 1:
        axes.legend(fontsize=8)
    axes.set_title(data.title.replace("₹", "Rs"), fontsize=10)  # DejaVu has no ₹ glyph
    axes.grid(axis="x" if data.horizontal else "y", alpha=0.3)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
