"""`/metrics`: what Prometheus scrapes: the API's requests by route template, and the
platform's health read from the database."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from prepaidgrid.services.platform import SetSafeMode, set_safe_mode
from tests.integration.accounts_support import new_account
from tests.integration.api_support import Platform


def scrape(platform: Platform) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = platform.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_requests_are_counted_by_route_template_never_by_path(platform: Platform) -> None:
    account_id = new_account(platform.engine, platform.clock, 10_000)
    for _ in range(3):
        platform.order(account_id, 50_000)
    platform.client.get("/api/v1/payments/app/NO-SUCH-ORDER")  # answered, whatever its status

    samples = scrape(platform)

    orders = (
        "prepaidgrid_http_requests_total",
        (("method", "POST"), ("route", "/api/v1/orders"), ("status", "201")),
    )
    assert samples.get(orders) == 3, sorted(k for k in samples if k[0].startswith("prepaid"))
    routes = {dict(labels).get("route") for (_, labels) in samples}
    assert "/api/v1/payments/{channel}/{reference}" in routes
    assert not any(route and "NO-SUCH-ORDER" in route for route in routes)
    latency = (
        "prepaidgrid_http_request_seconds_count",
        (("method", "POST"), ("route", "/api/v1/orders")),
    )
    assert samples[latency] == 3


def test_the_platform_gauges_follow_the_database(platform: Platform) -> None:
    new_account(platform.engine, platform.clock, 10_000)
    before = scrape(platform)
    set_safe_mode(SetSafeMode(True, "payment channel down"), platform.app.uow(), platform.clock)
    after = scrape(platform)

    assert before[("prepaidgrid_database_up", ())] == 1
    assert before[("prepaidgrid_safe_mode", ())] == 0
    assert after[("prepaidgrid_safe_mode", ())] == 1
    assert after[("prepaidgrid_health_check_ok", (("check", "safe mode"),))] == 0
    assert before[("prepaidgrid_health_check_ok", (("check", "database"),))] == 1
    # nothing billed and no meter heard from yet: those checks fail, as the health page says
    assert before[("prepaidgrid_health_check_ok", (("check", "billing run"),))] == 0
