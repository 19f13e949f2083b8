# Two commands for a newcomer: `make run` (the demo) and `make test` (the whole suite).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-slow lint format install demo demo-reset bench bench-install bench-release \
	bench-deadline clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip==25.3"
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev,browser]"
	touch $(STAMP)

install: $(STAMP)

# The Nu HTML checker, for the test that validates every page type's HTML (needs Java).
VNU_VERSION := 26.9.27
VNU := .venv/vnu/node_modules/vnu-jar/build/dist/vnu.jar
$(VNU):
	npm install --silent --no-save --no-audit --no-fund --prefix .venv/vnu vnu-jar@$(VNU_VERSION)

.env:
	printf 'DEBUG=true\n' > .env

# The demo on embedded defaults: SQLite, tasks in process, email files in ./sent-emails.
run: $(STAMP) .env
	$(PY) manage.py migrate --verbosity 0
	$(PY) manage.py setup_demo
	$(PY) manage.py runserver $(HOST):$(PORT)

demo: $(STAMP) .env
	$(PY) manage.py migrate --verbosity 0
	$(PY) manage.py setup_demo

# The demo from scratch: a fresh SQLite database and no sent emails, then served as by
# `make run`. The virtual environment is kept. Refused when DATABASE_URL names another
# database, which this would not reset.
demo-reset:
	@test -z "$(DATABASE_URL)" || { echo "demo-reset resets the SQLite demo: unset DATABASE_URL" >&2; exit 1; }
	rm -rf db.sqlite3 db.sqlite3-journal sent-emails
	$(MAKE) run

# The whole suite. Set DATABASE_URL and REDIS_URL to use PostgreSQL and Redis
# (.ci/run always does); with CI=true a missing service fails the run.
test: $(STAMP) $(VNU)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	DEBUG=true $(PY) manage.py makemigrations --check --dry-run --verbosity 0
	VNU_JAR=$(VNU) $(PY) -m pytest $(PYTEST_ARGS)

# The held-out comparison with a reference suppression method (issue 10): about an hour on
# two cores, so `make test` leaves it out (pytest marker "slow").
test-slow: $(STAMP)
	$(PY) -m pytest -m slow -s $(PYTEST_ARGS)

# Benchmarks (not tests): print figures with their input sizes. Needs PostgreSQL and Redis.
bench: bench-install
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(PY) -m benchmarks.journey
	$(PY) -m benchmarks.journey_load
	$(MAKE) bench-release
	$(MAKE) bench-deadline

# The release build on PostgreSQL at 1x, 100x and 1000x the 353 councils of 2015: creates,
# migrates and fills its own database (BENCH_RELEASE_DATABASE_URL, else survey_bench_release
# on DATABASE_URL's server) the first time, then builds each size BENCH_RELEASE_REPEAT times.
BENCH_RELEASE_SCALES ?= 1,100,1000
BENCH_RELEASE_REPEAT ?= 3
bench-release: $(STAMP)
	$(PY) -m reporting.bench --database --scales $(BENCH_RELEASE_SCALES) --repeat $(BENCH_RELEASE_REPEAT)

bench-install: $(STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[bench]"

# Deadline day: every council of 2015 (about 1,400 people) in one simulated hour, played
# in DEADLINE_MINUTES real minutes, on gunicorn with 2 workers and again with 4, while the
# worker sends reminders and rebuilds a release. DEADLINE_ARGS="--councils 30" for less.
DEADLINE_MINUTES ?= 10
bench-deadline: bench-install
	$(PY) -m benchmarks.deadline_day --minutes $(DEADLINE_MINUTES) $(DEADLINE_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

clean:
	rm -rf $(VENV) db.sqlite3 sent-emails staticfiles
