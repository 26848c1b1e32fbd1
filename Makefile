# НМО Portal. `make run` for a working portal on SQLite, `make test` for the suite.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# axe-core for the browser tests' accessibility check, pinned in package-lock.json.
NODE_STAMP := node_modules/.installed
PORT ?= 8000

.PHONY: run test lint fmt messages serve mock install check-deploy clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed (set PYTHON=/path/to/python3.11)"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the browser tests' accessibility check (apt-get install -y nodejs npm)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)

# A working portal on SQLite with demo data and the Ministry mock in-process. LOCAL_WORKER=1 sends tasks to a Celery
# worker (with beat inside it) started here, through message files under .broker/ (kombu's filesystem transport),
# so long work runs in the background with nothing installed; the worker stops when runserver does.
RUN_ENV := DEBUG=1 LOCAL_WORKER=1 SITE_URL=http://127.0.0.1:$(PORT)
run: $(STAMP)
	DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv -v0
	$(RUN_ENV) $(PY) manage.py migrate --no-input
	$(RUN_ENV) $(PY) manage.py seed_demo
	$(RUN_ENV) $(VENV)/bin/celery -A nmo_portal worker --beat --pool=threads --concurrency=2 --loglevel=INFO \
	  --without-gossip --without-mingle --without-heartbeat & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT; trap 'exit 130' INT TERM; \
	$(RUN_ENV) $(PY) manage.py runserver 127.0.0.1:$(PORT)

# The whole suite. Uses DATABASE_URL / REDIS_URL when set, else PostgreSQL and Redis on 127.0.0.1 when they
# answer, else SQLite; the header of the run says which.
test: $(STAMP)
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory $(NODE_STAMP); \
	  else echo "npm not found: the browser tests need axe-core and are skipped (apt-get install -y nodejs npm)"; fi
	DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv -v0
	env $$($(PY) tests/services_env.py) $(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=1 $(VENV)/bin/mypy .

fmt: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Extract translatable strings into locale/ru and compile them.
messages: $(STAMP)
	DEBUG=1 $(PY) manage.py makemessages -l ru --ignore=.venv --ignore=staticfiles --no-obsolete
	DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv

# The production shape on local services: gunicorn + Celery workers (short tasks; long jobs, queue "long") + beat
# against DATABASE_URL and REDIS_URL,
# and the Ministry mock alone on port 8001 (the portal's MINISTRY_API_URL default when the mock is not mounted).
serve: $(STAMP)
	@test -n "$$DATABASE_URL" -a -n "$$REDIS_URL" || { echo "Set DATABASE_URL and REDIS_URL (see README)"; exit 1; }
	@case "$$DEBUG" in 1|true|yes|on) ;; *) test -n "$$SECRET_KEY" -a -n "$$MINISTRY_API_TOKEN" || \
	  { echo "Set SECRET_KEY and MINISTRY_API_TOKEN: DEBUG is off (see README, Production shape)"; exit 1; };; esac
	DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv -v0
	$(PY) manage.py migrate --no-input
	$(PY) manage.py collectstatic --no-input -v0
	trap 'kill 0' INT TERM EXIT; \
	$(VENV)/bin/celery -A nmo_portal worker -Q celery -n short@%h --loglevel=INFO --concurrency=2 & \
	$(VENV)/bin/celery -A nmo_portal worker -Q long -n long@%h --loglevel=INFO --concurrency=2 & \
	$(VENV)/bin/celery -A nmo_portal beat --loglevel=INFO & \
	$(VENV)/bin/gunicorn nmo_portal.wsgi --bind 127.0.0.1:$(PORT) --workers 3 --access-logfile - & \
	ROOT_URLCONF=ministry_mock.urls $(VENV)/bin/gunicorn nmo_portal.wsgi --bind 127.0.0.1:8001 --workers 2 & \
	wait

# The Ministry portal mock alone on its own port, as in docker-compose.
# Uses the same DATABASE_URL as the portal (SQLite by default); point the portal at it with
# MINISTRY_API_URL=http://127.0.0.1:8001 (the default when the mock is not mounted in the portal). With DEBUG=0
# it needs SECRET_KEY and MINISTRY_API_TOKEN, the portal's token: the development one is refused.
mock: $(STAMP)
	DEBUG=$${DEBUG:-1} ROOT_URLCONF=ministry_mock.urls $(VENV)/bin/gunicorn nmo_portal.wsgi --bind 127.0.0.1:8001 --workers 2

check-deploy: $(STAMP)
	DEBUG=0 SECRET_KEY=check-deploy-$$(head -c 32 /dev/urandom | base64) ALLOWED_HOSTS=nmo.example.org \
	  MINISTRY_API_TOKEN=check-deploy-$$(head -c 16 /dev/urandom | base64) \
	  $(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .mypy_cache .ruff_cache
