# Cluster Atlas: two front doors.
#   make demo   set everything up and run the demo analysis
#   make test   set everything up and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: all install static system demo test lint bench clean

all: install

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) static

# Front-end assets of the web pages, from npm (package.json, pinned in package-lock.json), never
# from a CDN and never committed: `npm ci` when node_modules is older than the lock file, then
# htmx and ECharts are copied to where the app serves them (/static/vendor/).
NPM_STAMP := node_modules/.clusteratlas-installed
HTMX      := src/clusteratlas/web/static/vendor/htmx.min.js
ECHARTS   := src/clusteratlas/web/static/vendor/echarts.min.js
# MapLibre GL 6 ships ES modules only: the main module loads its worker module from beside it
MAPLIBRE  := src/clusteratlas/web/static/vendor/maplibre-gl.mjs \
             src/clusteratlas/web/static/vendor/maplibre-gl-worker.mjs \
             src/clusteratlas/web/static/vendor/maplibre-gl.css
# US states and counties (TopoJSON, us-atlas, ISC), read by `clusteratlas load-geometry --us-atlas`
US_ATLAS  := src/clusteratlas/web/static/vendor/us-atlas/states-10m.json \
             src/clusteratlas/web/static/vendor/us-atlas/counties-10m.json

static: $(HTMX) $(ECHARTS) $(MAPLIBRE) $(US_ATLAS)

$(NPM_STAMP): package.json package-lock.json
	@if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
	  echo "error: Node.js and npm are needed to install the web assets (htmx) from npm;" >&2; \
	  echo "       install them (Debian: apt-get install nodejs npm), then run make again" >&2; \
	  exit 1; \
	fi
	npm ci --no-audit --no-fund
	touch $@

$(HTMX): $(NPM_STAMP)
	mkdir -p $(dir $@)
	cp node_modules/htmx.org/dist/htmx.min.js $@

$(ECHARTS): $(NPM_STAMP)
	mkdir -p $(dir $@)
	cp node_modules/echarts/dist/echarts.min.js $@

$(MAPLIBRE): $(NPM_STAMP)
	mkdir -p $(dir $@)
	cp node_modules/maplibre-gl/dist/$(notdir $@) $@

$(US_ATLAS): $(NPM_STAMP)
	mkdir -p $(dir $@)
	cp node_modules/us-atlas/$(notdir $@) $@

# System packages the tests need: a PostgreSQL server for the collaboration tests (Debian's
# `postgresql`), installed only when initdb is missing and we are root with apt-get; otherwise
# nothing happens and those tests are skipped with a message. Likewise Debian's `chromium`
# (/usr/bin/chromium) for the browser tests in tests/e2e (Playwright never downloads one), and
# Debian's `openjdk-17-jre-headless` for the Spark tests of `aggregate` (pyspark 4 needs Java 17).
system:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1 \
	    && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing PostgreSQL (Debian package postgresql) for the database tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	fi
	@if ! command -v npm >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Node.js and npm (Debian packages) for the front-end assets"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
	fi
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Chromium (Debian package chromium) for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi
	@if ! command -v java >/dev/null 2>&1 && [ -z "$$JAVA_HOME" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Java 17 (Debian package openjdk-17-jre-headless) for the Spark tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; \
	fi

# The demo also migrates an SQLite file, seeds clearly-labelled DEMO organisations, posts and
# users into it, loads two synthetic datasets into the observatory store beside it
# (demo-output/observatory/: EU NUTS-2, whose map needs `clusteratlas fetch nuts-geometry`, and
# US states with the bundled us-atlas shapes) and serves the app until Ctrl+C (outgoing mail off). `make demo DEMO_SERVE=0`
# stops after seeding; DEMO_PORT picks the port. `make test` never runs this target.
DEMO_PORT  ?= 8000
DEMO_SERVE ?= 1
DEMO_ENV   := CLUSTERATLAS_DATABASE_URL='sqlite:///$(CURDIR)/demo-output/clusteratlas.db' \
              CLUSTERATLAS_MAIL_ENABLED=false CLUSTERATLAS_ENVIRONMENT=development

demo: system install
	$(BIN)/clusteratlas demo --out demo-output
	$(DEMO_ENV) $(BIN)/clusteratlas db upgrade
	$(DEMO_ENV) $(BIN)/clusteratlas seed-demo
	$(DEMO_ENV) $(BIN)/clusteratlas load demo-output/panel.csv \
	  --definitions demo-output/definitions.csv --region-names demo-output/region-names.csv \
	  --name eu-demo --title "EU NUTS-2 demo (synthetic)"
	$(DEMO_ENV) $(BIN)/clusteratlas load demo-output/us-states-panel.csv \
	  --definitions demo-output/definitions.csv --region-names demo-output/us-states-names.csv \
	  --name us-states-demo --title "US states demo (synthetic)"
	$(DEMO_ENV) $(BIN)/clusteratlas load-geometry --us-atlas states
	@if [ "$(DEMO_SERVE)" = 1 ]; then \
	  echo "serving the demo on http://127.0.0.1:$(DEMO_PORT)/ (log-ins above); Ctrl+C stops it"; \
	  $(DEMO_ENV) $(BIN)/clusteratlas serve --port $(DEMO_PORT); \
	fi

test: system install lint
	$(BIN)/python -m pytest -n 2 -q

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench: install
	$(BIN)/python benchmarks/observatory.py

clean:
	rm -rf $(VENV) demo-output test-artifacts .pytest_cache node_modules src/clusteratlas/web/static/vendor
