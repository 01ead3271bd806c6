"""The benchmarks stay runnable: a tiny run of each, checked for a sound ledger."""

from __future__ import annotations

import pytest
from bench.ledger import run
from sqlalchemy import Engine

pytestmark = pytest.mark.integration


def test_the_ledger_benchmark_runs_and_leaves_a_sound_ledger(engine: Engine) -> None:
    figures = run(engine.url.render_as_string(hide_password=False), accounts=5, engine=engine)

    assert figures["ledger_ok"] is True
    assert figures["journals"] == 10
