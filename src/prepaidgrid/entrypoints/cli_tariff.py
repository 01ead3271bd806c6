"""`prepaidgrid tariff explain`: a monthly bill and the arithmetic behind every line.

Numbers arrive as text and are converted exactly with Decimal (never float), so that
"--units 150.5" is 150500 Wh and "--units abc" is a one-line error like every other bad
input (exit 2), not a framework traceback.
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from prepaidgrid.adapters.tariff_files import load_tariff
from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.domain.tariffs import Bill, TariffVersion, Usage, monthly_bill
from prepaidgrid.domain.tariffs.explanation import units_text
from prepaidgrid.domain.units import days_in_month, format_rupees
from prepaidgrid.entrypoints.cli_errors import exits_on_domain_error

tariff_app = typer.Typer(help="Tariffs: explain a monthly bill line by line.", no_args_is_help=True)

_MONTH = re.compile(r"(\d{4})-(\d{2})")


@tariff_app.command("explain")
@exits_on_domain_error
def explain(
    tariff: Annotated[str, typer.Option("--tariff", help="Tariff id, e.g. bihar-2025-26.")],
    category: Annotated[str, typer.Option("--category", help="Category code, e.g. DS-II.")],
    units: Annotated[str, typer.Option("--units", help="Units (kWh) used; decimals allowed.")],
    days: Annotated[
        str | None, typer.Option("--days", help="Days in the bill period [default: the month's].")
    ] = None,
    load_kw: Annotated[str, typer.Option("--load-kw", help="Sanctioned load, kW.")] = "1",
    md_kw: Annotated[str, typer.Option("--md-kw", help="Recorded maximum demand, kW.")] = "0",
    month: Annotated[
        str | None,
        typer.Option("--month", help="Month billed, YYYY-MM [default: the tariff's first]."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """The monthly bill for N units, line by line, in paise (JSON) or rupees (table)."""
    version = load_tariff(tariff)
    tariff_category = version.category(category)
    billed_month = _month(month, version)
    period_days = days_in_month(billed_month) if days is None else _whole(days, "--days")
    if not 1 <= period_days <= days_in_month(billed_month):
        raise InvalidInput(
            f"--days must be 1-{days_in_month(billed_month)} for {billed_month:%Y-%m}, "
            f"got {period_days}"
        )
    usage = Usage(
        used_wh=_thousandths(units, "--units"),
        days=period_days,
        period_days=period_days,
        month=billed_month,
        sanctioned_load_w=_thousandths(load_kw, "--load-kw"),
        max_demand_w=_thousandths(md_kw, "--md-kw"),
    )
    bill = monthly_bill(tariff_category, usage)
    unconfirmed = version.unconfirmed_for(tariff_category.code)
    if as_json:
        document = _document(bill, version.id, tariff_category.code, usage, unconfirmed)
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        title = (
            f"{version.id} {tariff_category.code} ({tariff_category.name}), "
            f"{billed_month:%Y-%m}, {period_days} days, {units_text(usage.used_wh)} units"
        )
        _print_table(bill, title, unconfirmed)


def _month(text: str | None, version: TariffVersion) -> date:
    if text is None:
        return version.effective_from.replace(day=1)
    match = _MONTH.fullmatch(text.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise InvalidInput(f"--month must be YYYY-MM, got {text!r}")
    month = date(int(match.group(1)), int(match.group(2)), 1)
    last_day = month.replace(day=days_in_month(month))
    if not (version.is_in_force(month) or version.is_in_force(last_day)):
        raise InvalidInput(
            f"tariff {version.id} is in force {version.effective_from} to "
            f"{version.effective_to or 'open'}, not in {month:%Y-%m}"
        )
    return month


def _number(text: str, option: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidInput(f"{option} must be a number, got {text!r}") from None
    if not value.is_finite():
        raise InvalidInput(f"{option} must be a number, got {text!r}")
    if value < 0:
        raise InvalidInput(f"{option} must not be negative, got {text}")
    return value


def _thousandths(text: str, option: str) -> int:
    """kWh -> Wh, kW -> W, exactly; finer than one Wh (or W) is refused, not rounded."""
    scaled = _number(text, option) * 1000
    if scaled != scaled.to_integral_value():
        raise InvalidInput(f"{option} allows at most 3 decimals, got {text}")
    return int(scaled)


def _whole(text: str, option: str) -> int:
    value = _number(text, option)
    if value != value.to_integral_value():
        raise InvalidInput(f"{option} must be a whole number, got {text}")
    return int(value)


def _document(
    bill: Bill, tariff_id: str, category: str, usage: Usage, unconfirmed: tuple[str, ...]
) -> dict[str, Any]:
    return {
        "tariff": tariff_id,
        "category": category,
        "month": f"{usage.month:%Y-%m}",
        "days": usage.period_days,
        "energy_paise": bill.energy_paise,
        "subsidy_paise": bill.subsidy_paise,
        "rebate_paise": bill.rebate_paise,
        "tod_paise": bill.tod_paise,
        "fixed_paise": bill.fixed_paise,
        "duty_paise": bill.duty_paise,
        "total_paise": bill.total_paise,
        "used_wh": bill.used_wh,
        "free_wh": bill.free_wh,
        "billed_wh": bill.billed_wh,
        "unconfirmed": list(unconfirmed),
        "lines": [
            {
                "code": line.code,
                "label": line.label,
                "label_hi": line.label_hi,
                "amount_paise": line.amount_paise,
                "quantity_wh": line.quantity_wh,
                "rate_paise_per_kwh": line.rate_paise_per_kwh,
            }
            for line in bill.lines
        ],
    }


def _print_table(bill: Bill, title: str, unconfirmed: tuple[str, ...]) -> None:
    console = Console()
    table = Table(title=escape(title), show_footer=True)
    table.add_column("Line", footer="Total")
    table.add_column("Units", justify="right")
    table.add_column("Rate", justify="right")
    table.add_column("Amount", justify="right", footer=format_rupees(bill.total_paise))
    for line in bill.lines:
        table.add_row(
            escape(line.label),
            "" if line.quantity_wh is None else units_text(line.quantity_wh),
            "" if line.rate_paise_per_kwh is None else f"{format_rupees(line.rate_paise_per_kwh)}",
            format_rupees(line.amount_paise),
        )
    console.print(table)
    if unconfirmed:
        console.print(
            escape(
                f"warning: figures without a primary source (UNCONFIRMED): {', '.join(unconfirmed)}"
            ),
            soft_wrap=True,
        )
