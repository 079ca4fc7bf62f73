# AidTrack: `make run` serves the demo on the embedded default, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1:8000

.PHONY: venv run test lint format worker beat migrate demo messages bench clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

venv: $(VENV)/.installed

messages: venv
	@if command -v msgfmt >/dev/null; then $(PY) manage.py compilemessages --ignore=.venv -v 0; \
	else echo "gettext (msgfmt) not installed: using the compiled translations as committed"; fi

migrate: venv
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

run: demo
	$(PY) manage.py runserver $(HOST)

# The suite in as many processes as the machine has cores (pytest-xdist; each has its own test
# database); TEST_WORKERS=0 runs it in this process.
test: venv
	$(PY) -m pytest -n $(or $(TEST_WORKERS),auto) $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

worker: venv
	$(VENV)/bin/celery -A aidtrack worker --loglevel=INFO --concurrency=2

beat: venv
	$(VENV)/bin/celery -A aidtrack beat --loglevel=INFO

# The totals benchmark on PostgreSQL (DATABASE_URL; REDIS_URL for the worker latency). LINES=1000000 by default.
bench: venv
	@test -n "$(DATABASE_URL)" || (echo "make bench needs DATABASE_URL (PostgreSQL); see README" && exit 2)
	$(PY) manage.py bench_totals --lines $(or $(LINES),1000000)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles
