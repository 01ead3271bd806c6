"""Portal access in SQL: login codes, officers and their divisions, sessions, the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, RowMapping, Table, func, insert, select, update
from sqlalchemy import Connection as SqlConnection
from sqlalchemy.exc import IntegrityError

from prepaidgrid.adapters.db.tables import (
    accounts,
    audit_log,
    login_codes,
    officer_divisions,
    officers,
    org_units,
    web_sessions,
)
from prepaidgrid.domain.access import (
    CODE_TTL,
    CODE_WINDOW,
    WRONG_TRIES_WINDOW,
    CodeRecord,
    MobileHistory,
    Officer,
    Role,
    SessionKind,
)
from prepaidgrid.domain.errors import AlreadyExists, NotFound
from prepaidgrid.services.access import AuditEntry, OfficerRecord, PortalSession

# One-time codes live in two tables of the same shape (login_codes, contact_codes): these
# read and move a code the same way in both.


def code_record(row: RowMapping) -> CodeRecord:
    return CodeRecord(
        row["id"], row["digest"], row["created_at"], row["expires_at"], row["tries"], row["used_at"]
    )


def newest_code_row(
    db: SqlConnection, table: Table, *where: ColumnElement[bool]
) -> RowMapping | None:
    """The newest code matching `where`, locked until the transaction ends."""
    query = (
        select(table)
        .where(*where)
        .order_by(table.c.created_at.desc(), table.c.id.desc())
        .limit(1)
        .with_for_update()
    )
    return db.execute(query).mappings().first()


def add_code_row(db: SqlConnection, table: Table, created_at: datetime, **values: object) -> int:
    code_id: int = db.execute(
        insert(table)
        .values(created_at=created_at, expires_at=created_at + CODE_TTL, tries=0, **values)
        .returning(table.c.id)
    ).scalar_one()
    return code_id


def record_wrong_try(db: SqlConnection, table: Table, code_id: int, at: datetime) -> None:
    db.execute(
        update(table).where(table.c.id == code_id).values(tries=table.c.tries + 1, last_try_at=at)
    )


def mark_code_used(db: SqlConnection, table: Table, code_id: int, at: datetime) -> None:
    db.execute(update(table).where(table.c.id == code_id).values(used_at=at))


class SqlAccess:
    def __init__(self, connection: SqlConnection) -> None:
        self._db = connection

    # -- consumers' codes --

    def registered_account(self, mobile: str) -> tuple[str, str] | None:
        row = self._db.execute(
            select(accounts.c.account_id, accounts.c.language)
            .where(accounts.c.mobile == mobile)
            .order_by(accounts.c.account_id)
            .limit(1)
        ).first()
        return None if row is None else (row.account_id, row.language)

    def mobile_history(self, mobile: str, at: datetime) -> MobileHistory:
        c = login_codes.c
        sent = self._db.execute(
            select(func.count()).where(c.mobile == mobile, c.created_at > at - CODE_WINDOW)
        ).scalar_one()
        wrong = self._db.execute(
            select(func.coalesce(func.sum(c.tries), 0), func.max(c.last_try_at)).where(
                c.mobile == mobile, c.last_try_at > at - WRONG_TRIES_WINDOW
            )
        ).one()
        return MobileHistory(int(sent), int(wrong[0]), wrong[1])

    def newest_code(self, mobile: str) -> CodeRecord | None:
        row = newest_code_row(self._db, login_codes, login_codes.c.mobile == mobile)
        return None if row is None else code_record(row)

    def add_code(self, mobile: str, digest: str, created_at: datetime) -> int:
        code_id: int = self._db.execute(
            insert(login_codes)
            .values(
                mobile=mobile,
                digest=digest,
                created_at=created_at,
                expires_at=created_at + CODE_TTL,
                tries=0,
            )
            .returning(login_codes.c.id)
        ).scalar_one()
        return code_id

    def record_wrong_try(self, code_id: int, at: datetime) -> None:
        c = login_codes.c
        self._db.execute(
            update(login_codes).where(c.id == code_id).values(tries=c.tries + 1, last_try_at=at)
        )

    def mark_code_used(self, code_id: int, at: datetime) -> None:
        self._db.execute(update(login_codes).where(login_codes.c.id == code_id).values(used_at=at))

    # -- officers --

    def add_officer(self, record: OfficerRecord) -> None:
        officer = record.officer
        if officer.divisions:
            found = set(
                self._db.execute(
                    select(org_units.c.code).where(
                        org_units.c.code.in_(officer.divisions), org_units.c.level == "division"
                    )
                ).scalars()
            )
            missing = sorted(set(officer.divisions) - found)
            if missing:
                raise NotFound(f"no division {', '.join(missing)}")
        try:
            with self._db.begin_nested():
                self._db.execute(
                    insert(officers).values(
                        officer_id=officer.officer_id,
                        name=officer.name,
                        role=officer.role.value,
                        password_hash=record.password_hash,
                        active=officer.is_active,
                        failed_logins=record.failed_logins,
                        locked_until=record.locked_until,
                        created_at=record.created_at,
                    )
                )
        except IntegrityError:
            raise AlreadyExists(f"officer {officer.officer_id} already exists") from None
        if officer.divisions:
            self._db.execute(
                insert(officer_divisions),
                [
                    {"officer_id": officer.officer_id, "division_code": code}
                    for code in sorted(officer.divisions)
                ],
            )

    def officer(self, officer_id: str, *, lock: bool = False) -> OfficerRecord | None:
        query = select(officers).where(officers.c.officer_id == officer_id)
        row = self._db.execute(query.with_for_update() if lock else query).mappings().first()
        if row is None:
            return None
        divisions = frozenset(
            self._db.execute(
                select(officer_divisions.c.division_code).where(
                    officer_divisions.c.officer_id == officer_id
                )
            ).scalars()
        )
        return _officer_record(row, divisions)

    def set_login_state(
        self, officer_id: str, failed_logins: int, locked_until: datetime | None
    ) -> None:
        self._db.execute(
            update(officers)
            .where(officers.c.officer_id == officer_id)
            .values(failed_logins=failed_logins, locked_until=locked_until)
        )

    # -- sessions --

    def add_session(self, session: PortalSession) -> None:
        self._db.execute(
            insert(web_sessions).values(
                token_digest=session.token_digest,
                kind=session.kind.value,
                subject=session.subject,
                csrf_token=session.csrf_token,
                created_at=session.created_at,
                expires_at=session.expires_at,
                ended_at=session.ended_at,
            )
        )

    def session(self, token_digest: str) -> PortalSession | None:
        row = (
            self._db.execute(
                select(web_sessions).where(web_sessions.c.token_digest == token_digest)
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        return PortalSession(
            row["token_digest"],
            SessionKind(row["kind"]),
            row["subject"],
            row["csrf_token"],
            row["created_at"],
            row["expires_at"],
            row["ended_at"],
        )

    def end_session(self, token_digest: str, at: datetime) -> None:
        c = web_sessions.c
        self._db.execute(
            update(web_sessions)
            .where(c.token_digest == token_digest, c.ended_at.is_(None))
            .values(ended_at=at)
        )

    # -- the audit log --

    def add_audit(self, entry: AuditEntry) -> None:
        self._db.execute(
            insert(audit_log).values(
                at=entry.at,
                actor=entry.actor,
                action=entry.action,
                target=entry.target,
                reason=entry.reason,
                detail=dict(entry.detail),
            )
        )

    def audit_entries(
        self, limit: int, *, actor: str | None = None, target: str | None = None
    ) -> list[AuditEntry]:
        c = audit_log.c
        query = select(audit_log).order_by(c.at.desc(), c.id.desc()).limit(limit)
        if actor is not None:
            query = query.where(c.actor == actor)
        if target is not None:
            query = query.where(c.target == target)
        return [
            AuditEntry(r["at"], r["actor"], r["action"], r["target"], r["reason"], r["detail"])
            for r in self._db.execute(query).mappings()
        ]


def _officer_record(row: RowMapping, divisions: frozenset[str]) -> OfficerRecord:
    officer = Officer(row["officer_id"], row["name"], Role(row["role"]), divisions, row["active"])
    return OfficerRecord(
        officer, row["password_hash"], row["failed_logins"], row["locked_until"], row["created_at"]
    )
