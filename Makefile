# One venv, made on demand, so `make demo` and `make test` work on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench screenshot clean

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

# The README's picture is a snapshot test's SVG: refresh both after a change to the screen.
screenshot: $(STAMP)
	$(BIN)/pytest -q tests/tui/test_snapshots.py -k test_readme_screenshot --snapshot-update
	cp tests/tui/__snapshots__/test_snapshots/test_readme_screenshot.svg docs/screenshot.svg

bench: $(STAMP)
	$(BIN)/python -m benches.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
