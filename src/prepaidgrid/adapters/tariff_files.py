"""The tariff files shipped in the package (prepaidgrid/tariffs/*.toml), read and parsed.

Reading happens here, parsing in the pure domain (domain/tariffs/parsing.py). Files are
found with importlib.resources so that they load the same from a checkout, a wheel or a
zip. Callers that load often wrap these in a cache (adapters/books.py).
"""

from __future__ import annotations

import tomllib
from datetime import date
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

from prepaidgrid.domain.errors import InvalidInput, UnknownTariff
from prepaidgrid.domain.tariffs import TariffVersion, parse_tariff

_SUFFIX = ".toml"


def _directory() -> Traversable:
    return files("prepaidgrid").joinpath("tariffs")


def list_tariff_ids() -> list[str]:
    """Every shipped tariff id, sorted (ids are file names: 'bihar-2025-26')."""
    return sorted(
        entry.name.removesuffix(_SUFFIX)
        for entry in _directory().iterdir()
        if entry.is_file() and entry.name.endswith(_SUFFIX)
    )


def load_tariff_document(tariff_id: str) -> dict[str, Any]:
    """The raw TOML document of a shipped tariff (ids outside the list are refused, so a
    caller's text never becomes a path)."""
    known = list_tariff_ids()
    if tariff_id not in known:
        raise UnknownTariff(f"unknown tariff {tariff_id!r}; known: {', '.join(known)}")
    text = _directory().joinpath(tariff_id + _SUFFIX).read_text(encoding="utf-8")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidInput(f"tariff file {tariff_id}{_SUFFIX} is not valid TOML: {error}") from None


def load_tariff(tariff_id: str) -> TariffVersion:
    version = parse_tariff(load_tariff_document(tariff_id))
    if version.id != tariff_id:
        raise InvalidInput(f"tariff file {tariff_id}{_SUFFIX} declares id {version.id!r}")
    return version


def tariff_in_force(discom: str, day: date) -> TariffVersion:
    """The shipped tariff for a DISCOM on a day; the latest-starting one if two overlap."""
    versions = [load_tariff(tariff_id) for tariff_id in list_tariff_ids()]
    in_force = [v for v in versions if discom in v.discoms and v.is_in_force(day)]
    if not in_force:
        spans = "; ".join(
            f"{v.id} {v.effective_from}..{v.effective_to or 'open'} ({', '.join(v.discoms)})"
            for v in versions
        )
        raise UnknownTariff(f"no tariff in force for {discom} on {day}; known: {spans}")
    return max(in_force, key=lambda version: version.effective_from)
