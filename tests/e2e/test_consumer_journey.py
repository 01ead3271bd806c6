"""A cut-off consumer's evening on a cheap phone, in a real browser: log in with the SMS
code, read the daily-use chart, recharge through the (simulated) UPI gateway, and see the
supply come back once the meter acknowledges; in Hindi first, in English on request, and
with the figures still there when JavaScript is off."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.domain.meter_protocol import (
    Ack,
    AckStatus,
    Command,
    Reading,
    ReadingKind,
    decode_uplink,
    encode_uplink,
)
from prepaidgrid.domain.units import format_rupees
from prepaidgrid.entrypoints.portal.i18n import translator
from prepaidgrid.services.charges import PostDailyCharge, post_daily_charge
from prepaidgrid.services.headend import (
    Received,
    ingest_uplinks,
    publish_due_commands,
    track_relay_commands,
)
from prepaidgrid.services.meter_usage import compute_daily_usage
from tests.conftest import ist
from tests.integration.accounts_support import POLICIES, TARIFFS, balance, cut_off_account

if TYPE_CHECKING:
    from tests.e2e.conftest import Portal

MOBILE = "9876500001"  # accounts_support.new_account's consumer
# What the meter measured each day, 27 June to 2 July; 1 July's 6 kWh is the day that
# cut_off_account bills and that took the balance below zero.
USED_WH = [4_200, 5_100, 3_800, 4_600, 6_000, 5_500]
FIRST_DAY = date(2025, 6, 27)
DAYS = [FIRST_DAY + timedelta(days=n) for n in range(len(USED_WH))]
# 1 July was billed before its meter data was computed, and a billed day keeps what it had
# (no daily_usage row): the chart and its table show the other five days.
SHOWN = [
    (day, used_wh) for day, used_wh in zip(DAYS, USED_WH, strict=True) if day != date(2025, 7, 1)
]
HINDI = translator("hi")


def midnight_snapshot(meter_id: str, day: date, register_wh: int) -> Reading:
    """The meter's daily snapshot: its register at the IST midnight that opens `day`."""
    midnight = ist(day.year, day.month, day.day)
    return Reading(
        "SBPDCL", meter_id, f"{meter_id}-{day}", midnight, ReadingKind.DAILY, midnight, register_wh
    )


def cut_off_with_meter_data(portal: Portal) -> str:
    """A consumer cut off at 10:00 on Thursday 3 July, with six days of meter data, the
    last two days billed; the clock left half an hour after the cut."""
    engine, clock = portal.engine, portal.clock
    account_id = cut_off_account(engine, clock)
    meter_id = f"M-{account_id}"
    register_wh = 100_000
    readings = [midnight_snapshot(meter_id, FIRST_DAY, register_wh)]
    for day, used_wh in zip(DAYS, USED_WH, strict=True):
        register_wh += used_wh
        readings.append(midnight_snapshot(meter_id, day + timedelta(days=1), register_wh))
    uplinks = [Received(t, decode_uplink(t, p)) for t, p in map(encode_uplink, readings)]
    assert ingest_uplinks(uplinks, SqlUnitOfWork(engine), clock, POLICIES).rejected == {}
    for day in DAYS:
        compute_daily_usage(day, SqlUnitOfWork(engine), clock)
    post_daily_charge(
        PostDailyCharge(account_id, DAYS[-1], USED_WH[-1]),
        SqlUnitOfWork(engine),
        clock,
        TARIFFS,
        POLICIES,
    )
    clock.set(ist(2025, 7, 3, 10, 30))
    return account_id


def meter_acknowledges_reconnect(portal: Portal) -> None:
    """The head-end's cycle: the queued reconnect goes to the meter, which closes its relay
    and says so."""
    engine, clock = portal.engine, portal.clock
    published: list[Command] = []
    track_relay_commands(SqlUnitOfWork(engine), clock)
    publish_due_commands(SqlUnitOfWork(engine), clock, published.append, POLICIES)
    [reconnect] = published
    assert reconnect.action.value == "reconnect"
    ack = Ack(
        reconnect.discom,
        reconnect.meter_id,
        f"ack-{reconnect.command_id}",
        clock.now(),
        reconnect.command_id,
        AckStatus.DONE,
        relay_closed=True,
    )
    topic, payload = encode_uplink(ack)
    received = [Received(topic, decode_uplink(topic, payload))]
    assert ingest_uplinks(received, SqlUnitOfWork(engine), clock, POLICIES).acks == 1


def shoot(page: Page, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    assert path.is_file()
    assert path.stat().st_size > 0
    return path


def log_in(page: Page, portal: Portal, screenshots: Path | None = None) -> None:
    """Type the mobile, then the code the SMS brought, as the consumer would."""
    page.goto(f"{portal.url}/portal/login")
    if screenshots is not None:
        shoot(page, screenshots, "01-login")
    page.locator("#f-mobile").fill(MOBILE)
    page.locator('form[action="/portal/login/code"] button[type="submit"]').click()
    expect(page.locator("#f-code")).to_be_visible()
    if screenshots is not None:
        shoot(page, screenshots, "02-login-code")
    page.locator("#f-code").fill(portal.login_code(MOBILE))
    page.locator('form[action="/portal/login/verify"] button[type="submit"]').click()


def balance_text(page: Page) -> str:
    return page.locator(".kpi-value").first.inner_text().strip()


def test_a_cut_off_consumer_logs_in_with_the_sms_code_and_sees_supply_off(
    portal: Portal, page: Page, screenshots: Path
) -> None:
    account_id = cut_off_with_meter_data(portal)

    log_in(page, portal, screenshots)

    expect(page).to_have_url(f"{portal.url}/portal/accounts/{account_id}")
    expect(page.locator("#supply")).to_have_attribute("data-state", "disconnected")
    expect(page.locator("#supply")).to_have_text(HINDI("supply.disconnected"))
    assert balance_text(page).startswith("-₹")
    assert balance(portal.engine, account_id) < 0


def test_the_daily_use_chart_is_drawn_and_its_table_lists_the_days(
    portal: Portal, page: Page, screenshots: Path
) -> None:
    account_id = cut_off_with_meter_data(portal)
    log_in(page, portal)

    expect(page.locator("#daily-chart canvas").first).to_be_visible()  # uPlot drew it
    page.locator("details summary").click()  # "show as a table"
    rows = page.locator("#daily-table tbody tr")

    expect(rows).to_have_count(len(SHOWN))
    assert rows.locator("td:first-child").all_inner_texts() == [
        day.strftime("%d-%m-%Y") for day, _ in reversed(SHOWN)
    ]
    assert rows.locator("td.num").all_inner_texts() == [
        f"{wh / 1000:.2f}" for _, wh in reversed(SHOWN)
    ]
    shoot(page, screenshots, "03-account-chart")
    page.locator('#use a[href="?days=90"]').click()  # htmx swaps the section, not the page
    expect(page).to_have_url(re.compile(r"\?days=90$"))
    expect(page.locator("#use strong")).to_have_text(HINDI("home.last_90_days"))
    expect(page.locator("#daily-chart canvas").first).to_be_visible()  # drawn again
    page.locator(f'a[href="/portal/accounts/{account_id}/statement"]').click()
    statement = page.locator("#statement")
    expect(statement).to_contain_text("01-07-2025")
    expect(statement).to_contain_text("02-07-2025")
    shoot(page, screenshots, "04-statement")


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
def test_a_recharge_through_the_gateway_brings_the_supply_back(
    portal: Portal, page: Page, screenshots: Path
) -> None:
    account_id = cut_off_with_meter_data(portal)
    debt_paise = -balance(portal.engine, account_id)
    log_in(page, portal)
    expect(page.locator("#supply")).to_have_attribute("data-state", "disconnected")

    page.locator(f'a[href="/portal/accounts/{account_id}/recharge"]').click()
    page.locator("#f-amount_rupees").fill("500")
    shoot(page, screenshots, "05-recharge")
    page.locator('form[action$="/recharge"] button[type="submit"]').click()
    expect(page).to_have_url(re.compile(r"/simulated-gateway/pay\?order=[^&]+&amount=50000$"))
    expect(page.locator("main")).to_contain_text("₹500.00")
    shoot(page, screenshots, "06-gateway")
    page.locator('button[name="outcome"][value="pay"]').click()

    expect(page).to_have_url(re.compile(rf"/portal/accounts/{account_id}/recharge\?order="))
    paid = page.locator("#recharges tbody tr", has_text="₹500.00")
    expect(paid).to_have_count(1)
    expect(paid).to_contain_text(HINDI("recharge.status.credited"))
    expect(paid).to_contain_text("website")
    expect(page.locator("#recharge-news")).to_contain_text("₹500.00")  # told it arrived
    shoot(page, screenshots, "07-recharge-credited")
    assert balance(portal.engine, account_id) == 50_000 - debt_paise > 0

    page.goto(f"{portal.url}/portal/accounts/{account_id}")
    expect(page.locator("#supply")).to_have_attribute("data-state", "reconnect_sent")
    meter_acknowledges_reconnect(portal)
    page.reload()

    expect(page.locator("#supply")).to_have_attribute("data-state", "connected")
    assert balance_text(page) == format_rupees(50_000 - debt_paise)  # no minus sign now
    shoot(page, screenshots, "08-account-reconnected")


def test_pages_are_in_hindi_by_default_and_the_english_link_switches(
    portal: Portal, page: Page
) -> None:
    account_id = cut_off_with_meter_data(portal)
    log_in(page, portal)
    expect(page.locator("html")).to_have_attribute("lang", "hi")
    expect(page.locator(".kpi-label").first).to_have_text(HINDI("home.balance"))

    page.locator('a[hreflang="en"]').click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(f"{portal.url}/portal/accounts/{account_id}?lang=en")
    expect(page.locator(".kpi-label").first).to_have_text("Balance")
    expect(page.locator("#supply")).to_have_text(translator("en")("supply.disconnected"))
    page.locator(f'a[href="/portal/accounts/{account_id}/statement"]').click()
    expect(page.locator("html")).to_have_attribute("lang", "en")  # the choice is remembered


def test_without_javascript_the_balance_and_the_daily_figures_still_show(
    portal: Portal, page_without_js: Page
) -> None:
    account_id = cut_off_with_meter_data(portal)

    log_in(page_without_js, portal)  # plain forms: no script needed

    page = page_without_js
    expect(page).to_have_url(f"{portal.url}/portal/accounts/{account_id}")
    assert balance_text(page).startswith("-₹")
    expect(page.locator("#daily-chart canvas")).to_have_count(0)  # nothing drew it
    rows = page.locator("#daily-table tbody tr")
    expect(rows).to_have_count(len(SHOWN))
    assert rows.locator("td.num").all_text_contents() == [
        f"{wh / 1000:.2f}" for _, wh in reversed(SHOWN)
    ]


def test_the_language_link_keeps_the_page_the_consumer_is_on(portal: Portal, page: Page) -> None:
    account_id = cut_off_with_meter_data(portal)
    log_in(page, portal)
    page.goto(f"{portal.url}/portal/accounts/{account_id}/recharge")
    page.locator("#f-amount_rupees").fill("500")
    page.locator('form[action$="/recharge"] button[type="submit"]').click()
    expect(page).to_have_url(re.compile(r"/simulated-gateway/pay\?order="))
    order = page.url.split("order=")[1].split("&")[0]

    with page.expect_navigation():
        page.locator('a[hreflang="en"]').click()

    assert page.locator("html").get_attribute("lang") == "en"  # not a 422 problem document
    expect(page.locator("main")).to_contain_text(order)  # still the same order's page
    expect(page.locator('button[name="outcome"][value="pay"]')).to_have_text("Pay")
    page.goto(f"{portal.url}/portal/accounts/{account_id}/statement?month=2025-06")
    page.locator('a[hreflang="hi"]').click()
    expect(page.locator("html")).to_have_attribute("lang", "hi")
    expect(page.locator("h1")).to_contain_text("06-2025")  # still June
