"""Officers in Chromium: a division officer sees their division and cannot open another
division's consumer; an admin sees both; the main officer pages, photographed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from playwright.sync_api import Browser, Page, expect

from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.adapters.passwords import Argon2Hasher
from prepaidgrid.domain.access import Role
from prepaidgrid.domain.accounts import OrgLevel, OrgUnit
from prepaidgrid.services.access import AddOfficer, add_officer
from prepaidgrid.services.onboarding import add_org_units
from tests.integration.accounts_support import cut_off_account, new_account

if TYPE_CHECKING:
    from tests.e2e.conftest import Portal

PASSWORD = "a long passphrase"
DESKTOP = {"width": 1280, "height": 900}


def _two_divisions(portal: Portal) -> tuple[str, str]:
    """A cut-off consumer in division 1 and a connected one in division 2."""
    mine = cut_off_account(portal.engine, portal.clock)
    add_org_units(
        [
            OrgUnit("DIV-2", OrgLevel.DIVISION, "Division 2", parent_code="CIR-1"),
            OrgUnit("SUB-2", OrgLevel.SUBDIVISION, "Sub 2", parent_code="DIV-2"),
        ],
        SqlUnitOfWork(portal.engine),
    )
    theirs = new_account(
        portal.engine, portal.clock, 40_000, mobile="9123456780", subdivision="SUB-2"
    )
    hasher = Argon2Hasher(time_cost=1, memory_cost_kib=8_192)
    for officer_id, role, divisions in (
        ("div1.officer", Role.DIVISION_OFFICER, ["DIV-1"]),
        ("admin", Role.ADMIN, []),
    ):
        add_officer(
            AddOfficer(officer_id, officer_id, role, divisions, PASSWORD),
            SqlUnitOfWork(portal.engine),
            portal.clock,
            hasher,
        )
    return mine, theirs


def _log_in(page: Page, portal: Portal, officer_id: str) -> None:
    page.goto(f"{portal.url}/portal/officer/login?lang=en")
    page.locator("#f-username").fill(officer_id)
    page.locator("#f-password").fill(PASSWORD)
    page.locator('form[action="/portal/officer/login"] button[type="submit"]').click()
    expect(page).to_have_url(f"{portal.url}/portal/officer/")


def test_a_division_officer_cannot_open_another_divisions_consumer(
    portal: Portal, browser: Browser, screenshots: Path
) -> None:
    mine, theirs = _two_divisions(portal)
    context = browser.new_context(viewport=DESKTOP, locale="en-IN")
    page = context.new_page()

    _log_in(page, portal, "div1.officer")
    expect(page.locator("#divisions")).to_contain_text("Division 1")
    expect(page.locator("#divisions")).not_to_contain_text("Division 2")
    page.screenshot(path=screenshots / "11-officer-dashboard.png", full_page=True)
    page.goto(f"{portal.url}/portal/officer/search")
    page.locator("#q").press_sequentially(mine[:6])  # htmx searches as the officer types
    expect(page.locator(f'#results a[href="/portal/officer/accounts/{mine}"]')).to_be_visible()
    page.goto(f"{portal.url}/portal/officer/search?q={theirs}")
    expect(page.locator("main")).not_to_contain_text("₹400.00")
    other = page.goto(f"{portal.url}/portal/officer/accounts/{theirs}")
    own = page.goto(f"{portal.url}/portal/officer/accounts/{mine}")

    assert other is not None
    assert other.status == 404
    assert own is not None
    assert own.status == 200
    expect(page.locator("#actions")).to_be_visible()
    page.screenshot(path=screenshots / "12-officer-account.png", full_page=True)
    context.close()


def test_an_officer_reconnects_by_hand_with_a_reason_and_an_admin_sees_it_audited(
    portal: Portal, browser: Browser, screenshots: Path
) -> None:
    mine, _ = _two_divisions(portal)
    officer = browser.new_context(viewport=DESKTOP, locale="en-IN")
    page = officer.new_page()
    _log_in(page, portal, "div1.officer")

    page.goto(f"{portal.url}/portal/officer/accounts/{mine}")
    page.locator("#reconnect-reason").fill("paid at the office, receipt 42")
    page.locator(f'form[action="/portal/officer/accounts/{mine}/reconnect"] button').click()

    expect(page.locator(".flash.success")).to_contain_text("reconnect")
    expect(page.locator(".kpis")).to_contain_text("Reconnect ordered")
    admin = browser.new_context(viewport=DESKTOP, locale="en-IN")
    audit_page = admin.new_page()
    _log_in(audit_page, portal, "admin")
    audit_page.goto(f"{portal.url}/portal/officer/audit")
    expect(audit_page.locator("#audit")).to_contain_text("paid at the office, receipt 42")
    audit_page.screenshot(path=screenshots / "13-officer-audit.png", full_page=True)
    audit_page.goto(f"{portal.url}/portal/officer/health")
    audit_page.screenshot(path=screenshots / "14-officer-health.png", full_page=True)
    assert (screenshots / "13-officer-audit.png").stat().st_size > 0
    officer.close()
    admin.close()
