# Souk: `make demo` runs the demo market, `make test` runs every check. Both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/souk_test

.PHONY: demo test setup chromium lint lint-js test-sqlite test-postgres

$(BIN)/souk: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

setup: $(BIN)/souk

# Browser tests drive Debian's chromium through Playwright; never a downloaded browser.
# The fonts let printed signs show Arabic and CJK stall names.
chromium:
	@command -v chromium >/dev/null && [ -d /usr/share/fonts/truetype/droid ] || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core fonts-droid-fallback)

demo: setup
	$(BIN)/souk demo

# ESLint and TypeScript (over JSDoc, `// @ts-check` files) check the browser apps; only
# developers need node_modules, the apps themselves have no build step.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --silent

lint-js: node_modules/.package-lock.json
	npx --no-install eslint pwa kiosk
	npx --no-install tsc -p jsconfig.json

lint: setup lint-js
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test-sqlite: setup chromium
	$(BIN)/pytest -q --durations=15

# The PostgreSQL pass runs every test of the server and its data layer again on PostgreSQL; the
# browser tests (the apps driven in Chromium, about a quarter of the time) run once, in the SQLite pass:
# they reach the database only through the same HTTP API the server tests cover on both.
test-postgres: setup chromium
	SOUK_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q --durations=15 --ignore=tests/browser

test: lint test-sqlite test-postgres
