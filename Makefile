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

.PHONY: demo serve bench-load bench-deps test test-sqlite test-postgres install system-deps pdf-deps lint bench bench-audit clean screenshots mutation

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
	DATABASE_URL= $(BIN)/ketaclinic manage demo_load --address http://$(HOST):$(PORT)
	@# beside the server: the audit checkpointer (a signed checkpoint of the audit trail every minute, var/audit-checkpoints.jsonl)
	@# and the background jobs' worker (emails, the daily questionnaire links; docs/jobs.md), logging to var/
	DATABASE_URL= $(BIN)/ketaclinic manage audit_checkpoint --every 60 > var/audit-checkpoint.log 2>&1 & cp=$$!; \
	  DATABASE_URL= $(BIN)/ketaclinic manage jobs_worker > var/jobs-worker.log 2>&1 & jw=$$!; \
	  trap 'kill $$cp $$jw 2>/dev/null' EXIT INT TERM; \
	  DATABASE_URL= $(BIN)/ketaclinic manage runserver --noreload $(HOST):$(PORT)

# The production server on PostgreSQL (docs/production.md): migrate, load the shipped protocols, then gunicorn
# (`ketaclinic serve`: static files collected, workers from the cores) beside the audit checkpointer and the
# background jobs' worker.
# DATABASE_URL must name PostgreSQL. Secrets come from the environment; those unset are made once and kept in
# var/production.env (mode 600; the audit key must never change: keep that file, or set them yourself).
PROD_ENV = set -a && . var/production.env && set +a && export DJANGO_SETTINGS_MODULE=ketaclinic.web.settings.production \
  KETACLINIC_REDIS_URL=$${KETACLINIC_REDIS_URL:-redis://127.0.0.1:6379/0} &&
serve: $(STAMP) pdf-deps
	@case "$${DATABASE_URL:-}" in postgres*) ;; *) echo "make serve runs on PostgreSQL: set DATABASE_URL=postgres://user@host:5432/name" >&2; exit 2;; esac
	@mkdir -p var && [ -f var/production.env ] || (umask 077 && for k in DJANGO_SECRET_KEY KETACLINIC_AUDIT_KEY; do \
	  echo "$$k=\$${$$k:-$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(48))')}"; done > var/production.env)
	$(PROD_ENV) $(BIN)/ketaclinic manage migrate --noinput
	$(PROD_ENV) $(BIN)/ketaclinic manage protocol_load --shipped
	@# beside the server, stopping with it: the audit checkpointer and the background jobs' worker (docs/jobs.md)
	$(PROD_ENV) { $(BIN)/ketaclinic manage audit_checkpoint --every 60 >> var/audit-checkpoint.log 2>&1 & cp=$$!; \
	  $(BIN)/ketaclinic manage jobs_worker >> var/jobs-worker.log 2>&1 & jw=$$!; \
	  trap 'kill $$cp $$jw 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/ketaclinic serve --host $(HOST) --port $(PORT); }

# The two passes run side by side (each pytest uses one core; the machine has two), each one's output printed
# whole when it ends; the command fails when either fails. Every test runs in both passes except the pure
# core's and the CLI's (no database: SQLite pass only) and the browser tests, which are shared out by module
# (KETACLINIC_E2E_PASS; the list is E2E_ON_POSTGRES in tests/conftest.py): each browser flow runs once, so
# the slower PostgreSQL pass does not wait on all of them twice.
test: $(STAMP) system-deps
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

test-sqlite: $(STAMP)
	@echo "== test suite on SQLite =="
	KETACLINIC_E2E_PASS=sqlite DATABASE_URL= $(BIN)/pytest $(PYTEST_ARGS)

# Runs when PostgreSQL answers; under CI=true an unreachable PostgreSQL is a failure, never a skip.
# The pure core and the CLI touch no database (tests/core/test_purity.py enforces it), so their tests
# run once, in the SQLite pass; every test that uses the database runs again here.
PG_SKIP_DB_FREE ?= --ignore=tests/core --ignore=tests/cli
test-postgres: $(STAMP)
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_TEST_URL)'.replace('postgres://','postgresql://',1), connect_timeout=3).close()" 2>/dev/null; then \
	  echo "== test suite on PostgreSQL ($(PG_TEST_URL)) =="; \
	  KETACLINIC_E2E_PASS=postgres DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest $(PYTEST_ARGS) $(PG_SKIP_DB_FREE); \
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
	$(BIN)/pip install --quiet numpy cython setuptools wheel 'locust>=2.37,<3'
	$(BIN)/pip install --quiet --no-build-isolation opentiva==1.1.2
	$(BIN)/pip install --quiet PyTCI==1.2.0

bench: $(STAMP) bench-deps
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# 20 staff at once on PostgreSQL behind gunicorn, reads audited or not (benchmarks/audit_load.py).
bench-audit: $(STAMP)
	$(BIN)/python benchmarks/audit_load.py

# A clinic's day against the production server on PostgreSQL (benchmarks/load.py; its own database).
LOAD_ARGS ?=
bench-load: $(STAMP) bench-deps
	$(BIN)/python benchmarks/load.py $(LOAD_ARGS)

# Mutation testing of the pure core's safety modules (list: [tool.mutmut] only_mutate in pyproject.toml)
# with tests/core/ only; not part of `make test` or CI. One worker at low priority; prints the share killed.
MUTATION_WORKERS ?= 2
mutation: $(STAMP)
	$(BIN)/pip install --quiet 'mutmut>=3.8,<4'
	rm -rf mutants && mkdir -p var
	env -u PYTHONPATH DATABASE_URL= nice -n 10 $(BIN)/mutmut run --max-children $(MUTATION_WORKERS) > var/mutmut.log 2>&1 || (tail -c 2000 var/mutmut.log; exit 1)
	$(BIN)/python scripts/mutation_report.py

clean:
	rm -rf $(VENV) var .pytest_cache mutants
