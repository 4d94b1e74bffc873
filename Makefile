# One target per task.  A newcomer needs two: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := wsgi

.PHONY: run test install dev assets translations lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed assets translations

dev: $(VENV)/.dev-installed assets translations

# Compiled catalogs are build output, never committed (see translations/README.md for the workflow).
translations: $(VENV)/.installed
	$(BIN)/pybabel --quiet compile -d translations

# Front-end libraries come from the npm registry, pinned in package.json; nothing third-party is committed.
assets:
	@if [ -f package.json ]; then \
	  if [ ! -d node_modules ] || [ package.json -nt node_modules ] || [ package-lock.json -nt node_modules ]; then \
	    npm ci --no-audit --no-fund --loglevel=error && touch node_modules; \
	  fi; \
	fi

run: install
	$(BIN)/flask helpdesk init
	$(BIN)/flask helpdesk demo
	$(BIN)/flask helpdesk serve --host $(HOST) --port $(PORT) --demo-fakes

test: dev
	$(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: dev
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/email_ingest.py
	$(BIN)/python bench/inbox.py
	$(BIN)/python bench/sla.py
	$(BIN)/python bench/poll.py
	$(BIN)/python bench/backup.py
	$(BIN)/python bench/webhook.py   # needs wrk (apt-get install wrk)

clean:
	rm -rf $(VENV) node_modules instance .pytest_cache .ruff_cache
