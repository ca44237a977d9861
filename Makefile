# ketaclinic — the two commands a newcomer needs:
#   make demo   install (with Debian's Pango for the PDFs), create the embedded SQLite database, load the
#               demo clinic, serve :8000 (with the background jobs' worker beside it)
#   make test   install what the tests need (Python packages, Debian's chromium) and run the suite
#               on SQLite, then again on PostgreSQL when one is reachable (required when CI=true).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/test
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: demo test test-sqlite test-postgres install system-deps pdf-deps lint bench bench-audit clean screenshots mutation

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Debian packages the PDFs need at run time (WeasyPrint lays pages out with Pango) and the font they use.
PDF_DEBS := libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
pdf-deps:
	@if command -v dpkg-query >/dev/null; then \
	  missing=""; \
	  for p in $(PDF_DEBS); do dpkg-query -W -f='$${db:Status-Abbrev}' $$p 2>/dev/null | grep -q '^ii' || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then \
	    echo "Installing Debian packages for the PDFs:$$missing"; \
	    $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	  fi; \
	else echo "Not a Debian system: install Pango >= 1.44 and the DejaVu fonts yourself (the PDFs need them)."; fi

# Debian packages the tests need on top: chromium (browser tests), poppler-utils (PDF text and pages to PNG).
system-deps: pdf-deps
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$$missing fonts-dejavu-core"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

demo: $(STAMP) pdf-deps
	mkdir -p var
	DATABASE_URL= $(BIN)/ketaclinic manage migrate --noinput
	DATABASE_URL= $(BIN)/ketaclinic manage demo_load
	@# beside the server: the audit checkpointer (a signed checkpoint of the audit trail every minute, var/audit-checkpoints.jsonl)
	@# and the background jobs' worker (emails, the daily questionnaire links; docs/jobs.md), logging to var/
	DATABASE_URL= $(BIN)/ketaclinic manage audit_checkpoint --every 60 > var/audit-checkpoint.log 2>&1 & cp=$$!; \
	  DATABASE_URL= $(BIN)/ketaclinic manage jobs_worker > var/jobs-worker.log 2>&1 & jw=$$!; \
	  trap 'kill $$cp $$jw 2>/dev/null' EXIT INT TERM; \
	  DATABASE_URL= $(BIN)/ketaclinic manage runserver --noreload $(HOST):$(PORT)

# The two passes run side by side (each pytest uses one core; the machine has two), each one's output printed
# whole when it ends; the command fails when either fails.
test: $(STAMP) system-deps
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

test-sqlite: $(STAMP)
	@echo "== test suite on SQLite =="
	DATABASE_URL= $(BIN)/pytest $(PYTEST_ARGS)

# Runs when PostgreSQL answers; under CI=true an unreachable PostgreSQL is a failure, never a skip.
# The pure core and the CLI touch no database (tests/core/test_purity.py enforces it), so their tests
# run once, in the SQLite pass; every test that uses the database runs again here.
PG_SKIP_DB_FREE ?= --ignore=tests/core --ignore=tests/cli
test-postgres: $(STAMP)
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_TEST_URL)'.replace('postgres://','postgresql://',1), connect_timeout=3).close()" 2>/dev/null; then \
	  echo "== test suite on PostgreSQL ($(PG_TEST_URL)) =="; \
	  DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest $(PYTEST_ARGS) $(PG_SKIP_DB_FREE); \
	elif [ "$${CI:-}" = "true" ]; then \
	  echo "PostgreSQL at $(PG_TEST_URL) is unreachable and CI=true: failing rather than skipping." >&2; exit 1; \
	else \
	  echo "PostgreSQL at $(PG_TEST_URL) is unreachable: PostgreSQL run SKIPPED (set CI=true to make this fatal)."; \
	fi

# The README tour: browser screenshots at a tablet viewport into docs/img/ (look at them before committing).
screenshots: $(STAMP) system-deps
	DATABASE_URL= KETACLINIC_SCREENSHOTS=docs $(BIN)/pytest -q tests/e2e/test_screenshots.py

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

# Benchmark-only peers (never runtime dependencies): opentiva builds its Cython extension from source.
bench-deps: $(STAMP)
	$(BIN)/pip install --quiet numpy cython setuptools wheel
	$(BIN)/pip install --quiet --no-build-isolation opentiva==1.1.2
	$(BIN)/pip install --quiet PyTCI==1.2.0

bench: $(STAMP) bench-deps
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# 20 staff at once on PostgreSQL behind gunicorn, reads audited or not (benchmarks/audit_load.py).
bench-audit: $(STAMP)
	$(BIN)/python benchmarks/audit_load.py

# Mutation testing of the pure core's safety modules (list: [tool.mutmut] only_mutate in pyproject.toml)
# with tests/core/ only; not part of `make test` or CI. One worker at low priority; prints the share killed.
MUTATION_WORKERS ?= 1
mutation: $(STAMP)
	$(BIN)/pip install --quiet 'mutmut>=3.8,<4'
	rm -rf mutants && mkdir -p var
	env -u PYTHONPATH DATABASE_URL= nice -n 10 $(BIN)/mutmut run --max-children $(MUTATION_WORKERS) > var/mutmut.log 2>&1 || (tail -c 2000 var/mutmut.log; exit 1)
	$(BIN)/python scripts/mutation_report.py

clean:
	rm -rf $(VENV) var .pytest_cache mutants
