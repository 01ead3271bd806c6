"""Prometheus metrics at `/metrics`: the API's requests, and the platform's health as
numbers an alert rule can watch (the officers' health page, docs/deploy.md).

Request counters and latencies are per process (`prepaidgrid api --workers N` gives N
series sets; scrape each worker, or sum them). The platform gauges are read from the
database at scrape time, once, so every process reports the same.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, datetime

from fastapi import FastAPI, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from prepaidgrid.adapters.db.health_read_model import health_facts
from prepaidgrid.bootstrap import App
from prepaidgrid.domain.units import ist_midnight
from prepaidgrid.entrypoints.portal.health import health_checks

LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class PlatformCollector(Collector):
    """The health facts as gauges, read when Prometheus scrapes."""

    def __init__(self, app: App) -> None:
        self._app = app

    def collect(self) -> Iterator[Metric]:
        facts = health_facts(self._app.engine)
        now = self._app.clock.now()
        yield _gauge(
            "prepaidgrid_database_up", "1 if the database answers", int(facts.is_database_up)
        )
        if not facts.is_database_up:
            return
        yield _gauge(
            "prepaidgrid_safe_mode",
            "1 while no supply is cut",
            int(facts.safe_mode_since is not None),
        )
        for name, help_text, at in (
            ("headend_last_message", "since the last meter message", facts.last_meter_message_at),
            (
                "outbox_oldest_waiting",
                "the oldest message waiting to be sent",
                facts.oldest_waiting_at,
            ),
            (
                "gateway_oldest_unsettled_order",
                "the oldest app/website order waiting on the gateway",
                facts.oldest_unsettled_order_at,
            ),
        ):
            if at is not None:
                yield _gauge(
                    f"prepaidgrid_{name}_age_seconds", f"Seconds {help_text}", _age(at, now)
                )
        if facts.last_billed_day is not None:
            yield _gauge(
                "prepaidgrid_last_billed_day_timestamp_seconds",
                "The last billed IST day, as the Unix time of its midnight",
                _midnight(facts.last_billed_day),
            )
        waiting = GaugeMetricFamily(
            "prepaidgrid_outbox_waiting", "Messages not yet sent, by kind", labels=["kind"]
        )
        for kind, count in sorted(facts.outbox_waiting.items()):
            waiting.add_metric([kind], count)
        yield waiting
        checks = GaugeMetricFamily(
            "prepaidgrid_health_check_ok",
            "1 if the health page's check holds (docs/portal.md)",
            labels=["check"],
        )
        for check in health_checks(facts, now):
            checks.add_metric([check.name], int(check.is_ok))
        yield checks


class RequestMetrics:
    """Counts each HTTP request by route template and status, and times it. A plain ASGI
    middleware: it sits on every request, the payment webhooks' hot path included, so it
    adds no task or body copy of its own (BaseHTTPMiddleware would)."""

    def __init__(self, app: ASGIApp, requests: Counter, latency: Histogram) -> None:
        self._app, self._requests, self._latency = app, requests, latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers if the app raises before it answers

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, sending)
        finally:
            route = scope.get("route")  # the router writes the matched route into the scope
            # the template, never the path: an account id in a path would make a series each
            template = route.path if isinstance(route, Route) else "unmatched"
            method = scope["method"]
            self._requests.labels(method, template, str(status)).inc()
            self._latency.labels(method, template).observe(time.perf_counter() - started)


def install_metrics(api: FastAPI, app: App) -> None:
    registry = CollectorRegistry()
    requests = Counter(
        "prepaidgrid_http_requests",
        "HTTP requests answered, by route template and status",
        ["method", "route", "status"],
        registry=registry,
    )
    latency = Histogram(
        "prepaidgrid_http_request_seconds",
        "Time to answer, by route template",
        ["method", "route"],
        buckets=LATENCY_BUCKETS_S,
        registry=registry,
    )
    registry.register(PlatformCollector(app))

    api.add_middleware(RequestMetrics, requests=requests, latency=latency)

    @api.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        body = await run_in_threadpool(generate_latest, registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)


def _gauge(name: str, help_text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, help_text, value=value)


def _age(at: datetime, now: datetime) -> float:
    return max(0.0, (now - at).total_seconds())


def _midnight(day: date) -> float:
    return ist_midnight(day).timestamp()
