# cityhealth: `make demo` serves the platform on SQLite; `make test` runs every check.
# Both install what they need into .venv and node_modules first (no other set-up).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
WEB_WORKERS ?= 2
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/cityhealth_ci
PYTEST_WORKERS ?= 2
# A module's tests on one worker: its module-scoped fixtures (a population, a trained matcher,
# a travel-time network) are built once, not once per worker.
PYTEST_DIST ?= loadfile
DEMO_PERSONS ?= 20000
DEMO_RECORD_PERSONS ?= 300
STAMP_PY := $(VENV)/.installed
STAMP_NPM := node_modules/.installed

.PHONY: browser install demo serve test lint typecheck importlint migrations-check test-sqlite test-postgres bench-smoke messages clean

install: $(STAMP_PY) $(STAMP_NPM) messages

$(STAMP_PY): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev,bench]"
	touch $@

$(STAMP_NPM): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian's Chromium for the browser tests (Playwright drives it; it downloads no browser),
# and wrk, the HTTP load generator of the benchmarks.
browser:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@command -v wrk >/dev/null || { \
	  echo "installing Debian's wrk for the benchmarks"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

messages: $(STAMP_PY)
	$(BIN)/cityhealth compile_translations

demo: install
	mkdir -p var
	$(BIN)/cityhealth migrate --no-input
	$(BIN)/cityhealth collectstatic --no-input --verbosity 0
	$(BIN)/cityhealth seed_demo
	$(BIN)/cityhealth synth population --persons $(DEMO_PERSONS) --seed 1 --no-progress \
	  --legacy-out var/legacy-records.csv
	$(BIN)/cityhealth records sync-patients --no-progress
	$(BIN)/cityhealth synth records --seed 1 --persons $(DEMO_RECORD_PERSONS) --trusted --no-progress
	test -f var/matcher.json || $(BIN)/cityhealth train_matcher --records var/legacy-records.csv
	@echo "A hospital system's API client for the shared record (FHIR R4 at http://$(HOST):$(PORT)/fhir/R4/):"
	$(BIN)/cityhealth accounts create-client --name "Demo HIS" --facility BV-XANHPON \
	  --scope "system/*.cruds" --base-url http://$(HOST):$(PORT)
	@echo "Check-in kiosk: http://$(HOST):$(PORT)/reception/kiosk/BV-XANHPON/ (sign in as demo-kiosk);"
	@echo "  its board: http://$(HOST):$(PORT)/reception/board/BV-XANHPON/clinic/; desk: /reception/desk/ (demo-receptionist)"
	@echo "Serving on http://$(HOST):$(PORT)/ (Ctrl-C stops the server and the worker)"
	@trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/cityhealth db_worker --queue-name '*' --no-reload --interval 1 >var/worker.log 2>&1 & worker=$$!; \
	  $(BIN)/python -m cityhealth.serve --host $(HOST) --port $(PORT) \
	    --workers $(WEB_WORKERS) --lifespan off --no-access-log

serve: demo

lint: $(STAMP_PY)
	$(BIN)/ruff check src tests bench conftest.py
	$(BIN)/ruff format --check src tests bench conftest.py

typecheck: $(STAMP_PY)
	$(BIN)/mypy
	$(BIN)/mypy bench

importlint: $(STAMP_PY)
	$(BIN)/lint-imports --no-cache

migrations-check: $(STAMP_PY)
	CITYHEALTH_DATABASE_URL=sqlite:///:memory: $(BIN)/cityhealth makemigrations --check --dry-run

test-sqlite: install browser
	CITYHEALTH_DATABASE_URL=sqlite:///:memory: $(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist $(PYTEST_DIST)

# PostgreSQL: runs when a server answers at PG_TEST_URL; with CITYHEALTH_REQUIRE_POSTGRES=1
# (as in CI) a missing server is a failure, not a skip.
test-postgres: install browser
	@if $(BIN)/python -m cityhealth.tools.pg_available "$(PG_TEST_URL)"; then \
	  echo "pytest on PostgreSQL ($(PG_TEST_URL))"; \
	  CITYHEALTH_DATABASE_URL="$(PG_TEST_URL)" $(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist $(PYTEST_DIST) --create-db; \
	elif [ "$$CITYHEALTH_REQUIRE_POSTGRES" = "1" ]; then \
	  echo "PostgreSQL is required but does not answer at $(PG_TEST_URL)"; exit 1; \
	else \
	  echo "PostgreSQL not reachable at $(PG_TEST_URL): PostgreSQL run skipped (set CITYHEALTH_REQUIRE_POSTGRES=1 to fail instead)"; \
	fi

bench-smoke: install browser
	$(BIN)/python bench/foundation.py --smoke
	$(BIN)/python bench/people_population.py --smoke
	$(BIN)/python bench/people_lookup.py --smoke
	$(BIN)/python bench/people_matching.py --smoke
	$(BIN)/python bench/emergency_routing.py --smoke
	$(BIN)/python bench/emergency_recommend.py --smoke
	$(BIN)/python bench/emergency_simulation.py --smoke
	$(BIN)/python bench/emergency_avl.py --smoke
	$(BIN)/python bench/fhir_ingest.py --smoke
	$(BIN)/python bench/fhir_validation.py --smoke
	$(BIN)/python bench/fhir_export.py --smoke
	$(BIN)/python bench/fhir_http.py --smoke
	$(BIN)/python bench/insurance_gateway.py --smoke
	$(BIN)/python bench/reception_staffing.py --smoke
	$(BIN)/python bench/reception_checkin.py --smoke
	$(BIN)/python bench/reception_kiosk.py --smoke

test: install lint typecheck importlint migrations-check test-sqlite test-postgres bench-smoke

clean:
	rm -rf var .mypy_cache .ruff_cache
