"""The Patna September 2021 scenario: counts per division, ids, mixes, determinism."""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.simulator.load_profiles import DS_II, KUTIR_JYOTI, NDS_II
from prepaidgrid.simulator.recharge_habits import RechargeHabit
from prepaidgrid.simulator.scenario import (
    SCENARIO_NAMES,
    UnknownScenario,
    load_scenario,
    read_divisions,
)

REFERENCE_CSV = Path(__file__).parents[3] / "docs/reference/patna-divisions-2021-09.csv"
PACKAGE_CSV = (
    Path(__file__).parents[3] / "src/prepaidgrid/simulator/data/patna-divisions-2021-09.csv"
)


def _reference_rows() -> list[dict[str, str]]:
    with REFERENCE_CSV.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_the_package_ships_the_reference_table_unchanged() -> None:
    assert PACKAGE_CSV.read_bytes() == REFERENCE_CSV.read_bytes()


def test_each_division_gets_its_installed_meters_times_the_scale() -> None:
    rows = _reference_rows()

    scenario = load_scenario("patna-2021-09", scale=0.05)

    per_division = Counter(consumer.division_code for consumer in scenario.consumers)
    expected = {
        row["division_en"]: round(int(row["smart_meters_installed"]) * 0.05) for row in rows
    }
    actual = {division.name_en: per_division[division.code] for division in scenario.divisions}
    assert actual == expected
    assert len(scenario.consumers) == sum(expected.values())


def test_there_are_13_divisions_with_english_and_hindi_names() -> None:
    divisions = read_divisions()

    assert len(divisions) == 13
    assert divisions[0].name_en == "Nutan Rajdhani"
    assert divisions[0].name_hi == "नूतन राजधानी"
    assert divisions[-1].name_hi == "पटना सिटी"
    assert len({division.code for division in divisions}) == 13
    assert sum(division.smart_meters_installed for division in divisions) == 130_450


def test_the_misprinted_cut_count_of_kankarbagh_2_stays_unknown() -> None:
    kankarbagh_2 = next(d for d in read_divisions() if d.name_en == "Kankarbagh-2")

    assert kankarbagh_2.connections_cut_sep_2021 is None
    assert kankarbagh_2.cut_share is None
    assert kankarbagh_2.revenue_after_recharge_paise == 17_700_000_00


def test_a_tiny_scale_still_gives_every_division_a_meter() -> None:
    scenario = load_scenario("patna-2021-09", scale=0.00001)

    assert Counter(c.division_code for c in scenario.consumers) == {
        division.code: 1 for division in scenario.divisions
    }


def test_scale_zero_gives_no_meters_and_a_negative_scale_is_refused() -> None:
    assert load_scenario("patna-2021-09", scale=0).consumers == ()
    with pytest.raises(InvalidInput, match="scale must be"):
        load_scenario("patna-2021-09", scale=-0.1)


def test_an_unknown_scenario_names_the_known_ones() -> None:
    with pytest.raises(UnknownScenario, match="no scenario 'patna-2030'; the scenarios are: "):
        load_scenario("patna-2030")
    assert "patna-2021-09" in SCENARIO_NAMES


def test_ids_follow_the_formats_and_are_unique() -> None:
    scenario = load_scenario("patna-2021-09", scale=0.02)

    meter_ids = [c.meter.meter_id for c in scenario.consumers]
    account_ids = [c.account_id for c in scenario.consumers]
    assert all(re.fullmatch(r"SM\d{8}", meter_id) for meter_id in meter_ids)
    assert all(re.fullmatch(r"PTN-[A-Z0-9]+-\d{5}", account) for account in account_ids)
    assert len(set(meter_ids)) == len(meter_ids)
    assert len(set(account_ids)) == len(account_ids)
    first = scenario.consumers_in("NRJ")[0]
    assert (first.account_id, first.meter.meter_id) == ("PTN-NRJ-00001", "SM01000001")
    last = scenario.consumers_in("PTC")[-1]
    assert (last.account_id, last.meter.meter_id) == ("PTN-PTC-00075", "SM13000075")


def test_a_bigger_scale_keeps_the_smaller_fleet_s_consumers() -> None:
    small = load_scenario("patna-2021-09", scale=0.001, replacement_after=None)
    large = load_scenario("patna-2021-09", scale=0.003, replacement_after=None)

    assert set(small.consumers) <= set(large.consumers)


def test_the_fleet_mixes_categories_habits_and_loads_as_patna_would() -> None:
    scenario = load_scenario("patna-2021-09", scale=0.05)

    categories = Counter(c.category for c in scenario.consumers)
    habits = Counter(c.recharge_habit for c in scenario.consumers)
    total = len(scenario.consumers)
    assert categories[DS_II] > 0.75 * total
    assert categories[KUTIR_JYOTI] > 0
    assert categories[NDS_II] > 0
    assert set(habits) == set(RechargeHabit)
    assert 0.10 < (habits[RechargeHabit.LATE] + habits[RechargeHabit.NEVER]) / total < 0.25
    assert all(1000 <= c.sanctioned_load_w <= 5000 for c in scenario.consumers)
    assert all(c.meter.household.category == c.category for c in scenario.consumers)
    assert not any(
        c.has_smartphone
        for c in scenario.consumers
        if c.recharge_habit is RechargeHabit.COUNTER_ONLY
    )


def test_exactly_one_meter_is_replaced_unless_asked_for_none() -> None:
    scenario = load_scenario("patna-2021-09", scale=0.01)
    quiet = load_scenario("patna-2021-09", scale=0.01, replacement_after=None)

    replaced = [c for c in scenario.consumers if c.meter.replacement is not None]
    assert len(replaced) == 1
    assert replaced[0].meter.replacement is not None
    assert replaced[0].meter.replacement.after == timedelta(days=1, hours=11)
    assert not any(c.meter.replacement for c in quiet.consumers)


def test_the_same_seed_gives_the_same_fleet() -> None:
    first = load_scenario("patna-2021-09", scale=0.01, seed=7)
    again = load_scenario("patna-2021-09", scale=0.01, seed=7)
    other = load_scenario("patna-2021-09", scale=0.01, seed=8)

    assert first == again
    assert first.consumers != other.consumers


def test_meters_start_together_on_the_scenario_discom() -> None:
    scenario = load_scenario("patna-2021-09", scale=0.001, discom="TEST-SIM")

    meters = scenario.meters()

    assert len(meters) == len(scenario.consumers)
    assert {meter.now for meter in meters} == {scenario.starts_at}
    assert {meter.discom for meter in meters} == {"TEST-SIM"}
    assert scenario.starts_at.isoformat() == "2021-08-31T18:30:00+00:00"


def test_upload_hours_batch_every_meters_blocks_and_change_nothing_else() -> None:
    mixed = load_scenario("patna-2021-09", scale=0.002)
    batched = load_scenario("patna-2021-09", scale=0.002, upload_hours=8)

    assert {c.meter.blocks_per_upload for c in mixed.consumers} == {1, 4}
    for before, after in zip(mixed.consumers, batched.consumers, strict=True):
        # eight hours of its own capture period in each message, whatever the period
        assert after.meter.blocks_per_upload * after.meter.block_minutes == 8 * 60
        same_upload = replace(after.meter, blocks_per_upload=before.meter.blocks_per_upload)
        assert replace(after, meter=same_upload) == before


@pytest.mark.parametrize("hours", [0, 25])
def test_upload_hours_outside_a_day_are_refused(hours: int) -> None:
    with pytest.raises(InvalidInput, match="upload hours must be 1 to 24"):
        load_scenario("patna-2021-09", scale=0.002, upload_hours=hours)
