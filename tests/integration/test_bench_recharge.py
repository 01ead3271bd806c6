"""bench/recharge.py keeps working: webhooks over HTTP credit once, reconnects reach the meters."""

from __future__ import annotations

import json

import pytest
from bench.recharge import run
from sqlalchemy import Engine

from tests.conftest import database_url
from tests.integration.mosquitto import Mosquitto

pytestmark = pytest.mark.integration


def test_the_recharge_benchmark_credits_each_webhook_once_and_reconnects_each_meter(
    engine: Engine, mosquitto: Mosquitto
) -> None:
    on_sqlite = engine.dialect.name == "sqlite"  # the embedded default; PostgreSQL on Mosquitto

    figures = run(
        recharges=40,
        db_url=None if on_sqlite else database_url(engine),
        workers=2,
        concurrency=4,
        latency_samples=3,
        mqtt_url=None if on_sqlite else mosquitto.url,
    )

    assert json.loads(json.dumps(figures)) == figures
    assert figures["database"] == engine.dialect.name
    throughput = figures["throughput"]
    assert throughput["status_counts"] == {"200": 40}
    assert throughput["recharges_per_s"] > 0
    assert 0 < throughput["request_ms"]["p50"] <= throughput["request_ms"]["p99"]
    books = throughput["books"]
    assert (books["lost"], books["doubled"]) == (0, 0)
    assert books["payments_credited"] == books["orders_paid"] == 40
    assert books["wallets_grew_by_amounts"] is True
    assert figures["ledger_verify_ok"] is True
    latency = figures["latency"]
    assert (latency["commands_missing"], latency["acks_missing"]) == (0, 0)
    assert latency["reconnected"] == 3
    command, ack = latency["webhook_to_command_ms"], latency["webhook_to_ack_ms"]
    assert 0 < command["p50"] <= command["p99"] <= command["max"] <= ack["max"]
    targets = figures["targets"]
    assert targets["no_lost_or_doubled_credit_met"] is True
    assert isinstance(targets["webhook_to_command_p99_met"], bool) is on_sqlite
    assert isinstance(targets["recharges_per_s_met"], bool) is not on_sqlite
    assert figures["machine"]["cpus"] >= 1
