"""Daily collections by channel, and the ageing of negative balances, from the database.

Collections: credited payments (status `credited`; reversed ones are not collections) by
the IST day they were received and by channel. Ageing: the connections whose wallet stood
below zero at the report's instant (the month's end, or now if the month is not over),
bucketed by how many IST days the wallet has been continuously below zero, per division.
Both come from the ledger's own rows, never from a cached figure.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, bindparam, func, select, text

from prepaidgrid.adapters.db.tables import Instant, accounts, payments
from prepaidgrid.domain.ledger import PaymentChannel
from prepaidgrid.domain.units import ist_day, ist_midnight, require_utc
from prepaidgrid.reports.divisions import with_totals
from prepaidgrid.reports.model import Column, Kind, Month, Report, Row, total_row
from prepaidgrid.reports.org import DivisionPlace, division_of_account, divisions_in, placed
from prepaidgrid.reports.sql_time import ist_day_text

CHANNELS = tuple(channel.value for channel in PaymentChannel)
CHANNEL_NAMES = {  # (English, Hindi) column titles; a new channel shows its code
    "app": ("App", "ऐप"),
    "website": ("Website", "वेबसाइट"),
    "counter": ("Cash counter", "कैश काउंटर"),
    "bbps": ("BBPS", "बीबीपीएस"),
}
COLLECTION_COLUMNS = (
    Column("day", "Day", "दिन"),
    *(
        Column(
            f"{channel}_paise",
            *CHANNEL_NAMES.get(channel, (channel.upper(), channel.upper())),
            Kind.PAISE,
        )
        for channel in CHANNELS
    ),
    Column("payments", "Payments", "भुगतान", Kind.COUNT),
    Column("total_paise", "Total collected", "कुल संग्रह", Kind.PAISE),
)
# (key, first day of age, last day of age or None): ages are whole IST days below zero
AGE_BUCKETS = (("0_1", 0, 1), ("2_7", 2, 7), ("8_30", 8, 30), ("over_30", 31, None))
AGEING_COLUMNS = (
    Column("discom", "DISCOM", "डिस्कॉम"),
    Column("circle", "Circle", "सर्किल"),
    Column("division", "Division code", "प्रमंडल कोड"),
    Column("division_en", "Division", "प्रमंडल"),
    Column("division_hi", "Division (Hindi)", "प्रमंडल (हिंदी)"),
    Column("accounts_0_1", "0-1 days", "0-1 दिन", Kind.COUNT),
    Column("accounts_2_7", "2-7 days", "2-7 दिन", Kind.COUNT),
    Column("accounts_8_30", "8-30 days", "8-30 दिन", Kind.COUNT),
    Column("accounts_over_30", "Over 30 days", "30 दिन से अधिक", Kind.COUNT),
    Column("negative_accounts", "Accounts below zero", "शून्य से कम खाते", Kind.COUNT),
    Column("owed_paise", "Owed (below zero)", "बकाया (शून्य से नीचे)", Kind.PAISE),
)


def collections_report(db: Connection, month: Month, scope: Collection[str] | None) -> Report:
    """One row per IST day of the month, a column per channel, and the month's total."""
    day = ist_day_text(payments.c.received_at, db.dialect.name).label("day")
    query = (
        select(day, payments.c.channel, func.count(), func.sum(payments.c.amount_paise))
        .select_from(placed.join(payments, payments.c.account_id == accounts.c.account_id))
        .where(
            payments.c.status == "credited",
            payments.c.received_at >= month.starts_at,
            payments.c.received_at < month.ends_at,
        )
        .group_by(day, payments.c.channel)
    )
    if scope is not None:
        query = query.where(division_of_account.in_(sorted(scope)))
    found: dict[tuple[str, str], tuple[int, int]] = {}
    for label, channel, count, paise in db.execute(query):
        found[(str(label), str(channel))] = (int(count), int(paise or 0))
    rows: list[Row] = []
    for the_day in month.days():
        label = the_day.isoformat()
        by_channel = [found.get((label, channel), (0, 0)) for channel in CHANNELS]
        count = sum(n for n, _ in by_channel)
        paise = sum(p for _, p in by_channel)
        rows.append(Row("day", (label, *(p for _, p in by_channel), count, paise)))
    rows.append(total_row(COLLECTION_COLUMNS, rows, "total", {"day": "Total"}))
    return Report(
        "collections",
        "Daily collections by channel",
        "चैनलवार दैनिक संग्रह",
        month,
        COLLECTION_COLUMNS,
        tuple(rows),
        ("Credited payments by the IST day they were received; reversed payments excluded.",),
    )


def ageing_as_of(month: Month, now: datetime) -> datetime:
    """The month's end, or `now` while the month is still running."""
    return min(month.ends_at, require_utc(now))


# The wallets below zero at :as_of (one grouped pass); for those only, running balances
# (ordered by journal time, then posting id), the last moment each stood at or above zero,
# and from then the first posting below zero.
_AGEING_SQL = """
WITH later AS (
    -- what moved each wallet after the instant: its balance then is today's minus this,
    -- so only the postings after it are read (none for the running month)
    SELECT p.ledger_account AS code, SUM(p.amount_paise) AS moved
    FROM journals j
    JOIN postings p ON p.journal_id = j.id
    WHERE j.posted_at >= :as_of
    GROUP BY p.ledger_account
), below AS (
    SELECT la.code AS code, la.account_id AS account_id
    FROM ledger_accounts la
    LEFT JOIN later l ON l.code = la.code
    WHERE la.kind = 'wallet' AND la.balance_paise - COALESCE(l.moved, 0) < 0
), wallet AS (
    -- the history of the wallets below zero only, found by the postings' account index
    SELECT b.account_id AS account_id, p.id AS posting_id, p.amount_paise AS amount_paise,
           j.posted_at AS posted_at
    FROM below b
    JOIN postings p ON p.ledger_account = b.code
    JOIN journals j ON j.id = p.journal_id
    WHERE j.posted_at < :as_of
), wallet_postings AS (
    SELECT w.account_id, w.amount_paise, w.posted_at,
           ROW_NUMBER() OVER (PARTITION BY w.account_id ORDER BY w.posted_at, w.posting_id) AS seq
    FROM wallet w
), running AS (
    SELECT account_id, posted_at, seq,
           SUM(amount_paise) OVER (PARTITION BY account_id ORDER BY seq
                                   ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS balance
    FROM wallet_postings
), summary AS (
    SELECT account_id,
           MAX(seq) AS last_seq,
           COALESCE(MAX(CASE WHEN balance >= 0 THEN seq END), 0) AS last_ok_seq
    FROM running GROUP BY account_id
), negative AS (
    SELECT r.account_id AS account_id,
           MAX(CASE WHEN r.seq = s.last_seq THEN r.balance END) AS balance,
           MIN(CASE WHEN r.seq > s.last_ok_seq THEN r.posted_at END) AS since
    FROM running r JOIN summary s ON s.account_id = r.account_id
    WHERE s.last_ok_seq < s.last_seq
    GROUP BY r.account_id
)
SELECT sub.parent_code AS division,
       SUM(CASE WHEN n.since >= :from_0 THEN 1 ELSE 0 END) AS accounts_0_1,
       SUM(CASE WHEN n.since >= :from_2 AND n.since < :from_0 THEN 1 ELSE 0 END) AS accounts_2_7,
       SUM(CASE WHEN n.since >= :from_8 AND n.since < :from_2 THEN 1 ELSE 0 END) AS accounts_8_30,
       SUM(CASE WHEN n.since < :from_8 THEN 1 ELSE 0 END) AS accounts_over_30,
       COUNT(*) AS negative_accounts,
       SUM(n.balance) AS owed_paise
FROM negative n
JOIN accounts a ON a.account_id = n.account_id
JOIN org_units sub ON sub.code = a.subdivision_code
GROUP BY sub.parent_code
"""


def ageing_report(
    db: Connection, month: Month, scope: Collection[str] | None, now: datetime
) -> Report:
    """Per division: connections below zero by days below zero, and what they owe."""
    as_of = ageing_as_of(month, now)
    reference_day = ist_day(as_of - timedelta(microseconds=1))

    def since(age_days: int) -> datetime:  # below zero since this instant: age <= age_days
        return ist_midnight(reference_day - timedelta(days=age_days))

    query = text(_AGEING_SQL).bindparams(
        bindparam("as_of", as_of, type_=Instant),
        bindparam("from_0", since(1), type_=Instant),
        bindparam("from_2", since(7), type_=Instant),
        bindparam("from_8", since(30), type_=Instant),
    )
    found = {str(row.division): row for row in db.execute(query)}
    places = divisions_in(db, scope)

    def cells(place: DivisionPlace) -> tuple[int, ...]:
        row = found.get(place.code)
        if row is None:
            return (0, 0, 0, 0, 0, 0)
        return (
            int(row.accounts_0_1),
            int(row.accounts_2_7),
            int(row.accounts_8_30),
            int(row.accounts_over_30),
            int(row.negative_accounts),
            -int(row.owed_paise or 0),
        )

    return Report(
        "ageing",
        f"Negative balances by age, as of {_day_text(reference_day)}",
        f"शून्य से कम बैलेंस की अवधि, {_day_text(reference_day)} तक",
        month,
        AGEING_COLUMNS,
        tuple(with_totals(places, AGEING_COLUMNS, cells)),
        (
            f"Wallets below zero at {as_of.isoformat()}, by whole IST days since the balance "
            "last went below zero; owed is what would bring them back to zero.",
        ),
    )


def _day_text(day: date) -> str:
    return day.strftime("%d-%m-%Y")
