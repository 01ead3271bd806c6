"""`prepaidgrid tariff explain`: the bill in JSON and as a table; bad input exits 2."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from prepaidgrid.entrypoints.cli import app

EXAMPLE = [
    "tariff",
    "explain",
    "--tariff",
    "bihar-2025-26",
    "--category",
    "DS-II",
    "--units",
    "150",
    "--days",
    "30",
    "--load-kw",
    "2",
    "--month",
    "2025-07",
]


def explain_json(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_explain_prints_the_example_bill_in_paise_as_json() -> None:
    document = explain_json(*EXAMPLE)

    assert {key: value for key, value in document.items() if key != "lines"} == {
        "tariff": "bihar-2025-26",
        "category": "DS-II",
        "month": "2025-07",
        "days": 30,
        "energy_paise": 118950,
        "subsidy_paise": 50150,
        "rebate_paise": 3750,
        "tod_paise": 0,
        "fixed_paise": 11613,
        "duty_paise": 7137,
        "total_paise": 83800,
        "used_wh": 150000,
        "free_wh": 0,
        "billed_wh": 150000,
        "unconfirmed": [
            "categories.DS-II.fixed.paise_per_month",
            "categories.DS-II.fixed.basis",
            "categories.DS-II.duty.basis_points",
            "categories.DS-II.duty.base",
        ],
    }
    assert [line["code"] for line in document["lines"]] == [
        "energy.slab.1",
        "energy.slab.2",
        "subsidy.slab.1",
        "subsidy.slab.2",
        "rebate",
        "fixed",
        "duty",
    ]
    assert sum(line["amount_paise"] for line in document["lines"]) == 83800
    assert document["lines"][1]["label_hi"].startswith("ऊर्जा शुल्क")


def test_explain_gives_free_units_in_a_30_day_august() -> None:
    free = explain_json(*EXAMPLE[:7], "125", "--days", "30", "--month", "2025-08")
    above = explain_json(*EXAMPLE[:7], "150", "--days", "30", "--month", "2025-08")

    assert (free["total_paise"], free["free_wh"]) == (0, 125000)
    assert (above["billed_wh"], above["energy_paise"]) == (25000, 22375)


def test_explain_defaults_to_the_tariffs_first_month_and_all_its_days() -> None:
    document = explain_json(
        "tariff", "explain", "--tariff", "bihar-2025-26", "--category", "KJ", "--units", "30"
    )

    assert (document["month"], document["days"]) == ("2025-04", 30)
    assert document["energy_paise"] - document["subsidy_paise"] == 30 * 197


def test_explain_takes_decimal_units_and_loads_exactly() -> None:
    document = explain_json(*EXAMPLE[:7], "0.001", "--load-kw", "1.333", "--month", "2025-07")

    assert document["used_wh"] == 1
    assert document["energy_paise"] == 1  # 0.742 paise, rounded half up


def test_explain_prints_a_table_in_rupees_with_the_unconfirmed_warning() -> None:
    result = CliRunner().invoke(app, EXAMPLE)

    assert result.exit_code == 0
    assert "₹838.00" in result.stdout
    assert "-₹501.50" not in result.stdout  # subsidy is shown per slab
    assert "-₹330.00" in result.stdout
    assert "Total" in result.stdout
    assert "warning:" in result.stdout
    assert "UNCONFIRMED" in result.stdout


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (["--tariff", "bihar-1999"], "unknown tariff 'bihar-1999'; known: bihar-2021-22"),
        (["--category", "NDS-I"], "has no category 'NDS-I'; it has: DS-I, DS-II, KJ"),
        (["--units", "-5"], "--units must not be negative"),
        (["--units", "abc"], "--units must be a number"),
        (["--units", "nan"], "--units must be a number"),
        (["--units", "1.0005"], "at most 3 decimals"),
        (["--load-kw", "-1"], "--load-kw must not be negative"),
        (["--month", "2025-13"], "--month must be YYYY-MM"),
        (["--month", "July"], "--month must be YYYY-MM"),
        (["--month", "2024-07"], "not in 2024-07"),
        (["--days", "40"], "--days must be 1-31 for 2025-07, got 40"),
        (["--days", "0"], "--days must be 1-31"),
        (["--days", "2.5"], "--days must be a whole number"),
    ],
)
def test_bad_input_prints_one_error_line_and_exits_2(changes: list[str], message: str) -> None:
    args = list(EXAMPLE)
    option, value = changes
    args[args.index(option) + 1] = value

    result = CliRunner().invoke(app, args)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: ")
    assert message in result.stderr


def test_a_category_missing_from_a_years_tariff_is_named() -> None:
    result = CliRunner().invoke(
        app, ["tariff", "explain", "--tariff", "bihar-2021-22", "--category", "KJ", "--units", "1"]
    )

    assert result.exit_code == 2
    assert result.stderr == "error: tariff bihar-2021-22 has no category 'KJ'; it has: DS-II\n"
