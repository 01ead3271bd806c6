"""Supply policy profiles shipped as package data (src/prepaidgrid/profiles/*.toml)."""

from __future__ import annotations

import tomllib
from importlib import resources
from importlib.resources.abc import Traversable

from prepaidgrid.domain.errors import InvalidInput, UnknownProfile
from prepaidgrid.domain.profiles import parse_policy
from prepaidgrid.domain.supply import SupplyPolicy

SUFFIX = ".toml"


def list_profiles() -> list[str]:
    """The names `load_policy` accepts, e.g. ['bihar', 'karnataka', 'uttar-pradesh']."""
    return sorted(
        entry.name.removesuffix(SUFFIX)
        for entry in _folder().iterdir()
        if entry.is_file() and entry.name.endswith(SUFFIX)
    )


def load_policy(name: str) -> SupplyPolicy:
    """Read and validate one shipped profile; an unknown name lists the known ones."""
    known = list_profiles()
    if name not in known:  # also keeps names like '../x' away from the file system
        raise UnknownProfile(f"unknown supply profile {name!r}; known profiles: {', '.join(known)}")
    text = _folder().joinpath(name + SUFFIX).read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidInput(f"supply profile {name!r} is not valid TOML: {error}") from None
    return parse_policy(name, data)


def _folder() -> Traversable:
    return resources.files("prepaidgrid").joinpath("profiles")
