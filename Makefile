# Two commands on a fresh machine: `make run` serves the app, `make test` runs the whole suite.
# Both set themselves up (virtual environment in .venv/, Python packages, front-end assets) and modify no tracked file.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
# WORKERS=4: four app processes (gunicorn), for the PostGIS backend (FLASK_DATABASE_URL; see docs/scale-out.md)
WORKERS ?= 1
export HOST PORT WORKERS

.PHONY: run test setup setup-dev catalogs assets bench clean-venv

run: setup catalogs assets
	$(BIN)/python -m fossil_registry.serve

test: setup-dev catalogs assets
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Message catalogs (.po, tracked) compiled to .mo (build products, ignored); only stale ones are rebuilt.
catalogs: setup
	$(BIN)/python -c "from fossil_registry.i18n import compile_catalogs; compile_catalogs()"

# Front-end assets (Leaflet and its plugins, Apache ECharts) from the npm registry, pinned by package-lock.json, copied into
# static/vendor/<package>/ (ignored, never committed): the app serves every script, stylesheet and icon itself, so the
# maps work with no internet. The paths other code may use are listed in docs/public-map.md.
VENDOR_PACKAGES := leaflet leaflet.markercluster leaflet.locatecontrol leaflet-draw jquery echarts

assets: static/vendor/.installed

static/vendor/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	rm -rf static/vendor
	for p in $(VENDOR_PACKAGES); do \
	  mkdir -p static/vendor/$$p && cp -R node_modules/$$p/dist/. static/vendor/$$p/ && \
	  find node_modules/$$p -maxdepth 1 -iname 'licen[cs]e*' -exec cp {} static/vendor/$$p/ \; ; \
	done
	touch $@

bench: setup-dev
	$(BIN)/python bench/bench_update.py

setup: $(VENV)/.installed-run
setup-dev: $(VENV)/.installed-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install when pyproject.toml changes. gdal-utils (GDAL's GeoPackage validator, pure Python) is installed without its
# GDAL binding, which does not build here; the validator does not need it.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m pip install --quiet --no-deps gdal-utils
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed-run
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

clean-venv:
	rm -rf $(VENV)
