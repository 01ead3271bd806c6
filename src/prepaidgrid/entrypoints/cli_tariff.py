"""`prepaidgrid tariff ...` (placeholder: the tariff helper owns this file)."""

import typer

tariff_app = typer.Typer(help="Tariffs: explain a monthly bill line by line.", no_args_is_help=True)
