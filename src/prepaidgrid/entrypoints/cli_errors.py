"""How the CLI reports a refused command: one line on stderr and exit code 2."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer

from prepaidgrid.domain.errors import DomainError

P = ParamSpec("P")
R = TypeVar("R")

EXIT_REFUSED = 2  # the same code click uses for a usage error


def exits_on_domain_error(command: Callable[P, R]) -> Callable[P, R]:
    """Turn a DomainError into `error: <message>` on stderr and exit code 2; nothing else."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except DomainError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(EXIT_REFUSED) from None

    return wrapper
