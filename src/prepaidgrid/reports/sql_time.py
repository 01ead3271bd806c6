"""IST calendar parts of a stored instant, in SQL, for SQLite and PostgreSQL alike.

SQLite stores an instant as naive UTC text ('2021-09-01 04:30:00.000000'); PostgreSQL as
timestamptz. Both expressions give the Asia/Kolkata day or month as 'YYYY-MM-DD' /
'YYYY-MM' text (India has kept +05:30 without daylight saving since 1945).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, String, func, literal_column, type_coerce


def ist_day_text(column: Any, dialect: str) -> ColumnElement[str]:
    if dialect == "sqlite":
        return type_coerce(func.strftime("%Y-%m-%d", column, "+330 minutes"), String)
    local = column.op("AT TIME ZONE")(literal_column("'Asia/Kolkata'"))
    return type_coerce(func.to_char(local, "YYYY-MM-DD"), String)


def ist_month_text(column: Any, dialect: str) -> ColumnElement[str]:
    if dialect == "sqlite":
        return type_coerce(func.strftime("%Y-%m", column, "+330 minutes"), String)
    local = column.op("AT TIME ZONE")(literal_column("'Asia/Kolkata'"))
    return type_coerce(func.to_char(local, "YYYY-MM"), String)
