# Set-up, run and test the portal. `make run` and `make test` work on a fresh machine.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HTMX := static/vendor/htmx.min.js

.PHONY: setup run test test-fast bench lint clean browser-deps

setup: $(VENV)/.installed $(HTMX)

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# htmx comes from the npm registry at the version pinned in package-lock.json. Without npm
# the portal still works: every page and form is plain HTML.
$(HTMX): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error && \
		mkdir -p static/vendor && cp node_modules/htmx.org/dist/htmx.min.js $(HTMX); \
	else \
		echo "npm not found: htmx is not installed, the portal runs without JavaScript."; \
	fi

run: setup
	PORTAL_ENV=$${PORTAL_ENV:-development} $(BIN)/portal serve

# Debian packages the tests use: chromium and chromium-driver for the browser tests,
# poppler-utils to read factsheet PDFs, and the DejaVu fonts that the PDFs embed.
TEST_PACKAGES := chromium chromium-driver fonts-dejavu-core poppler-utils

# As root the missing packages are installed here; other users are told what to install.
browser-deps:
	@missing=""; \
	for package in $(TEST_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "install ok installed" \
			|| missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
		else \
			echo "missing Debian packages:$$missing (install them with: apt-get install$$missing)"; exit 1; \
		fi; \
	fi

test: setup browser-deps
	$(BIN)/pytest

test-fast: setup
	$(BIN)/pytest -m "not browser and not integration"

bench: setup
	$(BIN)/python -m tests.bench
	$(BIN)/python -m tests.bench_imports

lint: setup
	$(BIN)/ruff check portal jobs tests

clean:
	rm -rf $(VENV) node_modules static/vendor
