# ProloTrack: `make run` for a working clinic with demo data, `make test` for the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install run test lint migrate seed

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when a requirements file changes.
$(VENV)/.installed: $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

install: $(VENV)/.installed node_modules/.package-lock.json

migrate: install
	DEBUG=1 $(BIN)/python manage.py migrate --noinput

seed: migrate
	DEBUG=1 $(BIN)/python manage.py seed_demo

# The web server, the worker that sends e-mails (printed in this terminal) and the minute's queueing of
# due messages, stopped together by Ctrl+C (bin/run-dev).
run: seed
	@echo "ProloTrack on http://127.0.0.1:$(PORT)/  (demo logins in README.md)"
	DEBUG=1 PORT=$(PORT) PY=$(BIN)/python bin/run-dev

test: install
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
		echo "NOTE: Chromium is not installed: the browser journeys in tests/browser will be SKIPPED."
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# --- Security: backups and checks (README "Security") ---------------------------------------------------
.PHONY: backup restore audit deploy-check

# A timestamped copy of the database in backups/ (pg_dump for PostgreSQL, SQLite's online backup otherwise).
backup: install
	$(BIN)/python manage.py backup_db

# Put a backup back, replacing the current data: make restore FILE=backups/prolotrack-....dump
restore: install
	@test -n "$(FILE)" || { echo "Usage: make restore FILE=backups/<backup file>"; exit 2; }
	$(BIN)/python manage.py restore_db "$(FILE)"

# Known-vulnerable pins (pip-audit) and high-severity findings in our code (bandit).
AUDITED_CODE := $(wildcard clinic patients courses scheduling outcomes api)
audit: install
	$(BIN)/python bin/audit-dependencies
	$(BIN)/bandit --quiet --recursive $(AUDITED_CODE) --severity-level high --exclude '*/migrations/*'

# Django's production checklist with the production environment the README documents.
deploy-check: install
	DEBUG=0 ALLOWED_HOSTS=prolo.example.org CSRF_TRUSTED_ORIGINS=https://prolo.example.org BEHIND_PROXY=1 \
	SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

# --- Performance (docs/performance.md) -------------------------------------------------------------------
.PHONY: bench

# Load benchmark against DATABASE_URL (PostgreSQL for published figures; the database is created when
# missing): seeds `seed_demo --scale 20000`
# when missing, serves with gunicorn (2 workers) and drives every page with locust; writes
# bench/results/latest.json and prints the table. BENCH_SECONDS (per page, default 20), BENCH_PORT.
bench: install node_modules/.package-lock.json
	$(BIN)/python bench/run.py
