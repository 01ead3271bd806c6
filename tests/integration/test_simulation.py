"""The whole platform under a simulated city: meters on Mosquitto, head-end, billing, cuts,
recharges and reconnections, on PostgreSQL. The embedded-broker path runs in test_cli (demo)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, text

from prepaidgrid.bootstrap import bootstrap
from prepaidgrid.config import Settings
from prepaidgrid.entrypoints.simulation import Simulation, SimulationConfig, SimulationReport
from prepaidgrid.simulator import RechargeHabit
from prepaidgrid.simulator.scenario import meters_at_scale
from tests.conftest import database_url, fresh_postgres
from tests.integration.mosquitto import Mosquitto

pytestmark = pytest.mark.integration
SCALE, DAYS = 0.001, 3


@pytest.fixture(scope="module")
def pg_engine() -> Iterator[Engine]:
    yield from fresh_postgres()


@pytest.fixture(scope="module")
def simulated(
    pg_engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Simulation, SimulationReport]]:
    """One simulated city for the module's tests: it takes a few seconds to run."""
    broker = Mosquitto(tmp_path_factory.mktemp("mosquitto"))
    broker.start()
    config = SimulationConfig(scale=SCALE, days=DAYS, mqtt_url=broker.url)
    simulation = Simulation(bootstrap(Settings(database_url=database_url(pg_engine))), config)
    try:
        simulation.setup()
        yield simulation, simulation.run()
    finally:
        simulation.app.engine.dispose()
        broker.stop()


def scalar(engine: Engine, sql: str) -> int:
    with engine.connect() as db:
        return int(db.execute(text(sql)).scalar_one())


def test_every_message_is_stored_once_and_every_division_is_there(
    simulated: tuple[Simulation, SimulationReport], pg_engine: Engine
) -> None:
    simulation, report = simulated

    # At least once: a meter that drops out mid-publish resends; the resend is absorbed.
    stored = report.messages_processed - report.messages_duplicate
    assert stored == report.messages_published > 10_000
    assert report.rejected == {}
    assert report.divisions == 13
    assert report.meters == sum(
        meters_at_scale(d.smart_meters_installed, SCALE) for d in simulation.scenario.divisions
    )
    assert scalar(pg_engine, "SELECT count(*) FROM meter_messages") == report.messages_published
    assert scalar(pg_engine, "SELECT count(DISTINCT account_id) FROM meters") == report.meters
    assert report.meter_replacements == 1
    assert report.ledger_ok


def test_each_metered_day_is_billed_once_from_meter_data(
    simulated: tuple[Simulation, SimulationReport], pg_engine: Engine
) -> None:
    simulation, _ = simulated
    ds_ii = sum(1 for c in simulation.scenario.consumers if c.category == "DS-II")

    usage_rows = scalar(pg_engine, "SELECT count(*) FROM daily_usage")
    charges = scalar(pg_engine, "SELECT count(*) FROM daily_charges")
    debited = scalar(
        pg_engine,
        "SELECT count(*) FROM daily_charges WHERE total_paise + instalment_paise <> 0",
    )
    wallet_debits = scalar(
        pg_engine,
        "SELECT count(*) FROM (SELECT DISTINCT p.journal_id, p.ledger_account FROM postings p "
        "JOIN journals j ON j.id = p.journal_id "
        "WHERE j.kind = 'charge_run' AND p.ledger_account LIKE 'wallet:%') d",
    )

    assert usage_rows == simulation.report.meters * DAYS
    assert charges == ds_ii * DAYS  # the 2021-22 tariff prices DS-II only
    assert wallet_debits == debited  # the nightly run: one wallet debit per charged day
    mismatched = scalar(
        pg_engine,
        "SELECT count(*) FROM daily_charges c JOIN daily_usage u "
        "ON u.account_id = c.account_id AND u.usage_day = c.bill_day "
        "WHERE u.used_wh <> c.used_wh",
    )
    assert mismatched == 0


def test_late_payers_are_cut_in_the_window_and_reconnected_after_paying(
    simulated: tuple[Simulation, SimulationReport], pg_engine: Engine
) -> None:
    simulation, report = simulated
    late = {
        c.account_id
        for c in simulation.scenario.consumers
        if c.recharge_habit is RechargeHabit.LATE and c.category == "DS-II"
    }
    assert late, "the scenario at this scale has late payers"

    with pg_engine.connect() as db:
        cuts = db.execute(
            text("SELECT account_id, at FROM supply_changes WHERE to_state = 'disconnect_sent'")
        ).all()
        confirmed = {
            row[0]
            for row in db.execute(
                text("SELECT account_id FROM supply_changes WHERE to_state = 'disconnected'")
            )
        }
        back = {
            row[0]
            for row in db.execute(
                text(
                    "SELECT account_id FROM supply_changes WHERE to_state = 'connected' "
                    "AND from_state = 'reconnect_sent'"
                )
            )
        }
        dark_but_paid = db.execute(
            text(
                "SELECT count(*) FROM accounts a JOIN ledger_accounts w "
                "ON w.code = 'wallet:' || a.account_id "
                "WHERE a.supply_state = 'disconnected' AND w.balance_paise > 0"
            )
        ).scalar_one()

    assert cuts, "someone ran out and was cut"
    for _account_id, at in cuts:  # every disconnect command left inside 10:00-13:00 IST
        assert 10 <= (at + timedelta(hours=5, minutes=30)).hour < 13
    assert confirmed <= {account_id for account_id, _ in cuts}
    assert confirmed, "the meters confirmed the cuts"
    assert back, "someone paid after the cut and was reconnected by the meter"
    assert dark_but_paid == 0
    assert report.relay_commands.get("acknowledged", 0) >= len(confirmed) + len(back)
