# One venv, made on demand, so `make demo` and `make test` work on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/warroom demo

test: $(STAMP)
	$(BIN)/ruff check warroom server tests benches
	$(BIN)/ruff format --check warroom server tests benches
	$(BIN)/mypy
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check warroom server tests benches
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m benches.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
