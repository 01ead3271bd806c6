"""`prepaidgrid serve` as an operator starts it: no broker configured, so it brings its own."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import text

from prepaidgrid.adapters.db.engine import make_engine
from prepaidgrid.adapters.db.migrate import upgrade
from prepaidgrid.adapters.headend.broker import free_port
from prepaidgrid.domain.meter_protocol import encode_uplink
from tests.integration.headend_support import count, install_meters, reading, wait_until

pytestmark = pytest.mark.integration

PREPAIDGRID = [sys.executable, "-m", "prepaidgrid.entrypoints.cli"]


def serve(
    db_url: str, port: int, seconds: float, api_port: int = 0, **env_vars: str
) -> subprocess.Popen[str]:
    env = (
        {k: v for k, v in os.environ.items() if k != "PREPAIDGRID_MQTT_URL"}
        # the default SMS sink is a file in the working directory: not in the checkout
        | {"PREPAIDGRID_SMS_FILE": os.devnull}
        | env_vars
    )
    return subprocess.Popen(
        [
            *PREPAIDGRID,
            "serve",
            "--db",
            db_url,
            "--broker-port",
            str(port),
            "--api-port",
            str(api_port),
            "--seconds",
            str(seconds),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_serve_starts_the_embedded_broker_and_stores_what_meters_send(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'serve.db'}"
    engine = make_engine(db_url)
    upgrade(engine)
    meter = install_meters(engine, 1)[0]
    port = free_port()
    process = serve(db_url, port, seconds=8)
    try:
        wait_until(lambda: listening(port), 15, "the embedded broker to listen")
        meter_client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"meter-{meter}")
        meter_client.connect("127.0.0.1", port)
        meter_client.loop_start()
        time.sleep(1.0)  # the head-end subscribes right after the broker starts
        for n in range(3):
            topic, payload = encode_uplink(reading(meter, n))
            meter_client.publish(topic, payload, qos=1).wait_for_publish(5)
        wait_until(lambda: count(engine, "register_reads") == 3, 10, "three reads stored")
        meter_client.loop_stop()
        meter_client.disconnect()
        stdout, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert f"embedded MQTT broker on mqtt://127.0.0.1:{port}" in stderr
    assert json.loads(stdout.strip().splitlines()[-1])["readings"] == 3
    assert count(engine, "interval_blocks") == 3


def test_serve_on_a_taken_port_says_what_to_do_and_exits_2(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'serve.db'}"
    upgrade(make_engine(db_url))
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        process = serve(db_url, port, seconds=5)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    assert f"127.0.0.1:{port} is taken" in stderr
    assert "--mqtt-url" in stderr
    assert "Traceback" not in stderr


def test_serve_answers_the_api_a_bbps_payment_is_credited_over_real_http(
    tmp_path: Path,
) -> None:
    db_url = f"sqlite:///{tmp_path / 'serve.db'}"
    engine = make_engine(db_url)
    upgrade(engine)
    meter = install_meters(engine, 1)[0]
    with engine.connect() as db:
        account_id = db.execute(
            text("SELECT account_id FROM meters WHERE meter_id = :m"), {"m": meter}
        ).scalar_one()
    api_port = free_port()
    process = serve(
        db_url, free_port(), seconds=8, api_port=api_port, PREPAIDGRID_BBPS_API_KEY="k-1"
    )
    base = f"http://127.0.0.1:{api_port}"
    try:
        wait_until(lambda: listening(api_port), 15, "the API to listen")
        health = httpx.get(f"{base}/api/v1/health")
        paid = httpx.post(
            f"{base}/api/v1/bbps/payments",
            json={"bbps_ref": "B-1", "account_id": account_id, "amount_paise": 30_000},
            headers={"X-BBPS-Key": "k-1"},
        )
        refused = httpx.post(
            f"{base}/api/v1/bbps/fetch",
            json={"account_id": account_id},
            headers={"X-BBPS-Key": "x"},
        )
        spec = httpx.get(f"{base}/openapi.json").json()
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert health.json() == {"status": "ok"}
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "credited"
    assert refused.status_code == 401
    assert "/api/v1/bbps/payments" in spec["paths"]
    assert f"the API on http://127.0.0.1:{api_port}" in stderr
