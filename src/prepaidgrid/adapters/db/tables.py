"""The schema, as SQLAlchemy Core tables. Alembic migrations create it; tests compare the two."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Instants go in aware and come out aware, in UTC, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store aware UTC instants only")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
# BigInteger that is INTEGER on SQLite, so the id is the rowid (autoincrement works there).
BigId = BigInteger().with_variant(Integer(), "sqlite")
Instant = UtcDateTime()

org_units = Table(
    "org_units",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("level", String(16), nullable=False),
    Column("name_en", String(120), nullable=False),
    Column("name_hi", String(120), nullable=False, server_default=""),
    Column("parent_code", String(40), ForeignKey("org_units.code"), nullable=True),
    CheckConstraint("level IN ('discom', 'circle', 'division', 'subdivision')", name="level"),
)

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", String(40), primary_key=True),
    Column("consumer_name", String(200), nullable=False),
    Column("mobile", String(10), nullable=False),
    Column("email", String(200), nullable=True),
    Column("language", String(2), nullable=False),
    Column("category", String(20), nullable=False),
    Column("discom", String(20), nullable=False),
    Column("sanctioned_load_w", Integer, nullable=False),
    Column("subdivision_code", String(40), ForeignKey("org_units.code"), nullable=False),
    Column("supply_profile", String(40), nullable=False),
    Column("opened_at", Instant, nullable=False),
    Column("migrated_at", Instant, nullable=True),
    Column("supply_state", String(20), nullable=False, server_default="connected"),
    Column("zero_at", Instant, nullable=True),
    Column("warned_at", Instant, nullable=True),
    Column("cut_at", Instant, nullable=True),
    Column("arrears_plan", JSON, nullable=True),
    CheckConstraint("sanctioned_load_w > 0", name="load_positive"),
    CheckConstraint(
        "supply_state IN ('connected', 'grace', 'disconnect_sent', 'disconnected', "
        "'reconnect_sent')",
        name="supply_state",
    ),
)
Index("ix_accounts_cut_due", accounts.c.supply_state, accounts.c.cut_at)
Index("ix_accounts_subdivision", accounts.c.subdivision_code)
Index("ix_accounts_mobile", accounts.c.mobile)  # a consumer's login finds their connections

meters = Table(
    "meters",
    metadata,
    Column("meter_id", String(40), primary_key=True),
    Column("account_id", String(40), ForeignKey("accounts.account_id"), nullable=False),
    Column("installed_at", Instant, nullable=False),
    Column("removed_at", Instant, nullable=True),
)
# At most one meter in service per account: the database keeps that true.
Index(
    "uq_meters_one_active",
    meters.c.account_id,
    unique=True,
    sqlite_where=text("removed_at IS NULL"),
    postgresql_where=text("removed_at IS NULL"),
)

ledger_accounts = Table(
    "ledger_accounts",
    metadata,
    Column("code", String(60), primary_key=True),
    Column("kind", String(30), nullable=False),
    Column("account_id", String(40), ForeignKey("accounts.account_id"), nullable=True),
    # Materialised only for consumer accounts (wallet, arrears); NULL for the utility's own.
    Column("balance_paise", BigInteger, nullable=True),
    CheckConstraint(
        "(kind IN ('wallet', 'arrears')) = (balance_paise IS NOT NULL)", name="materialised"
    ),
)

journals = Table(
    "journals",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("idempotency_key", String(160), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("account_id", String(40), nullable=True),
    Column("posted_at", Instant, nullable=False),
    Column("memo", Text, nullable=False, server_default=""),
)
Index("ix_journals_account_id", journals.c.account_id, journals.c.posted_at)

postings = Table(
    "postings",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("journal_id", Uuid, nullable=False),
    Column("ledger_account", String(60), ForeignKey("ledger_accounts.code"), nullable=False),
    Column("amount_paise", BigInteger, nullable=False),
    CheckConstraint("amount_paise <> 0", name="nonzero"),
    # Postings are written first and their journal last (it seals them), so the reference
    # to the journal is only checked at commit.
    ForeignKeyConstraint(
        ["journal_id"],
        ["journals.id"],
        deferrable=True,
        initially="DEFERRED",
        name="fk_postings_journal_id_journals",
    ),
)
Index("ix_postings_journal_id", postings.c.journal_id)
Index("ix_postings_ledger_account", postings.c.ledger_account)

payments = Table(
    "payments",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("channel", String(20), nullable=False),
    Column("reference", String(100), nullable=False),
    Column("account_id", String(40), ForeignKey("accounts.account_id"), nullable=False),
    Column("amount_paise", BigInteger, nullable=False),
    Column("arrears_share_paise", BigInteger, nullable=False, server_default="0"),
    Column("status", String(12), nullable=False),
    Column("received_at", Instant, nullable=False),
    Column("updated_at", Instant, nullable=False),
    UniqueConstraint("channel", "reference", name="uq_payments_channel_reference"),
    CheckConstraint("amount_paise > 0", name="amount_positive"),
    CheckConstraint("status IN ('pending', 'credited', 'reversed', 'failed')", name="status"),
)
Index("ix_payments_account_status", payments.c.account_id, payments.c.status)
# a channel's day, for settlement reconciliation (services/reconciliation.py)
Index("ix_payments_channel_received", payments.c.channel, payments.c.received_at)

daily_charges = Table(
    "daily_charges",
    metadata,
    Column("account_id", String(40), ForeignKey("accounts.account_id"), primary_key=True),
    Column("bill_day", Date, primary_key=True),
    Column("used_wh", BigInteger, nullable=False),
    Column("month_used_wh", BigInteger, nullable=False),
    Column("max_demand_w", Integer, nullable=False),
    Column("energy_paise", BigInteger, nullable=False),
    Column("subsidy_paise", BigInteger, nullable=False),
    Column("rebate_paise", BigInteger, nullable=False),
    Column("tod_paise", BigInteger, nullable=False),
    Column("fixed_paise", BigInteger, nullable=False),
    Column("duty_paise", BigInteger, nullable=False),
    Column("total_paise", BigInteger, nullable=False),
    Column("instalment_paise", BigInteger, nullable=False),
    Column("tariff_id", String(40), nullable=False),
    # NULL: written by the billing run; the statement rebuilds the lines from the tariff.
    Column("explanation", JSON, nullable=True),
    Column("posted_at", Instant, nullable=False),
    # The batch journal of the billing run that debited this day; NULL for a day posted on
    # its own (its journal's key is charge:{account}:{day}).
    Column("journal_id", Uuid, nullable=True, index=True),
    CheckConstraint("used_wh >= 0", name="used_nonnegative"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("dedupe_key", String(200), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("account_id", String(40), nullable=True),
    Column("payload", JSON, nullable=False),
    Column("created_at", Instant, nullable=False),
    Column("status", String(12), nullable=False, server_default="pending"),
)
Index("ix_outbox_status", outbox.c.status, outbox.c.id)
# an account's messages by time: a payment's reconnect command (services/payment_timeline.py)
Index("ix_outbox_account_created", outbox.c.account_id, outbox.c.created_at)

supply_changes = Table(
    "supply_changes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("account_id", String(40), ForeignKey("accounts.account_id"), nullable=False),
    Column("at", Instant, nullable=False),
    Column("from_state", String(20), nullable=False),
    Column("to_state", String(20), nullable=False),
    Column("action", String(20), nullable=True),
    Column("reasons", JSON, nullable=False),
)
Index("ix_supply_changes_account", supply_changes.c.account_id, supply_changes.c.at)

platform_flags = Table(
    "platform_flags",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("is_on", Boolean, nullable=False),
    Column("reason", Text, nullable=False),
    Column("since", Instant, nullable=False),
)

# ---------------------------------------------------------------- meter data (head-end)
meter_messages = Table(
    "meter_messages",
    metadata,
    # Every uplink message once: the dedupe key of at-least-once delivery.
    Column("meter_id", String(40), primary_key=True),
    Column("msg_id", String(64), primary_key=True),
    Column("channel", String(10), nullable=False),
    Column("received_at", Instant, nullable=False),
)

register_reads = Table(
    "register_reads",
    metadata,
    Column("meter_id", String(40), primary_key=True),
    Column("read_at", Instant, primary_key=True),
    Column("kind", String(12), nullable=False),
    Column("import_wh", BigInteger, nullable=False),
    Column("import_vah", BigInteger, nullable=True),
    Column("max_demand_w", Integer, nullable=True),
    Column("meter_time", Instant, nullable=False),
    Column("received_at", Instant, nullable=False),
    Column("msg_id", String(64), nullable=False),
    CheckConstraint("import_wh >= 0", name="import_nonnegative"),
)

interval_blocks = Table(
    "interval_blocks",
    metadata,
    # The consumers' charts: 15/30-minute energy (PostgreSQL: partition by month when large).
    Column("meter_id", String(40), primary_key=True),
    Column("block_start", Instant, primary_key=True),
    Column("minutes", Integer, nullable=False),
    Column("import_wh", Integer, nullable=False),
    CheckConstraint("minutes IN (15, 30)", name="minutes"),
    CheckConstraint("import_wh >= 0", name="import_nonnegative"),
)

meter_events = Table(
    "meter_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("meter_id", String(40), nullable=False),
    Column("msg_id", String(64), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("occurred_at", Instant, nullable=False),
    Column("vendor_code", Integer, nullable=True),
    Column("final_import_wh", BigInteger, nullable=True),
    Column("received_at", Instant, nullable=False),
    UniqueConstraint("meter_id", "msg_id", name="uq_meter_events_meter_msg"),
)
Index("ix_meter_events_meter", meter_events.c.meter_id, meter_events.c.occurred_at)

rejected_messages = Table(
    "rejected_messages",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("received_at", Instant, nullable=False),
    Column("topic", String(200), nullable=False),
    Column("reason", String(40), nullable=False),
    Column("detail", Text, nullable=False),
)
Index("ix_rejected_messages_reason", rejected_messages.c.reason, rejected_messages.c.received_at)

relay_commands = Table(
    "relay_commands",
    metadata,
    Column("command_id", String(40), primary_key=True),
    Column("account_id", String(40), nullable=False),
    Column("meter_id", String(40), nullable=False),
    Column("discom", String(20), nullable=False),
    Column("action", String(12), nullable=False),
    Column("status", String(14), nullable=False),
    Column("created_at", Instant, nullable=False),
    Column("expires_at", Instant, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", Instant, nullable=False),
    Column("last_sent_at", Instant, nullable=True),
    Column("finished_at", Instant, nullable=True),
    Column("detail", Text, nullable=False, server_default=""),
    CheckConstraint(
        "status IN ('queued', 'sent', 'acknowledged', 'failed', 'expired')", name="status"
    ),
)
Index("ix_relay_commands_due", relay_commands.c.status, relay_commands.c.next_attempt_at)

# ---------------------------------------------------------------- daily consumption (VEE)
daily_usage = Table(
    "daily_usage",
    metadata,
    # One IST day of one account as billing takes it (services/meter_usage.py). A recompute
    # replaces the row until the day is billed; from then on daily_charges holds what was
    # billed and a later true-up posts the difference.
    Column("account_id", String(40), ForeignKey("accounts.account_id"), primary_key=True),
    Column("usage_day", Date, primary_key=True),
    Column("meter_id", String(40), nullable=False),  # the meter serving at the day's end
    Column("used_wh", BigInteger, nullable=False),
    Column("method", String(12), nullable=False),
    # The connection's continuous register at the two midnights, if known (across a swap:
    # the first meter of the window's scale, lifted by the final registers it handed on).
    Column("opening_wh", BigInteger, nullable=True),
    Column("closing_wh", BigInteger, nullable=True),
    Column("max_demand_w", Integer, nullable=False),  # highest MD register read in the day
    Column("band_wh", JSON, nullable=False),  # {time-of-day band: Wh}; {} without bands
    Column("flags", JSON, nullable=False),  # ["clock_skew", "spike", ...] found that day
    Column("note", Text, nullable=False),
    Column("computed_at", Instant, nullable=False),
    CheckConstraint("used_wh >= 0", name="used_nonnegative"),
    CheckConstraint("max_demand_w >= 0", name="demand_nonnegative"),
    CheckConstraint("method IN ('actual', 'average', 'fallback', 'apportioned')", name="method"),
    CheckConstraint(
        "method <> 'actual' OR (opening_wh IS NOT NULL AND closing_wh IS NOT NULL"
        " AND used_wh = closing_wh - opening_wh)",
        name="actual_is_measured",
    ),
)
Index("ix_daily_usage_day", daily_usage.c.usage_day)

# ------------------------------------------------------------------ payment channels (issue 5)
payment_orders = Table(
    "payment_orders",
    metadata,
    # An app or website recharge: created here, paid at the gateway, confirmed by its signed
    # webhook (or by polling its status). The order id is the payment's reference: one order
    # is credited at most once, whatever the gateway sends.
    Column("order_id", String(40), primary_key=True),
    Column("channel", String(20), nullable=False),
    Column("account_id", String(40), ForeignKey("accounts.account_id"), nullable=False),
    Column("amount_paise", BigInteger, nullable=False),
    Column("status", String(12), nullable=False),
    Column("gateway_txn_id", String(100), nullable=True),
    Column("created_at", Instant, nullable=False),
    Column("updated_at", Instant, nullable=False),
    CheckConstraint("amount_paise > 0", name="amount_positive"),
    CheckConstraint("channel IN ('app', 'website')", name="channel"),
    CheckConstraint("status IN ('created', 'pending', 'paid', 'failed')", name="status"),
)
Index("ix_payment_orders_status", payment_orders.c.status, payment_orders.c.updated_at)

payment_events = Table(
    "payment_events",
    metadata,
    # The life of a payment, appended as it happens (received, pending, confirmed, credited,
    # failed, reversed, refused ...): the officers' one place to see where a payment is.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("channel", String(20), nullable=False),
    Column("reference", String(100), nullable=False),
    Column("stage", String(20), nullable=False),
    Column("at", Instant, nullable=False),
    Column("detail", Text, nullable=False, server_default=""),
)
Index(
    "ix_payment_events_reference",
    payment_events.c.channel,
    payment_events.c.reference,
    payment_events.c.at,
)

counters = Table(
    "counters",
    metadata,
    # A cash counter (a device at an office). It numbers and signs its own receipts, so it
    # keeps taking cash while the server is unreachable and syncs them later.
    Column("counter_id", String(40), primary_key=True),
    Column("name", String(120), nullable=False),
    Column("subdivision_code", String(40), ForeignKey("org_units.code"), nullable=False),
    Column("signing_key", String(128), nullable=False),  # hex HMAC-SHA256 key, per counter
    Column("created_at", Instant, nullable=False),
)

cashiers = Table(
    "cashiers",
    metadata,
    Column("cashier_id", String(40), primary_key=True),
    Column("name", String(120), nullable=False),
    Column("password_hash", String(200), nullable=False),  # argon2id
    Column("counter_id", String(40), ForeignKey("counters.counter_id"), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until", Instant, nullable=True),
    Column("created_at", Instant, nullable=False),
)

counter_receipts = Table(
    "counter_receipts",
    metadata,
    Column("receipt_no", String(60), primary_key=True),  # {counter_id}-{seq:07d}
    Column("counter_id", String(40), ForeignKey("counters.counter_id"), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("cashier_id", String(40), ForeignKey("cashiers.cashier_id"), nullable=False),
    Column("account_id", String(40), ForeignKey("accounts.account_id"), nullable=False),
    Column("amount_paise", BigInteger, nullable=False),
    Column("issued_at", Instant, nullable=False),  # the counter's clock: cash taken
    Column("received_at", Instant, nullable=False),  # the server's: receipt synced
    Column("offline", Boolean, nullable=False),  # issued while the server was unreachable
    Column("signature", String(128), nullable=False),
    UniqueConstraint("counter_id", "seq", name="uq_counter_receipts_counter_seq"),
    CheckConstraint("amount_paise > 0", name="amount_positive"),
    CheckConstraint("seq > 0", name="seq_positive"),
)
Index(
    "ix_counter_receipts_cashier_issued",
    counter_receipts.c.cashier_id,
    counter_receipts.c.issued_at,
)

settlement_imports = Table(
    "settlement_imports",
    metadata,
    # A channel's settlement file for a day, as imported for reconciliation (its findings
    # in `summary`); importing the same file again finds it here.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("channel", String(20), nullable=False),
    Column("settlement_day", Date, nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("imported_at", Instant, nullable=False),
    Column("summary", JSON, nullable=False),
    UniqueConstraint("channel", "settlement_day", "file_sha256", name="uq_settlement_imports_file"),
)

# -- portal access (issue 6) --------------------------------------------------------------------

officers = Table(
    "officers",
    metadata,
    Column("officer_id", String(40), primary_key=True),  # the login name, lower case
    Column("name", String(120), nullable=False),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(200), nullable=False),  # argon2id
    Column("active", Boolean, nullable=False),
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until", Instant, nullable=True),
    Column("created_at", Instant, nullable=False),
    CheckConstraint("role IN ('admin', 'division_officer', 'cashier', 'auditor')", name="role"),
)

officer_divisions = Table(
    "officer_divisions",
    metadata,
    Column("officer_id", String(40), ForeignKey("officers.officer_id"), primary_key=True),
    Column("division_code", String(40), ForeignKey("org_units.code"), primary_key=True),
)

login_codes = Table(
    "login_codes",
    metadata,
    # A consumer's one-time login code, kept as a keyed hash (domain/access.py).
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("mobile", String(10), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("created_at", Instant, nullable=False),
    Column("expires_at", Instant, nullable=False),
    Column("tries", Integer, nullable=False, server_default="0"),
    Column("last_try_at", Instant, nullable=True),
    Column("used_at", Instant, nullable=True),
    CheckConstraint("tries >= 0", name="tries_not_negative"),
)
Index("ix_login_codes_mobile_created", login_codes.c.mobile, login_codes.c.created_at)

web_sessions = Table(
    "web_sessions",
    metadata,
    # A portal session, found by the SHA-256 of its cookie's token; the CSRF token is
    # bound to it. Logging out (or an officer's deactivation) ends it here.
    Column("token_digest", String(64), primary_key=True),
    Column("kind", String(10), nullable=False),
    Column("subject", String(40), nullable=False),  # the mobile, or the officer id
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", Instant, nullable=False),
    Column("expires_at", Instant, nullable=False),
    Column("ended_at", Instant, nullable=True),
    CheckConstraint("kind IN ('consumer', 'officer')", name="kind"),
)
Index("ix_web_sessions_subject", web_sessions.c.kind, web_sessions.c.subject)

audit_log = Table(
    "audit_log",
    metadata,
    # Every officer action, append-only: triggers refuse UPDATE and DELETE (migration 0010).
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", Instant, nullable=False),
    Column("actor", String(40), nullable=False),
    Column("action", String(60), nullable=False),
    Column("target", String(100), nullable=False, server_default=""),
    Column("reason", Text, nullable=False, server_default=""),
    Column("detail", JSON, nullable=False),
)
Index("ix_audit_log_actor_at", audit_log.c.actor, audit_log.c.at)
Index("ix_audit_log_target_at", audit_log.c.target, audit_log.c.at)

# -- consumer care (issue 6/7) ------------------------------------------------------------------

complaints = Table(
    "complaints",
    metadata,
    # A consumer's complaint about one of their connections (domain/complaints.py). Its
    # number is CMP- and the id. The form's one-time key makes a double submit file once.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("account_id", String(40), ForeignKey("accounts.account_id"), nullable=False),
    Column("client_key", String(64), nullable=False),
    Column("category", String(30), nullable=False),
    Column("description", Text, nullable=False),
    Column("payment_reference", String(100), nullable=True),
    Column("status", String(12), nullable=False),
    Column("opened_at", Instant, nullable=False),
    Column("due_on", Date, nullable=False),  # the IST day by whose end it is due
    Column("updated_at", Instant, nullable=False),
    Column("resolution", Text, nullable=False, server_default=""),
    # issue 7: what the records said as it opened (domain/complaints.py Diagnosis.as_json),
    # how far it has been escalated, who took it up, a meter dispute's check meter day.
    Column("diagnosis", JSON, nullable=True),
    Column("escalation_level", Integer, nullable=False, server_default="0"),
    Column("assigned_to", String(40), ForeignKey("officers.officer_id"), nullable=True),
    Column("check_meter_on", Date, nullable=True),
    Column("resolved_at", Instant, nullable=True),
    UniqueConstraint("account_id", "client_key", name="uq_complaints_account_client_key"),
    CheckConstraint(
        "category IN ('recharge_not_credited', 'not_reconnected', 'high_deduction', "
        "'meter_fault', 'mobile_change', 'other')",
        name="category",
    ),
    CheckConstraint("status IN ('open', 'in_progress', 'resolved', 'closed')", name="status"),
    CheckConstraint("length(description) BETWEEN 1 AND 2000", name="description_length"),
    CheckConstraint("escalation_level >= 0", name="escalation_level"),
)
Index("ix_complaints_account_opened", complaints.c.account_id, complaints.c.opened_at)
Index("ix_complaints_status_due", complaints.c.status, complaints.c.due_on)  # overdue ones

complaint_events = Table(
    "complaint_events",
    metadata,
    # A complaint's history, appended as it moves: opened, in progress, resolved ...
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("complaint_id", BigId, ForeignKey("complaints.id"), nullable=False),
    Column("at", Instant, nullable=False),
    Column("actor", String(40), nullable=False),  # "consumer", or the officer's id
    Column("from_status", String(12), nullable=True),
    Column("to_status", String(12), nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("kind", String(10), nullable=False, server_default="moved"),  # issue 7
    CheckConstraint("kind IN ('opened', 'moved', 'note', 'reopened', 'escalated')", name="kind"),
)
Index("ix_complaint_events_complaint_at", complaint_events.c.complaint_id, complaint_events.c.at)

complaint_escalations = Table(
    "complaint_escalations",
    metadata,
    # Each level an overdue complaint climbed, once: the key makes the sweep idempotent.
    Column("complaint_id", BigId, ForeignKey("complaints.id"), primary_key=True),
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("escalated_at", Instant, nullable=False),
    CheckConstraint("level > 0", name="level_positive"),
)

alert_preferences = Table(
    "alert_preferences",
    metadata,
    # What a consumer wants to hear about an account; no row: the defaults. The cut warning
    # is not in here: it always goes by SMS.
    Column("account_id", String(40), ForeignKey("accounts.account_id"), primary_key=True),
    Column("is_daily_summary_on", Boolean, nullable=False),
    Column("is_low_balance_on", Boolean, nullable=False),
    Column("low_balance_paise", BigInteger, nullable=False),
    Column("is_sms_on", Boolean, nullable=False),
    Column("is_email_on", Boolean, nullable=False),
    Column("quiet_from_minute", Integer, nullable=False),  # IST minutes after midnight
    Column("quiet_until_minute", Integer, nullable=False),
    Column("updated_at", Instant, nullable=False),
    CheckConstraint("low_balance_paise > 0", name="threshold_positive"),
    CheckConstraint(
        "quiet_from_minute BETWEEN 0 AND 1439 AND quiet_until_minute BETWEEN 0 AND 1439 "
        "AND quiet_from_minute <> quiet_until_minute",
        name="quiet_hours",
    ),
)

contact_codes = Table(
    "contact_codes",
    metadata,
    # A one-time code sent to a new mobile or e-mail address of an account, kept as a keyed
    # hash bound to the account and the address (domain/access.py's rules).
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("account_id", String(40), ForeignKey("accounts.account_id"), nullable=False),
    Column("kind", String(6), nullable=False),
    Column("target", String(200), nullable=False),  # the new mobile or e-mail address
    Column("digest", String(64), nullable=False),
    Column("created_at", Instant, nullable=False),
    Column("expires_at", Instant, nullable=False),
    Column("tries", Integer, nullable=False, server_default="0"),
    Column("last_try_at", Instant, nullable=True),
    Column("used_at", Instant, nullable=True),
    CheckConstraint("kind IN ('mobile', 'email')", name="kind"),
    CheckConstraint("tries >= 0", name="tries_not_negative"),
)
Index(
    "ix_contact_codes_account_created",
    contact_codes.c.account_id,
    contact_codes.c.kind,
    contact_codes.c.created_at,
)
Index("ix_contact_codes_target_created", contact_codes.c.target, contact_codes.c.created_at)

contact_changes = Table(
    "contact_changes",
    metadata,
    # Every change of an account's mobile or e-mail, with the code that confirmed it: a code
    # changes a contact once.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("account_id", String(40), ForeignKey("accounts.account_id"), nullable=False),
    Column("kind", String(6), nullable=False),
    Column("old_value", String(200), nullable=True),  # None: no e-mail was registered
    Column("new_value", String(200), nullable=False),
    Column("changed_at", Instant, nullable=False),
    Column("code_id", BigId, ForeignKey("contact_codes.id"), nullable=False, unique=True),
    CheckConstraint("kind IN ('mobile', 'email')", name="kind"),
)
Index("ix_contact_changes_account_at", contact_changes.c.account_id, contact_changes.c.changed_at)

# -- notification delivery (issue 7) ------------------------------------------------------------

deliveries = Table(
    "deliveries",
    metadata,
    # Where the delivery of one SMS or e-mail of the outbox stands (services/notify.py):
    # pending (due at next_attempt_at), deferred (quiet hours), sent, failed (permanently),
    # skipped (the consumer switched that channel off).
    Column("outbox_id", BigId, ForeignKey("outbox.id"), primary_key=True),
    Column("channel", String(10), nullable=False),
    Column("account_id", String(40), nullable=True),
    Column("status", String(10), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", Instant, nullable=False),
    Column("last_attempt_at", Instant, nullable=True),
    Column("last_error", Text, nullable=False, server_default=""),
    Column("delivered_at", Instant, nullable=True),
    Column("provider_message_id", String(100), nullable=True),
    CheckConstraint(
        "status IN ('pending', 'deferred', 'sent', 'failed', 'skipped')", name="status"
    ),
    CheckConstraint("channel IN ('sms', 'email')", name="channel"),
    CheckConstraint("attempts >= 0", name="attempts_not_negative"),
)
Index("ix_deliveries_due", deliveries.c.status, deliveries.c.next_attempt_at)

notification_attempts = Table(
    "notification_attempts",
    metadata,
    # Every try to hand a message to its gateway, kept for officers and the health page.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("outbox_id", BigId, ForeignKey("outbox.id"), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("at", Instant, nullable=False),
    Column("outcome", String(10), nullable=False),
    Column("detail", Text, nullable=False, server_default=""),
    CheckConstraint("outcome IN ('sent', 'retry', 'refused')", name="outcome"),
)
Index(
    "ix_notification_attempts_channel_at",
    notification_attempts.c.channel,
    notification_attempts.c.at,
)
Index("ix_notification_attempts_outbox", notification_attempts.c.outbox_id)

inbox_messages = Table(
    "inbox_messages",
    metadata,
    # What the consumer was told, readable on the portal: one entry per message, whether it
    # went by SMS, e-mail or both (source_key: the outbox key without its channel).
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("account_id", String(40), ForeignKey("accounts.account_id"), nullable=False),
    Column("source_key", String(200), nullable=False, unique=True),
    Column("template", String(40), nullable=False),
    Column("language", String(2), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", Instant, nullable=False),
)
Index(
    "ix_inbox_messages_account_created",
    inbox_messages.c.account_id,
    inbox_messages.c.created_at,
)
