"""A report as a table: typed columns, rows at levels (division, circle, DISCOM), totals.

Every format (Rich table, CSV, JSON, XLSX, PDF, the portal) renders this one shape, so a
figure cannot differ between two formats. Money stays integer paise here; only a human
format turns it into rupees.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.domain.units import ist_midnight


class Kind(StrEnum):
    TEXT = "text"
    COUNT = "count"  # summed in totals
    PAISE = "paise"  # summed in totals; rupees in human formats
    LEVEL = "level"  # not summed, e.g. meters in service at a month's end in a total row


SUMMED = (Kind.COUNT, Kind.PAISE)


@dataclass(frozen=True, slots=True)
class Column:
    key: str  # the CSV header and JSON key
    title_en: str
    title_hi: str
    kind: Kind = Kind.TEXT

    @property
    def is_number(self) -> bool:
        return self.kind is not Kind.TEXT


@dataclass(frozen=True, slots=True)
class Row:
    level: str  # "division", "circle", "discom", "day", "month", "total"...
    cells: tuple[str | int, ...]  # one per column, in the columns' order

    def value(self, columns: Sequence[Column], key: str) -> str | int:
        for column, cell in zip(columns, self.cells, strict=True):
            if column.key == key:
                return cell
        raise KeyError(key)


@dataclass(frozen=True, slots=True)
class Report:
    name: str  # divisions, collections, ageing, rollout
    title_en: str
    title_hi: str
    month: Month
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = field(default=())  # definitions, printed under the table

    def column(self, key: str) -> Column:
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(key)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(column.key for column in self.columns)

    def rows_at(self, level: str) -> list[Row]:
        return [row for row in self.rows if row.level == level]

    def as_dict(self) -> dict[str, object]:
        """For JSON: money as integer paise, every row a flat object."""
        return {
            "report": self.name,
            "title": self.title_en,
            "month": self.month.label,
            "columns": [
                {"key": c.key, "title_en": c.title_en, "title_hi": c.title_hi, "kind": c.kind}
                for c in self.columns
            ],
            "rows": [
                {"level": row.level, **dict(zip(self.keys, row.cells, strict=True))}
                for row in self.rows
            ],
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True, order=True)
class Month:
    first_day: date

    @classmethod
    def parse(cls, text: str) -> Month:
        """'2021-09' -> September 2021; anything else is refused with an example."""
        value = text.strip()
        year, dash, month = value.partition("-")
        if not (dash and len(year) == 4 and year.isdigit() and len(month) == 2 and month.isdigit()):
            raise InvalidInput(
                f"month must be YYYY-MM, e.g. 2021-09, got {text!r} / "
                f"महीना YYYY-MM रूप में लिखें, जैसे 2021-09"
            )
        if not 1 <= int(month) <= 12 or int(year) < 1900:
            raise InvalidInput(f"no such month: {text!r} / ऐसा कोई महीना नहीं: {text!r}")
        return cls(date(int(year), int(month), 1))

    @property
    def label(self) -> str:
        return self.first_day.strftime("%Y-%m")

    @property
    def next(self) -> Month:
        return Month((self.first_day + timedelta(days=32)).replace(day=1))

    @property
    def last_day(self) -> date:
        return self.next.first_day - timedelta(days=1)

    @property
    def starts_at(self) -> datetime:
        return ist_midnight(self.first_day)

    @property
    def ends_at(self) -> datetime:
        """Exclusive: the first instant of the next month, IST."""
        return ist_midnight(self.next.first_day)

    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=n) for n in range(self.last_day.day)]


def total_row(
    columns: Sequence[Column], rows: Iterable[Row], level: str, labels: dict[str, str]
) -> Row:
    """The sum of `rows` in every summed column; text columns from `labels` (else empty);
    LEVEL columns summed as well (a total of levels at one instant is their sum)."""
    rows = list(rows)
    cells: list[str | int] = []
    for index, column in enumerate(columns):
        if column.is_number:
            cells.append(sum(int(row.cells[index]) for row in rows))
        else:
            cells.append(labels.get(column.key, ""))
    return Row(level, tuple(cells))
