"""The consumer-care pages over HTTP on SQLite and PostgreSQL: complaints, alert settings,
and a new mobile number confirmed by a code, with the security a consumer relies on."""

from __future__ import annotations

from datetime import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from prepaidgrid.adapters.db.tables import outbox
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.domain.notifications import AlertPreferences
from tests.integration.accounts_support import new_account
from tests.integration.api_support import Platform
from tests.integration.portal_support import csrf_of, log_in_consumer, portal_client

pytestmark = pytest.mark.integration

MOBILE = "9876500001"
STRANGER = "9123456780"
NEW_MOBILE = "9123400002"


def _client(platform: Platform) -> TestClient:
    return portal_client(platform)


def _signed_in(platform: Platform, mobile: str = MOBILE) -> tuple[TestClient, str]:
    """A consumer with one connection, logged in; and the connection's id."""
    account_id = new_account(platform.engine, platform.clock, 10_000, mobile=mobile)
    client = _client(platform)
    log_in_consumer(platform, client, mobile)
    return client, account_id


def _file(
    client: TestClient, account_id: str, description: str, category: str = "meter_fault"
) -> str:
    """File a complaint through the page; its number."""
    page = client.get(f"/portal/accounts/{account_id}/complaints?lang=en")
    filed = client.post(
        f"/portal/accounts/{account_id}/complaints",
        data={
            "csrf_token": csrf_of(page),
            "client_key": _client_key(page.text),
            "category": category,
            "description": description,
            "payment_reference": "",
        },
        follow_redirects=False,
    )
    assert filed.status_code == 303, filed.text
    return str(filed.headers["location"]).rsplit("/", 1)[1].split("?")[0]


def _client_key(html: str) -> str:
    marker = 'name="client_key" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def test_a_consumer_files_a_complaint_and_sees_it(platform: Platform) -> None:
    client, account_id = _signed_in(platform)

    number = _file(client, account_id, "Supply is off since the recharge.", "not_reconnected")

    detail = client.get(f"/portal/accounts/{account_id}/complaints/{number}?filed=1")
    listed = client.get(f"/portal/accounts/{account_id}/complaints")
    assert detail.status_code == 200
    assert "Supply is off since the recharge." in detail.text
    assert "04-07-2025" in detail.text  # three days for supply not restored
    assert number in detail.text
    assert 'data-status="open"' in detail.text
    assert number in listed.text
    assert (
        platform.count("SELECT count(*) FROM outbox WHERE dedupe_key LIKE 'sms:complaint:%'") == 1
    )


def test_a_complaints_text_is_shown_as_text_never_as_markup(platform: Platform) -> None:
    client, account_id = _signed_in(platform)
    hostile = "<script>alert('x')</script> & <img src=x onerror=alert(1)>\nsecond line"

    number = _file(client, account_id, hostile)

    page = client.get(f"/portal/accounts/{account_id}/complaints/{number}")
    assert "&lt;script&gt;alert(" in page.text
    assert "<script>alert" not in page.text
    assert "<img src=x" not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;\nsecond line" in page.text


def test_another_consumers_account_and_complaint_are_not_found(platform: Platform) -> None:
    their_client, theirs = _signed_in(platform, STRANGER)
    their_number = _file(their_client, theirs, "Their private complaint")
    client, mine = _signed_in(platform)

    for path in (
        f"/portal/accounts/{theirs}/complaints",
        f"/portal/accounts/{theirs}/complaints/{their_number}",
        f"/portal/accounts/{mine}/complaints/{their_number}",
        f"/portal/accounts/{mine}/complaints/not-a-number",
        f"/portal/accounts/{theirs}/alerts",
        f"/portal/accounts/{theirs}/contact",
        "/portal/accounts/NO-SUCH-ACCOUNT/complaints",
    ):
        page = client.get(path)
        assert page.status_code == 404, path
        assert "Their private complaint" not in page.text
    token = csrf_of(client.get(f"/portal/accounts/{mine}/complaints"))
    posted = client.post(
        f"/portal/accounts/{theirs}/complaints",
        data={"csrf_token": token, "category": "other", "description": "x", "client_key": "k"},
    )
    assert posted.status_code == 404
    assert platform.count("SELECT count(*) FROM complaints") == 1


def test_forms_without_their_csrf_token_are_refused_and_write_nothing(platform: Platform) -> None:
    client, account_id = _signed_in(platform)
    base = f"/portal/accounts/{account_id}"

    statuses = [
        client.post(
            f"{base}/complaints",
            data={"category": "other", "description": "x", "client_key": "k"},
        ).status_code,
        client.post(f"{base}/alerts", data={"threshold_rupees": "50"}).status_code,
        client.post(
            f"{base}/contact/code",
            data={"kind": "mobile", "new_mobile": NEW_MOBILE, "csrf_token": "x" * 43},
        ).status_code,
        client.post(
            f"{base}/contact/verify", data={"kind": "mobile", "code": "123456"}
        ).status_code,
    ]

    assert statuses == [403, 403, 403, 403]
    assert platform.count("SELECT count(*) FROM complaints") == 0
    assert platform.count("SELECT count(*) FROM alert_preferences") == 0
    assert platform.count("SELECT count(*) FROM contact_codes") == 0


def test_a_bad_complaint_is_shown_again_with_the_reason(platform: Platform) -> None:
    client, account_id = _signed_in(platform)
    page = client.get(f"/portal/accounts/{account_id}/complaints?lang=en")

    refused = client.post(
        f"/portal/accounts/{account_id}/complaints",
        data={
            "csrf_token": csrf_of(page),
            "client_key": _client_key(page.text),
            "category": "",
            "description": "x" * 2001,
            "payment_reference": "",
        },
    )

    assert refused.status_code == 422
    assert "Choose what the complaint is about." in refused.text
    assert "at most 2000 characters" in refused.text
    assert platform.count("SELECT count(*) FROM complaints") == 0


def test_pages_need_a_consumer_login(platform: Platform) -> None:
    account_id = new_account(platform.engine, platform.clock, 10_000)
    client = _client(platform)

    page = client.get(f"/portal/accounts/{account_id}/complaints", follow_redirects=False)

    assert page.status_code == 303
    assert page.headers["location"] == "/portal/login"


def test_alert_settings_show_the_defaults_and_are_saved(platform: Platform) -> None:
    client, account_id = _signed_in(platform)
    form = client.get(f"/portal/accounts/{account_id}/alerts?lang=en")

    saved = client.post(
        f"/portal/accounts/{account_id}/alerts",
        data={
            "csrf_token": csrf_of(form),
            "daily_summary": "on",
            "low_balance": "on",
            "threshold_rupees": "250",
            "sms": "on",
            "quiet_from": "23:00",
            "quiet_until": "06:30",
        },
    )

    assert form.status_code == 200
    assert 'value="100"' in form.text  # ₹100 by default
    assert 'value="22:00"' in form.text
    assert "cannot be turned off" in form.text
    assert saved.status_code == 200
    assert saved.url.query == b"saved=1"
    assert 'value="250"' in saved.text
    with SqlUnitOfWork(platform.engine) as uow:
        stored = uow.care.preferences(account_id)
    assert stored == AlertPreferences(
        is_daily_summary_on=True,
        low_balance_paise=25_000,
        quiet_from=time(23, 0),
        quiet_until=time(6, 30),
    )


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"threshold_rupees": "abc"}, "amount in rupees"),
        ({"threshold_rupees": "0"}, "amount in rupees"),
        ({"quiet_from": "25:00"}, "HH:MM"),
        ({"quiet_until": "22:00"}, "different time"),
        ({"email": "on"}, "register an e-mail address first"),
    ],
)
def test_impossible_alert_settings_are_refused(
    platform: Platform, changes: dict[str, str], reason: str
) -> None:
    client, account_id = _signed_in(platform)
    form = client.get(f"/portal/accounts/{account_id}/alerts?lang=en")
    data = {"csrf_token": csrf_of(form), "threshold_rupees": "100", "sms": "on"}
    data |= {"quiet_from": "22:00", "quiet_until": "07:00"} | changes

    refused = client.post(f"/portal/accounts/{account_id}/alerts", data=data)

    assert refused.status_code == 422
    assert reason.lower() in refused.text.lower()
    assert platform.count("SELECT count(*) FROM alert_preferences") == 0


def _contact_code(platform: Platform, mobile: str) -> str:
    with platform.engine.connect() as db:
        codes = [
            p["params"]["code"]
            for p in db.execute(select(outbox.c.payload).order_by(outbox.c.id)).scalars()
            if p.get("template") == "contact_code" and p.get("mobile") == mobile
        ]
    assert codes, f"no contact code was sent to {mobile}"
    return str(codes[-1])


def test_a_consumer_changes_their_mobile_with_a_code_sent_to_the_new_one(
    platform: Platform,
) -> None:
    client, account_id = _signed_in(platform)
    base = f"/portal/accounts/{account_id}/contact"
    token = csrf_of(client.get(f"{base}?lang=en"))

    sent = client.post(
        f"{base}/code", data={"csrf_token": token, "kind": "mobile", "new_mobile": NEW_MOBILE}
    )
    code = _contact_code(platform, NEW_MOBILE)
    wrong = client.post(
        f"{base}/verify",
        data={"csrf_token": token, "kind": "mobile", "code": f"{(int(code) + 1) % 10**6:06d}"},
    )
    right = client.post(
        f"{base}/verify", data={"csrf_token": token, "kind": "mobile", "code": code}
    )

    assert sent.status_code == 200
    assert f"sent by SMS to {NEW_MOBILE}" in sent.text
    assert wrong.status_code == 422
    assert "Wrong code" in wrong.text
    assert right.status_code == 200
    assert right.url.path == base
    assert "is now 91xxxxx002" in right.text
    assert platform.count(f"SELECT count(*) FROM accounts WHERE mobile = '{NEW_MOBILE}'") == 1
    assert client.get(f"/portal/accounts/{account_id}").status_code == 200  # still logged in
    newcomer = _client(platform)
    assert (
        log_in_consumer(platform, newcomer, NEW_MOBILE).url.path == f"/portal/accounts/{account_id}"
    )


def test_a_bad_or_unchanged_number_is_refused_and_sends_nothing(platform: Platform) -> None:
    client, account_id = _signed_in(platform)
    base = f"/portal/accounts/{account_id}/contact"
    token = csrf_of(client.get(f"{base}?lang=en"))

    bad = client.post(
        f"{base}/code", data={"csrf_token": token, "kind": "mobile", "new_mobile": "12345"}
    )
    same = client.post(
        f"{base}/code", data={"csrf_token": token, "kind": "mobile", "new_mobile": MOBILE}
    )
    email = client.post(
        f"{base}/code", data={"csrf_token": token, "kind": "email", "new_email": "not-an-address"}
    )

    assert (bad.status_code, same.status_code, email.status_code) == (422, 422, 422)
    assert "10 digits" in bad.text
    assert "This is already the account" in same.text
    assert "name@example.com" in email.text
    assert platform.count("SELECT count(*) FROM contact_codes") == 0


def test_the_care_pages_speak_hindi(platform: Platform) -> None:
    client, account_id = _signed_in(platform)
    base = f"/portal/accounts/{account_id}"

    pages = [client.get(f"{base}/{path}") for path in ("complaints", "alerts", "contact")]

    assert [p.status_code for p in pages] == [200, 200, 200]
    assert all('<html lang="hi">' in p.text for p in pages)
    assert "नई शिकायत दर्ज करें" in pages[0].text
    assert "बंद नहीं किया जा सकता" in pages[1].text
    assert "नया मोबाइल नंबर" in pages[2].text
