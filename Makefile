# kana-server: `make run` and `make test` work on a fresh clone (they create .venv and install what is missing).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 4000
HOST ?= 127.0.0.1
PYTEST_ARGS ?=
BENCH_ARGS ?=
CODE := kana_server tests examples $(wildcard bench)

.PHONY: help install run test test-slow check format lint types schema migration bench screenshot clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,postgres]"
	@touch $(STAMP)

CHROMIUM := /usr/bin/chromium

# Browser tests drive Debian's Chromium through Playwright (no browser download): install it if missing.
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "Chromium is missing and apt-get is not available: install chromium"; exit 1; }
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

install: $(STAMP) ## Create .venv and install kana-server with its development tools

run: $(STAMP) ## Start the server on 127.0.0.1:4000 (SQLite file kana.db, demo data seeded)
	$(BIN)/kana-server serve --host $(HOST) --port $(PORT) --seed demo

check: $(STAMP) ## Format check, lint and type check
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/ruff check $(CODE)
	$(BIN)/mypy
	$(BIN)/mypy examples/flask-app

test: check $(CHROMIUM) ## The test suite (after `make check`); the stress tests are `make test-slow`
	$(BIN)/pytest -m "not slow" $(PYTEST_ARGS)

test-slow: $(STAMP) ## The stress tests: load, crashes, worker processes, fuzzing (bounded; CI runs them)
	$(BIN)/pytest -m slow $(PYTEST_ARGS)

format: $(STAMP) ## Format the code
	$(BIN)/ruff format $(CODE)
	$(BIN)/ruff check --fix $(CODE)

schema: $(STAMP) ## Regenerate schema.graphql and schema.client.graphql from the code
	$(BIN)/kana-server schema --output schema.graphql
	$(BIN)/kana-server schema --client --output schema.client.graphql

migration: $(STAMP) ## Write the next migration from the models: make migration NAME="add snapshots"
	@test -n "$(NAME)" || { echo 'usage: make migration NAME="what it changes"'; exit 2; }
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && url="sqlite+aiosqlite:///$$tmp/head.db" && \
	  $(BIN)/kana-server migrate --database "$$url" >/dev/null && \
	  PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/alembic -c kana_server/store/migrations/alembic.ini \
	    -x url="$$url" revision --autogenerate -m "$(NAME)" \
	    --rev-id "$$($(BIN)/python -c 'from kana_server.store.schema import next_revision; print(next_revision())')"

# The benchmark drives the servers with Debian's wrk: install it if missing (without apt-get, or
# without the rights to use it, `python -m bench` falls back to its asyncio client).
bench: $(STAMP) ## Benchmarks (loopback only) against a raw floor measured in the same run: make bench BENCH_ARGS="--quick"
	@command -v wrk >/dev/null || ! command -v apt-get >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; } || \
	  echo "wrk could not be installed: the asyncio client drives the load instead"
	$(BIN)/python -m bench $(BENCH_ARGS)

screenshot: $(STAMP) $(CHROMIUM) ## Remake docs/inspector.png from a real run (demo seed, headless Chromium)
	$(BIN)/python -m tests.inspector.screenshot

clean: ## Remove the virtualenv and local databases
	rm -rf $(VENV) kana.db kana.db-wal kana.db-shm .mypy_cache .ruff_cache
