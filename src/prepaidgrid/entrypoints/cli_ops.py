"""Operator commands: open accounts, install meters, post recharges and charges, evaluate supply."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from prepaidgrid.domain.accounts import NewConnection
from prepaidgrid.domain.arrears import RecoveryKind
from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.domain.ledger import PaymentChannel, PaymentRef
from prepaidgrid.domain.units import format_rupees
from prepaidgrid.entrypoints.cli_errors import exits_on_domain_error
from prepaidgrid.entrypoints.cli_options import AtOption, DbOption, JsonOption, app_for, emit_json
from prepaidgrid.services.charges import PostDailyCharge, post_daily_charge
from prepaidgrid.services.onboarding import InstallSmartMeter, install_smart_meter, open_connection
from prepaidgrid.services.platform import SetSafeMode, set_safe_mode
from prepaidgrid.services.recharges import (
    ApplyRecharge,
    FailPayment,
    RecordPendingPayment,
    ReverseRecharge,
    apply_recharge,
    fail_payment,
    record_pending_payment,
    reverse_recharge,
)
from prepaidgrid.services.supply import EvaluateSupply, evaluate_supply

account_app = typer.Typer(help="Prepaid accounts (connections).", no_args_is_help=True)
recharge_app = typer.Typer(help="Recharges: credit, pending, reverse.", no_args_is_help=True)
charge_app = typer.Typer(help="Daily charges.", no_args_is_help=True)
safe_mode_app = typer.Typer(help="Safe mode: no new cuts while consumers cannot pay.")

Account = Annotated[str, typer.Option("--account", help="Account (consumer) number.")]
Amount = Annotated[str, typer.Option("--amount-paise", help="Whole paise, e.g. 50000 = ₹500.")]
Channel = Annotated[PaymentChannel, typer.Option("--channel", help="Payment channel.")]
Reference = Annotated[str, typer.Option("--reference", help="The channel's payment reference.")]


def parse_paise(text: str) -> int:
    """Amounts are whole paise: '50000' is accepted, '500.5', '0' and '-1' are refused."""
    if not text.strip().isdigit():
        raise InvalidInput(f"amount must be a whole, positive number of paise, got {text!r}")
    amount = int(text)
    if amount <= 0:
        raise InvalidInput(f"amount must be greater than zero paise, got {amount}")
    return amount


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"not a date (YYYY-MM-DD): {text!r}") from None


@account_app.command("open")
@exits_on_domain_error
def account_open(
    account: Account,
    name: Annotated[str, typer.Option(help="Consumer's name.")],
    mobile: Annotated[str, typer.Option(help="10-digit mobile number.")],
    category: Annotated[str, typer.Option(help="Tariff category, e.g. DS-II.")],
    load_w: Annotated[int, typer.Option("--load-w", help="Sanctioned load in watts.")],
    subdivision: Annotated[str, typer.Option(help="Subdivision code.")],
    discom: Annotated[str, typer.Option(help="DISCOM code.")] = "SBPDCL",
    profile: Annotated[str, typer.Option(help="Supply policy profile.")] = "bihar",
    language: Annotated[str, typer.Option(help="hi or en.")] = "hi",
    db: DbOption = None,
    at: AtOption = None,
) -> None:
    """Register a connection (postpaid until a smart meter is installed)."""
    app = app_for(db, at)
    new = NewConnection(
        account, name, mobile, category, load_w, subdivision, discom, profile, language
    )
    open_connection(new, app.uow(), app.clock)
    typer.echo(f"account {account} opened")


@account_app.command("install-meter")
@exits_on_domain_error
def account_install_meter(
    account: Account,
    meter: Annotated[str, typer.Option("--meter", help="Smart meter serial number.")],
    postpaid_balance_paise: Annotated[
        int, typer.Option(help="Postpaid credit (+) or arrears (-) to migrate, in paise.")
    ] = 0,
    recovery: Annotated[RecoveryKind, typer.Option(help="How arrears are recovered.")] = (
        RecoveryKind.DAILY_INSTALMENTS
    ),
    days: Annotated[int, typer.Option(help="Instalment days.")] = 300,
    db: DbOption = None,
    at: AtOption = None,
) -> None:
    """Install a smart prepaid meter and migrate the postpaid balance, in one transaction."""
    app = app_for(db, at)
    decision = install_smart_meter(
        InstallSmartMeter(account, meter, postpaid_balance_paise, recovery, days),
        app.uow(),
        app.clock,
        app.policies,
    )
    typer.echo(f"meter {meter} installed on {account}; supply {decision.state.value}")


@account_app.command("show")
@exits_on_domain_error
def account_show(account: Account, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Balance, arrears and supply state of one account."""
    app = app_for(db)
    with app.uow() as uow:
        connection = uow.connections.get(account)
    data = {
        "account_id": connection.account_id,
        "category": connection.category,
        "balance_paise": connection.wallet_paise,
        "arrears_paise": connection.arrears_paise,
        "supply_state": connection.supply.state.value,
        "zero_at": connection.supply.zero_at,
        "cut_at": connection.supply.cut_at,
        "meter_id": connection.meter_id,
        "is_prepaid": connection.is_prepaid,
    }
    if as_json:
        emit_json(data)
    else:
        typer.echo(
            f"{account}: balance {format_rupees(connection.wallet_paise)}, arrears "
            f"{format_rupees(connection.arrears_paise)}, supply {connection.supply.state.value}"
        )


@account_app.command("evaluate")
@exits_on_domain_error
def account_evaluate(
    account: Account, db: DbOption = None, at: AtOption = None, as_json: JsonOption = False
) -> None:
    """Apply the supply policy to the account now (queue a cut or reconnection if due)."""
    app = app_for(db, at)
    decision = evaluate_supply(EvaluateSupply(account), app.uow(), app.clock, app.policies)
    data = {
        "account_id": account,
        "state": decision.state.value,
        "action": decision.action.value if decision.action else None,
        "cut_at": decision.cut_at,
        "reasons": list(decision.reasons),
    }
    emit_json(data) if as_json else typer.echo(f"{account}: {decision.state.value}")


@recharge_app.command("apply")
@exits_on_domain_error
def recharge_apply(
    account: Account,
    amount_paise: Amount,
    channel: Channel,
    reference: Reference,
    db: DbOption = None,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """Credit a confirmed payment (exactly once per channel and reference)."""
    app = app_for(db, at)
    cmd = ApplyRecharge(account, parse_paise(amount_paise), PaymentRef(channel, reference))
    result = apply_recharge(cmd, app.uow(), app.clock, app.policies)
    _print_recharge(result, as_json)


@recharge_app.command("pending")
@exits_on_domain_error
def recharge_pending(
    account: Account,
    amount_paise: Amount,
    channel: Channel,
    reference: Reference,
    db: DbOption = None,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a payment the channel has not confirmed yet (it holds cuts, credits nothing)."""
    app = app_for(db, at)
    cmd = RecordPendingPayment(account, parse_paise(amount_paise), PaymentRef(channel, reference))
    _print_recharge(record_pending_payment(cmd, app.uow(), app.clock), as_json)


@recharge_app.command("reverse")
@exits_on_domain_error
def recharge_reverse(
    channel: Channel,
    reference: Reference,
    db: DbOption = None,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """Reverse a credited payment with its own journal."""
    app = app_for(db, at)
    cmd = ReverseRecharge(PaymentRef(channel, reference))
    _print_recharge(reverse_recharge(cmd, app.uow(), app.clock, app.policies), as_json)


@recharge_app.command("fail")
@exits_on_domain_error
def recharge_fail(
    channel: Channel,
    reference: Reference,
    db: DbOption = None,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """Mark a pending payment failed (nothing is credited; a cut it held is due again)."""
    app = app_for(db, at)
    cmd = FailPayment(PaymentRef(channel, reference))
    _print_recharge(fail_payment(cmd, app.uow(), app.clock, app.policies), as_json)


def _print_recharge(result: object, as_json: bool) -> None:
    from dataclasses import asdict

    data = asdict(result)  # type: ignore[call-overload]
    if as_json:
        emit_json(data)
    else:
        balance = data.get("balance_paise")
        shown = format_rupees(balance) if isinstance(balance, int) else "-"
        typer.echo(f"{data['account_id']}: {data['outcome']}, balance {shown}")


@charge_app.command("post")
@exits_on_domain_error
def charge_post(
    account: Account,
    day: Annotated[str, typer.Option("--day", help="IST day billed, YYYY-MM-DD.")],
    used_wh: Annotated[int, typer.Option("--used-wh", help="Energy used that day, Wh.")],
    max_demand_w: Annotated[int, typer.Option("--md-w", help="Max demand that day, W.")] = 0,
    db: DbOption = None,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """Post one account-day's charges (idempotent)."""
    app = app_for(db, at)
    cmd = PostDailyCharge(account, parse_day(day), used_wh, max_demand_w)
    result = post_daily_charge(cmd, app.uow(), app.clock, app.tariffs, app.policies)
    data = {
        "account_id": result.account_id,
        "bill_day": result.bill_day.isoformat(),
        "is_new": result.is_new,
        "total_paise": result.total_paise,
        "instalment_paise": result.instalment_paise,
        "balance_paise": result.balance_paise,
        "supply_state": result.supply_state.value,
    }
    if as_json:
        emit_json(data)
    else:
        typer.echo(
            f"{account} {day}: charged {format_rupees(result.total_paise)}, balance "
            f"{format_rupees(result.balance_paise)}, supply {result.supply_state.value}"
        )


@safe_mode_app.command("set")
@exits_on_domain_error
def safe_mode_set(
    on: Annotated[bool, typer.Option("--on/--off", help="Engage or release safe mode.")],
    reason: Annotated[str, typer.Option(help="Why (kept with the flag).")],
    db: DbOption = None,
    at: AtOption = None,
) -> None:
    """Engage or release safe mode by hand."""
    app = app_for(db, at)
    set_safe_mode(SetSafeMode(on, reason), app.uow(), app.clock)
    typer.echo(f"safe mode {'on' if on else 'off'}: {reason}")
