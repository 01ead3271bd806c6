"""The officers' complaint pages over HTTP on SQLite and PostgreSQL: division scope, the
diagnosis shown, the take up / note / resolve / close forms with CSRF, auditors reading
only, and the consumer's page showing what the officers did."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from prepaidgrid.adapters.db.tables import daily_usage
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.adapters.passwords import Argon2Hasher
from prepaidgrid.domain.access import Role
from prepaidgrid.domain.accounts import OrgLevel, OrgUnit
from prepaidgrid.services.access import AddOfficer, add_officer
from prepaidgrid.services.care import FileComplaint, file_complaint
from prepaidgrid.services.onboarding import add_org_units
from tests.conftest import ist
from tests.integration.accounts_support import POLICIES, TARIFFS, new_account
from tests.integration.api_support import Platform
from tests.integration.portal_support import (
    csrf_of,
    log_in_consumer,
    log_in_officer,
    portal_client,
)

pytestmark = pytest.mark.integration

HASHER = Argon2Hasher(time_cost=1, memory_cost_kib=8_192)
PASSWORD = "a long passphrase"
MOBILE = "9876500001"
THEIR_MOBILE = "9123456780"


class Desk:
    """An account in division 1 and one in division 2, each with a complaint; officers."""

    def __init__(self, platform: Platform, category: str = "meter_fault") -> None:
        self.platform = platform
        platform.clock.set(ist(2025, 7, 1, 9))  # a Tuesday
        self.mine = new_account(platform.engine, platform.clock, 30_000)
        add_org_units(
            [
                OrgUnit("DIV-2", OrgLevel.DIVISION, "Division 2", parent_code="CIR-1"),
                OrgUnit("SUB-2", OrgLevel.SUBDIVISION, "Sub 2", parent_code="DIV-2"),
            ],
            SqlUnitOfWork(platform.engine),
        )
        self.theirs = new_account(
            platform.engine, platform.clock, 40_000, mobile=THEIR_MOBILE, subdivision="SUB-2"
        )
        for officer_id, role, divisions in (
            ("div1.officer", Role.DIVISION_OFFICER, ["DIV-1"]),
            ("auditor", Role.AUDITOR, []),
        ):
            add_officer(
                AddOfficer(officer_id, officer_id.title(), role, divisions, PASSWORD),
                SqlUnitOfWork(platform.engine),
                platform.clock,
                HASHER,
            )
        self.my_number = self._file(self.mine, MOBILE, category, "The meter display is blank.")
        self.their_number = self._file(self.theirs, THEIR_MOBILE, "other", "Secret of division 2")

    def _file(self, account_id: str, mobile: str, category: str, text: str) -> str:
        filed = file_complaint(
            FileComplaint(account_id, mobile, category, text, "", "form-1"),
            SqlUnitOfWork(self.platform.engine),
            self.platform.clock,
            TARIFFS,
            POLICIES,
        )
        return filed.complaint.number

    def officer(self, officer_id: str) -> TestClient:
        client = portal_client(self.platform)
        landed = log_in_officer(client, officer_id, PASSWORD)
        assert landed.status_code == 200, landed.text
        return client

    def post(self, client: TestClient, number: str, action: str, note: str = "") -> object:
        token = csrf_of(client.get("/portal/officer/"))
        return client.post(
            f"/portal/officer/complaints/{number}/{action}",
            data={"note": note, "csrf_token": token},
        )

    def sms_count(self, template: str) -> int:
        return self.platform.count(
            f"SELECT count(*) FROM outbox WHERE dedupe_key LIKE 'sms:{template}:%'"
        )


@pytest.fixture
def desk(platform: Platform) -> Desk:
    return Desk(platform)


def test_an_officer_lists_and_opens_only_their_divisions_complaints(desk: Desk) -> None:
    client = desk.officer("div1.officer")

    listed = client.get("/portal/officer/complaints/?lang=en")
    mine = client.get(f"/portal/officer/complaints/{desk.my_number}?lang=en")
    theirs = client.get(f"/portal/officer/complaints/{desk.their_number}")
    acted = desk.post(client, desk.their_number, "take_up")

    assert listed.status_code == 200
    assert desk.my_number in listed.text
    assert desk.their_number not in listed.text
    assert mine.status_code == 200
    assert "The meter display is blank." in mine.text
    assert 'id="check-meter">02-07-2025' in mine.text  # the next working day
    assert theirs.status_code == 404
    assert "Secret of division 2" not in theirs.text
    assert getattr(acted, "status_code", None) == 404
    assert desk.sms_count("complaint_taken_up") == 0
    assert 'href="/portal/officer/complaints/"' in listed.text  # the nav link


def test_an_officer_takes_up_notes_and_resolves_through_the_forms(desk: Desk) -> None:
    client = desk.officer("div1.officer")

    taken = desk.post(client, desk.my_number, "take_up")
    noted = desk.post(client, desk.my_number, "note", "Lineman visits tomorrow.")
    refused = desk.post(client, desk.my_number, "resolve", "  ")
    resolved = desk.post(client, desk.my_number, "resolve", "Meter replaced.")

    assert [getattr(r, "status_code", None) for r in (taken, noted, refused, resolved)] == [
        200,
        200,
        422,
        200,
    ]
    assert 'data-status="resolved"' in getattr(resolved, "text", "")
    assert "Meter replaced." in getattr(resolved, "text", "")
    assert desk.sms_count("complaint_taken_up") == 1
    assert desk.sms_count("complaint_updated") == 1
    assert desk.sms_count("complaint_resolved") == 1
    assert (
        desk.platform.count("SELECT count(*) FROM audit_log WHERE action LIKE 'complaint_%'") == 3
    )


def test_a_form_without_its_csrf_token_is_refused(desk: Desk) -> None:
    client = desk.officer("div1.officer")

    refused = client.post(f"/portal/officer/complaints/{desk.my_number}/take_up", data={})

    assert refused.status_code == 403
    assert desk.sms_count("complaint_taken_up") == 0


def test_an_auditor_reads_every_complaint_and_gets_no_forms(desk: Desk) -> None:
    client = desk.officer("auditor")

    theirs = client.get(f"/portal/officer/complaints/{desk.their_number}")
    refused = desk.post(client, desk.their_number, "take_up")

    assert theirs.status_code == 200
    assert 'id="actions"' not in theirs.text
    assert getattr(refused, "status_code", None) == 403
    assert desk.sms_count("complaint_taken_up") == 0


def test_the_consumer_sees_the_officers_steps_and_may_reopen(desk: Desk) -> None:
    officer = desk.officer("div1.officer")
    desk.post(officer, desk.my_number, "note", "Lineman visits tomorrow.")
    desk.post(officer, desk.my_number, "resolve", "Meter replaced.")
    consumer = portal_client(desk.platform)
    log_in_consumer(desk.platform, consumer, MOBILE)
    path = f"/portal/accounts/{desk.mine}/complaints/{desk.my_number}"

    page = consumer.get(f"{path}?lang=hi")
    reopened = consumer.post(
        f"{path}/reopen", data={"note": "still blank", "csrf_token": csrf_of(page)}
    )
    after = consumer.get(f"{path}?lang=en")

    assert "Lineman visits tomorrow." in page.text
    assert "Meter replaced." in page.text
    assert "जाँच मीटर" in page.text  # the check meter day, in Hindi
    assert 'id="reopen"' in page.text
    assert reopened.status_code == 200
    assert 'data-status="in_progress"' in after.text
    assert "Reopened" in after.text
    assert 'id="reopen"' not in after.text
    assert desk.sms_count("complaint_reopened") == 1


def test_a_high_deduction_complaint_shows_use_beside_similar_households(
    platform: Platform,
) -> None:
    desk = Desk(platform, category="other")
    peer = new_account(platform.engine, platform.clock)
    with platform.engine.begin() as db:
        for account_id, used_wh in ((desk.mine, 12_000), (peer, 4_000)):
            db.execute(
                insert(daily_usage).values(
                    account_id=account_id,
                    usage_day=date(2025, 6, 30),
                    meter_id=f"M-{account_id}",
                    used_wh=used_wh,
                    method="average",
                    max_demand_w=0,
                    band_wh={},
                    flags=[],
                    note="",
                    computed_at=platform.clock.now(),
                )
            )
    number = file_complaint(
        FileComplaint(desk.mine, MOBILE, "high_deduction", "Too much deducted", "", "form-2"),
        SqlUnitOfWork(platform.engine),
        platform.clock,
        TARIFFS,
        POLICIES,
    ).complaint.number
    client = desk.officer("div1.officer")

    page = client.get(f"/portal/officer/complaints/{number}?lang=en")

    assert page.status_code == 200
    assert "Daily use beside similar households (DS-II" in page.text
    row = page.text[page.text.index('data-day="2025-06-30"') :]
    row = row[: row.index("</tr>")]
    assert "12.00" in row
    assert "4.00" in row
    assert "(1)" in row  # one similar household
    assert 'id="check-meter">02-07-2025' in page.text
