"""One scheduler leader among the `serve` processes of a database, and a new one when it
dies."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from prepaidgrid.adapters.db.engine import make_engine
from prepaidgrid.adapters.db.leader import LeaderLock
from prepaidgrid.entrypoints.scheduler import Periodic
from tests.conftest import database_url

pytestmark = pytest.mark.integration


def test_one_process_leads_and_another_takes_over_when_it_lets_go(engine: Engine) -> None:
    other = make_engine(database_url(engine))  # another serve's engine on the same database
    first, second = LeaderLock(engine), LeaderLock(other)
    try:
        assert first.holds()
        assert first.holds()  # and keeps it
        assert not second.holds()
        first.release()
        assert second.holds()
        assert not first.holds()
    finally:
        first.release()
        second.release()
        other.dispose()


class Counting(Periodic):
    def __init__(self, leader: LeaderLock) -> None:
        super().__init__("counting", 0.01, leader)
        self.ticks = 0

    def tick(self) -> None:
        self.ticks += 1


def test_only_the_leaders_scheduler_ticks(engine: Engine) -> None:
    other = make_engine(database_url(engine))
    leading, following = LeaderLock(engine), LeaderLock(other)
    assert leading.holds()
    ours, theirs = Counting(leading).start(), Counting(following).start()
    time.sleep(0.3)
    ours.stop()
    theirs.stop()
    leading.release()
    following.release()
    other.dispose()

    assert ours.ticks > 0
    assert theirs.ticks == 0


def test_a_leader_whose_session_is_killed_loses_the_lead_to_another() -> None:
    pytest.importorskip("psycopg")
    from tests.conftest import fresh_postgres

    for engine in fresh_postgres():
        other = make_engine(database_url(engine))
        first, second = LeaderLock(engine), LeaderLock(other)
        try:
            assert first.holds()
            with engine.connect() as admin:  # the leader's connection dies (crash, network)
                admin.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_locks "
                        "WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()"
                    )
                )
            deadline = time.monotonic() + 10
            while not second.holds():
                assert time.monotonic() < deadline, "nobody took over within 10 s"
                time.sleep(0.05)
            assert not first.holds()  # it notices, tries again, and follows
        finally:
            first.release()
            second.release()
            other.dispose()


def test_a_killed_sqlite_leader_leaves_the_lead_to_the_next_process(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path}/serve.db"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from prepaidgrid.adapters.db.engine import make_engine\n"
            "from prepaidgrid.adapters.db.leader import LeaderLock\n"
            f"lock = LeaderLock(make_engine({db_url!r}))\n"
            "assert lock.holds()\n"
            "print('leading', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    engine = make_engine(db_url)
    ours = LeaderLock(engine)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "leading"
        assert not ours.holds()
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        assert ours.holds()
    finally:
        holder.kill()
        holder.communicate(timeout=10)
        ours.release()
        engine.dispose()
