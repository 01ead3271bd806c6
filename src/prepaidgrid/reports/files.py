"""A report as the bytes of a file in one of the formats (the CLI's --out, the portal's
downloads)."""

from __future__ import annotations

from prepaidgrid.reports.formats import Format, to_csv, to_json, to_xlsx
from prepaidgrid.reports.model import Report
from prepaidgrid.reports.pdf import to_pdf


def report_file(report: Report, fmt: Format) -> bytes:
    if fmt is Format.XLSX:
        return to_xlsx(report)
    if fmt is Format.PDF:
        return to_pdf(report)
    if fmt is Format.CSV:
        return to_csv(report).encode()
    if fmt is Format.JSON:
        return to_json(report).encode()
    raise ValueError(f"no file format {fmt.value!r}")  # TABLE is printed, not a file
