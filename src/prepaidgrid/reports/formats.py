"""A report as text, CSV, JSON and XLSX (PDF: pdf.py).

Machine formats (CSV, JSON) carry money as integer paise, exactly as the ledger holds it.
Human formats show rupees with Indian grouping: the table and the PDF in lakh and crore
(₹99.40 lakh), XLSX as exact rupee numbers whose display format groups 1,23,45,678.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from enum import StrEnum

from prepaidgrid.domain.units import format_rupees_lakh_crore, group_indian
from prepaidgrid.reports.model import Column, Kind, Report, Row


class Format(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    XLSX = "xlsx"
    PDF = "pdf"

    @property
    def is_binary(self) -> bool:
        return self in (Format.XLSX, Format.PDF)

    @property
    def media_type(self) -> str:
        return {
            Format.TABLE: "text/plain; charset=utf-8",
            Format.CSV: "text/csv; charset=utf-8",
            Format.JSON: "application/json",
            Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format.PDF: "application/pdf",
        }[self]


def human_cell(column: Column, cell: str | int) -> str:
    """What a person reads: ₹ in lakh/crore for money, Indian grouping for counts."""
    if column.kind is Kind.PAISE:
        return format_rupees_lakh_crore(int(cell))
    if column.is_number:
        return group_indian(int(cell))
    return str(cell)


def is_total(row: Row) -> bool:
    return row.level not in ("division", "day")


def to_csv(report: Report) -> str:
    """One header line of column keys (money columns end in _paise), `level` first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["level", *(column.key for column in report.columns)])
    for row in report.rows:
        writer.writerow([row.level, *row.cells])
    return out.getvalue()


def to_json(report: Report) -> str:
    return json.dumps(report.as_dict(), ensure_ascii=False, indent=2)


# Excel's own number formats cannot group in lakh with a locale, but conditions can:
# up to 3 conditional sections give 12,345 / 1,23,456 / 1,23,45,678 (and negatives plain).
_INDIAN_COUNT = "[>=10000000]##\\,##\\,##\\,##0;[>=100000]##\\,##\\,##0;##,##0"
_INDIAN_RUPEES = '[>=10000000]"₹"##\\,##\\,##\\,##0.00;[>=100000]"₹"##\\,##\\,##0.00;"₹"##,##0.00'


def to_xlsx(report: Report) -> bytes:
    """Sheet `report`: title, month, a header row of English titles (Hindi beneath), then
    the rows; money as exact rupees (paise / 100), shown with Indian grouping."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "report"
    sheet.append([report.title_en])
    sheet.append([report.title_hi])
    sheet.append(["Month / महीना", report.month.label])
    sheet.append(["Level", *(column.title_en for column in report.columns)])
    sheet.append(["स्तर", *(column.title_hi for column in report.columns)])
    for line in (1, 4, 5):
        for heading in sheet[line]:
            heading.font = Font(bold=True)
    for row in report.rows:
        values: list[object] = [row.level]
        for column, cell in zip(report.columns, row.cells, strict=True):
            values.append(Decimal(int(cell)) / 100 if column.kind is Kind.PAISE else cell)
        sheet.append(values)
        line = sheet.max_row
        for index, column in enumerate(report.columns, start=2):
            target = sheet.cell(line, index)
            if column.kind is Kind.PAISE:
                target.number_format = _INDIAN_RUPEES
            elif column.is_number:
                target.number_format = _INDIAN_COUNT
            if is_total(row):
                target.font = Font(bold=True)
    for index, column in enumerate(report.columns, start=2):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = max(12, min(40, len(column.title_en) + 4))
    notes = book.create_sheet("notes")
    for note in report.notes:
        notes.append([note])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


HEADER_ROWS = 5  # rows above the data in the XLSX sheet
