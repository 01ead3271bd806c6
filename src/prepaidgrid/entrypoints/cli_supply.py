"""`prepaidgrid supply ...` (placeholder: the supply helper owns this file)."""

import typer

supply_app = typer.Typer(help="Supply policy: when a consumer would be cut, and why.", no_args_is_help=True)
