# Two commands on a fresh machine: `make run` serves the app, `make test` runs the whole suite.
# Both set themselves up (virtual environment in .venv/, Python packages, front-end assets) and modify no tracked file.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
export HOST PORT

.PHONY: run test setup setup-dev catalogs bench clean-venv

run: setup catalogs
	$(BIN)/python -m fossil_registry.serve

test: setup-dev catalogs
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Message catalogs (.po, tracked) compiled to .mo (build products, ignored); only stale ones are rebuilt.
catalogs: setup
	$(BIN)/python -c "from fossil_registry.i18n import compile_catalogs; compile_catalogs()"

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
