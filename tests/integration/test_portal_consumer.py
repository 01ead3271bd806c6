"""The consumer's portal over HTTP on SQLite and PostgreSQL: login by one-time code, the
account's pages, and the security a consumer relies on."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.services.charges import PostDailyCharge, post_daily_charge
from tests.integration.accounts_support import POLICIES, TARIFFS, cut_off_account, new_account
from tests.integration.api_support import Platform
from tests.integration.portal_support import csrf_of, latest_code, log_in_consumer, portal_client

MOBILE = "9876500001"


def test_a_consumer_logs_in_with_a_code_and_lands_on_their_account(platform: Platform) -> None:
    account_id = new_account(platform.engine, platform.clock, 50_000)
    client = portal_client(platform)

    signed_in = log_in_consumer(platform, client, MOBILE)

    assert signed_in.status_code == 200
    assert signed_in.url.path == f"/portal/accounts/{account_id}"
    assert "₹500.00" in signed_in.text
    assert 'data-state="connected"' in signed_in.text


def test_the_session_cookie_is_httponly_secure_and_samesite(platform: Platform) -> None:
    new_account(platform.engine, platform.clock, 50_000)
    client = portal_client(platform)
    token = csrf_of(client.get("/portal/login"))
    client.post("/portal/login/code", data={"mobile": MOBILE, "csrf_token": token})

    verified = client.post(
        "/portal/login/verify",
        data={"mobile": MOBILE, "code": latest_code(platform, MOBILE), "csrf_token": token},
        follow_redirects=False,
    )

    cookie = verified.headers["set-cookie"].lower()
    assert cookie.startswith("pg_session=")
    assert "httponly" in cookie
    assert "secure" in cookie
    assert "samesite=lax" in cookie


def test_a_consumer_with_two_connections_chooses_between_them(platform: Platform) -> None:
    first = new_account(platform.engine, platform.clock, 10_000)
    second = new_account(platform.engine, platform.clock, 20_000)
    client = portal_client(platform)

    home = log_in_consumer(platform, client, MOBILE)

    assert home.url.path == "/portal/"
    assert f"/portal/accounts/{first}" in home.text
    assert f"/portal/accounts/{second}" in home.text


def test_another_consumers_account_is_not_found(platform: Platform) -> None:
    new_account(platform.engine, platform.clock, 10_000)
    stranger = new_account(platform.engine, platform.clock, 99_000, mobile="9123456780")
    client = portal_client(platform)
    log_in_consumer(platform, client, MOBILE)

    for path in ("", "/statement", "/recharge", "/day/2025-06-30"):
        page = client.get(f"/portal/accounts/{stranger}{path}")
        assert page.status_code == 404, path
        assert "₹990.00" not in page.text
    assert client.get("/portal/accounts/NO-SUCH-ACCOUNT").status_code == 404


def test_pages_need_a_login(platform: Platform) -> None:
    account_id = new_account(platform.engine, platform.clock, 10_000)
    client = portal_client(platform)

    page = client.get(f"/portal/accounts/{account_id}", follow_redirects=False)

    assert page.status_code == 303
    assert page.headers["location"] == "/portal/login"


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(platform: Platform) -> None:
    account_id = new_account(platform.engine, platform.clock, 10_000)
    client = portal_client(platform)
    log_in_consumer(platform, client, MOBILE)
    orders_before = platform.count("SELECT count(*) FROM payment_orders")

    missing = client.post(f"/portal/accounts/{account_id}/recharge", data={"amount_rupees": "100"})
    forged = client.post(
        f"/portal/accounts/{account_id}/recharge",
        data={"amount_rupees": "100", "csrf_token": "x" * 43},
    )
    anonymous = TestClient(platform.client.app, base_url="https://testserver").post(
        "/portal/login/code", data={"mobile": MOBILE}
    )

    assert missing.status_code == forged.status_code == anonymous.status_code == 403
    assert platform.count("SELECT count(*) FROM payment_orders") == orders_before


def test_guessing_codes_locks_the_mobile_out(platform: Platform) -> None:
    new_account(platform.engine, platform.clock, 10_000)
    client = portal_client(platform)
    token = csrf_of(client.get("/portal/login"))
    client.post("/portal/login/code", data={"mobile": MOBILE, "csrf_token": token})
    right = latest_code(platform, MOBILE)
    guesses = [f"{n:06d}" for n in range(10) if f"{n:06d}" != right][:6]

    statuses = [
        client.post(
            "/portal/login/verify", data={"mobile": MOBILE, "code": g, "csrf_token": token}
        ).status_code
        for g in guesses
    ]
    with_right_code = client.post(
        "/portal/login/verify", data={"mobile": MOBILE, "code": right, "csrf_token": token}
    )

    assert statuses == [401, 401, 401, 401, 429, 429]
    assert with_right_code.status_code == 429
    assert "pg_session" not in client.cookies


def test_a_recharge_goes_to_the_gateway_with_an_order_for_this_account(platform: Platform) -> None:
    account_id = new_account(platform.engine, platform.clock, 10_000)
    client = portal_client(platform)
    form = log_in_consumer(platform, client, MOBILE)
    token = csrf_of(client.get(f"/portal/accounts/{account_id}/recharge"))

    bad = client.post(
        f"/portal/accounts/{account_id}/recharge",
        data={"amount_rupees": "12.345", "csrf_token": token},
    )
    sent = client.post(
        f"/portal/accounts/{account_id}/recharge",
        data={"amount_rupees": "250.50", "csrf_token": token},
        follow_redirects=False,
    )

    assert form.status_code == 200
    assert bad.status_code == 422
    assert sent.status_code == 303
    assert "amount=25050" in sent.headers["location"]
    assert (
        platform.count(
            f"SELECT count(*) FROM payment_orders WHERE account_id = '{account_id}' "
            "AND amount_paise = 25050"
        )
        == 1
    )


def test_the_statement_lists_each_days_deduction(platform: Platform) -> None:
    account_id = new_account(platform.engine, platform.clock, 100_000)
    post_daily_charge(
        PostDailyCharge(account_id, date(2025, 7, 1), 8_000),
        SqlUnitOfWork(platform.engine),
        platform.clock,
        TARIFFS,
        POLICIES,
    )
    client = portal_client(platform)
    log_in_consumer(platform, client, MOBILE)

    page = client.get(f"/portal/accounts/{account_id}/statement?month=2025-07")

    assert page.status_code == 200
    assert "01-07-2025" in page.text
    assert "8.00" in page.text  # the day's kWh
    assert 'class="explain"' in page.text  # with the slab lines the posting stored


def test_a_cut_off_consumer_sees_why_and_how_to_get_supply_back(platform: Platform) -> None:
    account_id = cut_off_account(platform.engine, platform.clock)
    client = portal_client(platform)

    page = log_in_consumer(platform, client, MOBILE)

    assert page.url.path == f"/portal/accounts/{account_id}"
    assert 'data-state="disconnected"' in page.text
    assert "-₹" in page.text  # the balance below zero


def test_pages_are_in_hindi_by_default_and_english_on_request(platform: Platform) -> None:
    account_id = new_account(platform.engine, platform.clock, 10_000)
    client = portal_client(platform)
    log_in_consumer(platform, client, MOBILE)

    hindi = client.get(f"/portal/accounts/{account_id}")
    english = client.get(f"/portal/accounts/{account_id}?lang=en")
    stays = client.get(f"/portal/accounts/{account_id}")

    assert '<html lang="hi">' in hindi.text
    assert "बैलेंस" in hindi.text
    assert '<html lang="en">' in english.text
    assert "Balance" in english.text
    assert '<html lang="en">' in stays.text  # the choice is remembered
