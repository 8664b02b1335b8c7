# Atlas PMA — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8501
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-fast install install-test data assets axe chromium nginx lint lock bench bench-solar bench-load bench-territory bench-density bench-signage clean

## make run: install the app in .venv, check geodata/, serve on http://localhost:$(PORT)
# links in PDFs and shared views: the public address when set, else this port on localhost
ATLAS_PUBLIC_URL ?= http://localhost:$(PORT)
run: install data
	ATLAS_PUBLIC_URL=$(ATLAS_PUBLIC_URL) $(BIN)/streamlit run serve.py --server.port $(PORT)

## make test: install test extras, Debian chromium, the Leaflet assets and a throwaway
## PostgreSQL + PostGIS (scripts/postgis.sh), then run the whole suite; the tests build what
## they read (demo store, signage sample) under pytest's temporary folder, never in geodata/
test: install-test chromium nginx assets axe lint
	ATLAS_TEST_POSTGIS_DSN=$$(bash scripts/postgis.sh) $(BIN)/python -m pytest

## make test-fast: the library, CLI and store on GeoPackage — no browser, no PostGIS, no
## AppTest pages, no deliberate waits, no nginx — on both cores: ~80 s on the reference
## machine when quiet (about 30 s of it builds the demo store the tests read), 2–3 min loaded
test-fast: install-test
	$(BIN)/python -m pytest -n 2 -m "not browser and not postgis and not apptest and not slow and not build and not deploy"

# Installs come from uv.lock (exact versions the tests passed with); `make lock` refreshes it.
UV_VERSION := 0.13.9
UV := $(BIN)/uv
SYNC := $(UV) sync --locked --inexact --python $(BIN)/python --extra postgis

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(UV): | $(BIN)/python
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(SYNC)
	touch $@

$(VENV)/.installed-test: pyproject.toml uv.lock | $(UV)
	$(SYNC) --extra test
	touch $@

## make lock: re-resolve every dependency to its newest allowed version (then run make test)
lock: $(UV)
	$(UV) lock --upgrade

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

data: install
	$(BIN)/pma-atlas data prepare

# Leaflet from the npm registry into static/vendor (offline mode and browser tests)
assets: install
	@command -v npm >/dev/null || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq npm; }
	$(BIN)/pma-atlas assets fetch

# axe-core (accessibility rules) for the browser tests, from the npm registry
AXE_VERSION := 4.14.1
AXE := .cache/axe-core-$(AXE_VERSION)/axe.min.js
axe: $(AXE)
$(AXE):
	@command -v npm >/dev/null || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq npm; }
	mkdir -p $(@D)
	cd $(@D) && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null && \
	  tar -xzf axe-core-$(AXE_VERSION).tgz package/axe.min.js && mv package/axe.min.js . && \
	  rm -rf package axe-core-$(AXE_VERSION).tgz

# Debian's chromium for the Playwright tests (no browser download: it comes from apt)
chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-dejavu-core; }

# Debian's nginx for the deployment test (two app processes behind a sticky proxy, deploy/)
nginx:
	@command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nginx-light; }

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install
	$(BIN)/python benchmarks/maps.py
	$(BIN)/python benchmarks/solar.py

# simulated users over Streamlit's websocket: one process, then two behind nginx
bench-load: install-test nginx
	$(BIN)/python benchmarks/load.py --users 1 10 30
	$(BIN)/python benchmarks/load.py --users 1 10 30 --processes 2

# the territory cadastre: a fictional 4 × 4 km in the IGN formats, built with 1 and 2
# processes, map tiles and app memory on two stores, extrapolated to the PMA (~15 min)
bench-territory: install-test data
	$(BIN)/python benchmarks/territory.py --km 4
	$(BIN)/python benchmarks/density.py --runs 3 --workers 2

# what a tile costs by building density, the PMA extrapolated from its tiles' mix, 3 runs
bench-density: install
	$(BIN)/python benchmarks/density.py --runs 3 --workers 2

# the signage page with 10 000 signs against the shipped sample (target: under 2 s)
bench-signage: install-test data
	$(BIN)/python benchmarks/signage_page.py

# the solar benchmark against GRASS GIS r.horizon + r.sun (Debian grass-core)
bench-solar: install
	@command -v grass >/dev/null || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq grass-core; }
	$(BIN)/python benchmarks/solar.py --grass

clean:
	rm -rf $(VENV) static/vendor test-artifacts .pytest_cache .cache
