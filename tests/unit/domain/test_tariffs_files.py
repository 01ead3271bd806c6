"""The shipped tariff files: each loads, every UNCONFIRMED figure is flagged twice (a
comment and the `unconfirmed` list), and a bad file is refused with the key that is wrong."""

from __future__ import annotations

import re
from datetime import date
from importlib.resources import files
from typing import Any

import pytest

from prepaidgrid.adapters.tariff_files import (
    list_tariff_ids,
    load_tariff,
    load_tariff_document,
    tariff_in_force,
)
from prepaidgrid.domain.errors import InvalidInput, UnknownTariff
from prepaidgrid.domain.tariffs import Usage, daily_charge, monthly_bill, parse_tariff
from prepaidgrid.domain.tariffs.parsing import resolves

SHIPPED = ["bihar-2021-22", "bihar-2024-25", "bihar-2025-26", "bihar-2026-27"]
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?")
_FLAGGED = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=.*#\s*UNCONFIRMED:\s*\S")


def flagged_by_comment(tariff_id: str) -> set[str]:
    """Dotted paths of the keys whose line carries an `# UNCONFIRMED: why` comment."""
    text = files("prepaidgrid").joinpath("tariffs", f"{tariff_id}.toml").read_text("utf-8")
    table = ""
    seen_arrays: dict[str, int] = {}
    paths: set[str] = set()
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        header = _HEADER.match(line)
        if header:
            opener, name = header.groups()
            if opener == "[[":
                seen_arrays[name] = seen_arrays.get(name, -1) + 1
                name = f"{name}.{seen_arrays[name]}"
            table = name
            continue
        flagged = _FLAGGED.match(line)
        if flagged:
            paths.add(f"{table}.{flagged.group(1)}" if table else flagged.group(1))
    return paths


def test_the_shipped_tariffs_are_listed() -> None:
    assert list_tariff_ids() == SHIPPED


@pytest.mark.parametrize("tariff_id", SHIPPED)
def test_each_shipped_tariff_loads_for_both_bihar_discoms(tariff_id: str) -> None:
    version = load_tariff(tariff_id)

    assert version.id == tariff_id
    assert version.discoms == ("SBPDCL", "NBPDCL")
    assert version.effective_from.month == 4
    assert "DS-II" in version.categories


@pytest.mark.parametrize("tariff_id", SHIPPED)
def test_every_unconfirmed_path_resolves_to_a_key_in_the_file(tariff_id: str) -> None:
    document = load_tariff_document(tariff_id)

    version = load_tariff(tariff_id)

    assert version.unconfirmed
    assert [path for path in version.unconfirmed if not resolves(document, path)] == []


@pytest.mark.parametrize("tariff_id", SHIPPED)
def test_every_unconfirmed_figure_is_flagged_by_a_comment_and_in_the_list(tariff_id: str) -> None:
    version = load_tariff(tariff_id)

    assert flagged_by_comment(tariff_id) == set(version.unconfirmed)


def test_the_2025_26_ds_ii_rates_reproduce_worked_example_2() -> None:
    ds_ii = load_tariff("bihar-2025-26").category("DS-II")
    before = Usage(used_wh=98_000, days=20, period_days=30, month=date(2025, 6, 1))
    after = Usage(used_wh=104_000, days=21, period_days=30, month=date(2025, 6, 1))

    day = daily_charge(ds_ii, before, after)

    assert day.energy_paise - day.subsidy_paise == 3032


def test_the_2025_26_tariff_gives_125_free_units_in_a_30_day_august() -> None:
    ds_ii = load_tariff("bihar-2025-26").category("DS-II")
    usage = Usage(used_wh=125_000, days=30, period_days=30, month=date(2025, 8, 1))

    assert monthly_bill(ds_ii, usage).total_paise == 0


def test_2021_22_prices_only_the_category_our_facts_give_rates_for() -> None:
    version = load_tariff("bihar-2021-22")

    assert list(version.categories) == ["DS-II"]
    assert [slab.paise_per_kwh for slab in version.category("DS-II").slabs] == [610, 695, 805]


def test_2024_25_derives_its_rates_before_subsidy_and_says_so() -> None:
    version = load_tariff("bihar-2024-25")

    slabs = version.category("DS-II").slabs

    assert [slab.net_paise_per_kwh for slab in slabs] == [412, 552]
    assert "categories.DS-II.slabs.1.rate_paise_per_kwh" in version.unconfirmed


def test_unconfirmed_figures_for_one_category_leave_out_the_others() -> None:
    version = load_tariff("bihar-2025-26")

    flagged = version.unconfirmed_for("KJ")

    assert flagged
    assert all(path.startswith("categories.KJ.") for path in flagged)


@pytest.mark.parametrize(
    ("day", "tariff_id"),
    [
        (date(2021, 4, 1), "bihar-2021-22"),
        (date(2025, 3, 31), "bihar-2024-25"),
        (date(2025, 8, 1), "bihar-2025-26"),
        (date(2027, 3, 31), "bihar-2026-27"),
    ],
)
def test_the_tariff_in_force_is_found_by_day(day: date, tariff_id: str) -> None:
    assert tariff_in_force("NBPDCL", day).id == tariff_id


def test_a_day_without_a_tariff_is_refused_with_the_known_spans() -> None:
    with pytest.raises(UnknownTariff, match=r"no tariff in force for SBPDCL on 2023-06-01"):
        tariff_in_force("SBPDCL", date(2023, 6, 1))


def test_an_unknown_tariff_names_the_known_ones() -> None:
    with pytest.raises(UnknownTariff, match="unknown tariff 'bihar-1999'; known: bihar-2021-22"):
        load_tariff("bihar-1999")


def test_a_path_is_never_read_from_a_tariff_id() -> None:
    with pytest.raises(UnknownTariff):
        load_tariff("../tariffs/bihar-2025-26")


def minimal_document(**category: Any) -> dict[str, Any]:
    return {
        "id": "test",
        "discoms": ["SBPDCL"],
        "effective_from": date(2025, 4, 1),
        "categories": {
            "DS-II": {"name": "urban", "slabs": [{"rate_paise_per_kwh": 742}], **category}
        },
    }


def test_a_minimal_document_parses() -> None:
    version = parse_tariff(minimal_document())

    assert version.category("DS-II").slabs[0].paise_per_kwh == 742
    assert version.effective_to is None


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (minimal_document(rebate={"paise_per_unit": 25}), "categories.DS-II.rebate.paise_per_unit"),
        (
            minimal_document(slabs=[{"rate_paise_per_kwh": 7.42}]),
            r"categories.DS-II.slabs.0.rate_paise_per_kwh must be a whole number",
        ),
        (minimal_document(duty={"base": "energy_gross"}), "categories.DS-II.duty.basis_points"),
        (
            minimal_document(duty={"basis_points": 600, "base": "gross"}),
            "must be one of energy_gross",
        ),
        (
            {**minimal_document(), "unconfirmed": ["categories.DS-II.fixed"]},
            "unconfirmed path 'categories.DS-II.fixed' is not in the file",
        ),
        ({**minimal_document(), "effective_from": "2025-04-01"}, "must be a date"),
    ],
)
def test_a_bad_tariff_document_is_refused_naming_the_key(
    document: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_tariff(document)
