"""One scheduler leader among the `serve` processes of a database.

The nightly run, the gateway polling and the complaint escalation are safe to run twice
(their unique keys decide), but doing them once is tidy and cheaper: the process holding
the lock does them, the others only serve. On PostgreSQL the lock is a session advisory
lock on a connection kept for it; when that connection dies (the leader crashed, or the
network dropped it) the server releases the lock and another process takes over at its
next try. On SQLite, which serves one machine, it is an exclusive `flock` on a file beside
the database, released by the kernel when the holder exits.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger("prepaidgrid.leader")

# pg_advisory_lock's key: "prepaidgrid scheduler", as a signed 64-bit number
SCHEDULER_LOCK_KEY = int.from_bytes(b"pgschedu", "big", signed=True)


class LeaderLock:
    """`holds()` is true while this process leads; it tries to become the leader when not."""

    def __init__(self, engine: Engine, key: int = SCHEDULER_LOCK_KEY) -> None:
        self._engine, self._key = engine, key
        self._connection: Connection | None = None
        self._file: IO[bytes] | None = None
        self._mutex = threading.Lock()  # the scheduler's threads share one lock

    def holds(self) -> bool:
        with self._mutex:
            if self._engine.dialect.name == "sqlite":
                return self._holds_file()
            return self._holds_advisory()

    def release(self) -> None:
        with self._mutex:
            self._release()

    def _release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": self._key}
                )
                self._connection.commit()
            except SQLAlchemyError:
                pass  # a dead connection holds nothing
            self._connection.close()
            self._connection = None
        if self._file is not None:
            self._file.close()  # closing the descriptor releases the flock
            self._file = None

    def _holds_advisory(self) -> bool:
        if self._connection is not None:
            try:  # still ours while the session lives
                self._connection.execute(text("SELECT 1"))
                self._connection.commit()
                return True
            except SQLAlchemyError:
                log.warning("the leader lock's connection was lost: trying to lead again")
                self._connection.invalidate()
                self._connection.close()
                self._connection = None
        try:
            connection = self._engine.connect()
        except SQLAlchemyError:
            return False  # the database is down: nobody leads until it is back
        try:
            is_taken = bool(
                connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
                ).scalar_one()
            )
            connection.commit()
        except SQLAlchemyError:
            connection.close()
            return False
        if not is_taken:
            connection.close()
            return False
        log.warning("this process leads the scheduler (advisory lock %d)", self._key)
        self._connection = connection
        return True

    def _holds_file(self) -> bool:
        if self._file is not None:
            return True
        path = _lock_path(self._engine)
        if path is None:
            return True  # a private in-memory database: this process is all there is
        handle = path.open("ab")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        log.warning("this process leads the scheduler (lock file %s)", path)
        self._file = handle
        return True


def _lock_path(engine: Engine) -> Path | None:
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    return Path(f"{database}.leader")
