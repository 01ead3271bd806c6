"""The division reports on SQLite and PostgreSQL: a simulated September 2021 in Patna
reported and reconciled to the ledger's postings, every format read back, the CLI, and the
officers' page scoped to a division; then the definitions on hand-made accounts."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.tables import (
    accounts,
    journals,
    org_units,
    postings,
    supply_changes,
)
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.adapters.passwords import Argon2Hasher
from prepaidgrid.bootstrap import bootstrap
from prepaidgrid.config import Settings
from prepaidgrid.domain.access import Role
from prepaidgrid.domain.ledger import PaymentChannel, PaymentRef
from prepaidgrid.entrypoints.cli import app as cli
from prepaidgrid.entrypoints.simulation import Simulation, SimulationConfig
from prepaidgrid.reports.catalogue import NothingToReport, read_report
from prepaidgrid.reports.formats import HEADER_ROWS, to_csv, to_json, to_xlsx
from prepaidgrid.reports.model import Month, Report
from prepaidgrid.reports.pdf import to_pdf
from prepaidgrid.services.access import AddOfficer, add_officer
from prepaidgrid.services.recharges import (
    ApplyRecharge,
    ReverseRecharge,
    apply_recharge,
    reverse_recharge,
)
from prepaidgrid.simulator.scenario import meters_at_scale, read_divisions
from tests.conftest import database_url, fresh_postgres, fresh_sqlite, ist
from tests.integration.accounts_support import (
    POLICIES,
    account_below_zero,
    cut_off_account,
    new_account,
)
from tests.integration.api_support import Platform
from tests.integration.mosquitto import Mosquitto
from tests.integration.portal_support import log_in_officer, portal_client

pytestmark = pytest.mark.integration
SCALE, DAYS = 0.001, 5  # late payers run dry on 2 Sep, are cut on 3 Sep and pay after
SEPTEMBER = Month(date(2021, 9, 1))
CUT = ("disconnect_sent", "disconnected")
HASHER = Argon2Hasher(time_cost=1, memory_cost_kib=8_192)
PASSWORD = "a long passphrase"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def simulated(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """Patna's September 2021 at SCALE for DAYS days, once per database for the module."""
    if request.param == "sqlite":
        engines = fresh_sqlite(tmp_path_factory.mktemp("sqlite"))
    else:
        engines = fresh_postgres()
    engine = next(engines)
    broker = Mosquitto(tmp_path_factory.mktemp("mosquitto"))
    broker.start()
    # blocks uploaded every 8 hours: the same month in fewer messages (what is tested here
    # is the report, not the ingest)
    config = SimulationConfig(scale=SCALE, days=DAYS, mqtt_url=broker.url, upload_hours=8)
    simulation = Simulation(bootstrap(Settings(database_url=database_url(engine))), config)
    try:
        simulation.setup()
        assert simulation.run().ledger_ok
    finally:
        simulation.app.engine.dispose()
        broker.stop()
    yield engine
    next(engines, None)  # drops the schema / disposes the engine


def september(engine: Engine, scope: frozenset[str] | None = None) -> Report:
    return read_report(engine, "divisions", SEPTEMBER, scope, ist(2021, 10, 5))


def by_division(report: Report, key: str) -> dict[str, int]:
    return {
        str(row.value(report.columns, "division")): int(row.value(report.columns, key))
        for row in report.rows_at("division")
    }


def revenue_from_postings(engine: Engine) -> tuple[dict[str, int], int]:
    """Independently of the report's SQL: walk the recharge journals' clearing postings and
    each connection's supply history; count a recharge while the connection stood cut."""
    with engine.connect() as db:
        journal_rows = db.execute(
            select(
                journals.c.id,
                journals.c.idempotency_key,
                journals.c.account_id,
                journals.c.posted_at,
            ).where(journals.c.kind.in_(("recharge", "reversal")))
        ).all()
        amounts: dict[object, int] = defaultdict(int)
        for journal_id, ledger_account, amount in db.execute(
            select(postings.c.journal_id, postings.c.ledger_account, postings.c.amount_paise)
        ):
            if ledger_account.startswith("clearing:"):
                amounts[journal_id] -= int(amount)
        history: dict[str, list[tuple[datetime, int, str]]] = defaultdict(list)
        for account_id, at, change_id, to_state in db.execute(
            select(
                supply_changes.c.account_id,
                supply_changes.c.at,
                supply_changes.c.id,
                supply_changes.c.to_state,
            )
        ):
            history[account_id].append((at, change_id, to_state))
        subdivision_of = dict(
            db.execute(select(accounts.c.account_id, accounts.c.subdivision_code)).all()
        )
        parent_of = dict(db.execute(select(org_units.c.code, org_units.c.parent_code)).all())
    reversed_keys = {
        key.removeprefix("reversal:")
        for _, key, _, _ in journal_rows
        if key.startswith("reversal:")
    }
    revenue: dict[str, int] = defaultdict(int)
    count = 0
    for journal_id, key, account_id, posted_at in journal_rows:
        if not key.startswith("recharge:") or key.removeprefix("recharge:") in reversed_keys:
            continue
        if not SEPTEMBER.starts_at <= posted_at < SEPTEMBER.ends_at:
            continue
        before = sorted(
            (at, change_id, state)
            for at, change_id, state in history[account_id]
            if at < posted_at or (at == posted_at and state in CUT)
        )
        if before and before[-1][2] in CUT:
            revenue[parent_of[subdivision_of[account_id]]] += amounts[journal_id]
            count += 1
    return dict(revenue), count


def test_the_division_report_lists_every_division_with_the_scaled_meters(simulated: Engine) -> None:
    report = september(simulated)

    source = {d.code: meters_at_scale(d.smart_meters_installed, SCALE) for d in read_divisions()}
    assert len(report.rows_at("division")) == 13
    assert by_division(report, "smart_meters_installed") == source
    discom = report.rows_at("discom")
    assert len(discom) == 1
    assert discom[0].value(report.columns, "smart_meters_installed") == sum(source.values())


def test_revenue_after_cuts_reconciles_to_the_ledger_postings_to_the_paisa(
    simulated: Engine,
) -> None:
    report = september(simulated)

    expected, recharges = revenue_from_postings(simulated)

    assert recharges > 0, "the simulated month has recharges after cuts"
    reported = {
        code: paise
        for code, paise in by_division(report, "revenue_after_cut_paise").items()
        if paise
    }
    assert reported == expected
    assert sum(by_division(report, "recharges_after_cut").values()) == recharges
    total = report.rows_at("discom")[0].value(report.columns, "revenue_after_cut_paise")
    assert total == sum(expected.values())


def test_connections_cut_are_the_distinct_confirmed_cuts_of_the_month(simulated: Engine) -> None:
    report = september(simulated)
    with simulated.connect() as db:
        confirmed = (
            db.execute(
                select(supply_changes.c.account_id)
                .where(supply_changes.c.to_state == "disconnected")
                .distinct()
            )
            .scalars()
            .all()
        )

    cut = by_division(report, "connections_cut")

    assert confirmed, "the simulated month has cuts"
    assert sum(cut.values()) == len(confirmed)
    assert all(code.startswith("PTN-") for code in confirmed)
    for code, count in cut.items():
        assert count == sum(1 for account in confirmed if account.startswith(f"PTN-{code}-"))


def test_every_format_reads_back_with_every_division(simulated: Engine) -> None:
    report = september(simulated)
    names = [str(row.value(report.columns, "division_en")) for row in report.rows_at("division")]
    revenue = [int(row.value(report.columns, "revenue_after_cut_paise")) for row in report.rows]

    from_csv = list(csv.DictReader(io.StringIO(to_csv(report))))
    from_json = json.loads(to_json(report))
    sheet = load_workbook(io.BytesIO(to_xlsx(report)))["report"]
    pdf_text = "\n".join(
        page.extract_text() for page in PdfReader(io.BytesIO(to_pdf(report))).pages
    )

    assert [int(row["revenue_after_cut_paise"]) for row in from_csv] == revenue
    assert [row["revenue_after_cut_paise"] for row in from_json["rows"]] == revenue
    assert from_json["month"] == "2021-09"
    money = [c.key for c in report.columns].index("revenue_after_cut_paise") + 2
    xlsx = [sheet.cell(HEADER_ROWS + n, money).value for n in range(1, len(report.rows) + 1)]
    assert [round(Decimal(str(value)) * 100) for value in xlsx] == revenue
    for name in names:
        assert name in pdf_text
    assert "Month: 2021-09" in pdf_text


def test_the_other_reports_add_up(simulated: Engine) -> None:
    collections = read_report(simulated, "collections", SEPTEMBER, None, ist(2021, 10, 5))
    ageing = read_report(simulated, "ageing", SEPTEMBER, None, ist(2021, 10, 5))
    rollout = read_report(simulated, "rollout", SEPTEMBER, None, ist(2021, 10, 5))
    with simulated.connect() as db:
        recharges = [
            -int(amount)
            for key, amount in db.execute(
                select(journals.c.idempotency_key, postings.c.amount_paise)
                .join(postings, postings.c.journal_id == journals.c.id)
                .where(journals.c.kind == "recharge", postings.c.ledger_account.like("clearing:%"))
            )
            if key
        ]

    days = collections.rows_at("day")
    total = collections.rows_at("total")[0]
    assert len(days) == 30
    assert total.value(collections.columns, "total_paise") == sum(recharges) > 0
    assert total.value(collections.columns, "payments") == len(recharges)
    below = ageing.rows_at("discom")[0]
    assert below.value(ageing.columns, "negative_accounts") == sum(
        int(below.value(ageing.columns, key))
        for key in ("accounts_0_1", "accounts_2_7", "accounts_8_30", "accounts_over_30")
    )
    last = rollout.rows_at("total")[-1]
    assert last.value(rollout.columns, "month") == "2021-09"
    assert last.value(rollout.columns, "in_service") == sum(
        meters_at_scale(d.smart_meters_installed, SCALE) for d in read_divisions()
    )


def test_the_cli_writes_each_format(simulated: Engine, tmp_path: Path) -> None:
    url = database_url(simulated)
    runner = CliRunner()

    table = runner.invoke(cli, ["report", "divisions", "--month", "2021-09", "--db", url])
    as_csv = runner.invoke(
        cli, ["report", "divisions", "--month", "2021-09", "--format", "csv", "--db", url]
    )
    pdf = tmp_path / "divisions.pdf"
    written = runner.invoke(
        cli,
        [
            "report",
            "divisions",
            "--month",
            "2021-09",
            "--format",
            "pdf",
            "--out",
            str(pdf),
            "--db",
            url,
        ],
    )
    no_out = runner.invoke(
        cli, ["report", "rollout", "--month", "2021-09", "--format", "xlsx", "--db", url]
    )
    bad = runner.invoke(cli, ["report", "ageing", "--month", "2021-9", "--db", url])

    assert table.exit_code == 0, table.output
    assert "Kankarbagh-2" in table.output
    assert "SBPDCL total" in table.output
    assert as_csv.exit_code == 0, as_csv.output
    assert (
        len([r for r in csv.DictReader(io.StringIO(as_csv.stdout)) if r["level"] == "division"])
        == 13
    )
    assert written.exit_code == 0, written.output
    assert "Patna City" in PdfReader(pdf).pages[0].extract_text()
    assert no_out.exit_code == 2
    assert "--out" in no_out.output
    assert bad.exit_code == 2
    assert "YYYY-MM" in bad.output


def test_a_division_officer_sees_only_their_divisions_rows(simulated: Engine) -> None:
    platform = Platform(simulated, SettableClock(ist(2021, 10, 5, 11)))
    for officer_id, role, divisions in (
        ("kkb.officer", Role.DIVISION_OFFICER, ["KKB"]),
        ("reports.admin", Role.ADMIN, []),
        ("a.cashier", Role.CASHIER, ["KKB"]),
    ):
        add_officer(
            AddOfficer(officer_id, officer_id.title(), role, divisions, PASSWORD),
            SqlUnitOfWork(simulated),
            platform.clock,
            HASHER,
        )
    officer, admin = portal_client(platform), portal_client(platform)
    assert log_in_officer(officer, "kkb.officer", PASSWORD).status_code == 200
    assert log_in_officer(admin, "reports.admin", PASSWORD).status_code == 200
    cashier = portal_client(platform)
    assert log_in_officer(cashier, "a.cashier", PASSWORD).status_code == 200

    page = officer.get("/portal/officer/reports/?month=2021-09&lang=en")
    downloaded = officer.get("/portal/officer/reports/divisions.csv?month=2021-09")
    everything = admin.get("/portal/officer/reports/?month=2021-09&lang=en")
    bad = officer.get("/portal/officer/reports/?month=2021-13&lang=hi")
    refused = cashier.get("/portal/officer/reports/divisions.csv?month=2021-09&lang=en")

    assert page.status_code == 200, page.text
    assert "Kankarbagh" in page.text
    assert "Patna City" not in page.text
    assert 'data-series="' in page.text
    assert "divisions.xlsx?month=2021-09" in page.text
    rows = [r for r in csv.DictReader(io.StringIO(downloaded.text)) if r["level"] == "division"]
    assert [r["division"] for r in rows] == ["KKB"]
    assert downloaded.headers["content-type"].startswith("text/csv")
    assert refused.status_code == 403
    assert "Reports are for division officers" in refused.text
    assert everything.status_code == 200
    assert all(d.name_en in everything.text for d in read_divisions())
    assert bad.status_code == 422
    assert "महीना" in bad.text


# -- the definitions, on hand-made accounts (both databases) ---------------------------------


def test_only_recharges_while_cut_count_and_a_reversed_one_does_not(engine: Engine) -> None:
    clock = SettableClock(ist(2025, 7, 1, 9))
    paid_while_connected = new_account(engine, clock, 50_000, mobile="9876500002")
    cut = cut_off_account(engine, clock)  # cut at 10:00 on 3 July
    clock.set(ist(2025, 7, 3, 11))
    for reference, amount in (("after-cut", 30_000), ("reversed", 7_000)):
        apply_recharge(
            ApplyRecharge(cut, amount, PaymentRef(PaymentChannel.COUNTER, reference)),
            SqlUnitOfWork(engine),
            clock,
            POLICIES,
        )
    reverse_recharge(
        ReverseRecharge(PaymentRef(PaymentChannel.COUNTER, "reversed")),
        SqlUnitOfWork(engine),
        clock,
        POLICIES,
    )
    clock.set(ist(2025, 7, 3, 11, 30))
    apply_recharge(  # the reconnection is under way: no longer a recharge after a cut
        ApplyRecharge(cut, 1_000, PaymentRef(PaymentChannel.APP, "later")),
        SqlUnitOfWork(engine),
        clock,
        POLICIES,
    )

    report = read_report(engine, "divisions", Month(date(2025, 7, 1)), None, clock.now())

    assert by_division(report, "revenue_after_cut_paise") == {"DIV-1": 30_000}
    assert by_division(report, "recharges_after_cut") == {"DIV-1": 1}
    assert by_division(report, "connections_cut") == {"DIV-1": 1}
    assert by_division(report, "smart_meters_installed") == {"DIV-1": 2}
    assert paid_while_connected
    june = read_report(engine, "divisions", Month(date(2025, 6, 1)), None, clock.now())
    assert by_division(june, "smart_meters_installed") == {"DIV-1": 0}


def test_a_wallet_below_zero_is_aged_from_the_day_it_went_below(engine: Engine) -> None:
    clock = SettableClock(ist(2025, 7, 1, 9))
    account_below_zero(engine, clock)  # below zero from 00:30 on 2 July
    july = Month(date(2025, 7, 1))

    on_the_3rd = read_report(engine, "ageing", july, None, ist(2025, 7, 3, 12))
    on_the_20th = read_report(engine, "ageing", july, None, ist(2025, 7, 20, 12))
    in_june = read_report(engine, "ageing", Month(date(2025, 6, 1)), None, ist(2025, 7, 20))

    assert by_division(on_the_3rd, "accounts_0_1") == {"DIV-1": 1}
    assert by_division(on_the_3rd, "owed_paise")["DIV-1"] > 0
    assert by_division(on_the_20th, "accounts_8_30") == {"DIV-1": 1}  # 18 days
    assert by_division(on_the_20th, "accounts_0_1") == {"DIV-1": 0}
    assert by_division(in_june, "negative_accounts") == {"DIV-1": 0}


def test_collections_are_by_ist_day_and_channel(engine: Engine) -> None:
    clock = SettableClock(ist(2025, 7, 1, 23, 50))  # 18:20 UTC: 1 July in IST
    account = new_account(engine, clock, 10_000)  # by app
    clock.set(ist(2025, 7, 2, 0, 10))  # still 1 July in UTC
    apply_recharge(
        ApplyRecharge(account, 25_050, PaymentRef(PaymentChannel.BBPS, "b-1")),
        SqlUnitOfWork(engine),
        clock,
        POLICIES,
    )

    report = read_report(engine, "collections", Month(date(2025, 7, 1)), None, clock.now())
    days = {row.value(report.columns, "day"): row for row in report.rows_at("day")}

    assert days["2025-07-01"].value(report.columns, "app_paise") == 10_000
    assert days["2025-07-02"].value(report.columns, "bbps_paise") == 25_050
    assert report.rows_at("total")[0].value(report.columns, "total_paise") == 35_050


def test_an_empty_database_is_reported_clearly(engine: Engine) -> None:
    url = database_url(engine)

    refused = CliRunner().invoke(cli, ["report", "divisions", "--month", "2021-09", "--db", url])

    assert refused.exit_code == 2
    assert "no divisions" in refused.output
    assert "कोई प्रमंडल नहीं" in refused.output
    with pytest.raises(NothingToReport, match="no divisions"):
        read_report(engine, "collections", SEPTEMBER, None, ist(2021, 10, 1))
