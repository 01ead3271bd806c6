"""Report figures for people and machines: lakh/crore, Indian grouping, months, and totals
that are always the sum of their rows, in every format."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.domain.units import format_rupees_lakh_crore
from prepaidgrid.reports.divisions import DIVISION_COLUMNS, with_totals
from prepaidgrid.reports.formats import HEADER_ROWS, human_cell, to_csv, to_json, to_xlsx
from prepaidgrid.reports.model import Column, Kind, Month, Report, Row
from prepaidgrid.reports.org import DivisionPlace

MONTH = Month(date(2021, 9, 1))


@pytest.mark.parametrize(
    ("paise", "text"),
    [
        (0, "₹0.00"),
        (9_999_950, "₹99,999.50"),  # under a lakh: exact, Indian grouping
        (10_000_000, "₹1.00 lakh"),
        (994_000_000, "₹99.40 lakh"),  # Nutan Rajdhani's ₹99,40,000
        (999_949_999, "₹99.99 lakh"),
        (999_950_000, "₹1.00 crore"),  # 99.995 lakh rounds up: it is a crore, not "100 lakh"
        (1_660_000_000, "₹1.66 crore"),  # Dakbungalow's ₹1,66,00,000
        (123_456_789_000_000, "₹1,23,456.79 crore"),
        (-994_000_000, "-₹99.40 lakh"),
    ],
)
def test_rupees_read_in_lakh_and_crore(paise: int, text: str) -> None:
    assert format_rupees_lakh_crore(paise) == text


@given(st.integers(min_value=10_000_000, max_value=10**16))
def test_a_lakh_crore_figure_is_within_half_a_hundredth_of_the_exact_amount(paise: int) -> None:
    text = format_rupees_lakh_crore(paise)
    number, unit = text.removeprefix("₹").split(" ")
    per_unit = {"lakh": 10_000_000, "crore": 1_000_000_000}[unit]

    shown = Decimal(number.replace(",", "")) * per_unit

    assert abs(shown - paise) <= per_unit / 200
    assert unit == "lakh" or paise >= 999_950_000


def test_a_count_is_grouped_the_indian_way() -> None:
    column = Column("meters", "Meters", "मीटर", Kind.COUNT)

    assert human_cell(column, 12_345_678) == "1,23,45,678"


@pytest.mark.parametrize("text", ["2021-9", "21-09", "2021/09", "2021-13", "2021-00", "", "sept"])
def test_a_bad_month_is_refused_in_both_languages(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"महीना|महीने|month") as refused:
        Month.parse(text)

    assert "2021-09" in str(refused.value) or "no such month" in str(refused.value)


def test_a_month_spans_its_ist_days() -> None:
    month = Month.parse("2021-09")

    assert (month.label, len(month.days()), month.last_day) == ("2021-09", 30, date(2021, 9, 30))
    assert month.starts_at.isoformat() == "2021-08-31T18:30:00+00:00"
    assert month.ends_at.isoformat() == "2021-09-30T18:30:00+00:00"
    assert Month.parse("2021-12").next == Month(date(2022, 1, 1))


figures = st.tuples(*(st.integers(min_value=0, max_value=10**12) for _ in range(5)))
places = st.lists(
    st.tuples(st.sampled_from(["SBPDCL", "NBPDCL"]), st.sampled_from(["C1", "C2", "C3"]), figures),
    min_size=1,
    max_size=20,
)


def _report(rows: list[tuple[str, str, tuple[int, ...]]]) -> Report:
    ordered = sorted(
        (
            (
                DivisionPlace(
                    f"D{n:02d}", f"Division {n}", f"प्रमंडल {n}", circle, circle, discom, discom
                ),
                cells,
            )
            for n, (discom, circle, cells) in enumerate(rows)
        ),
        key=lambda pair: (pair[0].discom_code, pair[0].circle_code, pair[0].code),
    )
    lookup = {place.code: cells for place, cells in ordered}
    table = with_totals([p for p, _ in ordered], DIVISION_COLUMNS, lambda p: lookup[p.code])
    return Report("divisions", "t", "t", MONTH, DIVISION_COLUMNS, tuple(table))


@given(places)
def test_every_total_is_the_sum_of_its_divisions(
    rows: list[tuple[str, str, tuple[int, ...]]],
) -> None:
    report = _report(rows)
    numbers = [c.key for c in DIVISION_COLUMNS if c.is_number]

    def summed(level_rows: list[Row], key: str) -> int:
        return sum(int(r.value(DIVISION_COLUMNS, key)) for r in level_rows)

    divisions = report.rows_at("division")
    for discom in {row.value(DIVISION_COLUMNS, "discom") for row in divisions}:
        total = next(
            r for r in report.rows_at("discom") if r.value(DIVISION_COLUMNS, "discom") == discom
        )
        own = [r for r in divisions if r.value(DIVISION_COLUMNS, "discom") == discom]
        for key in numbers:
            assert total.value(DIVISION_COLUMNS, key) == summed(own, key)
    for total in report.rows_at("circle"):
        place = (total.value(DIVISION_COLUMNS, "discom"), total.value(DIVISION_COLUMNS, "circle"))
        own = [
            r
            for r in divisions
            if (r.value(DIVISION_COLUMNS, "discom"), r.value(DIVISION_COLUMNS, "circle")) == place
        ]
        for key in numbers:
            assert total.value(DIVISION_COLUMNS, key) == summed(own, key)
    circles = {(discom, circle) for discom, circle, _ in rows}
    assert len(report.rows_at("circle")) == len(circles)
    assert len(divisions) == len(rows)


@given(places)
def test_csv_json_and_xlsx_carry_the_same_paise(
    rows: list[tuple[str, str, tuple[int, ...]]],
) -> None:
    report = _report(rows)

    from_csv = list(csv.DictReader(io.StringIO(to_csv(report))))
    from_json = json.loads(to_json(report))["rows"]
    sheet = load_workbook(io.BytesIO(to_xlsx(report)))["report"]
    money_column = [c.key for c in report.columns].index("revenue_after_cut_paise") + 2
    from_xlsx = [
        sheet.cell(HEADER_ROWS + n, money_column).value for n in range(1, len(report.rows) + 1)
    ]

    expected = [int(row.value(report.columns, "revenue_after_cut_paise")) for row in report.rows]
    assert [int(r["revenue_after_cut_paise"]) for r in from_csv] == expected
    assert [r["revenue_after_cut_paise"] for r in from_json] == expected
    assert [round(Decimal(str(v)) * 100) for v in from_xlsx] == expected
    assert [r["level"] for r in from_csv] == [row.level for row in report.rows]
