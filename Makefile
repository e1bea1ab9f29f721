# Two commands on a fresh machine: `make run` (the demo on SQLite) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint typecheck unit clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

## Start Taboor with the demo company on ./taboor.db and print a public and a secret key.
run: $(VENV)/.installed
	$(BIN)/taboor demo --host $(HOST) --port $(PORT)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy --strict src/taboor

## The whole suite: lint, types, tests on SQLite, and on PostgreSQL when
## TABOOR_TEST_POSTGRES_URL is set (e.g. postgresql://postgres@127.0.0.1/postgres).
test: lint typecheck
	$(BIN)/pytest

## The performance record (bench/README.md): loads a realistic company into a database
## it creates on the PostgreSQL server of TABOOR_BENCH_DATABASE_URL, measures with wrk
## and pgbench (Debian: apt-get install wrk postgresql-client), and appends the figures to
## bench/RESULTS.md. About 15 minutes; BENCH_ARGS="--seconds 5" for a quick look.
bench: $(VENV)/.installed
	@test -n "$$TABOOR_BENCH_DATABASE_URL" || { echo "make bench: set TABOOR_BENCH_DATABASE_URL to a PostgreSQL server, e.g. postgresql://postgres@127.0.0.1/postgres (a database taboor_bench is created and dropped there)"; exit 2; }
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
