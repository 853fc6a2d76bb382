# `make demo` and `make test` work on a fresh clone: each sets up what it needs first.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
VENDOR := src/dbsnooze/web/static/vendor
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: setup demo serve test lint typecheck pytest bench lock clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# The UI's browser libraries: from npm, pinned by package-lock.json, copied where the app serves them.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

$(VENDOR)/.copied: $(NODE_STAMP)
	mkdir -p $(VENDOR)
	cp node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css $(VENDOR)/
	cp node_modules/uplot/LICENSE $(VENDOR)/uPlot.LICENSE
	touch $(VENDOR)/.copied

setup: $(STAMP) $(VENDOR)/.copied

demo: setup
	$(BIN)/dbsnooze demo

serve: setup
	$(BIN)/dbsnooze serve

lint: setup
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/ruff format --check src tests $(wildcard bench)

typecheck: setup
	$(BIN)/mypy

# The suite runs on SQLite always, and on PostgreSQL too when one answers on 127.0.0.1:5432.
pytest: setup
	@if [ -z "$$DBSNOOZE_TEST_POSTGRES_URL" ] && \
	    $(BIN)/python -c "import socket; socket.create_connection(('127.0.0.1', 5432), 1)" 2>/dev/null; \
	then export DBSNOOZE_TEST_POSTGRES_URL='$(PG_URL)'; fi; \
	echo "PostgreSQL store tests: $${DBSNOOZE_TEST_POSTGRES_URL:-skipped (no server)}"; \
	$(BIN)/pytest -q

test: lint typecheck pytest

bench: setup
	$(BIN)/python -m bench

# Re-pin every dependency after changing pyproject.toml ranges.
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/python -m pip install --quiet '.[dev]'
	.lockenv/bin/python -m pip freeze --exclude dbsnooze | sort > constraints.txt
	rm -rf .lockenv

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache node_modules $(VENDOR)
