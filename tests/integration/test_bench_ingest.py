"""The ingestion benchmark stays runnable: a tiny run on both brokers, every message stored once."""

from __future__ import annotations

import pytest
from bench.ingest import run
from sqlalchemy import Engine

from tests.conftest import database_url
from tests.integration.mosquitto import Mosquitto

pytestmark = pytest.mark.integration


def test_the_ingest_benchmark_stores_every_published_reading_exactly_once(
    engine: Engine, mosquitto: Mosquitto
) -> None:
    figures = run(meters=4, hours=3, db_url=database_url(engine), mqtt_url=mosquitto.url, workers=2)

    published = {
        "messages": figures["messages"],
        "readings": figures["readings"],
        "interval_blocks": figures["interval_blocks"],
        "events": figures["events"],
        "rejected": 0,
    }
    assert figures["interval_blocks"] >= figures["readings"] > 0  # 3 h: no midnight snapshot
    assert set(figures["brokers"]) == {"embedded", "mosquitto"}
    for leg in figures["brokers"].values():
        assert leg["stored"] == published
        assert leg["stored_exactly_once"] is True
        assert leg["floor_msgs_per_s"] > 0
        assert leg["pipeline_msgs_per_s"] > 0
        assert leg["pipeline_blocks_per_s"] > 0
        assert 0 < leg["ratio_to_floor"] < 10  # timed from the same first publish
    assert figures["brokers"]["mosquitto"]["workers"] == 2
    assert figures["database"] == engine.dialect.name
