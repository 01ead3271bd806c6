"""Portal access on SQLite and PostgreSQL: one-time codes, officer passwords, sessions, audit."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DatabaseError

from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.tables import audit_log, outbox
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.adapters.passwords import Argon2Hasher
from prepaidgrid.domain.access import AccessDenied, LockedOut, Role, SessionKind
from prepaidgrid.domain.errors import AlreadyExists, InvalidInput, NotFound
from prepaidgrid.services.access import (
    AddOfficer,
    LoggedIn,
    OfficerLogin,
    RequestCode,
    VerifyCode,
    add_officer,
    log_out,
    officer_log_in,
    request_login_code,
    verify_login_code,
    visitor_of,
)
from prepaidgrid.services.onboarding import add_org_units
from tests.conftest import ist, org_chain
from tests.integration.accounts_support import new_account

SECRET = b"portal-test-secret"
HASHER = Argon2Hasher(time_cost=1, memory_cost_kib=8_192)
MOBILE = "9876500001"  # accounts_support's consumers are registered to it


def _codes_sent(engine: Engine, mobile: str = MOBILE) -> list[str]:
    with engine.connect() as db:
        payloads = db.execute(
            select(outbox.c.payload).where(outbox.c.dedupe_key.like("sms:login_code:%"))
        ).scalars()
        return [p["params"]["code"] for p in payloads if p["mobile"] == mobile]


def _ask(engine: Engine, clock: SettableClock, mobile: str = MOBILE) -> str:
    request_login_code(RequestCode(mobile), SqlUnitOfWork(engine), clock, SECRET)
    sent = _codes_sent(engine, mobile)
    return sent[-1] if sent else ""


def _verify(engine: Engine, clock: SettableClock, code: str, mobile: str = MOBILE) -> LoggedIn:
    return verify_login_code(VerifyCode(mobile, code), SqlUnitOfWork(engine), clock, SECRET)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(ist(2025, 7, 1, 9))


def test_a_registered_consumer_logs_in_with_the_code_sent_by_sms(
    engine: Engine, clock: SettableClock
) -> None:
    new_account(engine, clock)

    code = _ask(engine, clock)
    logged_in = _verify(engine, clock, code)

    assert len(code) == 6
    visitor = visitor_of(logged_in.token, SqlUnitOfWork(engine), clock)
    assert visitor is not None
    assert visitor.mobile == MOBILE
    assert visitor.session.kind is SessionKind.CONSUMER
    assert len(logged_in.session.csrf_token) >= 32


def test_an_unknown_number_gets_the_same_answer_and_no_sms(
    engine: Engine, clock: SettableClock
) -> None:
    new_account(engine, clock)

    answer = request_login_code(RequestCode("9000000000"), SqlUnitOfWork(engine), clock, SECRET)

    assert answer.valid_minutes == 5
    assert _codes_sent(engine, "9000000000") == []
    with pytest.raises(AccessDenied):
        _verify(engine, clock, "123456", "9000000000")


def test_a_malformed_mobile_is_refused_clearly(engine: Engine, clock: SettableClock) -> None:
    with pytest.raises(InvalidInput, match="10 digits"):
        request_login_code(RequestCode("12345"), SqlUnitOfWork(engine), clock, SECRET)


def test_a_code_is_good_once_and_for_five_minutes(engine: Engine, clock: SettableClock) -> None:
    new_account(engine, clock)
    code = _ask(engine, clock)
    _verify(engine, clock, code)

    with pytest.raises(AccessDenied, match="expired or was used"):
        _verify(engine, clock, code)

    late = _ask(engine, clock)
    clock.advance(timedelta(minutes=5))
    with pytest.raises(AccessDenied, match="expired"):
        _verify(engine, clock, late)


def test_wrong_codes_count_down_then_lock_the_mobile_out_for_half_an_hour(
    engine: Engine, clock: SettableClock
) -> None:
    new_account(engine, clock)
    code = _ask(engine, clock)

    messages = []
    for _ in range(4):
        with pytest.raises(AccessDenied) as refused:
            _verify(engine, clock, _wrong(code))
        messages.append(str(refused.value))
    with pytest.raises(LockedOut) as locked:
        _verify(engine, clock, _wrong(code))

    assert messages == [
        f"wrong code: {n} {'try' if n == 1 else 'tries'} left" for n in (4, 3, 2, 1)
    ]
    assert locked.value.until == clock.now() + timedelta(minutes=30)
    with pytest.raises(LockedOut):  # the right code is refused too while locked
        _verify(engine, clock, code)
    with pytest.raises(LockedOut):  # and no new code is sent
        request_login_code(RequestCode(MOBILE), SqlUnitOfWork(engine), clock, SECRET)
    clock.advance(timedelta(minutes=31))
    _verify(engine, clock, _ask(engine, clock))


def test_asking_for_new_codes_does_not_reset_the_wrong_tries(
    engine: Engine, clock: SettableClock
) -> None:
    new_account(engine, clock)

    for _ in range(2):
        code = _ask(engine, clock)
        for _ in range(2):
            with contextlib.suppress(AccessDenied):
                _verify(engine, clock, _wrong(code))
    code = _ask(engine, clock)
    with pytest.raises(LockedOut):
        _verify(engine, clock, _wrong(code))


def test_at_most_three_codes_in_fifteen_minutes(engine: Engine, clock: SettableClock) -> None:
    new_account(engine, clock)
    for _ in range(3):
        _ask(engine, clock)

    with pytest.raises(LockedOut, match="three codes"):
        _ask(engine, clock)

    assert len(_codes_sent(engine)) == 3
    clock.advance(timedelta(minutes=16))
    assert _ask(engine, clock)


def _with_division(engine: Engine) -> None:
    with contextlib.suppress(AlreadyExists):
        add_org_units(org_chain("SUB-1"), SqlUnitOfWork(engine))


def test_an_officer_logs_in_with_a_password_and_every_try_is_audited(
    engine: Engine, clock: SettableClock
) -> None:
    _with_division(engine)
    add_officer(
        AddOfficer(
            "ravi.kumar", "Ravi Kumar", Role.DIVISION_OFFICER, ["DIV-1"], "a long passphrase"
        ),
        SqlUnitOfWork(engine),
        clock,
        HASHER,
    )

    with pytest.raises(AccessDenied, match="wrong username or password"):
        officer_log_in(
            OfficerLogin("ravi.kumar", "wrong guess"), lambda: SqlUnitOfWork(engine), clock, HASHER
        )
    logged_in = officer_log_in(
        OfficerLogin("Ravi.Kumar", "a long passphrase"),
        lambda: SqlUnitOfWork(engine),
        clock,
        HASHER,
    )

    visitor = visitor_of(logged_in.token, SqlUnitOfWork(engine), clock)
    assert visitor is not None
    assert visitor.officer is not None
    assert visitor.officer.scope == frozenset({"DIV-1"})
    with engine.connect() as db:
        actions = db.execute(select(audit_log.c.action).order_by(audit_log.c.id)).scalars().all()
    assert actions == ["login_refused", "login"]


def test_five_wrong_passwords_lock_an_officer_even_against_the_right_one(
    engine: Engine, clock: SettableClock
) -> None:
    _with_division(engine)
    add_officer(
        AddOfficer("admin", "Admin", Role.ADMIN, [], "a long passphrase"),
        SqlUnitOfWork(engine),
        clock,
        HASHER,
    )
    for _ in range(4):
        with pytest.raises(AccessDenied):
            officer_log_in(
                OfficerLogin("admin", "nope"), lambda: SqlUnitOfWork(engine), clock, HASHER
            )
    with pytest.raises(LockedOut):
        officer_log_in(OfficerLogin("admin", "nope"), lambda: SqlUnitOfWork(engine), clock, HASHER)

    with pytest.raises(LockedOut):
        officer_log_in(
            OfficerLogin("admin", "a long passphrase"), lambda: SqlUnitOfWork(engine), clock, HASHER
        )
    clock.advance(timedelta(minutes=16))
    officer_log_in(
        OfficerLogin("admin", "a long passphrase"), lambda: SqlUnitOfWork(engine), clock, HASHER
    )


def test_officers_are_checked_when_added(engine: Engine, clock: SettableClock) -> None:
    _with_division(engine)

    with pytest.raises(InvalidInput, match="at least one division"):
        add_officer(
            AddOfficer("sita", "Sita", Role.DIVISION_OFFICER, [], "a long passphrase"),
            SqlUnitOfWork(engine),
            clock,
            HASHER,
        )
    with pytest.raises(NotFound, match="no division SUB-1"):  # a subdivision is not one
        add_officer(
            AddOfficer("sita", "Sita", Role.DIVISION_OFFICER, ["SUB-1"], "a long passphrase"),
            SqlUnitOfWork(engine),
            clock,
            HASHER,
        )
    with pytest.raises(InvalidInput, match="at least 12"):
        add_officer(
            AddOfficer("sita", "Sita", Role.AUDITOR, [], "short"),
            SqlUnitOfWork(engine),
            clock,
            HASHER,
        )


def test_a_session_ends_at_logout_and_at_expiry(engine: Engine, clock: SettableClock) -> None:
    new_account(engine, clock)
    first = _verify(engine, clock, _ask(engine, clock))
    second = _verify(engine, clock, _ask(engine, clock))

    log_out(first.token, SqlUnitOfWork(engine), clock)

    assert visitor_of(first.token, SqlUnitOfWork(engine), clock) is None
    assert visitor_of(second.token, SqlUnitOfWork(engine), clock) is not None
    assert visitor_of("not-a-token", SqlUnitOfWork(engine), clock) is None
    clock.advance(timedelta(days=30))
    assert visitor_of(second.token, SqlUnitOfWork(engine), clock) is None


def test_the_database_refuses_to_change_or_delete_the_audit_log(
    engine: Engine, clock: SettableClock
) -> None:
    _with_division(engine)
    add_officer(
        AddOfficer("admin", "Admin", Role.ADMIN, [], "a long passphrase"),
        SqlUnitOfWork(engine),
        clock,
        HASHER,
    )
    officer_log_in(
        OfficerLogin("admin", "a long passphrase"), lambda: SqlUnitOfWork(engine), clock, HASHER
    )

    for statement in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as db:
            db.execute(text(statement))
    with engine.connect() as db:
        assert db.execute(select(audit_log.c.actor)).scalars().all() == ["admin"]
