# The one entry point for people and CI. `make run` and `make test` work on a fresh
# Linux machine with Python 3.11+ and make: everything else is installed here.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
BENCH_ARGS ?=

export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: help install dev run migrate test test-fast lint format typecheck bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# uv lives in its own small venv so that syncing the project venv never removes it.
$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

install: $(UV)  ## create .venv with the locked runtime dependencies
	$(UV) sync --frozen --no-dev --inexact --python "$(PYTHON)"

dev: $(UV)  ## create .venv with the locked runtime and development dependencies
	$(UV) sync --frozen --python "$(PYTHON)"

migrate: install  ## apply migrations to the configured database (SQLite under ./data by default)
	$(BIN)/taskapi migrate

run: install  ## migrate an SQLite database and serve on http://127.0.0.1:8000
	$(BIN)/taskapi serve --host $(HOST) --port $(PORT)

lint: dev  ## ruff (lint and format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: dev  ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint  ## lint, then every test on SQLite and PostgreSQL
	$(BIN)/pytest -n auto --dist loadfile

test-fast: dev  ## the tests without linting
	$(BIN)/pytest -x -q

bench: dev  ## load benchmark with wrk, appended to docs/performance.md (BENCH_ARGS="--db sqlite --small ...")
	@command -v wrk >/dev/null 2>&1 || (apt-get update && apt-get install -y wrk)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:  ## remove the virtual environments and caches (keeps ./data)
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
