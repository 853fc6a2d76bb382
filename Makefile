# `make demo` and `make test` work on a fresh clone: each sets up what it needs first.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := src/dbsnooze/web/static/vendor
VENDOR_STAMP := $(VENV)/.vendor
LOCK := requirements-dev.lock
RUNTIME_LOCK := requirements.lock
UV_VERSION := $(shell sed -n 's/^uv==\([0-9.]*\).*/\1/p' $(LOCK) 2>/dev/null)
# One copy per user and version, shared by every clone (like uv's own download cache).
UV_HOME ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/dbsnooze/uv-$(UV_VERSION)
UV := $(UV_HOME)/bin/uv
# Asked of pip once, and only by the recipes that install or lock.
PIP_INDEX = $(eval PIP_INDEX := $(or $(PIP_INDEX_URL),$(shell $(PYTHON) -m pip config get global.index-url 2>/dev/null)))$(PIP_INDEX)
UV_ENV = $(if $(PIP_INDEX),UV_DEFAULT_INDEX='$(PIP_INDEX)')
PYTEST_WORKERS ?= auto
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: setup demo serve test lint typecheck pytest bench lock clean

# uv installs the pinned, hash-checked dependencies in seconds. It is bootstrapped with pip, at
# the version requirements-dev.lock pins. uv does not read pip's configuration, so it is given
# the index pip uses (PIP_INDEX_URL or pip's global.index-url), if pip has one.
$(UV):
	@test -n "$(UV_VERSION)" || { echo "no uv==... pin in $(LOCK)" >&2; exit 1; }
	mkdir -p $(dir $(UV_HOME))
	tmp=$$(mktemp -d $(UV_HOME).XXXXXX) && \
	$(PYTHON) -m pip install --quiet --quiet --disable-pip-version-check --target $$tmp uv==$(UV_VERSION) && \
	{ mv -T $$tmp $(UV_HOME) 2>/dev/null || rm -rf $$tmp; }

$(STAMP): pyproject.toml $(LOCK) setup.py | $(UV)
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(VENV)
	$(UV_ENV) $(UV) pip sync --quiet --python $(BIN)/python --require-hashes $(LOCK)
	$(UV_ENV) $(UV) pip install --quiet --python $(BIN)/python --no-deps --reinstall-package dbsnooze -e .
	touch $(STAMP)

# The UI's browser libraries: from npm, pinned by package-lock.json, copied where the app serves
# them (build_assets.py; every wheel build runs it too).
$(VENDOR_STAMP): package.json package-lock.json build_assets.py $(STAMP)
	$(BIN)/python build_assets.py
	touch $(VENDOR_STAMP)

setup: $(STAMP) $(VENDOR_STAMP)

demo: setup
	$(BIN)/dbsnooze demo

serve: setup
	$(BIN)/dbsnooze serve

lint: setup
	$(BIN)/ruff check src tests $(wildcard bench) *.py
	$(BIN)/ruff format --check src tests $(wildcard bench) *.py

typecheck: setup
	$(BIN)/mypy

# The suite runs on SQLite always, and on PostgreSQL too when one answers on 127.0.0.1:5432;
# in parallel (pytest-xdist), a test file per worker so module fixtures are set up once.
pytest: setup
	@if [ -z "$$DBSNOOZE_TEST_POSTGRES_URL" ] && \
	    $(BIN)/python -c "import socket; socket.create_connection(('127.0.0.1', 5432), 1)" 2>/dev/null; \
	then export DBSNOOZE_TEST_POSTGRES_URL='$(PG_URL)'; fi; \
	echo "PostgreSQL store tests: $${DBSNOOZE_TEST_POSTGRES_URL:-skipped (no server)}"; \
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadfile

test: lint typecheck pytest

bench: setup
	$(BIN)/python -m bench

# Re-pin after changing pyproject.toml ranges: pins already in the lock files are kept, new ones
# resolved; the files name packages, versions and hashes, never an index.
LOCK_FLAGS = --quiet --universal --python-version 3.11 --generate-hashes --custom-compile-command 'make lock'
lock: | $(UV)
	$(UV_ENV) $(UV) pip compile $(LOCK_FLAGS) pyproject.toml --extra dev --extra demo -o $(LOCK)
	$(UV_ENV) $(UV) pip compile $(LOCK_FLAGS) pyproject.toml -c $(LOCK) -o $(RUNTIME_LOCK)
	@! grep -n '://' $(LOCK) $(RUNTIME_LOCK) || { echo "a lock file names a URL" >&2; exit 1; }

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache node_modules $(VENDOR)
