"""A report as a PDF (fpdf2): title in English and Hindi, the table, the chart, the notes.

Hindi is shaped by HarfBuzz (`set_text_shaping`, through uharfbuzz) with Debian's Noto
fonts (fonts-noto-core), Devanagari as the fallback of Noto Sans. Without those fonts the
PDF is still made, in English only with the core Helvetica font, and "Rs" for "₹".
"""

from __future__ import annotations

import io
from pathlib import Path

from prepaidgrid.reports.charts import CHART_ASPECT, chart_png
from prepaidgrid.reports.formats import human_cell, is_total
from prepaidgrid.reports.model import Column, Report

NOTO = Path("/usr/share/fonts/truetype/noto")
FONTS = {
    ("latin", ""): NOTO / "NotoSans-Regular.ttf",
    ("latin", "B"): NOTO / "NotoSans-Bold.ttf",
    ("deva", ""): NOTO / "NotoSansDevanagari-Regular.ttf",
    ("deva", "B"): NOTO / "NotoSansDevanagari-Bold.ttf",
}
HIDDEN = frozenset({"discom", "circle", "division"})  # codes: the names say it in print


def has_unicode_fonts() -> bool:
    return all(path.is_file() for path in FONTS.values())


def to_pdf(report: Report, *, unicode_fonts: bool | None = None) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    unicode = has_unicode_fonts() if unicode_fonts is None else unicode_fonts
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.set_title(report.title_en)
    pdf.set_creator("prepaidgrid")
    if unicode:
        for (family, style), path in FONTS.items():
            pdf.add_font(family, style=style, fname=str(path))
        pdf.set_fallback_fonts(["deva"])
        pdf.set_text_shaping(True)
        family = "latin"
    else:
        family = "helvetica"
    columns = [
        c for c in report.columns if c.key not in HIDDEN and (unicode or not c.key.endswith("_hi"))
    ]
    pdf.add_page()
    pdf.set_font(family, "B", 14)
    pdf.cell(h=9, text=_text(report.title_en, unicode), new_x="LMARGIN", new_y="NEXT")
    if unicode:
        pdf.set_font(family, "", 12)
        pdf.cell(h=8, text=report.title_hi, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 10)
    pdf.cell(h=6, text=f"Month: {report.month.label}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(family, "", 8 if len(columns) > 8 else 9)
    widths = [3 if column.is_number else 4 for column in columns]
    with pdf.table(
        col_widths=widths,
        text_align=["RIGHT" if column.is_number else "LEFT" for column in columns],
        headings_style=FontFace(emphasis="BOLD", fill_color=(225, 232, 242)),
        line_height=pdf.font_size * 1.6,
    ) as table:
        heading = table.row()
        for column in columns:
            heading.cell(_heading(column, unicode))
        for row in report.rows:
            line = table.row(style=FontFace(emphasis="BOLD") if is_total(row) else None)
            for column in columns:
                cell = row.cells[report.columns.index(column)]
                line.cell(_text(human_cell(column, cell), unicode))
    png = chart_png(report)
    if png is not None:
        width = pdf.epw * 0.75
        height = width * CHART_ASPECT
        if pdf.get_y() + 4 + height > pdf.h - pdf.b_margin:
            pdf.add_page()
        pdf.ln(4)
        pdf.image(io.BytesIO(png), w=width, h=height)
    pdf.set_font(family, "", 8)
    for note in report.notes:
        pdf.multi_cell(0, text=_text(note, unicode), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _heading(column: Column, unicode: bool) -> str:
    if not unicode:
        return column.title_en
    return f"{column.title_en}\n{column.title_hi}"


def _text(text: str, unicode: bool) -> str:
    if unicode:
        return text
    return text.replace("₹", "Rs ").encode("latin-1", "replace").decode("latin-1")
