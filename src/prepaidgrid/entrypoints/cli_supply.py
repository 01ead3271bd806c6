"""`prepaidgrid supply ...`: when a consumer whose balance reached zero would be cut, and why."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from prepaidgrid.adapters.profile_files import list_profiles, load_policy
from prepaidgrid.domain.calendars import no_cut_days
from prepaidgrid.domain.supply import (
    CutPlan,
    SupplyPolicy,
    duration_label,
    instant_label,
    plan_cut,
    window_label,
)
from prepaidgrid.domain.units import IST, parse_instant
from prepaidgrid.entrypoints.cli_errors import exits_on_domain_error

supply_app = typer.Typer(
    help="Supply policy: when a consumer would be cut, and why.", no_args_is_help=True
)


@supply_app.command("explain")
@exits_on_domain_error
def explain(
    zero_at: Annotated[
        str,
        typer.Option(
            "--zero-at", help="When the balance reached zero (ISO 8601; no offset = IST)."
        ),
    ],
    profile: Annotated[
        str, typer.Option("--profile", help="Supply policy profile, e.g. bihar.")
    ] = "bihar",
    warned_at: Annotated[
        str | None,
        typer.Option("--warned-at", help="When the zero-balance SMS was queued, if later."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Show the grace, the days skipped and the earliest cut for a zero-balance instant."""
    policy = load_policy(profile)
    zero = parse_instant(zero_at)
    warned = None if warned_at is None else parse_instant(warned_at)
    grace_from = zero if warned is None else max(zero, warned)
    plan = plan_cut(grace_from, policy, no_cut_days(policy))
    reasons = list(plan.reasons)
    if warned is not None and warned > zero:
        reasons.insert(0, f"the warning SMS was queued {instant_label(warned)}: grace runs from it")
    if as_json:
        typer.echo(
            json.dumps(_as_json(policy, zero, warned, plan, reasons), ensure_ascii=False, indent=2)
        )
        return
    _print_table(policy, zero, warned, plan, reasons)


@supply_app.command("profiles")
@exits_on_domain_error
def profiles(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List the shipped supply policy profiles and their main settings."""
    policies = [load_policy(name) for name in list_profiles()]
    if as_json:
        rows = [
            {
                "profile": p.name,
                "grace_hours": int(p.grace.total_seconds()) // 3600,
                "window": window_label(p),
                "unconfirmed": list(p.unconfirmed),
            }
            for p in policies
        ]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("profile", "grace", "cut window (IST)", "reconnect", "unconfirmed")
    for p in policies:
        deadline = "-" if p.reconnect_deadline is None else duration_label(p.reconnect_deadline)
        table.add_row(
            p.name, duration_label(p.grace), window_label(p), deadline, ", ".join(p.unconfirmed)
        )
    Console().print(table)


def _local_iso(at: datetime) -> str:
    return at.astimezone(IST).isoformat()


def _as_json(
    policy: SupplyPolicy,
    zero: datetime,
    warned: datetime | None,
    plan: CutPlan,
    reasons: list[str],
) -> dict[str, object]:
    return {
        "profile": policy.name,
        "zero_at": _local_iso(zero),
        "warned_at": None if warned is None else _local_iso(warned),
        "grace_ends_at": _local_iso(plan.grace_ends_at),
        "cut_at": _local_iso(plan.cut_at),
        "skipped": [{"date": s.day.isoformat(), "reason": s.reason} for s in plan.skipped],
        "reasons": reasons,
        "unconfirmed": list(policy.unconfirmed),
    }


def _print_table(
    policy: SupplyPolicy,
    zero: datetime,
    warned: datetime | None,
    plan: CutPlan,
    reasons: list[str],
) -> None:
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("profile", policy.name)
    table.add_row("balance reached zero", instant_label(zero))
    if warned is not None:
        table.add_row("warning SMS queued", instant_label(warned))
    table.add_row("grace", duration_label(policy.grace))
    table.add_row("grace ends", instant_label(plan.grace_ends_at))
    table.add_row("cut window", f"{window_label(policy)} IST")
    for skipped in plan.skipped:
        table.add_row(f"skipped {skipped.day.isoformat()}", skipped.reason)
    table.add_row("earliest cut", f"[bold red]{instant_label(plan.cut_at)}[/]")
    if policy.unconfirmed:
        table.add_row("unconfirmed settings", ", ".join(policy.unconfirmed))
    console = Console()
    console.print(Panel(table, title=f"Supply cut schedule ({policy.name})", expand=False))
    for reason in reasons:
        console.print(f"• {reason}", highlight=False)
