"""Consumer care in SQL: complaints and their events, alert preferences, contact changes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from sqlalchemy import Connection as SqlConnection
from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from prepaidgrid.adapters.db.access_repository import (
    add_code_row,
    code_record,
    mark_code_used,
    newest_code_row,
    record_wrong_try,
)
from prepaidgrid.adapters.db.complaint_read_model import SqlComplaintFacts, complaint_of_row
from prepaidgrid.adapters.db.tables import (
    accounts,
    alert_preferences,
    complaint_escalations,
    complaint_events,
    complaints,
    contact_changes,
    contact_codes,
    org_units,
    web_sessions,
)
from prepaidgrid.domain.access import (
    CODE_WINDOW,
    WRONG_TRIES_WINDOW,
    MobileHistory,
    SessionKind,
)
from prepaidgrid.domain.complaint_diagnosis import Diagnosis, diagnosis_of
from prepaidgrid.domain.complaints import (
    OPEN_STATUSES,
    Complaint,
    ComplaintEvent,
    ComplaintStatus,
    EventKind,
    NewComplaint,
)
from prepaidgrid.domain.notifications import AlertPreferences, ContactKind
from prepaidgrid.services.care import ContactChange, ContactCode
from prepaidgrid.services.complaint_desk import AccountContact


class SqlCare:
    def __init__(self, connection: SqlConnection) -> None:
        self._db = connection
        self._facts = SqlComplaintFacts(connection)

    @property
    def facts(self) -> SqlComplaintFacts:
        return self._facts

    # -- complaints --

    def add_complaint(self, new: NewComplaint, client_key: str) -> tuple[Complaint, bool]:
        earlier = self._by_key(new.account_id, client_key)
        if earlier is not None:
            return earlier, False
        try:
            with self._db.begin_nested():
                complaint_id: int = self._db.execute(
                    insert(complaints)
                    .values(
                        account_id=new.account_id,
                        client_key=client_key,
                        category=new.category.value,
                        description=new.description,
                        payment_reference=new.payment_reference,
                        status=ComplaintStatus.OPEN.value,
                        opened_at=new.opened_at,
                        due_on=new.due_on,
                        updated_at=new.opened_at,
                    )
                    .returning(complaints.c.id)
                ).scalar_one()
        except IntegrityError:
            earlier = self._by_key(new.account_id, client_key)
            if earlier is None:
                raise  # not the form key: a constraint the domain should have kept
            return earlier, False  # the same form, submitted concurrently, came first
        filed = Complaint(
            complaint_id,
            new.account_id,
            new.category,
            new.description,
            new.payment_reference,
            ComplaintStatus.OPEN,
            new.opened_at,
            new.due_on,
            new.opened_at,
        )
        return filed, True

    def _by_key(self, account_id: str, client_key: str) -> Complaint | None:
        c = complaints.c
        row = (
            self._db.execute(
                select(complaints).where(c.account_id == account_id, c.client_key == client_key)
            )
            .mappings()
            .first()
        )
        return None if row is None else complaint_of_row(row)

    def complaint(self, account_id: str, complaint_id: int) -> Complaint | None:
        c = complaints.c
        row = (
            self._db.execute(
                select(complaints).where(c.id == complaint_id, c.account_id == account_id)
            )
            .mappings()
            .first()
        )
        return None if row is None else complaint_of_row(row)

    def complaints_of(self, account_id: str, limit: int) -> list[Complaint]:
        c = complaints.c
        rows = self._db.execute(
            select(complaints)
            .where(c.account_id == account_id)
            .order_by(c.opened_at.desc(), c.id.desc())
            .limit(limit)
        ).mappings()
        return [complaint_of_row(row) for row in rows]

    def add_complaint_event(self, event: ComplaintEvent) -> int:
        statement = (
            insert(complaint_events)
            .values(
                complaint_id=event.complaint_id,
                at=event.at,
                actor=event.actor,
                from_status=event.from_status.value if event.from_status else None,
                to_status=event.to_status.value,
                note=event.note,
                kind=event.kind.value,
            )
            .returning(complaint_events.c.id)
        )
        return int(self._db.execute(statement).scalar_one())

    def complaint_events(self, complaint_id: int) -> list[ComplaintEvent]:
        c = complaint_events.c
        rows = self._db.execute(
            select(complaint_events).where(c.complaint_id == complaint_id).order_by(c.at, c.id)
        ).mappings()
        return [
            ComplaintEvent(
                row["complaint_id"],
                row["at"],
                row["actor"],
                ComplaintStatus(row["from_status"]) if row["from_status"] else None,
                ComplaintStatus(row["to_status"]),
                row["note"],
                EventKind(row["kind"]),
            )
            for row in rows
        ]

    # -- the officers' side (issue 7) --

    def complaint_by_id(self, complaint_id: int, *, lock: bool = False) -> Complaint | None:
        query = select(complaints).where(complaints.c.id == complaint_id)
        row = self._db.execute(query.with_for_update() if lock else query).mappings().first()
        return None if row is None else complaint_of_row(row)

    def save_complaint(self, after: Complaint) -> None:
        self._db.execute(
            update(complaints)
            .where(complaints.c.id == after.complaint_id)
            .values(
                status=after.status.value,
                updated_at=after.updated_at,
                resolution=after.resolution,
                escalation_level=after.escalation_level,
                assigned_to=after.assigned_to,
                due_on=after.due_on,
                resolved_at=after.resolved_at,
            )
        )

    def set_diagnosis(self, complaint_id: int, diagnosis: Diagnosis) -> None:
        self._db.execute(
            update(complaints)
            .where(complaints.c.id == complaint_id)
            .values(diagnosis=diagnosis.as_json(), check_meter_on=diagnosis.check_meter_on)
        )

    def diagnosis(self, complaint_id: int) -> Diagnosis | None:
        stored = self._db.execute(
            select(complaints.c.diagnosis).where(complaints.c.id == complaint_id)
        ).scalar()
        return None if stored is None else diagnosis_of(stored)

    def division_of(self, account_id: str) -> str | None:
        code = self._db.execute(
            select(org_units.c.parent_code)
            .select_from(accounts.join(org_units, org_units.c.code == accounts.c.subdivision_code))
            .where(accounts.c.account_id == account_id)
        ).scalar()
        return None if code is None else str(code)

    def add_escalation(self, complaint_id: int, level: int, at: datetime) -> bool:
        dialect = sqlite if self._db.dialect.name == "sqlite" else postgresql
        statement = (
            dialect.insert(complaint_escalations)
            .values(complaint_id=complaint_id, level=level, escalated_at=at)
            .on_conflict_do_nothing()
        )
        return bool(self._db.execute(statement).rowcount)

    def escalations_pending(self, day: date, steps: Sequence[int], limit: int) -> list[Complaint]:
        c = complaints.c
        # Level L climbs once the IST day is past due_on + steps[L] (domain/complaints.py
        # escalation_level_due): complaints at their last level, or not late enough for the
        # next one, are never read, so they cannot crowd out the ones that are.
        next_level_due = [
            and_(c.escalation_level == level, c.due_on < day - timedelta(days=days))
            for level, days in enumerate(steps)
        ]
        if not next_level_due:
            return []
        rows = self._db.execute(
            select(complaints)
            .where(c.status.in_([s.value for s in OPEN_STATUSES]), or_(*next_level_due))
            .order_by(c.due_on, c.id)
            .limit(limit)
        ).mappings()
        return [complaint_of_row(row) for row in rows]

    # -- alert preferences --

    def preferences(self, account_id: str) -> AlertPreferences:
        row = (
            self._db.execute(
                select(alert_preferences).where(alert_preferences.c.account_id == account_id)
            )
            .mappings()
            .first()
        )
        if row is None:
            return AlertPreferences()
        return AlertPreferences(
            is_daily_summary_on=row["is_daily_summary_on"],
            is_low_balance_on=row["is_low_balance_on"],
            low_balance_paise=row["low_balance_paise"],
            is_sms_on=row["is_sms_on"],
            is_email_on=row["is_email_on"],
            quiet_from=_time(row["quiet_from_minute"]),
            quiet_until=_time(row["quiet_until_minute"]),
        )

    def save_preferences(
        self, account_id: str, preferences: AlertPreferences, at: datetime
    ) -> None:
        values = {
            "is_daily_summary_on": preferences.is_daily_summary_on,
            "is_low_balance_on": preferences.is_low_balance_on,
            "low_balance_paise": preferences.low_balance_paise,
            "is_sms_on": preferences.is_sms_on,
            "is_email_on": preferences.is_email_on,
            "quiet_from_minute": _minute(preferences.quiet_from),
            "quiet_until_minute": _minute(preferences.quiet_until),
            "updated_at": at,
        }
        dialect = sqlite if self._db.dialect.name == "sqlite" else postgresql
        statement = dialect.insert(alert_preferences).values(account_id=account_id, **values)
        self._db.execute(
            statement.on_conflict_do_update(
                index_elements=[alert_preferences.c.account_id], set_=values
            )
        )

    # -- contact details and their codes --

    def contact_of(self, account_id: str, *, lock: bool = False) -> AccountContact | None:
        a = accounts.c
        query = select(a.account_id, a.mobile, a.email, a.language).where(
            a.account_id == account_id
        )
        row = self._db.execute(query.with_for_update() if lock else query).first()
        if row is None:
            return None
        return AccountContact(row.account_id, row.mobile, row.email, row.language)

    def contact_history(self, account_id: str, target: str, at: datetime) -> MobileHistory:
        c = contact_codes.c
        since = at - CODE_WINDOW
        for_account, to_target = self._db.execute(
            select(
                func.count().filter(c.account_id == account_id),
                func.count().filter(c.target == target),
            ).where(c.created_at > since, or_(c.account_id == account_id, c.target == target))
        ).one()
        wrong = self._db.execute(
            select(func.coalesce(func.sum(c.tries), 0), func.max(c.last_try_at)).where(
                c.account_id == account_id, c.last_try_at > at - WRONG_TRIES_WINDOW
            )
        ).one()
        return MobileHistory(max(int(for_account), int(to_target)), int(wrong[0]), wrong[1])

    def newest_contact_code(self, account_id: str, kind: ContactKind) -> ContactCode | None:
        c = contact_codes.c
        row = newest_code_row(
            self._db, contact_codes, c.account_id == account_id, c.kind == kind.value
        )
        if row is None:
            return None
        return ContactCode(code_record(row), ContactKind(row["kind"]), row["target"])

    def add_contact_code(
        self, account_id: str, kind: ContactKind, target: str, digest: str, created_at: datetime
    ) -> int:
        return add_code_row(
            self._db,
            contact_codes,
            created_at,
            account_id=account_id,
            kind=kind.value,
            target=target,
            digest=digest,
        )

    def record_wrong_contact_try(self, code_id: int, at: datetime) -> None:
        record_wrong_try(self._db, contact_codes, code_id, at)

    def mark_contact_code_used(self, code_id: int, at: datetime) -> None:
        mark_code_used(self._db, contact_codes, code_id, at)

    def change_contact(self, change: ContactChange) -> None:
        column = "mobile" if change.kind is ContactKind.MOBILE else "email"
        self._db.execute(
            update(accounts)
            .where(accounts.c.account_id == change.account_id)
            .values({column: change.new_value})
        )
        self._db.execute(
            insert(contact_changes).values(
                account_id=change.account_id,
                kind=change.kind.value,
                old_value=change.old_value,
                new_value=change.new_value,
                changed_at=change.changed_at,
                code_id=change.code_id,
            )
        )

    def move_session(self, token_digest: str, from_mobile: str, to_mobile: str) -> None:
        s = web_sessions.c
        self._db.execute(
            update(web_sessions)
            .where(
                s.token_digest == token_digest,
                s.kind == SessionKind.CONSUMER.value,
                s.subject == from_mobile,
                s.ended_at.is_(None),
            )
            .values(subject=to_mobile)
        )


def _minute(at: time) -> int:
    return at.hour * 60 + at.minute


def _time(minute: int) -> time:
    return time(minute // 60, minute % 60)
