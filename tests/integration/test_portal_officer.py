"""The officers' portal over HTTP on SQLite and PostgreSQL: division scope, the manual
actions with their reasons and audit, and what each role may do."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from prepaidgrid.adapters.db.tables import audit_log, outbox
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.adapters.db.verify import verify_ledger
from prepaidgrid.adapters.passwords import Argon2Hasher
from prepaidgrid.domain.access import Role
from prepaidgrid.domain.accounts import OrgLevel, OrgUnit
from prepaidgrid.services.access import AddOfficer, add_officer
from prepaidgrid.services.onboarding import add_org_units
from tests.integration.accounts_support import balance, cut_off_account, new_account
from tests.integration.api_support import Platform
from tests.integration.portal_support import csrf_of, log_in_officer, portal_client

HASHER = Argon2Hasher(time_cost=1, memory_cost_kib=8_192)
PASSWORD = "a long passphrase"


class Offices:
    """Division 1 (DIV-1 > SUB-1) and division 2 (DIV-2 > SUB-2), an account in each, and
    officers: one per division, an auditor and an admin."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.mine = new_account(platform.engine, platform.clock, 30_000)
        add_org_units(
            [
                OrgUnit("DIV-2", OrgLevel.DIVISION, "Division 2", parent_code="CIR-1"),
                OrgUnit("SUB-2", OrgLevel.SUBDIVISION, "Sub 2", parent_code="DIV-2"),
            ],
            SqlUnitOfWork(platform.engine),
        )
        self.theirs = new_account(
            platform.engine, platform.clock, 40_000, mobile="9123456780", subdivision="SUB-2"
        )
        for officer_id, role, divisions in (
            ("div1.officer", Role.DIVISION_OFFICER, ["DIV-1"]),
            ("div2.officer", Role.DIVISION_OFFICER, ["DIV-2"]),
            ("auditor", Role.AUDITOR, []),
            ("admin", Role.ADMIN, []),
        ):
            add_officer(
                AddOfficer(officer_id, officer_id.title(), role, divisions, PASSWORD),
                SqlUnitOfWork(platform.engine),
                platform.clock,
                HASHER,
            )

    def client(self, officer_id: str) -> TestClient:
        client = portal_client(self.platform)
        landed = log_in_officer(client, officer_id, PASSWORD)
        assert landed.status_code == 200, landed.text
        return client

    def post(self, client: TestClient, path: str, **data: str) -> object:
        token = csrf_of(client.get("/portal/officer/"))
        return client.post(path, data={**data, "csrf_token": token})


@pytest.fixture
def offices(platform: Platform) -> Offices:
    return Offices(platform)


def test_an_officer_cannot_open_another_divisions_consumer(offices: Offices) -> None:
    client = offices.client("div1.officer")

    own = client.get(f"/portal/officer/accounts/{offices.mine}")
    other = client.get(f"/portal/officer/accounts/{offices.theirs}")
    searched = client.get(f"/portal/officer/search?q={offices.theirs}")
    by_mobile = client.get("/portal/officer/search?q=9123456780")

    assert own.status_code == 200
    assert other.status_code == 404
    assert "₹400.00" not in other.text
    assert f"/portal/officer/accounts/{offices.theirs}" not in searched.text
    assert f"/portal/officer/accounts/{offices.theirs}" not in by_mobile.text


def test_an_officer_finds_their_consumers_by_id_mobile_and_name(offices: Offices) -> None:
    client = offices.client("div1.officer")

    pages = [
        client.get(f"/portal/officer/search?q={query}")
        for query in (offices.mine, offices.mine[:5], "9876500001", "tes")
    ]

    for page in pages:
        assert page.status_code == 200
        assert f'href="/portal/officer/accounts/{offices.mine}"' in page.text
        assert "₹300.00" in page.text


def test_the_dashboard_shows_the_officers_divisions_only(offices: Offices) -> None:
    mine = offices.client("div1.officer").get("/portal/officer/")
    everything = offices.client("admin").get("/portal/officer/")

    assert mine.status_code == 200
    assert "Division 1" in mine.text
    assert "Division 2" not in mine.text
    assert "Division 1" in everything.text
    assert "Division 2" in everything.text


def test_a_manual_reconnect_needs_a_reason_and_is_audited(platform: Platform) -> None:
    offices = Offices(platform)
    cut = cut_off_account(platform.engine, platform.clock)
    client = offices.client("div1.officer")
    commands_before = platform.count("SELECT count(*) FROM outbox WHERE kind = 'relay_command'")

    refused = offices.post(client, f"/portal/officer/accounts/{cut}/reconnect", reason="  ")
    done = offices.post(
        client,
        f"/portal/officer/accounts/{cut}/reconnect",
        reason="consumer paid at the office, receipt 42",
    )

    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert done.status_code == 200  # type: ignore[attr-defined]
    with platform.engine.connect() as db:
        actions = (
            db.execute(
                select(outbox.c.payload["action"].as_string()).where(
                    outbox.c.kind == "relay_command"
                )
            )
            .scalars()
            .all()
        )
        audited = db.execute(
            select(audit_log.c.actor, audit_log.c.reason).where(audit_log.c.action == "reconnect")
        ).all()
    assert len(actions) == commands_before + 1
    assert actions[-1] == "reconnect"
    assert audited == [("div1.officer", "consumer paid at the office, receipt 42")]


def test_nobody_is_cut_by_hand_while_the_rules_forbid_it(offices: Offices) -> None:
    platform = offices.platform
    client = offices.client("div1.officer")
    commands_before = platform.count("SELECT count(*) FROM outbox WHERE kind = 'relay_command'")

    refused = offices.post(
        client, f"/portal/officer/accounts/{offices.mine}/disconnect", reason="suspected theft"
    )

    assert refused.status_code == 409  # type: ignore[attr-defined]
    assert "the rules do not allow a cut" in refused.text  # type: ignore[attr-defined]
    assert platform.count("SELECT count(*) FROM outbox WHERE kind = 'relay_command'") == (
        commands_before
    )
    assert platform.count("SELECT count(*) FROM audit_log WHERE action = 'disconnect'") == 0


def test_an_adjustment_posts_once_per_form_and_keeps_the_books(offices: Offices) -> None:
    platform = offices.platform
    client = offices.client("div1.officer")
    page = client.get(f"/portal/officer/accounts/{offices.mine}")
    form = {
        "csrf_token": csrf_of(page),
        "request_id": re.search(r'name="request_id" value="([^"]+)"', page.text).group(1),  # type: ignore[union-attr]
        "amount_rupees": "-75.50",
        "reason": "meter tested fast: refund of overcharge reversed",
    }

    first = client.post(f"/portal/officer/accounts/{offices.mine}/adjust", data=form)
    again = client.post(f"/portal/officer/accounts/{offices.mine}/adjust", data=form)

    assert first.status_code == again.status_code == 200
    assert balance(platform.engine, offices.mine) == 30_000 - 7_550
    assert platform.count("SELECT count(*) FROM journals WHERE kind = 'adjustment'") == 1
    assert platform.count("SELECT count(*) FROM audit_log WHERE action = 'adjust_balance'") == 1
    assert verify_ledger(platform.engine).ok


def test_an_auditor_reads_everything_and_changes_nothing(offices: Offices) -> None:
    platform = offices.platform
    client = offices.client("auditor")

    page = client.get(f"/portal/officer/accounts/{offices.theirs}")
    audit = client.get("/portal/officer/audit")
    tried = offices.post(
        client, f"/portal/officer/accounts/{offices.theirs}/reconnect", reason="just looking"
    )

    assert page.status_code == 200
    assert 'id="actions"' not in page.text
    assert audit.status_code == 200
    assert "div1.officer" not in audit.text  # nobody else has logged in here
    assert "auditor" in audit.text
    assert tried.status_code == 403  # type: ignore[attr-defined]
    assert platform.count("SELECT count(*) FROM audit_log WHERE action = 'reconnect'") == 0


def test_a_division_officer_may_not_read_the_audit_log(offices: Offices) -> None:
    assert offices.client("div1.officer").get("/portal/officer/audit").status_code == 403


def test_officer_forms_need_their_csrf_token(offices: Offices) -> None:
    client = offices.client("div1.officer")

    refused = client.post(
        f"/portal/officer/accounts/{offices.mine}/adjust",
        data={"amount_rupees": "100", "reason": "no token here", "request_id": "x" * 16},
    )

    assert refused.status_code == 403
    assert offices.platform.count("SELECT count(*) FROM journals WHERE kind = 'adjustment'") == 0


def test_a_consumer_session_does_not_open_officer_pages(offices: Offices) -> None:
    from tests.integration.portal_support import log_in_consumer

    client = portal_client(offices.platform)
    log_in_consumer(offices.platform, client, "9876500001")

    page = client.get("/portal/officer/", follow_redirects=False)

    assert page.status_code == 303
    assert page.headers["location"] == "/portal/officer/login"


def test_the_health_page_shows_each_check(offices: Offices) -> None:
    page = offices.client("admin").get("/portal/officer/health")

    assert page.status_code == 200
    assert 'data-ok="yes"' in page.text  # the database answers
    for name in ("database", "head-end", "billing run", "safe mode"):
        assert name in page.text


def test_every_officer_page_says_what_is_down_and_consumers_see_safe_mode(
    offices: Offices,
) -> None:
    from prepaidgrid.services.platform import SetSafeMode, set_safe_mode
    from tests.integration.portal_support import log_in_consumer

    platform = offices.platform
    officer = offices.client("admin")
    consumer = portal_client(platform)
    log_in_consumer(platform, consumer, "9876500001")
    calm = consumer.get("/portal/", follow_redirects=True)

    set_safe_mode(
        SetSafeMode(True, "gateway down since 08:00"),
        SqlUnitOfWork(platform.engine),
        platform.clock,
    )
    dashboard = officer.get("/portal/officer/")
    search = officer.get("/portal/officer/search")
    consumer_page = consumer.get("/portal/", follow_redirects=True)

    assert 'class="banner"' not in calm.text
    for page in (dashboard, search):
        banner = re.search(r'<div class="banner" role="alert">([^<]*)</div>', page.text)
        assert banner is not None
        assert "head-end" in banner.group(1)  # no meter has spoken yet
        assert "सुरक्षित मोड" in banner.group(1)  # safe mode, in Hindi by default
    assert 'class="banner"' in consumer_page.text
    assert "head-end" not in consumer_page.text  # consumers are told what concerns them


def test_an_officer_follows_a_recharge_to_its_life_in_their_division_only(
    offices: Offices,
) -> None:
    client = offices.client("div1.officer")
    account_page = client.get(f"/portal/officer/accounts/{offices.mine}")

    # new_account's opening recharge came through the app channel, referenced by the account
    own = client.get(f"/portal/officer/payments/app/{offices.mine}")
    other = client.get(f"/portal/officer/payments/app/{offices.theirs}")
    unknown = client.get("/portal/officer/payments/app/NO-SUCH-PAYMENT")

    assert f'href="/portal/officer/payments/app/{offices.mine}"' in account_page.text
    assert own.status_code == 200
    assert "credited" in own.text
    assert "₹300.00" in own.text
    assert other.status_code == unknown.status_code == 404


def test_control_characters_in_a_path_or_a_form_are_refused_not_a_server_error(
    offices: Offices,
) -> None:
    client = offices.client("div1.officer")
    raw = TestClient(offices.platform.client.app, base_url="https://testserver")
    raw.cookies = client.cookies
    anonymous = portal_client(offices.platform)
    token = csrf_of(anonymous.get("/portal/officer/login"))

    path = raw.get("/portal/officer/accounts/A%00B")
    search = raw.get("/portal/officer/search", params={"q": "Te\x00st"})
    login = anonymous.post(
        "/portal/officer/login",
        data={"username": "ad\x00min", "password": "x", "csrf_token": token},
    )
    reason = offices.post(
        client, f"/portal/officer/accounts/{offices.mine}/reconnect", reason="paid\x00 here"
    )

    assert path.status_code == 404
    assert search.status_code == 200
    assert login.status_code == 401
    assert reason.status_code in (409, 422)  # type: ignore[attr-defined]
