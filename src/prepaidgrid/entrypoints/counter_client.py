"""`prepaidgrid counter`: the cash counter's device, and the admin commands that set one up.

The device numbers and signs every receipt itself and keeps it in a local SQLite queue
before anything goes over the network, so cash is never refused because the server is
down: a receipt the server does not acknowledge stays queued, is printed marked offline,
and `sync` posts it later (as often as needed: the server credits each number once).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from prepaidgrid.adapters.clock import SettableClock, SystemClock
from prepaidgrid.adapters.passwords import Argon2Hasher
from prepaidgrid.domain.counter import (
    Receipt,
    issued_at_text,
    require_id,
    sign_receipt,
)
from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.domain.units import IST, format_rupees, ist_day, parse_instant
from prepaidgrid.entrypoints.cli_errors import EXIT_REFUSED, exits_on_domain_error
from prepaidgrid.entrypoints.cli_ops import parse_day
from prepaidgrid.entrypoints.cli_options import AtOption, DbOption, JsonOption, app_for, emit_json
from prepaidgrid.services.counter import AddCashier, RegisterCounter, add_cashier, register_counter

counter_app = typer.Typer(
    help="The cash counter: take cash (online or offline), sync, receipts, day-end.",
    no_args_is_help=True,
)

EXIT_QUEUED = 1  # some receipts could not be synced yet: run `sync` again later
SYNC_BATCH = 100
TIMEOUT_S = 5.0

QueueOption = Annotated[
    Path | None,
    typer.Option(
        "--queue",
        envvar="PREPAIDGRID_COUNTER_QUEUE",
        help="The device's receipt queue (default ~/.prepaidgrid/counter-<id>.db).",
        show_default=False,
    ),
]
CounterOption = Annotated[
    str | None,
    typer.Option("--counter", envvar="PREPAIDGRID_COUNTER", help="This device's counter id."),
]
ServerOption = Annotated[
    str | None,
    typer.Option(
        "--server",
        envvar="PREPAIDGRID_SERVER_URL",
        help="The server's base URL (default: the one given to `setup`).",
        show_default=False,
    ),
]
CashierOption = Annotated[str, typer.Option("--cashier", help="Cashier id.")]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS device (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    counter_id TEXT NOT NULL, signing_key TEXT NOT NULL, server_url TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS session (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    cashier_id TEXT NOT NULL, token TEXT NOT NULL, expires_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS receipts (
    seq INTEGER PRIMARY KEY CHECK (seq > 0),
    receipt_no TEXT NOT NULL UNIQUE,
    cashier_id TEXT NOT NULL, account_id TEXT NOT NULL,
    amount_paise INTEGER NOT NULL CHECK (amount_paise > 0),
    issued_at TEXT NOT NULL, signature TEXT NOT NULL,
    offline INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'synced', 'rejected')),
    detail TEXT NOT NULL DEFAULT '');
"""


@dataclass(frozen=True, slots=True)
class Device:
    counter_id: str
    signing_key: str
    server_url: str


@dataclass(frozen=True, slots=True)
class Queued:
    receipt: Receipt
    signature: str
    offline: bool
    status: str  # queued | synced | rejected
    detail: str


class ReceiptQueue:
    """The device's own store: its identity, the cashier's session, every receipt taken.
    Receipts are never deleted: their numbers must never be used twice."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, timeout=30)
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def device(self) -> Device:
        row = self._db.execute("SELECT counter_id, signing_key, server_url FROM device").fetchone()
        if row is None:
            raise InvalidInput("this device is not set up: run `prepaidgrid counter setup` first")
        return Device(*row)

    def set_device(self, device: Device) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO device VALUES (1, ?, ?, ?)",
            (device.counter_id, device.signing_key, device.server_url),
        )

    def session(self) -> tuple[str, str] | None:
        """(cashier id, token) of the last login; the server says when it has expired."""
        row = self._db.execute("SELECT cashier_id, token FROM session").fetchone()
        return None if row is None else (row[0], row[1])

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM receipts").fetchone()[0])

    def set_session(self, cashier_id: str, token: str, expires_at: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO session VALUES (1, ?, ?, ?)", (cashier_id, token, expires_at)
        )

    def take(
        self, device: Device, cashier_id: str, account_id: str, paise: int, at: datetime
    ) -> Queued:
        """Number, sign and keep a receipt, in one local transaction."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            (last,) = self._db.execute("SELECT coalesce(max(seq), 0) FROM receipts").fetchone()
            receipt = Receipt(
                device.counter_id,
                last + 1,
                cashier_id,
                account_id,
                paise,
                at.replace(microsecond=0),
            )
            signature = sign_receipt(bytes.fromhex(device.signing_key), receipt)
            self._db.execute(
                "INSERT INTO receipts (seq, receipt_no, cashier_id, account_id, amount_paise,"
                " issued_at, signature) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    receipt.seq,
                    receipt.receipt_no,
                    cashier_id,
                    account_id,
                    paise,
                    issued_at_text(receipt.issued_at),
                    signature,
                ),
            )
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        return Queued(receipt, signature, False, "queued", "")

    def mark(
        self, receipt_no: str, status: str, detail: str = "", *, offline: bool = False
    ) -> None:
        self._db.execute(
            "UPDATE receipts SET status = ?, detail = ?, offline = max(offline, ?)"
            " WHERE receipt_no = ?",
            (status, detail, int(offline), receipt_no),
        )

    def receipts(self, where: str = "1 = 1", *args: object) -> list[Queued]:
        rows = self._db.execute(
            "SELECT seq, cashier_id, account_id, amount_paise, issued_at, signature, offline,"
            f" status, detail FROM receipts WHERE {where} ORDER BY seq",
            args,
        ).fetchall()
        counter_id = self.device().counter_id
        return [
            Queued(
                Receipt(counter_id, r[0], r[1], r[2], r[3], datetime.fromisoformat(r[4])),
                r[5],
                bool(r[6]),
                r[7],
                r[8],
            )
            for r in rows
        ]


def _queue(queue: Path | None, counter: str | None) -> ReceiptQueue:
    if queue is None:
        if counter is None:
            raise InvalidInput("name the device: --counter ID (or --queue PATH)")
        queue = Path.home() / ".prepaidgrid" / f"counter-{require_id(counter, 'counter id')}.db"
    return ReceiptQueue(queue)


def _clock_now(at: str | None) -> datetime:
    return (SettableClock(parse_instant(at)) if at else SystemClock()).now()


_RUPEES = re.compile(r"(\d{1,9})(?:\.(\d{1,2}))?")


def parse_rupees(text: str) -> int:
    """'500' -> 50000 paise, '1250.5' -> 125050; commas (Indian grouping) are ignored."""
    match = _RUPEES.fullmatch(text.replace(",", "").strip())
    if match is None or int(match[1] or 0) * 100 + int((match[2] or "0").ljust(2, "0")) <= 0:
        raise InvalidInput(f"amount in rupees, e.g. 500 or 1250.50; got {text!r}")
    return int(match[1]) * 100 + int((match[2] or "0").ljust(2, "0"))


def _payload(item: Queued) -> dict[str, Any]:
    r = item.receipt
    return {
        "receipt_no": r.receipt_no,
        "counter_id": r.counter_id,
        "seq": r.seq,
        "cashier_id": r.cashier_id,
        "account_id": r.account_id,
        "amount_paise": r.amount_paise,
        "issued_at": issued_at_text(r.issued_at),
        "signature": item.signature,
        "offline": item.offline,
    }


def _post(server: str, token: str, items: list[Queued]) -> httpx.Response:
    """Raises httpx.TransportError when the server cannot be reached."""
    return httpx.post(
        f"{server.rstrip('/')}/api/v1/counter/receipts",
        json={"receipts": [_payload(item) for item in items]},
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT_S,
    )


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text))
    except ValueError:
        return f"HTTP {response.status_code}"


def _is_refusal(response: httpx.Response) -> bool:
    """The server refused the receipt itself (it will never take it): not a retry case."""
    return response.status_code in (403, 404, 409, 422)


def receipt_text(item: Queued) -> str:
    r = item.receipt
    if item.status == "synced":
        status = "जमा / CREDITED"
    elif item.status == "rejected":
        status = f"अस्वीकृत / REFUSED by the server: {item.detail}"
    else:
        status = "ऑफ़लाइन / OFFLINE: taken, will be credited when the counter syncs"
    lines = [
        ("रसीद संख्या / Receipt no.", r.receipt_no),
        ("दिनांक / Date", r.issued_at.astimezone(IST).strftime("%d-%m-%Y %H:%M IST")),
        ("काउंटर / Counter", r.counter_id),
        ("कैशियर / Cashier", r.cashier_id),
        ("उपभोक्ता संख्या / Account", r.account_id),
        ("राशि / Amount", format_rupees(r.amount_paise)),
        ("स्थिति / Status", status),
        ("सत्यापन / Verification", f"{r.receipt_no}:{item.signature[:16]}"),
    ]
    body = "\n".join(f"{label:<28} {value}" for label, value in lines)
    return f"बिजली रिचार्ज नकद रसीद / Electricity recharge: cash receipt\n{body}"


def _as_json(item: Queued) -> dict[str, Any]:
    return {**_payload(item), "status": item.status, "detail": item.detail}


@counter_app.command("setup")
@exits_on_domain_error
def setup(
    counter: Annotated[str, typer.Option("--counter", help="The counter id registered.")],
    key: Annotated[str, typer.Option("--key", help="Its signing key, as `register` printed.")],
    server: Annotated[str, typer.Option("--server", help="The server's base URL.")],
    queue: QueueOption = None,
) -> None:
    """Set this device up as a counter (run once, on the counter's PC)."""
    if not re.fullmatch(r"[0-9a-f]{64}", key):
        raise InvalidInput("the signing key is 64 hex digits, as `register` printed it")
    store = _queue(queue, counter)
    try:
        if store.count() and store.device().counter_id != counter:
            raise InvalidInput("this queue holds another counter's receipts")
        store.set_device(Device(counter, key, server))
    finally:
        store.close()
    typer.echo(f"counter {counter} set up; receipts go to {server}")


@counter_app.command("login")
@exits_on_domain_error
def login(
    cashier: CashierOption,
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, envvar="PREPAIDGRID_CASHIER_PASSWORD")
    ],
    queue: QueueOption = None,
    counter: CounterOption = None,
    server: ServerOption = None,
) -> None:
    """Log a cashier in at the server; the session (12 h) lets this device post receipts."""
    store = _queue(queue, counter)
    try:
        url = (server or store.device().server_url).rstrip("/")
        try:
            response = httpx.post(
                f"{url}/api/v1/counter/login",
                json={"cashier_id": cashier, "password": password},
                timeout=TIMEOUT_S,
            )
        except httpx.TransportError:
            typer.echo(
                f"error: the server at {url} cannot be reached. Take cash anyway with "
                f"`take --cashier {cashier}`: it is synced after you log in.",
                err=True,
            )
            raise typer.Exit(EXIT_QUEUED) from None
        if response.status_code != 200:
            typer.echo(f"error: {_detail(response)}", err=True)
            raise typer.Exit(EXIT_REFUSED)
        body = response.json()
        store.set_session(body["cashier_id"], body["token"], body["expires_at"])
    finally:
        store.close()
    typer.echo(f"cashier {body['cashier_id']} logged in at counter {body['counter_id']}")


@counter_app.command("take")
@exits_on_domain_error
def take(
    account: Annotated[str, typer.Option("--account", help="Consumer's account number.")],
    amount: Annotated[str, typer.Option("--amount", help="Rupees, e.g. 500 or 1250.50.")],
    cashier: Annotated[
        str | None,
        typer.Option("--cashier", help="Default: the cashier logged in.", show_default=False),
    ] = None,
    queue: QueueOption = None,
    counter: CounterOption = None,
    server: ServerOption = None,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """Take cash: the receipt is numbered and signed here, then posted.

    If the server cannot be reached the receipt stays queued and is printed marked offline.
    """
    paise = parse_rupees(amount)
    now = _clock_now(at)
    store = _queue(queue, counter)
    try:
        device = store.device()
        session = store.session()
        who = cashier or (session[0] if session else None)
        if who is None:
            raise InvalidInput("no cashier logged in: `login`, or name one with --cashier")
        item = store.take(
            device, require_id(who, "cashier id"), require_id(account, "account id"), paise, now
        )
        if session is None:
            store.mark(item.receipt.receipt_no, "queued", "no cashier logged in", offline=True)
        else:
            try:
                response = _post(server or device.server_url, session[1], [item])
            except httpx.TransportError:
                store.mark(item.receipt.receipt_no, "queued", "server unreachable", offline=True)
            else:
                if response.status_code == 200:
                    store.mark(item.receipt.receipt_no, "synced")
                elif _is_refusal(response):
                    store.mark(item.receipt.receipt_no, "rejected", _detail(response))
                else:
                    store.mark(item.receipt.receipt_no, "queued", _detail(response), offline=True)
        (item,) = store.receipts("receipt_no = ?", item.receipt.receipt_no)
    finally:
        store.close()
    if as_json:
        emit_json(_as_json(item))
    else:
        typer.echo(receipt_text(item))
    if item.status == "rejected":
        typer.echo("error: the server refused this receipt: give the cash back.", err=True)
        raise typer.Exit(EXIT_REFUSED)


@counter_app.command("sync")
@exits_on_domain_error
def sync(
    queue: QueueOption = None,
    counter: CounterOption = None,
    server: ServerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Post every queued receipt (safe to repeat: each is credited once).

    Exit 1 if some are still queued (server down: run it again later), 2 if the server
    refused some.
    """
    store = _queue(queue, counter)
    run = {"synced": 0, "credited": 0, "rejected": 0, "queued": 0, "problem": ""}
    try:
        device = store.device()
        pending = store.receipts("status = 'queued'")
        session = store.session()
        url = server or device.server_url
        while pending and not run["problem"]:
            if session is None:
                run["problem"] = "no cashier logged in on this device: `login`, then sync"
                break
            batch, pending = pending[:SYNC_BATCH], pending[SYNC_BATCH:]
            run["problem"] = _sync_batch(store, url, session[1], batch, run)
        run["queued"] = len(store.receipts("status = 'queued'"))
    finally:
        store.close()
    if as_json:
        emit_json(run)
    else:
        typer.echo(
            f"synced {run['synced']} (newly credited {run['credited']}), "
            f"refused {run['rejected']}, still queued {run['queued']}"
        )
    if run["problem"]:
        typer.echo(f"error: {run['problem']}", err=True)
    if run["rejected"]:
        raise typer.Exit(EXIT_REFUSED)
    if run["queued"]:
        raise typer.Exit(EXIT_QUEUED)


def _sync_batch(
    store: ReceiptQueue, url: str, token: str, batch: list[Queued], run: dict[str, Any]
) -> str:
    """Post a batch; a refused batch is posted one by one to find the bad receipts. The
    problem that stops the sync, or ''."""
    try:
        response = _post(url, token, batch)
    except httpx.TransportError:
        return f"the server at {url} cannot be reached: run sync again later"
    if response.status_code == 200:
        for posted in response.json()["receipts"]:
            store.mark(posted["receipt_no"], "synced")
            run["synced"] += 1
            run["credited"] += posted["outcome"] == "credited"
        return ""
    if not _is_refusal(response):
        return _detail(response)
    if len(batch) == 1:
        store.mark(batch[0].receipt.receipt_no, "rejected", _detail(response))
        run["rejected"] += 1
        return ""
    for item in batch:
        problem = _sync_batch(store, url, token, [item], run)
        if problem:
            return problem
    return ""


@counter_app.command("receipt")
@exits_on_domain_error
def receipt(
    receipt_no: Annotated[str, typer.Argument(help="e.g. PAT-C1-0000042")],
    queue: QueueOption = None,
    counter: CounterOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print one receipt from this device's queue (a duplicate copy)."""
    store = _queue(queue, counter)
    try:
        found = store.receipts("receipt_no = ?", receipt_no)
    finally:
        store.close()
    if not found:
        raise InvalidInput(f"no receipt {receipt_no} on this device")
    if as_json:
        emit_json(_as_json(found[0]))
    else:
        typer.echo(receipt_text(found[0]))


@counter_app.command("day-end")
@exits_on_domain_error
def day_end(
    day: Annotated[str | None, typer.Option("--day", help="IST day (default today).")] = None,
    cashier: Annotated[
        str | None, typer.Option("--cashier", help="Default: the cashier logged in.")
    ] = None,
    queue: QueueOption = None,
    counter: CounterOption = None,
    server: ServerOption = None,
    as_json: JsonOption = False,
) -> None:
    """The day's cash: this device's receipts, and the server's reconciliation.

    The device's receipts are synced, queued or refused; the server's day-end (when it can
    be reached) has the totals and the gaps (receipts it has not received).
    """
    the_day = parse_day(day) if day else ist_day(_clock_now(None))
    store = _queue(queue, counter)
    try:
        device = store.device()
        session = store.session()
        who = cashier or (session[0] if session else None)
        start = datetime.combine(the_day, datetime.min.time(), tzinfo=IST)
        local = [
            item
            for item in store.receipts("1 = 1")
            if start <= item.receipt.issued_at < start + timedelta(days=1)
            and (who is None or item.receipt.cashier_id == who)
        ]
        server_view: dict[str, Any] | str = "not asked: no cashier logged in"
        if session is not None:
            try:
                response = httpx.get(
                    f"{(server or device.server_url).rstrip('/')}/api/v1/counter/day-end",
                    params={"cashier_id": who or session[0], "day": the_day.isoformat()},
                    headers={"Authorization": f"Bearer {session[1]}"},
                    timeout=TIMEOUT_S,
                )
                server_view = response.json() if response.status_code == 200 else _detail(response)
            except httpx.TransportError:
                server_view = "the server cannot be reached"
    finally:
        store.close()
    on_device: dict[str, dict[str, Any]] = {}
    for status in ("synced", "queued", "rejected"):
        items = [i for i in local if i.status == status]
        on_device[status] = {
            "count": len(items),
            "total_paise": sum(i.receipt.amount_paise for i in items),
            "receipts": [i.receipt.receipt_no for i in items],
        }
    if as_json:
        emit_json({"day": the_day, "cashier_id": who, "device": on_device, "server": server_view})
        return
    typer.echo(f"day-end {the_day} · cashier {who or 'all'} · counter {device.counter_id}")
    for status, figures in on_device.items():
        typer.echo(
            f"  device {status:<8} {figures['count']:>4} receipts  "
            f"{format_rupees(figures['total_paise'])}"
        )
    if isinstance(server_view, dict):
        typer.echo(
            f"  server: {server_view['count']} receipts, {server_view['total']} "
            f"(offline {server_view['offline_count']}); not yet received: "
            f"{server_view['missing_count']}"
        )
    else:
        typer.echo(f"  server: {server_view}")


# -- admin commands: on the database directly ---------------------------------------------------


@counter_app.command("register")
@exits_on_domain_error
def register(
    counter: Annotated[str, typer.Option("--counter", help="New counter id, e.g. PAT-C1.")],
    name: Annotated[str, typer.Option("--name", help="Where it stands.")],
    subdivision: Annotated[str, typer.Option("--subdivision", help="Its subdivision code.")],
    db: DbOption = None,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register a counter; prints its signing key once (set it up on the device)."""
    app = app_for(db, at)
    try:
        registered = register_counter(
            RegisterCounter(counter, name, subdivision), app.uow(), app.clock
        )
    finally:
        app.engine.dispose()
    if as_json:
        emit_json({"counter_id": registered.counter_id, "signing_key": registered.signing_key})
        return
    typer.echo(f"counter {registered.counter_id} registered. Its signing key (shown once):")
    typer.echo(registered.signing_key)
    typer.echo(
        f"on the device: prepaidgrid counter setup --counter {registered.counter_id} "
        "--key <the key> --server <https://server>"
    )


@counter_app.command("add-cashier")
@exits_on_domain_error
def add_cashier_(
    cashier: CashierOption,
    name: Annotated[str, typer.Option("--name", help="The cashier's name.")],
    counter: Annotated[str, typer.Option("--counter", help="The counter they work at.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="PREPAIDGRID_CASHIER_PASSWORD",
            help="At least 8 characters (prompted if not given).",
        ),
    ],
    db: DbOption = None,
    at: AtOption = None,
) -> None:
    """Add a cashier to a counter (the password is stored as an argon2id hash only)."""
    app = app_for(db, at)
    try:
        added = add_cashier(
            AddCashier(cashier, name, counter, password), app.uow(), app.clock, Argon2Hasher()
        )
    finally:
        app.engine.dispose()
    typer.echo(f"cashier {added.cashier_id} added to counter {added.counter_id}")
