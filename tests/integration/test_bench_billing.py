"""bench/billing.py keeps working: it bills the population and measures its floor."""

from __future__ import annotations

import pytest
from bench.billing import run

pytestmark = pytest.mark.integration


def test_the_billing_benchmark_bills_everyone_and_reports_its_floor() -> None:
    figures = run(3_000, partition_size=1_000)

    assert figures["billed"] == figures["meters"] == 3_000
    assert figures["rows_written"]["daily_charges"] == 3_000
    assert figures["rows_written"]["postings"] >= 3_000
    assert figures["floor_seconds"] > 0
    assert figures["ratio_to_floor"] > 0
    assert isinstance(figures["target_met"], bool)
    assert figures["skipped"] == {}
