"""Consumer care on SQLite and PostgreSQL: complaints, alert preferences, and a new mobile
or e-mail confirmed by a one-time code."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, time, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.exc import IntegrityError

from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.tables import accounts, complaints, contact_changes, outbox
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.domain.access import CodeExpired, LockedOut, WrongCode
from prepaidgrid.domain.complaints import ComplaintStatus, InvalidComplaint
from prepaidgrid.domain.errors import InvalidInput, UnknownAccount
from prepaidgrid.domain.notifications import AlertPreferences, ContactKind
from prepaidgrid.services.access import (
    RequestCode,
    VerifyCode,
    request_login_code,
    verify_login_code,
    visitor_of,
)
from prepaidgrid.services.care import (
    FileComplaint,
    RequestContactCode,
    SaveAlertPreferences,
    VerifyContactCode,
    alert_preferences_of,
    complaint_of,
    complaints_of,
    file_complaint,
    request_contact_code,
    save_alert_preferences,
    verify_contact_code,
)
from tests.conftest import ist
from tests.integration.accounts_support import POLICIES, TARIFFS, new_account

pytestmark = pytest.mark.integration

SECRET = b"care-test-secret"
MOBILE = "9876500001"  # accounts_support's consumers are registered to it
NEW_MOBILE = "9123400002"


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(ist(2025, 7, 1, 9))


def _file(
    engine: Engine,
    clock: SettableClock,
    account_id: str,
    category: str = "meter_fault",
    description: str = "The meter display is blank.",
    key: str = "form-1",
    mobile: str = MOBILE,
) -> Any:
    return file_complaint(
        FileComplaint(account_id, mobile, category, description, "", key),
        SqlUnitOfWork(engine),
        clock,
        TARIFFS,
        POLICIES,
    )


def _payloads(engine: Engine, template: str) -> list[dict[str, Any]]:
    with engine.connect() as db:
        return [
            p
            for p in db.execute(select(outbox.c.payload).order_by(outbox.c.id)).scalars()
            if p.get("template") == template
        ]


def _count(engine: Engine, sql: str) -> int:
    with engine.connect() as db:
        return int(db.execute(text(sql)).scalar_one())


# -- complaints ---------------------------------------------------------------------------------


def test_a_filed_complaint_is_numbered_open_due_and_acknowledged_by_sms(
    engine: Engine, clock: SettableClock
) -> None:
    account_id = new_account(engine, clock)

    filed = _file(engine, clock, account_id)

    c = filed.complaint
    assert filed.is_new
    assert c.number == f"CMP-{c.complaint_id:06d}"
    assert (c.status, c.opened_at, c.due_on) == (
        ComplaintStatus.OPEN,
        ist(2025, 7, 1, 9),
        date(2025, 7, 4),
    )
    [sms] = _payloads(engine, "complaint_received")
    assert sms["mobile"] == MOBILE
    assert sms["language"] == "hi"
    assert c.number in sms["text"]
    assert "04-07-2025" in sms["text"]
    detail = complaint_of(account_id, MOBILE, c.number, SqlUnitOfWork(engine))
    assert detail.complaint == c
    assert [(e.actor, e.from_status, e.to_status) for e in detail.events] == [
        ("consumer", None, ComplaintStatus.OPEN)
    ]


@pytest.mark.parametrize(
    ("category", "due_on"),
    [
        ("recharge_not_credited", date(2025, 7, 8)),
        ("high_deduction", date(2025, 7, 8)),
        ("not_reconnected", date(2025, 7, 4)),
        ("meter_fault", date(2025, 7, 4)),
        ("mobile_change", date(2025, 7, 8)),
        ("other", date(2025, 7, 8)),
    ],
)
def test_the_due_day_follows_the_category(
    engine: Engine, clock: SettableClock, category: str, due_on: date
) -> None:
    account_id = new_account(engine, clock)

    filed = _file(engine, clock, account_id, category)

    assert filed.complaint.due_on == due_on


def test_the_same_form_submitted_twice_files_one_complaint(
    engine: Engine, clock: SettableClock
) -> None:
    account_id = new_account(engine, clock)

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: _file(engine, clock, account_id), range(2)))

    assert sorted(r.is_new for r in results) == [False, True]
    assert results[0].complaint.complaint_id == results[1].complaint.complaint_id
    assert _count(engine, "SELECT count(*) FROM complaints") == 1
    assert len(_payloads(engine, "complaint_received")) == 1


def test_a_consumer_sees_their_complaints_newest_first(
    engine: Engine, clock: SettableClock
) -> None:
    account_id = new_account(engine, clock)
    first = _file(engine, clock, account_id, key="a").complaint
    clock.advance(timedelta(hours=1))
    second = _file(engine, clock, account_id, "high_deduction", key="b").complaint

    listed = complaints_of(account_id, MOBILE, SqlUnitOfWork(engine))

    assert [c.number for c in listed] == [second.number, first.number]


def test_a_bad_complaint_is_refused_and_writes_nothing(
    engine: Engine, clock: SettableClock
) -> None:
    account_id = new_account(engine, clock)

    for category, description in (("meter_fault", " "), ("meter_fault", "a\x07b"), ("x", "t")):
        with pytest.raises(InvalidComplaint):
            _file(engine, clock, account_id, category, description)

    assert _count(engine, "SELECT count(*) FROM complaints") == 0
    assert _payloads(engine, "complaint_received") == []


def test_another_consumers_account_and_complaints_are_unknown(
    engine: Engine, clock: SettableClock
) -> None:
    mine = new_account(engine, clock)
    theirs = new_account(engine, clock, mobile="9123456780")
    their_complaint = _file(engine, clock, theirs, mobile="9123456780").complaint

    with pytest.raises(UnknownAccount):
        _file(engine, clock, theirs)
    with pytest.raises(UnknownAccount):
        complaints_of(theirs, MOBILE, SqlUnitOfWork(engine))
    with pytest.raises(UnknownAccount):
        complaint_of(mine, MOBILE, their_complaint.number, SqlUnitOfWork(engine))
    with pytest.raises(UnknownAccount):
        complaint_of(mine, MOBILE, "CMP-999999", SqlUnitOfWork(engine))


def test_the_database_refuses_a_complaint_the_domain_would_refuse(
    engine: Engine, clock: SettableClock
) -> None:
    account_id = new_account(engine, clock)
    at = clock.now()
    row = {
        "account_id": account_id,
        "client_key": "k",
        "category": "meter_fault",
        "description": "text",
        "status": "open",
        "opened_at": at,
        "due_on": date(2025, 7, 4),
        "updated_at": at,
    }

    for wrong in ({"description": ""}, {"description": "x" * 2001}, {"category": "fast"}):
        with pytest.raises(IntegrityError), engine.begin() as db:
            db.execute(insert(complaints).values({**row, **wrong}))
    with pytest.raises(IntegrityError), engine.begin() as db:
        db.execute(insert(complaints).values({**row, "status": "forgotten"}))


# -- alert preferences --------------------------------------------------------------------------


def test_an_account_without_preferences_has_the_defaults(
    engine: Engine, clock: SettableClock
) -> None:
    account_id = new_account(engine, clock)

    with SqlUnitOfWork(engine) as uow:
        assert uow.care.preferences(account_id) == AlertPreferences()


def test_saved_preferences_are_read_back_and_saved_again(
    engine: Engine, clock: SettableClock
) -> None:
    account_id = new_account(engine, clock)
    chosen = AlertPreferences(
        is_daily_summary_on=True,
        low_balance_paise=25_000,
        quiet_from=time(23, 30),
        quiet_until=time(6, 15),
    )
    save = SaveAlertPreferences(account_id, MOBILE, AlertPreferences(is_sms_on=False))
    save_alert_preferences(save, SqlUnitOfWork(engine), clock)

    save_alert_preferences(
        SaveAlertPreferences(account_id, MOBILE, chosen), SqlUnitOfWork(engine), clock
    )

    assert alert_preferences_of(account_id, MOBILE, SqlUnitOfWork(engine)).preferences == chosen
    assert _count(engine, "SELECT count(*) FROM alert_preferences") == 1


def test_email_alerts_need_an_email_address(engine: Engine, clock: SettableClock) -> None:
    account_id = new_account(engine, clock)
    by_email = AlertPreferences(is_email_on=True)

    with pytest.raises(InvalidInput):
        save_alert_preferences(
            SaveAlertPreferences(account_id, MOBILE, by_email), SqlUnitOfWork(engine), clock
        )
    _set_email(engine, account_id, "ram@example.in")
    save_alert_preferences(
        SaveAlertPreferences(account_id, MOBILE, by_email), SqlUnitOfWork(engine), clock
    )

    assert alert_preferences_of(account_id, MOBILE, SqlUnitOfWork(engine)).preferences.is_email_on


def _set_email(engine: Engine, account_id: str, email: str) -> None:
    with engine.begin() as db:
        db.execute(accounts.update().where(accounts.c.account_id == account_id).values(email=email))


# -- a new mobile or e-mail address -------------------------------------------------------------


def _ask(
    engine: Engine,
    clock: SettableClock,
    account_id: str,
    new_value: str = NEW_MOBILE,
    kind: ContactKind = ContactKind.MOBILE,
) -> str:
    request_contact_code(
        RequestContactCode(account_id, MOBILE, kind, new_value),
        SqlUnitOfWork(engine),
        clock,
        SECRET,
    )
    return str(_payloads(engine, "contact_code")[-1]["params"]["code"])


def _verify(
    engine: Engine,
    clock: SettableClock,
    account_id: str,
    code: str,
    kind: ContactKind = ContactKind.MOBILE,
    session: str | None = None,
) -> Any:
    return verify_contact_code(
        VerifyContactCode(account_id, MOBILE, kind, code, session),
        SqlUnitOfWork(engine),
        clock,
        SECRET,
    )


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def _mobile_of(engine: Engine, account_id: str) -> str:
    with engine.connect() as db:
        query = select(accounts.c.mobile).where(accounts.c.account_id == account_id)
        return str(db.execute(query).scalar_one())


def test_a_new_mobile_gets_the_code_and_changes_only_once_it_is_typed(
    engine: Engine, clock: SettableClock
) -> None:
    account_id = new_account(engine, clock)

    code = _ask(engine, clock, account_id)

    [sent] = _payloads(engine, "contact_code")
    assert sent["mobile"] == NEW_MOBILE
    assert code in sent["text"]
    assert _mobile_of(engine, account_id) == MOBILE
    changed = _verify(engine, clock, account_id, code)
    assert (changed.old_value, changed.new_value) == (MOBILE, NEW_MOBILE)
    assert _mobile_of(engine, account_id) == NEW_MOBILE
    with engine.connect() as db:
        recorded = db.execute(select(contact_changes)).mappings().one()
    assert (recorded["kind"], recorded["old_value"], recorded["new_value"]) == (
        "mobile",
        MOBILE,
        NEW_MOBILE,
    )
    [told] = _payloads(engine, "mobile_changed")
    assert told["mobile"] == MOBILE  # the old number hears of it
    assert NEW_MOBILE not in told["text"]  # masked


def test_a_wrong_code_is_refused_and_changes_nothing(engine: Engine, clock: SettableClock) -> None:
    account_id = new_account(engine, clock)
    code = _ask(engine, clock, account_id)

    with pytest.raises(WrongCode) as refused:
        _verify(engine, clock, account_id, _wrong(code))

    assert refused.value.tries_left == 4
    assert _mobile_of(engine, account_id) == MOBILE
    assert _verify(engine, clock, account_id, code).new_value == NEW_MOBILE


def test_a_code_expires_and_is_good_once(engine: Engine, clock: SettableClock) -> None:
    account_id = new_account(engine, clock)
    code = _ask(engine, clock, account_id)
    clock.advance(timedelta(minutes=5))

    with pytest.raises(CodeExpired):
        _verify(engine, clock, account_id, code)
    fresh = _ask(engine, clock, account_id)
    _verify(engine, clock, account_id, fresh)
    with pytest.raises(UnknownAccount):  # the account is no longer this mobile's
        _verify(engine, clock, account_id, fresh)


def test_five_wrong_codes_lock_the_change_out(engine: Engine, clock: SettableClock) -> None:
    account_id = new_account(engine, clock)
    code = _ask(engine, clock, account_id)

    for _ in range(4):
        with pytest.raises(WrongCode):
            _verify(engine, clock, account_id, _wrong(code))
    with pytest.raises(LockedOut):
        _verify(engine, clock, account_id, _wrong(code))
    with pytest.raises(LockedOut):
        _verify(engine, clock, account_id, code)

    assert _mobile_of(engine, account_id) == MOBILE


def test_three_codes_in_fifteen_minutes_are_the_most(engine: Engine, clock: SettableClock) -> None:
    account_id = new_account(engine, clock)
    for _ in range(3):
        _ask(engine, clock, account_id)

    with pytest.raises(LockedOut):
        _ask(engine, clock, account_id)

    assert len(_payloads(engine, "contact_code")) == 3


def test_a_code_for_one_account_does_not_change_another(
    engine: Engine, clock: SettableClock
) -> None:
    first = new_account(engine, clock)
    second = new_account(engine, clock)
    code = _ask(engine, clock, first)

    with pytest.raises(CodeExpired):  # the second account has no code at all
        _verify(engine, clock, second, code)

    assert _mobile_of(engine, second) == MOBILE


def test_the_current_number_is_refused_and_a_shared_one_is_allowed(
    engine: Engine, clock: SettableClock
) -> None:
    account_id = new_account(engine, clock)
    new_account(engine, clock, mobile=NEW_MOBILE)  # a family member's connection

    with pytest.raises(InvalidInput):
        _ask(engine, clock, account_id, MOBILE)
    _verify(engine, clock, account_id, _ask(engine, clock, account_id))

    assert _mobile_of(engine, account_id) == NEW_MOBILE


def test_after_the_change_the_session_and_a_new_login_both_work(
    engine: Engine, clock: SettableClock
) -> None:
    account_id = new_account(engine, clock)
    request_login_code(RequestCode(MOBILE), SqlUnitOfWork(engine), clock, SECRET)
    login_code = _payloads(engine, "login_code")[-1]["params"]["code"]
    session = verify_login_code(
        VerifyCode(MOBILE, login_code), SqlUnitOfWork(engine), clock, SECRET
    )

    _verify(
        engine,
        clock,
        account_id,
        _ask(engine, clock, account_id),
        session=session.session.token_digest,
    )

    visitor = visitor_of(session.token, SqlUnitOfWork(engine), clock)
    assert visitor is not None
    assert visitor.mobile == NEW_MOBILE
    request_login_code(RequestCode(NEW_MOBILE), SqlUnitOfWork(engine), clock, SECRET)
    sent = [p for p in _payloads(engine, "login_code") if p["mobile"] == NEW_MOBILE]
    assert len(sent) == 1  # the new number is registered now
    again = verify_login_code(
        VerifyCode(NEW_MOBILE, sent[0]["params"]["code"]), SqlUnitOfWork(engine), clock, SECRET
    )
    assert again.session.subject == NEW_MOBILE


def test_a_new_email_gets_its_code_by_email(engine: Engine, clock: SettableClock) -> None:
    account_id = new_account(engine, clock)

    code = _ask(engine, clock, account_id, "Ram@Example.IN", ContactKind.EMAIL)
    changed = _verify(engine, clock, account_id, code, ContactKind.EMAIL)

    with engine.connect() as db:
        [payload] = db.execute(select(outbox.c.payload).where(outbox.c.kind == "email")).scalars()
        email = db.execute(
            select(accounts.c.email).where(accounts.c.account_id == account_id)
        ).scalar_one()
    assert payload["to"] == "Ram@example.in"
    assert payload["subject"]
    assert code in payload["text"]
    assert (changed.old_value, changed.new_value, email) == (
        None,
        "Ram@example.in",
        "Ram@example.in",
    )
    assert _payloads(engine, "email_changed")[0]["mobile"] == MOBILE
