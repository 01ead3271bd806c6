"""The embedded MQTT broker (amqtt) for the zero-setup default, on a port of its own.

It runs in a background thread with its own event loop, so synchronous code (the CLI, the
head-end's paho client, tests) can start and stop it. Production uses Mosquitto or EMQX
via PREPAIDGRID_MQTT_URL; the embedded broker has no shared subscriptions, so it serves a
single head-end worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from typing import Any

from amqtt.broker import Broker

EMBEDDED_PORT = 18830  # not 1883, which a real broker may hold


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class EmbeddedBroker:
    """`with EmbeddedBroker() as broker:` serves MQTT on 127.0.0.1:broker.port."""

    def __init__(self, port: int = EMBEDDED_PORT) -> None:
        self.host = "127.0.0.1"
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broker: Broker | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self) -> EmbeddedBroker:
        self._thread = threading.Thread(target=self._run, name="embedded-mqtt", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout=15):
            raise RuntimeError("the embedded MQTT broker did not start within 15 s")
        if self._error is not None:
            raise RuntimeError(f"the embedded MQTT broker failed: {self._error}")
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        logging.getLogger("amqtt").setLevel(logging.WARNING)
        logging.getLogger("transitions").setLevel(logging.WARNING)
        config: dict[str, Any] = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }

        async def serve() -> None:
            self._broker = Broker(config)
            await self._broker.start()

        try:
            loop.run_until_complete(serve())
        except BaseException as error:  # reported to the starting thread
            self._error = error
            self._started.set()
            loop.close()
            return
        self._started.set()
        loop.run_forever()
        loop.close()

    def stop(self) -> None:
        loop, broker = self._loop, self._broker
        if loop is None or broker is None:
            return
        future = asyncio.run_coroutine_threadsafe(broker.shutdown(), loop)
        with contextlib.suppress(Exception):
            future.result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
