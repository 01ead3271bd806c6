"""The officers' side of complaints on SQLite and PostgreSQL: each category opens with its
diagnosis, officers move complaints along in their divisions only, the consumer is told at
each step, and the sweep escalates an overdue complaint once per level."""

from __future__ import annotations

import json
import statistics
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select, text
from typer.testing import CliRunner

from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.complaint_read_model import ComplaintFilter, SqlComplaintList
from prepaidgrid.adapters.db.tables import audit_log, daily_usage, outbox
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.adapters.passwords import Argon2Hasher
from prepaidgrid.bootstrap import bootstrap
from prepaidgrid.config import Settings
from prepaidgrid.domain.access import Forbidden, Officer, Role
from prepaidgrid.domain.accounts import NewConnection, OrgLevel, OrgUnit
from prepaidgrid.domain.complaint_diagnosis import load_band
from prepaidgrid.domain.complaints import ComplaintCategory, ComplaintStatus, EventKind
from prepaidgrid.domain.errors import InvalidInput, InvalidTransition
from prepaidgrid.domain.ledger import PaymentChannel, PaymentRef
from prepaidgrid.domain.notifications import ContactKind
from prepaidgrid.domain.units import round_half_up
from prepaidgrid.entrypoints.cli import app
from prepaidgrid.entrypoints.scheduler import ComplaintEscalation
from prepaidgrid.services.access import AddOfficer, add_officer
from prepaidgrid.services.care import (
    FileComplaint,
    RequestContactCode,
    VerifyContactCode,
    file_complaint,
    request_contact_code,
    verify_contact_code,
)
from prepaidgrid.services.charges import PostDailyCharge, post_daily_charge
from prepaidgrid.services.complaint_desk import (
    ComplaintMove,
    ReopenComplaint,
    UnknownComplaint,
    complaint_case,
    escalate_overdue,
    move_complaint,
    reopen_complaint,
)
from prepaidgrid.services.onboarding import (
    InstallSmartMeter,
    add_org_units,
    install_smart_meter,
    open_connection,
)
from prepaidgrid.services.recharges import (
    ApplyRecharge,
    RecordPendingPayment,
    apply_recharge,
    record_pending_payment,
)
from tests.conftest import database_url, ist
from tests.integration.accounts_support import (
    POLICIES,
    TARIFFS,
    balance,
    cut_off_account,
    new_account,
)

pytestmark = pytest.mark.integration

MOBILE = "9876500001"
HASHER = Argon2Hasher(time_cost=1, memory_cost_kib=8_192)
DIV1 = Officer("div1.officer", "Div 1", Role.DIVISION_OFFICER, frozenset({"DIV-1"}))
DIV2 = Officer("div2.officer", "Div 2", Role.DIVISION_OFFICER, frozenset({"DIV-2"}))
AUDITOR = Officer("auditor", "Auditor", Role.AUDITOR, frozenset())


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(ist(2025, 7, 1, 9))


@pytest.fixture
def offices(engine: Engine, clock: SettableClock) -> Engine:
    """Division 1 (SUB-1, with an account so it exists) and division 2 (SUB-2); officers."""
    new_account(engine, clock)
    add_org_units(
        [
            OrgUnit("DIV-2", OrgLevel.DIVISION, "Division 2", parent_code="CIR-1"),
            OrgUnit("SUB-2", OrgLevel.SUBDIVISION, "Sub 2", parent_code="DIV-2"),
        ],
        SqlUnitOfWork(engine),
    )
    for officer in (DIV1, DIV2, AUDITOR):
        divisions = sorted(officer.divisions)
        add_officer(
            AddOfficer(officer.officer_id, officer.name, officer.role, divisions, "a passphrase"),
            SqlUnitOfWork(engine),
            clock,
            HASHER,
        )
    return engine


def _file(
    engine: Engine,
    clock: SettableClock,
    account_id: str,
    category: str,
    reference: str = "",
    mobile: str = MOBILE,
) -> str:
    filed = file_complaint(
        FileComplaint(account_id, mobile, category, "Please look into it.", reference, "k-1"),
        SqlUnitOfWork(engine),
        clock,
        TARIFFS,
        POLICIES,
    )
    return filed.complaint.number


def _sms(engine: Engine, template: str) -> list[dict[str, Any]]:
    with engine.connect() as db:
        rows = db.execute(select(outbox.c.payload).where(outbox.c.kind == "sms")).scalars()
        return [p for p in rows if p.get("template") == template]


def _move(engine: Engine, clock: SettableClock, number: str, action: str, note: str = "") -> Any:
    return move_complaint(ComplaintMove(number, action, note), DIV1, SqlUnitOfWork(engine), clock)


# -- the diagnosis of each category -------------------------------------------------------------


def test_a_payment_the_channel_never_confirmed_is_diagnosed_stuck_pending(
    offices: Engine, clock: SettableClock
) -> None:
    account_id = new_account(offices, clock)
    ref = PaymentRef(PaymentChannel.BBPS, "BBPS-778812")
    record_pending_payment(
        RecordPendingPayment(account_id, 50_000, ref), SqlUnitOfWork(offices), clock
    )
    clock.set(ist(2025, 7, 1, 15))

    number = _file(offices, clock, account_id, "recharge_not_credited", "BBPS-778812")

    diagnosis = complaint_case(number, DIV1, SqlUnitOfWork(offices)).diagnosis
    assert diagnosis is not None
    [payment] = diagnosis.payments
    assert (payment.channel, payment.reference, payment.status) == (
        "bbps",
        "BBPS-778812",
        "pending",
    )
    assert payment.stuck_stage == "pending"
    assert payment.waiting_for == "the channel to confirm or fail the payment"
    assert payment.stuck_since == ist(2025, 7, 1, 9)
    assert diagnosis.notes == ()


def test_an_unknown_reference_is_said_and_the_recent_payments_are_shown(
    offices: Engine, clock: SettableClock
) -> None:
    account_id = new_account(offices, clock, balance_paise=10_000)

    number = _file(offices, clock, account_id, "recharge_not_credited", "NO-SUCH-REF")

    diagnosis = complaint_case(number, DIV1, SqlUnitOfWork(offices)).diagnosis
    assert diagnosis is not None
    assert diagnosis.notes == ("no payment of this account has the reference NO-SUCH-REF",)
    [payment] = diagnosis.payments
    # credited; only its SMS waits for the dispatcher
    assert (payment.reference, payment.status, payment.stuck_stage) == (
        account_id,
        "credited",
        "sms_queued",
    )
    assert "credited" in [stage.stage for stage in payment.stages]


def test_supply_not_restored_shows_the_state_and_the_reconnect_waiting_for_the_head_end(
    offices: Engine, clock: SettableClock
) -> None:
    account_id = cut_off_account(offices, clock)
    clock.set(ist(2025, 7, 3, 11))
    ref = PaymentRef(PaymentChannel.APP, "UPI-555")
    apply_recharge(ApplyRecharge(account_id, 20_000, ref), SqlUnitOfWork(offices), clock, POLICIES)
    clock.set(ist(2025, 7, 3, 13))

    number = _file(offices, clock, account_id, "not_reconnected", "UPI-555")

    diagnosis = complaint_case(number, DIV1, SqlUnitOfWork(offices)).diagnosis
    assert diagnosis is not None
    assert diagnosis.supply is not None
    assert diagnosis.supply.state == "reconnect_sent"
    assert diagnosis.supply.balance_paise == balance(offices, account_id) > 0
    [pending] = diagnosis.supply.pending_commands
    assert (pending.action, pending.status) == ("reconnect", "queued")
    [payment] = diagnosis.payments
    assert payment.stuck_stage == "reconnect_queued"
    assert payment.stuck_since == ist(2025, 7, 3, 11)


def _open(
    engine: Engine,
    clock: SettableClock,
    account_id: str,
    subdivision: str,
    load_w: int,
    category: str = "DS-II",
) -> str:
    open_connection(
        NewConnection(account_id, "Peer", "9000000000", category, load_w, subdivision, "SBPDCL"),
        SqlUnitOfWork(engine),
        clock,
    )
    install_smart_meter(
        InstallSmartMeter(account_id, f"M-{account_id}"), SqlUnitOfWork(engine), clock, POLICIES
    )
    return account_id


def _use(engine: Engine, account_id: str, day: date, used_wh: int, clock: SettableClock) -> None:
    with engine.begin() as db:
        db.execute(
            insert(daily_usage).values(
                account_id=account_id,
                usage_day=day,
                meter_id=f"M-{account_id}",
                used_wh=used_wh,
                method="average",
                max_demand_w=500,
                band_wh={},
                flags=[],
                note="",
                computed_at=clock.now(),
            )
        )


def test_a_deduction_dispute_shows_use_beside_the_median_of_similar_households(
    offices: Engine, clock: SettableClock
) -> None:
    # given: the complainant (DS-II, 1 kW, division 1) and peers; days 1-3 of June
    clock.set(ist(2025, 6, 1, 9))
    mine = new_account(offices, clock)
    days = [date(2025, 6, 1), date(2025, 6, 2), date(2025, 6, 3)]
    peers: dict[str, list[int | None]] = {  # same category and band in division 1: counted
        _open(offices, clock, "PEER-1", "SUB-1", 1_500): [4_000, 5_000, 6_000],
        _open(offices, clock, "PEER-2", "SUB-1", 2_000): [7_001, 1_000, 6_500],
        _open(offices, clock, "PEER-3", "SUB-1", 800): [5_500, 2_000, None],
        _open(offices, clock, "PEER-4", "SUB-1", 1_000): [3_000, 9_999, 8_000],
    }
    others = {  # another band, another division, another category: not counted
        _open(offices, clock, "BIG-1", "SUB-1", 3_000): [90_000, 90_000, 90_000],
        _open(offices, clock, "FAR-1", "SUB-2", 1_000): [1, 1, 1],
        _open(offices, clock, "NDS-1", "SUB-1", 1_000, "NDS-I"): [70_000, 70_000, 70_000],
    }
    for account_id, uses in {**peers, **others, mine: [20_000, 21_000, 22_000]}.items():
        for day, used in zip(days, uses, strict=True):
            if used is not None:
                _use(offices, account_id, day, used, clock)
    for day, used in zip(days, [20_000, 21_000, 22_000], strict=True):
        clock.set(ist(day.year, day.month, day.day + 1, 1))
        post_daily_charge(
            PostDailyCharge(mine, day, used), SqlUnitOfWork(offices), clock, TARIFFS, POLICIES
        )
    clock.set(ist(2025, 6, 4, 10))  # a Wednesday

    number = _file(offices, clock, mine, "high_deduction")

    case = complaint_case(number, DIV1, SqlUnitOfWork(offices))
    assert case.diagnosis is not None
    assert case.diagnosis.usage is not None
    usage = case.diagnosis.usage
    shown = {d.day: (d.used_wh, d.similar_median_wh, d.similar_households) for d in usage.days}
    for n, day in enumerate(days):
        values = [wh for uses in peers.values() if (wh := uses[n]) is not None]
        doubled = int(statistics.median(values) * 2)  # exact: halves only
        expected = round_half_up(doubled, 2)
        assert shown[day] == ([20_000, 21_000, 22_000][n], expected, len(values))
    assert len(usage.days) == 30
    assert usage.days[-1].day == date(2025, 6, 3)
    assert (usage.band_above_w, usage.band_upto_w) == load_band(1_000) == (0, 2_000)
    assert [d.day for d in usage.explained] == days
    assert all(d.lines for d in usage.explained)
    assert [sum(line.amount_paise for line in d.lines) for d in usage.explained] == [
        d.total_paise for d in usage.explained
    ]
    assert case.complaint.check_meter_on == date(2025, 6, 5) == case.diagnosis.check_meter_on
    [sms] = _sms(offices, "check_meter_scheduled")
    assert "05-06-2025" in sms["text"]


def test_the_check_meter_visit_skips_a_sunday(offices: Engine, clock: SettableClock) -> None:
    account_id = new_account(offices, clock)
    clock.set(ist(2025, 7, 5, 18))  # a Saturday evening

    number = _file(offices, clock, account_id, "meter_fault")

    case = complaint_case(number, DIV1, SqlUnitOfWork(offices))
    assert case.complaint.check_meter_on == date(2025, 7, 7)  # Monday


def test_a_mobile_change_complaint_shows_the_contact_change_history(
    offices: Engine, clock: SettableClock
) -> None:
    account_id = new_account(offices, clock)
    secret = b"s"
    request_contact_code(
        RequestContactCode(account_id, MOBILE, ContactKind.MOBILE, "9123400002"),
        SqlUnitOfWork(offices),
        clock,
        secret,
        random_below=lambda _n: 123_456,
    )
    verify_contact_code(
        VerifyContactCode(account_id, MOBILE, ContactKind.MOBILE, "123456"),
        SqlUnitOfWork(offices),
        clock,
        secret,
    )

    number = _file(offices, clock, account_id, "mobile_change", mobile="9123400002")

    diagnosis = complaint_case(number, DIV1, SqlUnitOfWork(offices)).diagnosis
    assert diagnosis is not None
    [change] = diagnosis.contact_changes
    assert (change.kind, change.old_value, change.new_value) == ("mobile", MOBILE, "9123400002")


# -- officers move it, the consumer is told -----------------------------------------------------


def test_each_step_is_stored_audited_and_told_to_the_consumer(
    offices: Engine, clock: SettableClock
) -> None:
    account_id = new_account(offices, clock)
    number = _file(offices, clock, account_id, "other")

    taken = _move(offices, clock, number, "take_up")
    _move(offices, clock, number, "note", "Lineman visits tomorrow.")
    done = _move(offices, clock, number, "resolve", "Loose neutral fixed at the pole.")
    shut = _move(offices, clock, number, "close")

    assert (taken.status, taken.assigned_to) == (ComplaintStatus.IN_PROGRESS, "div1.officer")
    assert done.resolution == "Loose neutral fixed at the pole."
    assert shut.status is ComplaintStatus.CLOSED
    for template in ("complaint_taken_up", "complaint_updated", "complaint_resolved"):
        [sms] = _sms(offices, template)
        assert sms["mobile"] == MOBILE
        assert sms["language"] == "hi"
        assert number in sms["text"]
    assert "Loose neutral fixed at the pole." in _sms(offices, "complaint_resolved")[0]["text"]
    assert "08-07-2025" in _sms(offices, "complaint_resolved")[0]["text"]  # reopen by
    assert len(_sms(offices, "complaint_closed")) == 1
    with offices.connect() as db:
        actions = db.execute(
            select(audit_log.c.action).where(audit_log.c.target == number).order_by(audit_log.c.id)
        ).scalars()
        assert list(actions) == [
            "complaint_take_up",
            "complaint_note",
            "complaint_resolve",
            "complaint_close",
        ]
    events = complaint_case(number, DIV1, SqlUnitOfWork(offices)).events
    assert [e.kind for e in events] == [
        EventKind.OPENED,
        EventKind.MOVED,
        EventKind.NOTE,
        EventKind.MOVED,
        EventKind.MOVED,
    ]


def test_two_notes_in_the_same_second_both_reach_the_consumer(
    offices: Engine, clock: SettableClock
) -> None:
    account_id = new_account(offices, clock)
    number = _file(offices, clock, account_id, "other")

    _move(offices, clock, number, "note", "Lineman assigned.")
    _move(offices, clock, number, "note", "He visits at 11.")

    texts = [sms["text"] for sms in _sms(offices, "complaint_updated")]
    assert len(texts) == 2
    assert "Lineman assigned." in texts[0]
    assert "He visits at 11." in texts[1]


def test_a_resolution_without_a_note_is_refused_and_changes_nothing(
    offices: Engine, clock: SettableClock
) -> None:
    account_id = new_account(offices, clock)
    number = _file(offices, clock, account_id, "other")

    with pytest.raises(InvalidInput, match="write a note"):
        _move(offices, clock, number, "resolve", "   ")

    case = complaint_case(number, DIV1, SqlUnitOfWork(offices))
    assert case.complaint.status is ComplaintStatus.OPEN
    assert len(case.events) == 1
    assert _sms(offices, "complaint_resolved") == []


def test_a_division_officer_cannot_see_or_act_on_another_divisions_complaint(
    offices: Engine, clock: SettableClock
) -> None:
    account_id = new_account(offices, clock)
    number = _file(offices, clock, account_id, "other")

    with pytest.raises(UnknownComplaint):
        complaint_case(number, DIV2, SqlUnitOfWork(offices))
    with pytest.raises(UnknownComplaint):
        move_complaint(ComplaintMove(number, "take_up"), DIV2, SqlUnitOfWork(offices), clock)
    listed = SqlComplaintList(offices).complaints(["DIV-2"], ComplaintFilter(), clock.now())

    assert listed == []
    assert complaint_case(number, DIV1, SqlUnitOfWork(offices)).complaint.status is (
        ComplaintStatus.OPEN
    )


def test_an_auditor_reads_every_complaint_but_acts_on_none(
    offices: Engine, clock: SettableClock
) -> None:
    account_id = new_account(offices, clock)
    number = _file(offices, clock, account_id, "other")

    case = complaint_case(number, AUDITOR, SqlUnitOfWork(offices))
    with pytest.raises(Forbidden):
        move_complaint(ComplaintMove(number, "take_up"), AUDITOR, SqlUnitOfWork(offices), clock)

    assert case.complaint.number == number
    assert not case.may_act


def test_the_consumer_may_reopen_a_resolution_for_seven_days_only(
    offices: Engine, clock: SettableClock
) -> None:
    account_id = new_account(offices, clock)
    first = _file(offices, clock, account_id, "other")
    _move(offices, clock, first, "resolve", "Fixed.")
    clock.set(ist(2025, 7, 8, 23, 59))

    again = reopen_complaint(
        ReopenComplaint(account_id, MOBILE, first, "still broken"), SqlUnitOfWork(offices), clock
    )
    _move(offices, clock, first, "resolve", "Fixed again.")
    clock.set(ist(2025, 7, 16, 0, 0))

    assert (again.status, again.due_on) == (ComplaintStatus.IN_PROGRESS, date(2025, 7, 15))
    assert len(_sms(offices, "complaint_reopened")) == 1
    with pytest.raises(InvalidTransition, match="could be reopened until 15-07-2025"):
        reopen_complaint(ReopenComplaint(account_id, MOBILE, first), SqlUnitOfWork(offices), clock)


# -- SLA and escalation -------------------------------------------------------------------------


def _levels(engine: Engine) -> list[tuple[int, int]]:
    with engine.connect() as db:
        rows = db.execute(
            text("SELECT complaint_id, level FROM complaint_escalations ORDER BY 1, 2")
        )
        return [(int(r[0]), int(r[1])) for r in rows]


def test_an_overdue_complaint_climbs_each_level_once(offices: Engine, clock: SettableClock) -> None:
    account_id = new_account(offices, clock)
    number = _file(offices, clock, account_id, "high_deduction")  # due by the end of 8 July
    factory = lambda: SqlUnitOfWork(offices)  # noqa: E731

    clock.set(ist(2025, 7, 8, 23, 59))
    on_due_day = escalate_overdue(factory, clock)
    clock.set(ist(2025, 7, 9, 0, 0))
    first = escalate_overdue(factory, clock)
    repeated = escalate_overdue(factory, clock)
    clock.set(ist(2025, 7, 12, 0, 0))
    second = escalate_overdue(factory, clock)
    clock.set(ist(2025, 7, 30))
    later = escalate_overdue(factory, clock)

    assert on_due_day == repeated == later == []
    assert [(e.number, e.level) for e in first] == [(number, 1)]
    assert [(e.number, e.level) for e in second] == [(number, 2)]
    case = complaint_case(number, DIV1, SqlUnitOfWork(offices))
    assert case.complaint.escalation_level == 2
    assert [e.kind for e in case.events].count(EventKind.ESCALATED) == 2
    assert len(_sms(offices, "complaint_escalated")) == 2
    assert "08-07-2025" in _sms(offices, "complaint_escalated")[0]["text"]


def test_concurrent_sweeps_escalate_once(offices: Engine, clock: SettableClock) -> None:
    account_id = new_account(offices, clock)
    number = _file(offices, clock, account_id, "meter_fault")  # due by the end of 4 July
    clock.set(ist(2025, 7, 10))  # past both levels
    factory = lambda: SqlUnitOfWork(offices)  # noqa: E731

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _n: escalate_overdue(factory, clock), range(2)))

    assert sorted(e.level for done in results for e in done) == [1, 2]
    assert [level for _id, level in _levels(offices)] == [1, 2]
    assert len(_sms(offices, "complaint_escalated")) == 1  # the highest level, told once
    assert complaint_case(number, DIV1, SqlUnitOfWork(offices)).complaint.escalation_level == 2


def test_complaints_at_their_last_level_do_not_crowd_out_the_next_ones(
    offices: Engine, clock: SettableClock
) -> None:
    account_id = new_account(offices, clock)
    oldest = _file(offices, clock, account_id, "meter_fault")  # due 4 July
    factory = lambda: SqlUnitOfWork(offices)  # noqa: E731
    clock.set(ist(2025, 7, 20))
    escalate_overdue(factory, clock, limit=1)  # the oldest climbs to its last level
    clock.set(ist(2025, 7, 21, 9))
    newer = file_complaint(
        FileComplaint(account_id, MOBILE, "other", "Another one.", "", "k-2"),
        SqlUnitOfWork(offices),
        clock,
        TARIFFS,
        POLICIES,
    ).complaint.number  # due 28 July
    clock.set(ist(2025, 7, 29))

    done = escalate_overdue(factory, clock, limit=1)

    assert [(e.number, e.level) for e in done] == [(newer, 1)]
    assert complaint_case(oldest, DIV1, SqlUnitOfWork(offices)).complaint.escalation_level == 2


def test_the_scheduler_serve_runs_escalates_an_overdue_complaint_once(
    offices: Engine, clock: SettableClock
) -> None:
    account_id = new_account(offices, clock)
    number = _file(offices, clock, account_id, "meter_fault")  # due by the end of 4 July
    clock.set(ist(2025, 7, 5, 9))
    served = bootstrap(Settings(database_url=database_url(offices)), clock)
    sweep = ComplaintEscalation(served, poll_seconds=3600)
    try:
        sweep.tick()
        sweep.tick()  # the next hour: nothing new is due
    finally:
        served.engine.dispose()

    assert [(e.number, e.level) for e in sweep.done] == [(number, 1)]
    assert [level for _id, level in _levels(offices)] == [1]


def test_a_resolved_complaint_is_not_escalated(offices: Engine, clock: SettableClock) -> None:
    account_id = new_account(offices, clock)
    number = _file(offices, clock, account_id, "meter_fault")
    _move(offices, clock, number, "resolve", "Meter replaced.")
    clock.set(ist(2025, 7, 20))

    assert escalate_overdue(lambda: SqlUnitOfWork(offices), clock) == []
    assert _levels(offices) == []


def test_the_list_puts_overdue_complaints_first_and_filters(
    offices: Engine, clock: SettableClock
) -> None:
    account_id = new_account(offices, clock)
    late = _file(offices, clock, account_id, "meter_fault")  # due 4 July
    clock.set(ist(2025, 7, 3, 9))
    account_2 = new_account(offices, clock)
    fresh = _file(offices, clock, account_2, "other")  # due 10 July
    clock.set(ist(2025, 7, 6, 9))
    desk = SqlComplaintList(offices)

    everything = desk.complaints(["DIV-1"], ComplaintFilter(), clock.now())
    overdue = desk.complaints(None, ComplaintFilter(is_overdue_only=True), clock.now())
    faults = desk.complaints(
        None, ComplaintFilter(category=ComplaintCategory.METER_FAULT), clock.now()
    )

    assert [r.complaint.number for r in everything] == [late, fresh]
    assert [r.days_left(clock.now()) for r in everything] == [-2, 4]
    assert [r.complaint.number for r in overdue] == [late]
    assert [r.complaint.number for r in faults] == [late]


def test_the_command_line_escalates_once_and_shows_the_complaint(
    offices: Engine, clock: SettableClock
) -> None:
    account_id = new_account(offices, clock)
    number = _file(offices, clock, account_id, "meter_fault")  # due by the end of 4 July
    url = database_url(offices)
    runner = CliRunner()

    early = runner.invoke(app, ["complaints", "escalate", "--db", url, "--at", "2025-07-04T23:00"])
    first = runner.invoke(app, ["complaints", "escalate", "--db", url, "--at", "2025-07-05T00:00"])
    again = runner.invoke(
        app, ["complaints", "escalate", "--db", url, "--at", "2025-07-05T08:00", "--json"]
    )
    shown = runner.invoke(app, ["complaints", "show", number, "--db", url, "--json"])
    listed = runner.invoke(
        app, ["complaints", "list", "--overdue", "--db", url, "--at", "2025-07-05T08:00", "--json"]
    )

    assert [r.exit_code for r in (early, first, again, shown, listed)] == [0, 0, 0, 0, 0]
    assert "0 escalation(s)" in early.output
    assert f"{number} ({account_id}) escalated to the circle" in first.output
    assert json.loads(again.output) == []
    detail = json.loads(shown.output)
    assert detail["escalation_level"] == 1
    assert detail["diagnosis"]["check_meter_on"] == "2025-07-02"
    assert [row["number"] for row in json.loads(listed.output)] == [number]
