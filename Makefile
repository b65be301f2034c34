# The two entry points of the README: `make run` and `make test`. Both set up what a fresh machine lacks.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# The first Python >= 3.12 on PATH or in pyenv (the machine's default python3 is 3.11).
PYTHON_FOR_VENV := $(shell for p in python3.13 python3.12 $$HOME/.pyenv/versions/3.13*/bin/python3 $$HOME/.pyenv/versions/3.12*/bin/python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; done)

.PHONY: run serve test check lint format setup browser fonts node bench-setup messages catalogues

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -n "$(PYTHON_FOR_VENV)" || { echo "Python 3.12 or newer is needed (python3.12 or pyenv)."; exit 1; }
	test -x $(PY) || $(PYTHON_FOR_VENV) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed fonts messages

# The translations (locale/*/LC_MESSAGES/django.po, committed) compiled for Django by GNU gettext's msgfmt; the .mo
# files are built here, never committed.
CATALOGUES := $(wildcard locale/*/LC_MESSAGES/*.po)
%.mo: %.po
	@command -v msgfmt >/dev/null 2>&1 || { \
		echo "Installing GNU gettext for the translations…"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; }
	msgfmt --check --output-file=$@ $<

messages: $(CATALOGUES:.po=.mo)

# After changing strings: brings the catalogues up to date with the code (then translate what is new or fuzzy).
catalogues: setup
	$(PY) manage.py makemessages --locale=zh_Hans --no-obsolete

# The PDF delivery sheets use Debian's DejaVu fonts, and Noto Sans CJK for Chinese, Japanese and Korean names.
fonts:
	@test -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf -a -f /usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc || { \
		echo "Installing Debian's DejaVu and Noto CJK fonts for the PDF delivery sheets…"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core fonts-noto-cjk >/dev/null; }

# The browser tests' Chromium, poppler's pdftotext, which reads the PDF sheets back as a PDF viewer does, and nginx
# with openssl for the TLS proxy test (deploy/nginx.conf in front of `make serve`).
browser:
	@command -v chromium >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 && { command -v nginx || test -x /usr/sbin/nginx; } >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1 || { \
		echo "Installing Debian's Chromium, poppler-utils, nginx and openssl for the tests…"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils fonts-dejavu-core nginx-light openssl >/dev/null; }

# The official Node.js SDKs that tests/api/test_node_sdks.py runs against the portal, as pinned in
# tests/node/package-lock.json, installed outside the source tree (var/node: no tool reads them as the project's)
# (their install scripts only fit Node 10 and 12, so none is run).
NODE_DIR := var/node
NODE_SDKS := $(NODE_DIR)/node_modules/.installed
$(NODE_SDKS): tests/node/package.json tests/node/package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
		echo "Installing Debian's Node.js and npm for the Node.js SDK tests…"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
	mkdir -p $(NODE_DIR) && cp tests/node/package.json tests/node/package-lock.json $(NODE_DIR)/
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

node: $(NODE_SDKS)

# The demo's address, on this machine only: `make run DEMO_PORT=8001` serves it on another port (logon links follow).
DEMO_PORT ?= 8000
DEMO_ADDRESS := 127.0.0.1:$(DEMO_PORT)
DEMO_URL := http://$(DEMO_ADDRESS)
DEMO := PORTAL_DEMO=true PORTAL_SELF_SIGN_UP=true PORTAL_BASE_URL=$(DEMO_URL)

run: setup
	@$(DEMO) $(PY) manage.py demo_keyring
	@$(DEMO) $(PY) manage.py migrate --no-input -v0
	@$(DEMO) $(PY) manage.py demo_setup
	@echo "Starting the mail worker (packet emails go to var/mail/) and the portal; Ctrl-C stops both."
	@echo "Serving the demo portal on $(DEMO_URL)/ (sign in at $(DEMO_URL)/signin/)"
	@$(DEMO) $(PY) manage.py run_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(DEMO) $(PY) manage.py runserver $(DEMO_ADDRESS)

# Production on this machine: gunicorn and the background worker(s), with settings from the environment (README).
serve: setup
	@deploy/serve

# What the benchmarks need beyond the tests' packages (moto, beside which benchmarks/signed_api.py measures the API).
bench-setup: setup
	$(PY) -m pip install --quiet -r benchmarks/requirements.txt

test: setup browser node
	DJANGO_ALLOW_ASYNC_UNSAFE=true DB_CONN_MAX_AGE=0 $(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) manage.py makemigrations --check --dry-run --skip-checks -v0

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check: lint test
