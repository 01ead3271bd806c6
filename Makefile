# Every target sets up .venv by itself on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench unit integration clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/prepaidgrid demo

test: $(STAMP)
	$(BIN)/pytest -q -n 2 tests

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

integration: $(STAMP)
	$(BIN)/pytest -q tests/integration

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/ledger.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python -m bench.billing --meters 100000
	$(BIN)/python -m bench.recharge

clean:
	rm -rf $(VENV) prepaidgrid.db .pytest_cache .mypy_cache .ruff_cache
