"""The consumer and officer JSON APIs on SQLite and PostgreSQL: bearer sessions, one's
own accounts only, division scope, the manual actions and their errors."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.adapters.passwords import Argon2Hasher
from prepaidgrid.domain.access import Role
from prepaidgrid.domain.accounts import OrgLevel, OrgUnit
from prepaidgrid.services.access import AddOfficer, add_officer
from prepaidgrid.services.onboarding import add_org_units
from tests.integration.accounts_support import cut_off_account, new_account
from tests.integration.api_support import Platform
from tests.integration.portal_support import latest_code

MOBILE = "9876500001"
PASSWORD = "a long passphrase"


def _consumer_token(platform: Platform, mobile: str = MOBILE) -> dict[str, str]:
    client = platform.client
    asked = client.post("/api/v1/consumer/login-codes", json={"mobile": mobile})
    assert asked.status_code == 202, asked.text
    session = client.post(
        "/api/v1/consumer/sessions",
        json={"mobile": mobile, "code": latest_code(platform, mobile)},
    )
    assert session.status_code == 201, session.text
    return {"Authorization": f"Bearer {session.json()['token']}"}


def _officer_token(client: TestClient, username: str) -> dict[str, str]:
    session = client.post(
        "/api/v1/officer/sessions", json={"username": username, "password": PASSWORD}
    )
    assert session.status_code == 201, session.text
    return {"Authorization": f"Bearer {session.json()['token']}"}


def _second_division(platform: Platform) -> str:
    add_org_units(
        [
            OrgUnit("DIV-2", OrgLevel.DIVISION, "Division 2", parent_code="CIR-1"),
            OrgUnit("SUB-2", OrgLevel.SUBDIVISION, "Sub 2", parent_code="DIV-2"),
        ],
        SqlUnitOfWork(platform.engine),
    )
    return new_account(
        platform.engine, platform.clock, 40_000, mobile="9123456780", subdivision="SUB-2"
    )


def _officers(platform: Platform) -> None:
    hasher = Argon2Hasher(time_cost=1, memory_cost_kib=8_192)
    for officer_id, role, divisions in (
        ("div1.officer", Role.DIVISION_OFFICER, ["DIV-1"]),
        ("auditor", Role.AUDITOR, []),
    ):
        add_officer(
            AddOfficer(officer_id, officer_id, role, divisions, PASSWORD),
            SqlUnitOfWork(platform.engine),
            platform.clock,
            hasher,
        )


def test_a_consumer_reads_only_their_own_accounts(platform: Platform) -> None:
    mine = new_account(platform.engine, platform.clock, 25_000)
    theirs = _second_division(platform)
    headers = _consumer_token(platform)

    listed = platform.client.get("/api/v1/consumer/accounts", headers=headers)
    own = platform.client.get(f"/api/v1/consumer/accounts/{mine}", headers=headers)
    other = platform.client.get(f"/api/v1/consumer/accounts/{theirs}", headers=headers)
    other_use = platform.client.get(
        f"/api/v1/consumer/accounts/{theirs}/daily-use", headers=headers
    )

    assert [a["account_id"] for a in listed.json()] == [mine]
    assert own.json()["wallet_paise"] == 25_000
    assert own.json()["supply_state"] == "connected"
    assert other.status_code == other_use.status_code == 404
    assert other.headers["content-type"] == "application/problem+json"


def test_no_token_or_a_logged_out_token_is_401(platform: Platform) -> None:
    new_account(platform.engine, platform.clock, 25_000)
    headers = _consumer_token(platform)

    ended = platform.client.delete("/api/v1/consumer/sessions/current", headers=headers)
    after = platform.client.get("/api/v1/consumer/accounts", headers=headers)
    none = platform.client.get("/api/v1/consumer/accounts")

    assert ended.status_code == 204
    assert after.status_code == none.status_code == 401


def test_a_wrong_code_is_401_and_guessing_is_429(platform: Platform) -> None:
    new_account(platform.engine, platform.clock, 25_000)
    platform.client.post("/api/v1/consumer/login-codes", json={"mobile": MOBILE})
    right = latest_code(platform, MOBILE)
    wrong = [f"{n:06d}" for n in range(10) if f"{n:06d}" != right]

    statuses = [
        platform.client.post(
            "/api/v1/consumer/sessions", json={"mobile": MOBILE, "code": code}
        ).status_code
        for code in wrong[:6]
    ]

    assert statuses == [401, 401, 401, 401, 429, 429]


def test_an_officer_sees_and_acts_in_their_division_only(platform: Platform) -> None:
    cut = cut_off_account(platform.engine, platform.clock)
    theirs = _second_division(platform)
    _officers(platform)
    headers = _officer_token(platform.client, "div1.officer")

    dashboard = platform.client.get("/api/v1/officer/dashboard", headers=headers)
    other = platform.client.get(f"/api/v1/officer/accounts/{theirs}", headers=headers)
    act_elsewhere = platform.client.post(
        f"/api/v1/officer/accounts/{theirs}/reconnect",
        json={"reason": "trying my luck"},
        headers=headers,
    )
    reconnected = platform.client.post(
        f"/api/v1/officer/accounts/{cut}/reconnect",
        json={"reason": "paid at the office"},
        headers=headers,
    )

    assert [d["division_code"] for d in dashboard.json()["divisions"]] == ["DIV-1"]
    assert other.status_code == act_elsewhere.status_code == 404
    assert reconnected.status_code == 200, reconnected.text
    assert reconnected.json()["supply_state"] == "reconnect_sent"


def test_the_rules_and_the_roles_are_enforced_through_the_api(platform: Platform) -> None:
    mine = new_account(platform.engine, platform.clock, 25_000)
    _officers(platform)
    officer = _officer_token(platform.client, "div1.officer")
    auditor = _officer_token(platform.client, "auditor")
    request_id = uuid.uuid4().hex

    cut = platform.client.post(
        f"/api/v1/officer/accounts/{mine}/disconnect", json={"reason": "no"}, headers=officer
    )
    cut_for_reason = platform.client.post(
        f"/api/v1/officer/accounts/{mine}/disconnect",
        json={"reason": "suspected theft"},
        headers=officer,
    )
    adjusted = [
        platform.client.post(
            f"/api/v1/officer/accounts/{mine}/adjustments",
            json={
                "amount_paise": 5_000,
                "reason": "double charge refunded",
                "request_id": request_id,
            },
            headers=officer,
        )
        for _ in range(2)
    ]
    auditor_acts = platform.client.post(
        f"/api/v1/officer/accounts/{mine}/reconnect",
        json={"reason": "just looking"},
        headers=auditor,
    )
    officer_reads_audit = platform.client.get("/api/v1/officer/audit", headers=officer)
    audit = platform.client.get("/api/v1/officer/audit", headers=auditor)

    assert cut.status_code == 422  # a reason of 5 characters at least
    assert cut_for_reason.status_code == 409  # the rules do not allow a cut: balance > 0
    assert [a.json()["wallet_paise"] for a in adjusted] == [30_000, 30_000]
    assert auditor_acts.status_code == officer_reads_audit.status_code == 403
    assert [e["action"] for e in audit.json()].count("adjust_balance") == 1


def test_control_characters_are_refused_not_a_server_error(platform: Platform) -> None:
    mine = new_account(platform.engine, platform.clock, 25_000)
    _officers(platform)
    headers = _officer_token(platform.client, "div1.officer")
    client = TestClient(platform.client.app, raise_server_exceptions=False)

    answers = [
        client.post("/api/v1/officer/sessions", json={"username": "ad\x00min", "password": "x"}),
        client.get("/api/v1/officer/accounts", params={"q": "A\x00"}, headers=headers),
        client.get("/api/v1/officer/accounts/A%00B", headers=headers),
        client.post(
            f"/api/v1/officer/accounts/{mine}/reconnect",
            json={"reason": "paid\x00 at the office"},
            headers=headers,
        ),
    ]

    assert [a.status_code for a in answers] == [422, 422, 422, 422]
