"""The officers' desk on SQLite and PostgreSQL: division dashboards, scoped search,
statements and the relay command log, over accounts made by the real use cases."""

from __future__ import annotations

from datetime import date, datetime
from itertools import pairwise

import pytest
from sqlalchemy import Engine, text

from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.officer_read_models import (
    ChannelCollection,
    Division,
    SqlOfficerDesk,
)
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.domain.accounts import NewConnection, OrgLevel, OrgUnit
from prepaidgrid.domain.ledger import PaymentChannel, PaymentRef
from prepaidgrid.domain.meter_protocol import Ack, AckStatus, Channel, topic
from prepaidgrid.services.charges import PostDailyCharge, post_daily_charge
from prepaidgrid.services.headend import Received, ingest_uplinks, track_relay_commands
from prepaidgrid.services.onboarding import (
    InstallSmartMeter,
    add_org_units,
    install_smart_meter,
    open_connection,
)
from prepaidgrid.services.recharges import ApplyRecharge, apply_recharge
from prepaidgrid.services.supply import EvaluateSupply, evaluate_supply
from tests.conftest import ist
from tests.integration.accounts_support import POLICIES, TARIFFS, balance

pytestmark = pytest.mark.integration

TODAY = date(2025, 7, 3)  # a Thursday: cuts allowed from 10:00
NOW = ist(2025, 7, 3, 13, 0)
EVERY_DIVISION = None  # an admin's or auditor's scope
UNITS = [
    OrgUnit("SBPDCL", OrgLevel.DISCOM, "South Bihar"),
    OrgUnit("CIR-PAT", OrgLevel.CIRCLE, "Patna", parent_code="SBPDCL"),
    OrgUnit("DIV-A", OrgLevel.DIVISION, "Patna East", "पटना पूर्व", "CIR-PAT"),
    OrgUnit("SUB-A", OrgLevel.SUBDIVISION, "Kankarbagh", parent_code="DIV-A"),
    OrgUnit("DIV-B", OrgLevel.DIVISION, "Patna West", "पटना पश्चिम", "CIR-PAT"),
    OrgUnit("SUB-B", OrgLevel.SUBDIVISION, "Danapur", parent_code="DIV-B"),
]


def open_account(
    engine: Engine, clock: SettableClock, account_id: str, name: str, mobile: str, sub: str
) -> None:
    connection = NewConnection(account_id, name, mobile, "DS-II", 1000, sub, "SBPDCL")
    open_connection(connection, SqlUnitOfWork(engine), clock)
    install_smart_meter(
        InstallSmartMeter(account_id, f"M-{account_id}"), SqlUnitOfWork(engine), clock, POLICIES
    )


def recharge(
    engine: Engine,
    clock: SettableClock,
    account_id: str,
    payment: PaymentRef,
    amount_paise: int,
    at: datetime,
) -> None:
    clock.set(at)
    apply_recharge(
        ApplyRecharge(account_id, amount_paise, payment), SqlUnitOfWork(engine), clock, POLICIES
    )


def charge_first_of_july(engine: Engine, clock: SettableClock, account_id: str) -> None:
    """6 kWh on 1 July, posted at 00:30 on 2 July: more than a ₹20 balance covers."""
    clock.set(ist(2025, 7, 2, 0, 30))
    post_daily_charge(
        PostDailyCharge(account_id, date(2025, 7, 1), 6_000),
        SqlUnitOfWork(engine),
        clock,
        TARIFFS,
        POLICIES,
    )


def command_of(engine: Engine, account_id: str) -> str:
    with engine.connect() as db:
        return str(
            db.execute(
                text("SELECT command_id FROM relay_commands WHERE account_id = :a"),
                {"a": account_id},
            ).scalar_one()
        )


def meter_confirms_cut(engine: Engine, clock: SettableClock, account_id: str) -> None:
    meter_id = f"M-{account_id}"
    ack = Ack(
        "SBPDCL",
        meter_id,
        f"{meter_id}-ack-1",
        clock.now(),
        command_of(engine, account_id),
        AckStatus.DONE,
        relay_closed=False,
    )
    ingest_uplinks(
        [Received(topic("SBPDCL", meter_id, Channel.ACKS), ack)],
        SqlUnitOfWork(engine),
        clock,
        POLICIES,
    )


@pytest.fixture
def patna(engine: Engine) -> Engine:
    """Two divisions on 3 July 2025, 13:00 IST.

    Patna East: A-1001 connected (recharged at 23:50 yesterday, 00:05 and 11:00 today),
    A-1002 in grace (cut due at 10:00 today, not yet swept), A-1003 cut off at 10:00 (the
    meter confirmed). Patna West: B-2001 connected (recharged at 12:00 today), B-2002 with
    its cut command still queued at the head-end (disconnect_sent).
    """
    clock = SettableClock(ist(2025, 6, 30, 12, 0))
    add_org_units(UNITS, SqlUnitOfWork(engine))
    people = [
        ("A-1001", "Ramesh Kumar", "9876500011", "SUB-A", 100_000),
        ("A-1002", "Sita Devi", "9876500012", "SUB-A", 2_000),
        ("A-1003", "Mohan Prasad", "9876500013", "SUB-A", 2_000),
        ("B-2001", "Ramesh Yadav", "9876500021", "SUB-B", 100_000),
        ("B-2002", "Geeta Kumari", "9876500022", "SUB-B", 2_000),
    ]
    for account_id, name, mobile, sub, opening_paise in people:
        open_account(engine, clock, account_id, name, mobile, sub)
        opening = PaymentRef(PaymentChannel.APP, f"open-{account_id}")
        recharge(engine, clock, account_id, opening, opening_paise, clock.now())
    for account_id in ("A-1001", "A-1002", "A-1003", "B-2002"):
        charge_first_of_july(engine, clock, account_id)
    late = PaymentRef(PaymentChannel.COUNTER, "cnt-late")
    recharge(engine, clock, "A-1001", late, 30_000, ist(2025, 7, 2, 23, 50))
    early = PaymentRef(PaymentChannel.APP, "upi-early")
    recharge(engine, clock, "A-1001", early, 50_000, ist(2025, 7, 3, 0, 5))
    clock.set(ist(2025, 7, 3, 10, 0))
    for account_id in ("A-1003", "B-2002"):
        evaluate_supply(EvaluateSupply(account_id), SqlUnitOfWork(engine), clock, POLICIES)
    track_relay_commands(SqlUnitOfWork(engine), clock)
    meter_confirms_cut(engine, clock, "A-1003")
    bbps = PaymentRef(PaymentChannel.BBPS, "bbps-1")
    recharge(engine, clock, "A-1001", bbps, 20_000, ist(2025, 7, 3, 11, 0))
    counter = PaymentRef(PaymentChannel.COUNTER, "cnt-noon")
    recharge(engine, clock, "B-2001", counter, 40_000, ist(2025, 7, 3, 12, 0))
    return engine


def states(
    connected: int = 0, grace: int = 0, disconnect_sent: int = 0, disconnected: int = 0
) -> dict[str, int]:
    return {
        "connected": connected,
        "grace": grace,
        "disconnect_sent": disconnect_sent,
        "disconnected": disconnected,
        "reconnect_sent": 0,
    }


def test_the_dashboard_counts_supply_states_per_division_and_in_total(patna: Engine) -> None:
    desk = SqlOfficerDesk(patna)

    board = desk.dashboard(EVERY_DIVISION, TODAY, NOW)

    east, west = board.divisions
    assert (east.division_code, west.division_code) == ("DIV-A", "DIV-B")
    assert east.accounts_by_state == states(connected=1, grace=1, disconnected=1)
    assert west.accounts_by_state == states(connected=1, disconnect_sent=1)
    assert board.total.accounts_by_state == states(
        connected=2, grace=1, disconnect_sent=1, disconnected=1
    )
    assert [r.meters_in_service for r in (east, west, board.total)] == [3, 2, 5]
    assert [r.cuts_due_today for r in (east, west, board.total)] == [1, 0, 1]
    assert [r.cuts_overdue for r in (east, west, board.total)] == [1, 0, 1]
    assert [r.relay_commands_pending for r in (east, west, board.total)] == [0, 1, 1]
    assert board.total.division_code is None
    assert board.total.accounts == 5


def test_the_dashboard_collects_the_ist_days_recharges_by_channel(patna: Engine) -> None:
    desk = SqlOfficerDesk(patna)

    today = desk.dashboard(EVERY_DIVISION, TODAY, NOW)
    yesterday = desk.dashboard(EVERY_DIVISION, date(2025, 7, 2), NOW)

    east, west = today.divisions
    assert east.collections == (
        ChannelCollection("app", 1, 50_000),
        ChannelCollection("bbps", 1, 20_000),
    )
    assert west.collections == (ChannelCollection("counter", 1, 40_000),)
    assert today.total.collections == (
        ChannelCollection("app", 1, 50_000),
        ChannelCollection("bbps", 1, 20_000),
        ChannelCollection("counter", 1, 40_000),
    )
    assert today.total.collected_paise == 110_000
    assert yesterday.total.collections == (ChannelCollection("counter", 1, 30_000),)


def test_an_officer_sees_only_their_divisions_figures(patna: Engine) -> None:
    desk = SqlOfficerDesk(patna)

    board = desk.dashboard(["DIV-A"], TODAY, NOW)
    visible = desk.divisions(["DIV-A"])

    assert [r.division_code for r in board.divisions] == ["DIV-A"]
    assert board.total.accounts_by_state == board.divisions[0].accounts_by_state
    assert board.total.collections == board.divisions[0].collections
    assert board.total.relay_commands_pending == 0
    assert visible == [Division("DIV-A", "Patna East", "पटना पूर्व")]
    assert [d.code for d in desk.divisions(EVERY_DIVISION)] == ["DIV-A", "DIV-B"]


def test_an_officer_cannot_find_another_divisions_accounts(patna: Engine) -> None:
    desk = SqlOfficerDesk(patna)
    queries = ["B-2001", "B-20", "M-B-2001", "9876500021", "yadav"]

    scoped = [desk.search(query, ["DIV-A"]) for query in queries]
    admin = [desk.search(query, EVERY_DIVISION) for query in queries]

    assert scoped == [[], [], [], [], []]
    assert [[hit.account_id for hit in hits] for hits in admin] == [
        ["B-2001"],
        ["B-2001", "B-2002"],
        ["B-2001"],
        ["B-2001"],
        ["B-2001"],
    ]


def test_a_name_search_ignores_case_and_stays_in_scope(patna: Engine) -> None:
    desk = SqlOfficerDesk(patna)

    scoped = desk.search("RAMESH", ["DIV-A"])
    admin = desk.search("ramesh", EVERY_DIVISION)

    assert [hit.account_id for hit in scoped] == ["A-1001"]
    assert [hit.account_id for hit in admin] == ["A-1001", "B-2001"]
    hit = admin[1]
    assert (hit.consumer_name, hit.mobile, hit.meter_id) == (
        "Ramesh Yadav",
        "9876500021",
        "M-B-2001",
    )
    assert (hit.division_code, hit.supply_state) == ("DIV-B", "connected")
    assert hit.wallet_paise == balance(patna, "B-2001") == 140_000


def test_like_wildcards_in_a_query_match_nothing(patna: Engine) -> None:
    desk = SqlOfficerDesk(patna)

    found = [desk.search(query, EVERY_DIVISION) for query in ("%", "%%%", "___", "A-%", "_-1")]

    assert found == [[], [], [], [], []]


def test_division_of_names_the_division_above_the_accounts_subdivision(patna: Engine) -> None:
    desk = SqlOfficerDesk(patna)

    found = [desk.division_of(a) for a in ("A-1002", "B-2002", "X-9999")]

    assert found == ["DIV-A", "DIV-B", None]


def test_the_statement_running_balance_matches_the_ledger(patna: Engine) -> None:
    desk = SqlOfficerDesk(patna)

    lines = desk.account_statement("A-1001")
    newest_two = desk.account_statement("A-1001", limit=2)

    assert [line.journal_kind for line in lines] == [
        "recharge",
        "recharge",
        "recharge",
        "charge",
        "recharge",
    ]
    assert lines[0].balance_after_paise == balance(patna, "A-1001")
    for newer, older in pairwise(lines):
        assert newer.balance_after_paise - newer.amount_paise == older.balance_after_paise
        assert newer.at >= older.at
    assert lines[-1].balance_after_paise == lines[-1].amount_paise == 100_000
    assert lines[0].amount_paise == 20_000
    assert lines[3].amount_paise < 0
    assert newest_two == lines[:2]


def test_the_command_log_lists_the_cut_of_a_cut_off_consumer(patna: Engine) -> None:
    desk = SqlOfficerDesk(patna)

    east = desk.command_log(["DIV-A"])
    queued = desk.command_log(EVERY_DIVISION, account_id="B-2002")
    hidden = desk.command_log(["DIV-A"], account_id="B-2002")

    assert [(c.account_id, c.meter_id, c.action, c.status) for c in east] == [
        ("A-1003", "M-A-1003", "disconnect", "acknowledged")
    ]
    assert east[0].finished_at == ist(2025, 7, 3, 10, 0)
    assert east[0].division_code == "DIV-A"
    assert not east[0].is_pending
    assert [(c.action, c.status, c.is_pending) for c in queued] == [("disconnect", "queued", True)]
    assert hidden == []
    assert {c.account_id for c in desk.command_log(EVERY_DIVISION)} == {"A-1003", "B-2002"}


def test_an_officer_posted_to_no_division_sees_nothing(patna: Engine) -> None:
    desk = SqlOfficerDesk(patna)

    board = desk.dashboard([], TODAY, NOW)

    assert board.divisions == ()
    assert board.total.accounts == board.total.meters_in_service == 0
    assert desk.search("A-1001", []) == []
    assert desk.command_log([]) == []


def test_a_bare_division_code_is_refused_as_a_scope(patna: Engine) -> None:
    desk = SqlOfficerDesk(patna)

    with pytest.raises(TypeError, match="collection of division codes"):
        desk.search("A-1001", "DIV-A")
