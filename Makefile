# PNET Pathways. `make run` serves the app; `make test` runs the whole suite (`make test-fast`: no browser).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1

.PHONY: run test test-fast install lint fmt check chromium graphviz serve bench loadtest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

## install: create .venv and install the pinned requirements
install: $(VENV)/.installed

## run: migrate the SQLite database and serve the app at http://$(HOST):$(PORT) (debug on)
run: install graphviz
	DJANGO_DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DJANGO_DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

## test: the whole suite, browser tests included (installs Debian's chromium and graphviz if missing)
test: install chromium graphviz
	$(BIN)/python -m pytest

## test-fast: the suite without the browser tests (no Chromium needed)
test-fast: install graphviz
	$(BIN)/python -m pytest -m "not e2e"

## serve: production server: nginx on $(HOST):$(PORT) buffering for gunicorn on a unix socket (deploy/); needs DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS
serve: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --clear -v 0
	HOST=$(HOST) PORT=$(PORT) $(BIN)/python deploy/serve.py

## loadtest: simulated clinicians walking the pathway against gunicorn (CLINICIANS, DURATION, DATABASE_URL)
CLINICIANS ?= 50
DURATION ?= 60
THINK ?= 1
P95_BUDGET_MS ?= 300
WARMUP ?= 5
loadtest: install
	$(BIN)/python -m loadtest --serve --clinicians $(CLINICIANS) --duration $(DURATION) --think $(THINK) --p95-budget-ms $(P95_BUDGET_MS) --warmup $(WARMUP)

## bench: wizard step vs a bare view on gunicorn, queries, engine at 10,000 nodes, page weight (docs/benchmarks.md)
BENCH_ARGS ?=
bench: install
	$(BIN)/python -m bench.run $(BENCH_ARGS)

## chromium: make sure /usr/bin/chromium exists for the browser tests
chromium:
	@scripts/ensure-chromium.sh

## graphviz: make sure Graphviz's dot exists (it lays out the flowchart)
graphviz:
	@scripts/ensure-graphviz.sh

## lint: ruff checks, format check and mypy (settings read in debug mode: no secret key needed)
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_DEBUG=1 $(BIN)/mypy

## fmt: format and fix with ruff
fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## check: Django system checks and missing migrations
check: install
	DJANGO_DEBUG=1 $(BIN)/python manage.py check
	DJANGO_DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) staticfiles run .pytest_cache .ruff_cache .mypy_cache .hypothesis test-artifacts
