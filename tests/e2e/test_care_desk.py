"""A complaint's whole round in Chromium: the consumer files a meter dispute on a phone,
the division officer reads its diagnosis, takes it up and resolves it, the consumer reads
the resolution and finds every step in the inbox; and the officers' division report."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from playwright.sync_api import Browser, Page, expect

from prepaidgrid.adapters.db.notification_repository import SqlNotifyUnitOfWork
from prepaidgrid.adapters.notifiers.sms_file import FileSmsSink
from prepaidgrid.services.notify import dispatch_notifications
from prepaidgrid.services.ports import Notifiers
from tests.e2e.test_consumer_journey import log_in, shoot
from tests.e2e.test_officer_pages import DESKTOP, _log_in, _two_divisions

if TYPE_CHECKING:
    from tests.e2e.conftest import Portal


def _deliver_messages(portal: Portal) -> None:
    """The dispatcher's pass: the SMS go out, and each lands in the consumer's inbox."""
    dispatch_notifications(
        lambda: SqlNotifyUnitOfWork(portal.engine),
        portal.clock,
        Notifiers(FileSmsSink(None)),
        lambda: 0.0,
    )


def test_a_meter_dispute_is_diagnosed_resolved_by_the_officer_and_read_by_the_consumer(
    portal: Portal, page: Page, browser: Browser, screenshots: Path
) -> None:
    account_id, _ = _two_divisions(portal)  # the consumer is cut off, in division 1
    log_in(page, portal)
    page.goto(f"{portal.url}/portal/accounts/{account_id}/complaints")
    page.locator("#f-category").select_option("meter_fault")
    page.locator("#f-description").fill("मीटर बहुत तेज़ चल रहा है, पंखा भी बंद है।")
    page.locator(f'form[action="/portal/accounts/{account_id}/complaints"] button').click()
    expect(page).to_have_url(re.compile(r".*/complaints/CMP-\d+\?filed=1$"))
    number = page.url.rsplit("/", 1)[1].split("?")[0]
    shoot(page, screenshots, "15-consumer-complaint-filed")

    officer = browser.new_context(viewport=DESKTOP, locale="en-IN")
    desk = officer.new_page()
    _log_in(desk, portal, "div1.officer")
    desk.goto(f"{portal.url}/portal/officer/complaints/")
    desk.locator(f'a[href="/portal/officer/complaints/{number}"]').click()
    expect(desk.locator("#diagnosis")).to_be_visible()
    expect(desk.locator("#diagnosis-check-meter")).to_contain_text("2025")  # a visit is booked
    shoot(desk, screenshots, "16-officer-complaint-diagnosis")
    desk.locator(f'form[action="/portal/officer/complaints/{number}/take_up"] button').click()
    desk.locator("#resolve-text").fill("Check meter agreed within 1%; the fan was on a timer.")
    desk.locator(f'form[action="/portal/officer/complaints/{number}/resolve"] button').click()
    expect(desk.locator("#resolution")).to_contain_text("Check meter agreed within 1%")
    officer.close()

    page.goto(f"{portal.url}/portal/accounts/{account_id}/complaints/{number}")
    expect(page.locator("main")).to_contain_text("Check meter agreed within 1%")
    shoot(page, screenshots, "17-consumer-complaint-resolved")
    _deliver_messages(portal)
    page.goto(f"{portal.url}/portal/accounts/{account_id}/inbox")
    inbox = page.locator("#inbox")
    # filed, the check-meter visit, taken up, resolved: each step told
    expect(inbox.locator("li", has_text=number)).to_have_count(4)
    shoot(page, screenshots, "18-consumer-inbox")


def test_the_division_report_shows_the_officers_divisions_with_a_chart(
    portal: Portal, browser: Browser, screenshots: Path
) -> None:
    _two_divisions(portal)
    context = browser.new_context(viewport=DESKTOP, locale="en-IN")
    page = context.new_page()
    _log_in(page, portal, "div1.officer")

    page.goto(f"{portal.url}/portal/officer/reports/?month=2025-07")

    # no meter has reported yet: the banner says what is known, not "down since ?"
    expect(page.locator(".banner")).to_contain_text("head-end is failing: ")
    expect(page.locator(".banner")).not_to_contain_text("?")
    report = page.locator("#division-report")
    expect(report).to_contain_text("Division 1")
    expect(report).not_to_contain_text("Division 2")
    expect(page.locator("#collections-chart canvas")).to_have_count(1)  # uPlot drew it
    shoot(page, screenshots, "19-officer-reports")
    csv = page.request.get(f"{portal.url}/portal/officer/reports/divisions.csv?month=2025-07")
    assert csv.status == 200
    assert "Division 1" in csv.text()
    assert "Division 2" not in csv.text()
    context.close()
