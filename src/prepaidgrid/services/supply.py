"""Supply use cases: settle supply after a balance change, evaluate cuts, record relay acks."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from prepaidgrid.domain.accounts import Connection
from prepaidgrid.domain.notifications import Message, Template
from prepaidgrid.domain.supply import (
    SupplyAction,
    SupplyContext,
    SupplyDecision,
    SupplyPolicy,
    SupplySnapshot,
    SupplyState,
    command_lapsed,
    confirm_relay,
    decide_supply,
    window_label,
)
from prepaidgrid.domain.units import IST, format_rupees
from prepaidgrid.services.ports import (
    BillingUnitOfWork,
    Clock,
    OutboxMessage,
    PolicyBook,
    SupplyChange,
    SupplyEffects,
    UnitOfWork,
)

RELAY_COMMAND_TTL = timedelta(hours=24)


def settle_supply(
    uow: UnitOfWork, connection: Connection, balance_paise: int, at: datetime, policies: PolicyBook
) -> SupplyDecision:
    """Apply the supply policy after a balance change, inside the caller's unit of work.

    Relay commands and SMS go to the outbox in the same transaction as the state they
    follow from, so a crash can never leave a cut without its warning or a credit without
    its reconnect command.
    """
    snapshot = connection.supply
    if not connection.is_prepaid:
        return SupplyDecision(
            snapshot.state,
            None,
            snapshot.zero_at,
            snapshot.cut_at,
            ("not yet migrated to prepaid: no supply action before the migration is posted",),
        )
    policy = policies.policy(connection.supply_profile)
    context = SupplyContext(
        at=at,
        balance_paise=balance_paise,
        pending_paise=uow.payments.pending_paise(connection.account_id),
        is_safe_mode=uow.platform.is_safe_mode(),
    )
    decision = decide_supply(
        snapshot, context, policy, policies.no_cut_days(connection.supply_profile)
    )
    apply_decision(uow, connection, balance_paise, decision, policy, at)
    return decision


def apply_decision(
    uow: UnitOfWork,
    connection: Connection,
    balance_paise: int,
    decision: SupplyDecision,
    policy: SupplyPolicy,
    at: datetime,
    *,
    reissue_of: str | None = None,
) -> None:
    """Queue what the decision asks for and store the new supply state with its reasons."""
    effects = supply_effects(connection, balance_paise, decision, policy, at, reissue_of=reissue_of)
    for message in effects.messages:
        uow.outbox.add(message)
    if effects.change is not None:
        uow.connections.save_supply(effects.change, effects.snapshot)


def supply_effects(
    connection: Connection,
    balance_paise: int,
    decision: SupplyDecision,
    policy: SupplyPolicy,
    at: datetime,
    *,
    reissue_of: str | None = None,
) -> SupplyEffects:
    """What a decision writes: its outbox messages, the new snapshot and the change record
    (None when the snapshot stays as it was). Pure, so one account and a whole billing
    partition (`settle_supply_many`) apply exactly the same rules.

    `reissue_of` names a lapsed command that this decision sends again: its id is part of
    the new command's dedupe key, so a reissue is queued once per lapsed command.
    """
    snapshot = connection.supply
    warned_at = snapshot.warned_at
    messages: list[OutboxMessage] = []
    if decision.action is SupplyAction.START_GRACE or (
        decision.action is SupplyAction.HOLD and warned_at is None
    ):
        warned_at = at
        messages.append(_zero_balance_warning(connection, balance_paise, decision, policy, at))
    again = f":after:{reissue_of}" if reissue_of else ""
    if decision.action is SupplyAction.DISCONNECT:
        # a disconnect that lapsed is retried at a later cut time: that names the attempt
        cut = decision.cut_at.isoformat() if decision.cut_at else "none"
        messages.append(_relay_command(connection, "disconnect", at, f":cut:{cut}{again}"))
    if decision.action is SupplyAction.RECONNECT:
        messages.append(_relay_command(connection, "reconnect", at, again))
    new_snapshot = SupplySnapshot(
        state=decision.state,
        zero_at=decision.zero_at,
        warned_at=None if decision.state is SupplyState.CONNECTED else warned_at,
        cut_at=decision.cut_at,
    )
    change = None
    if new_snapshot != snapshot:
        change = SupplyChange(
            connection.account_id,
            at,
            snapshot.state.value,
            decision.state.value,
            decision.action.value if decision.action else None,
            decision.reasons,
        )
    return SupplyEffects(connection.account_id, change, new_snapshot, tuple(messages))


def settle_supply_many(
    uow: BillingUnitOfWork,
    connections: Collection[Connection],
    at: datetime,
    policies: PolicyBook,
) -> list[SupplyDecision]:
    """`settle_supply` for many accounts in one transaction, with their writes in bulk:
    the billing run's accounts whose balance a night's charges took to zero."""
    if not connections:
        return []
    pending = uow.billing.pending_paise_of([c.account_id for c in connections])
    is_safe_mode = uow.platform.is_safe_mode()
    decisions, effects = [], []
    for connection in connections:
        if not connection.is_prepaid:
            continue
        policy = policies.policy(connection.supply_profile)
        context = SupplyContext(
            at=at,
            balance_paise=connection.wallet_paise,
            pending_paise=pending.get(connection.account_id, 0),
            is_safe_mode=is_safe_mode,
        )
        decision = decide_supply(
            connection.supply, context, policy, policies.no_cut_days(connection.supply_profile)
        )
        decisions.append(decision)
        effects.append(supply_effects(connection, connection.wallet_paise, decision, policy, at))
    uow.billing.apply_supply_effects(effects)
    return decisions


def _cycle(zero_at: datetime | None) -> str:
    """A recharge cycle is named by the instant its balance reached zero: dedupe keys use it."""
    return zero_at.isoformat() if zero_at else "none"


def _zero_balance_warning(
    connection: Connection,
    balance_paise: int,
    decision: SupplyDecision,
    policy: SupplyPolicy,
    at: datetime,
) -> OutboxMessage:
    cut_local = decision.cut_at.astimezone(IST) if decision.cut_at else None
    params = {
        "account_id": connection.account_id,
        "balance": format_rupees(balance_paise),
        "cut_day": cut_local.strftime("%d-%m-%Y") if cut_local else "-",
        "cut_time": cut_local.strftime("%H:%M") if cut_local else "-",
        "window": window_label(policy),
    }
    return sms_message(
        connection,
        Template.ZERO_BALANCE,
        params,
        f"sms:zero_balance:{connection.account_id}:{_cycle(decision.zero_at)}:"
        f"{decision.cut_at.isoformat() if decision.cut_at else ''}",
        at,
    )


def queue_sms(
    uow: UnitOfWork,
    connection: Connection,
    template: Template,
    params: dict[str, str],
    dedupe_key: str,
    at: datetime,
) -> None:
    uow.outbox.add(sms_message(connection, template, params, dedupe_key, at))


def sms_message(
    connection: Connection,
    template: Template,
    params: dict[str, str],
    dedupe_key: str,
    at: datetime,
) -> OutboxMessage:
    message = Message(template, connection.language, params)
    return OutboxMessage(
        dedupe_key=dedupe_key,
        kind="sms",
        account_id=connection.account_id,
        payload={
            "template": template.value,
            "language": connection.language,
            "mobile": connection.mobile,
            "params": params,
            "text": message.render(),
        },
        created_at=at,
    )


def _relay_command(
    connection: Connection, action: str, at: datetime, attempt: str = ""
) -> OutboxMessage:
    cycle = _cycle(connection.supply.zero_at)
    return OutboxMessage(
        dedupe_key=f"relay:{action}:{connection.account_id}:{cycle}{attempt}",
        kind="relay_command",
        account_id=connection.account_id,
        payload={
            "command_id": str(uuid.uuid4()),
            "meter_id": connection.meter_id,
            "discom": connection.discom,
            "action": action,
            "issued_at": at.isoformat(),
            "expires_at": (at + RELAY_COMMAND_TTL).isoformat(),
        },
        created_at=at,
    )


@dataclass(frozen=True, slots=True)
class EvaluateSupply:
    account_id: str


def evaluate_supply(
    cmd: EvaluateSupply, uow: UnitOfWork, clock: Clock, policies: PolicyBook
) -> SupplyDecision:
    """Decide (and queue) what the account's supply needs now: the scheduler's cut sweep."""
    at = clock.now()
    with uow:
        connection = uow.connections.lock(cmd.account_id)
        decision = settle_supply(uow, connection, connection.wallet_paise, at, policies)
        uow.commit()
    return decision


@dataclass(frozen=True, slots=True)
class RecordRelayAck:
    account_id: str
    is_closed: bool  # the relay's confirmed position: closed = supply on


def record_relay_ack(
    cmd: RecordRelayAck, uow: UnitOfWork, clock: Clock, policies: PolicyBook
) -> SupplyDecision:
    """A meter confirmed its relay position: move the state and tell the consumer."""
    with uow:
        decision = confirm_relay_position(uow, cmd, clock.now(), policies)
        uow.commit()
    return decision


def confirm_relay_position(
    uow: UnitOfWork, cmd: RecordRelayAck, at: datetime, policies: PolicyBook
) -> SupplyDecision:
    """record_relay_ack inside the caller's unit of work (the head-end's ack batch)."""
    connection = uow.connections.lock(cmd.account_id)
    policy = policies.policy(connection.supply_profile)
    context = SupplyContext(
        at=at,
        balance_paise=connection.wallet_paise,
        pending_paise=uow.payments.pending_paise(connection.account_id),
        is_safe_mode=uow.platform.is_safe_mode(),
    )
    decision = confirm_relay(
        connection.supply,
        cmd.is_closed,
        context,
        policy,
        policies.no_cut_days(connection.supply_profile),
    )
    snapshot = connection.supply
    if decision.state is not snapshot.state:
        params = {
            "account_id": connection.account_id,
            "balance": format_rupees(connection.wallet_paise),
        }
        cycle = _cycle(snapshot.zero_at)
        if decision.state is SupplyState.DISCONNECTED:
            queue_sms(
                uow,
                connection,
                Template.DISCONNECTED,
                params,
                f"sms:disconnected:{connection.account_id}:{cycle}",
                at,
            )
        elif snapshot.state is SupplyState.RECONNECT_SENT:
            queue_sms(
                uow,
                connection,
                Template.RECONNECTED,
                params,
                f"sms:reconnected:{connection.account_id}:{cycle}",
                at,
            )
    apply_decision(uow, connection, connection.wallet_paise, decision, policy, at)
    return decision


def relay_command_lapsed(
    uow: UnitOfWork,
    account_id: str,
    command_id: str,
    action: str,
    at: datetime,
    policies: PolicyBook,
) -> SupplyDecision:
    """A relay command expired or failed: never leave the account waiting on it for ever.

    Inside the caller's unit of work (the head-end's command sweep or ack batch). A lapsed
    disconnect puts the account back in grace with the cut retried at the next window; a
    lapsed reconnect is sent again at once, because that consumer has paid.
    """
    connection = uow.connections.lock(account_id)
    policy = policies.policy(connection.supply_profile)
    context = SupplyContext(
        at=at,
        balance_paise=connection.wallet_paise,
        pending_paise=uow.payments.pending_paise(account_id),
        is_safe_mode=uow.platform.is_safe_mode(),
    )
    decision = command_lapsed(
        connection.supply,
        SupplyAction(action),
        command_id,
        context,
        policy,
        policies.no_cut_days(connection.supply_profile),
    )
    apply_decision(
        uow, connection, connection.wallet_paise, decision, policy, at, reissue_of=command_id
    )
    return decision
