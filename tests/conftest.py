"""Each test gets real GeoPackage files in its own temporary directory; no storage is mocked.

Two backends: modules (or tests) marked ``both_backends`` run once on the GeoPackage and once on PostgreSQL/PostGIS
(a throwaway cluster started for the run, tests/pg_cluster.py; each test gets its own database). Their fixtures
``registry_file`` (the registry's location: a path, or a postgresql:// URL), ``conn``, ``demo_location`` and ``app``
follow the ``backend`` parameter; every other test uses the GeoPackage."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from shapely.geometry import MultiPolygon, Point, box

from fossil_registry import create_app, sites, store
from fossil_registry.i18n import compile_catalogs
from fossil_registry.registry import init_registry, registry_path

compile_catalogs()  # make does this too; here so that a bare `pytest` run also has the translations


def square(lon: float, lat: float, half: float = 0.005) -> MultiPolygon:
    return MultiPolygon([box(lon - half, lat - half, lon + half, lat + half)])


def make_site(conn, *, code: str | None = None, lon: float = 105.5, lat: float = 25.9, boundary: bool = True,
              sensitivity: str = "open", level: str = "provincial", name: str = "测试化石点", **props) -> sites.Site:
    properties = {"name": name, "name_en": "Test site", "level": level, "sensitivity": sensitivity,
                  "period": "Triassic", "fossil_groups": ["crinoids"], **props}
    change = sites.create_site(conn, properties=properties, location=Point(lon, lat),
                               boundary=square(lon, lat) if boundary else None, author="tester",
                               reason="test fixture", code=code)
    return change.site


BACKENDS = ("gpkg", "postgis")


# Test tiers: the slow ones are marked here, from what a test uses, so that no module has to remember it; `make check`
# runs everything else (`-m "not slow"`), `make test` runs all of them (CI).
TIERS = {
    "postgres": "runs on PostgreSQL/PostGIS (a throwaway cluster)",
    "browser": "drives headless Chromium",
    "evidence": "an evidence suite: a served app, real GIS clients, crashes, backups, several processes",
    "fuzz": "generated requests from the OpenAPI document (schemathesis)",
    "qgis": "opens files in real QGIS (Debian's qgis and python3-qgis, headless, through /usr/bin/python3)",
}
# the evidence suites of docs/evidence.md and README's reliability table that are test modules (the others are bench/)
EVIDENCE_MODULES = {"test_crash", "test_backup_restore", "test_scale_out", "test_ogcapi_clients", "test_lock",
                    "test_hostile_input", "test_hostile_requests", "test_untrusted_files"}
EVIDENCE_FIXTURES = {"served_registry", "served_small"}


def pytest_configure(config):
    config.addinivalue_line("markers", "both_backends: run on the GeoPackage and on the PostGIS backend")
    config.addinivalue_line("markers", "slow: any of the slow tiers (left out of `make check`)")
    for name, what in TIERS.items():
        config.addinivalue_line("markers", f"{name}: {what}")


def tiers_of(item) -> set[str]:
    """The slow tiers a collected test belongs to."""
    module = item.module.__name__.rsplit(".", 1)[-1]
    fixtures = set(getattr(item, "fixturenames", ()))
    params = getattr(getattr(item, "callspec", None), "params", {})
    found = set()
    if params.get("backend") == "postgis" or fixtures & {"pg_cluster", "pg_empty_registry", "pg_demo_registry"}:
        found.add("postgres")
    if module.endswith("_browser"):
        found.add("browser")
    if module in EVIDENCE_MODULES or fixtures & EVIDENCE_FIXTURES:
        found.add("evidence")
    if module == "test_openapi_fuzz":
        found.add("fuzz")
    if module.endswith("_qgis"):
        found.add("qgis")
    return found


# The tiers whose modules hold few but long tests (a served app, several processes, a browser, QGIS, the fuzzer).
LONG_TIERS = {"evidence", "fuzz", "browser", "qgis"}
# Seconds each module took in one `make test` (2 workers, 2026-12-07, a busy machine: what matters is their order),
# for the modules over 20 s. These are handed out first, longest first, then the others by their number of tests:
# ordered by their number of tests alone, the leak sweep (6 tests, 55 s) and the fuzzer (4 tests, the longest) were
# handed out late and ran alone at the end.
MODULE_SECONDS = {
    "test_openapi_fuzz.py": 243, "test_untrusted_files.py": 237, "test_hostile_requests.py": 109, "test_auth.py": 91,
    "test_scale_out.py": 80, "test_hostile_input.py": 70, "test_revisions.py": 68,
    "test_accessibility_browser.py": 64, "test_offline_browser.py": 61, "test_public_leaks.py": 55,
    "test_import.py": 47, "test_downloads.py": 47, "test_supervision.py": 46, "test_fieldkit.py": 43,
    "test_backup_restore.py": 34, "test_sections.py": 31, "test_fieldkit_area_browser.py": 29,
    "test_store_backends.py": 28, "test_ogcapi_clients.py": 27, "test_crash.py": 27, "test_read_model.py": 24,
    "test_ogcapi.py": 22, "test_impact_browser.py": 21,
}


def pytest_collection_modifyitems(config, items):
    long_modules: set[str] = set()
    for item in items:
        tiers = tiers_of(item)
        for tier in tiers:
            item.add_marker(tier)
        if tiers:
            item.add_marker("slow")
        if tiers & LONG_TIERS:
            long_modules.add(item.nodeid.split("::", 1)[0])
    _longest_first(items, long_modules)


def _longest_first(items, long_modules: set[str]) -> None:
    """Order the modules so that the long ones start first: `make test` hands whole modules to its workers in this
    order (--dist loadfile --no-loadscope-reorder), and a long module handed out last keeps one worker busy while the
    other waits. The measured modules (MODULE_SECONDS) come first, longest first; then those of the long tiers not
    measured yet; then the others by their number of tests. Each module's tests keep their order."""
    counts: dict[str, int] = {}
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        counts[module] = counts.get(module, 0) + 1
    seconds = {m: MODULE_SECONDS.get(m.removeprefix("tests/")) for m in counts}
    rank = {m: (seconds[m] is None, -(seconds[m] or 0), m not in long_modules, -n, m) for m, n in counts.items()}
    items.sort(key=lambda item: rank[item.nodeid.split("::", 1)[0]])


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_backends"):
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request) -> str:
    """The backend of this test: "gpkg" unless the test is marked both_backends (then each in turn)."""
    return getattr(request, "param", "gpkg")


@pytest.fixture(scope="session")
def pg_cluster():
    from fossil_registry.store import pg

    from .pg_cluster import Cluster

    cluster = Cluster.create()
    yield cluster
    pg.close_pools()
    cluster.remove()


@pytest.fixture(scope="session")
def pg_empty_registry(pg_cluster) -> str:
    url = pg_cluster.new_database()
    store.create_registry(url)
    pg_cluster.make_resettable(url)
    return url


@pytest.fixture(scope="session")
def empty_registry_template(tmp_path_factory) -> Path:
    """An empty GeoPackage registry, created once per run (store.create_registry: ~0.1 s of CPU, the schema, its
    triggers and R-trees, every migration) and copied per test (1 ms): the copy is the same file, byte for byte, except
    that its catalogue's creation times are the run's start. Tests of creating a registry call create_registry
    themselves."""
    path = tmp_path_factory.mktemp("empty") / "registry.gpkg"
    store.create_registry(path)
    return path


@pytest.fixture
def data_dir(tmp_path) -> Path:
    """The data directory of ``registry_file`` (session key, photo and attachment files), on either backend."""
    return tmp_path / "data"


@pytest.fixture
def registry_file(tmp_path, backend, request):
    """An empty registry: a GeoPackage path, or (PostGIS) the URL of a database of its own."""
    if backend == "postgis":
        url = request.getfixturevalue("pg_cluster").reset(request.getfixturevalue("pg_empty_registry"))
        yield url
        store.pg.close_pool(url)
        return
    path = registry_path(tmp_path / "data")
    path.parent.mkdir(parents=True)
    shutil.copy(request.getfixturevalue("empty_registry_template"), path)
    yield path


@pytest.fixture
def conn(registry_file):
    c = store.connect(registry_file)
    yield c
    c.close()


# Accounts present in every copy of the demo registry: role -> (username, password); tokens are filled in at build time.
ACCOUNTS = {"field": ("fiona", "field-pass-0001"), "field2": ("farid", "field-pass-0002"),
            "expert": ("ellen", "expert-pass-001"), "expert2": ("enzo", "expert-pass-002"),
            "admin": ("ada", "admin-pass-0001")}
TOKENS: dict[str, str] = {}
TEST_HASH = "pbkdf2:sha256:1000"  # the test accounts' password hash (demo_registry_template)


def _cheap_dummy_hash() -> None:
    """An unknown user name is checked against auth's dummy hash, so that it takes as long as a wrong password: in the
    tests, as long as the test accounts' cheap hash. With the app's scrypt, a sign-in as an unknown user took 0.13 s of
    CPU, over 1 s on a loaded machine, and the back-off tests (1 s after the free failures) saw their wait run out."""
    from werkzeug.security import generate_password_hash

    from fossil_registry import auth

    auth._DUMMY_HASH = generate_password_hash("not-a-real-password", method=TEST_HASH)
    # and every account the tests make (demo accounts of seeded registries, accounts of the tests' own) is stored with
    # it: scrypt's 0.13 s per account was ~3 % of the suite's CPU (test_auth checks that the app stores scrypt)
    auth.PASSWORD_HASH_METHOD = TEST_HASH


_cheap_dummy_hash()


def _routing_builders_made_once() -> None:
    """Werkzeug compiles two URL builders (Python source through ast and compile()) for every route of every app; the
    suite makes over a thousand apps of the same 171 routes, and this was the largest part of create_app. Here a
    builder is compiled once per distinct rule and reused: the generated function depends only on the rule, its parsed
    trace and defaults (it reads the rule's own converters through its ``self`` argument at call time). Test set-up
    only: production makes one app per process."""
    from werkzeug.routing.rules import Rule

    made: dict = {}
    compile_builder = Rule._compile_builder

    def cached(self, append_unknown: bool = True):
        defaults = self.defaults or {}
        try:
            key = (self.rule, self.merge_slashes, tuple(self._trace), append_unknown,
                   tuple(sorted((k, repr(v), type(self._converters.get(k)).__name__) for k, v in defaults.items())))
            hash(key)
        except TypeError:
            return compile_builder(self, append_unknown)
        if key not in made:
            made[key] = compile_builder(self, append_unknown)
        return made[key]

    Rule._compile_builder = cached


_routing_builders_made_once()


Rule_parse_rule_of_werkzeug = Rule_get_converter_of_werkzeug = None  # werkzeug's own, kept by _rules_parsed_once


def _rules_parsed_once() -> None:
    """The other half of building an app's URL map: werkzeug parses every rule's text into its regular-expression
    parts (and its converters, trace and arguments) for every app. Here the parse of a rule text is recorded once and
    replayed for the same text in every later map with the same converter classes: the parts (frozen values), the
    trace and the arguments as recorded, and converters made anew for the rule (the map's own instances). Test set-up
    only, like the builder cache above."""
    from werkzeug.routing.rules import Rule, parse_converter_args

    global Rule_parse_rule_of_werkzeug, Rule_get_converter_of_werkzeug
    made: dict = {}
    parse = Rule_parse_rule_of_werkzeug = Rule._parse_rule

    converters_of: dict = {}  # id(map) -> (map, its converters, their key): worked out again if they change

    def converters_key(url_map) -> tuple:
        kept = converters_of.get(id(url_map))
        if kept is None or kept[0] is not url_map or kept[1] != url_map.converters:
            kept = converters_of[id(url_map)] = (url_map, dict(url_map.converters),
                                                 tuple(sorted((name, id(cls)) for name, cls in url_map.converters.items())))
            if len(converters_of) > 64:  # the apps of earlier tests
                converters_of.pop(next(iter(converters_of)))
        return kept[2]

    def replayed(self, rule: str):
        key = (rule, converters_key(self.map))
        if key not in made:
            trace_before, converters_before = len(self._trace), set(self._converters)
            parts = list(parse(self, rule))
            made[key] = (parts, self._trace[trace_before:],
                         [(name, self._converter_specs[name]) for name in self._converters
                          if name not in converters_before])
            return parts
        parts, trace, converters = made[key]
        self._trace.extend(trace)
        for name, (converter, arguments) in converters:
            args, kwargs = parse_converter_args(arguments)
            self._converters[name] = self.get_converter(name, converter, args, kwargs)
            self.arguments.add(name)
        return parts

    get_converter = Rule_get_converter_of_werkzeug = Rule.get_converter

    def recorded_get_converter(self, variable_name, converter_name, args, kwargs):
        specs = self.__dict__.setdefault("_converter_specs", {})
        specs[variable_name] = (converter_name, _converter_arguments(args, kwargs))
        return get_converter(self, variable_name, converter_name, args, kwargs)

    Rule._parse_rule = replayed
    Rule.get_converter = recorded_get_converter


def _converter_arguments(args, kwargs) -> str:
    """The text of a converter's arguments (as in ``<int(min=1):x>``) that parse_converter_args reads back."""
    return ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])


_rules_parsed_once()


def bearer(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[who]}"}


@pytest.fixture(scope="session")
def demo_registry_template(tmp_path_factory) -> Path:
    """The demo registry (with one account per role and a token each) is built once per run and copied per test."""
    from fossil_registry import auth

    path = tmp_path_factory.mktemp("demo") / "registry.gpkg"
    init_registry(path, demo=True)
    conn = store.connect(path)
    store.migrate(conn)
    for who, (username, password) in ACCOUNTS.items():
        role = who.rstrip("2")
        auth.create_user(conn, username=username, role=role, password=password, actor="test-setup")
        TOKENS[who] = auth.issue_token(conn, username, label="tests", actor="test-setup")
    # The test accounts sign in through the real form hundreds of times per run (the role matrix alone: 76 endpoints x 3
    # roles x 2 backends). create_user stored them with the cheap PBKDF2 of TEST_HASH (_cheap_dummy_hash) instead of
    # the app's scrypt (0.13 s per check here); sign-in still checks it with the same werkzeug call, and a wrong
    # password is still refused (test_auth).
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


@pytest.fixture(scope="session")
def pg_demo_registry(pg_cluster, demo_registry_template) -> str:
    """The same demo registry on PostGIS: copied from the GeoPackage template (accounts and tokens included)."""
    from fossil_registry import read_model
    from fossil_registry.store.copy import copy_registry

    url = pg_cluster.new_database()
    src = store.connect(demo_registry_template)
    try:
        copy_registry(src, url)
    finally:
        src.close()
    # a copy has no read model (docs/national-scale.md): built here once, not by every test's app at its start (it
    # was 6 % of the suite's CPU)
    dst = store.connect(url)
    try:
        read_model.ensure(dst)
    finally:
        dst.close()
    pg_cluster.make_resettable(url)
    return url


def demo_copy(tmp_path_factory, template: Path, name: str, *, activity: bool = False) -> Path:
    """A data directory of its own (for a module-scoped app or a served one) holding a copy of the demo registry
    ``template``; with ``activity``, the demo accounts and the demo activity `make run` adds (proposals, inspections,
    reports, rescues)."""
    from datetime import date

    from fossil_registry.demo.activity import seed_activity
    from fossil_registry.registry import create_demo_accounts

    data_dir = tmp_path_factory.mktemp(name) / "data"
    target = registry_path(data_dir)
    target.parent.mkdir(parents=True)
    shutil.copy(template, target)
    if activity:
        create_demo_accounts(target)
        seed_activity(target, today=date(2026, 6, 1))
    return data_dir


@pytest.fixture
def demo_data_dir(tmp_path, demo_registry_template, backend) -> Path:
    """The data directory (session key, photos, attachments); with the demo GeoPackage on the gpkg backend."""
    data_dir = tmp_path / "data"
    target = registry_path(data_dir)
    target.parent.mkdir(parents=True)
    if backend == "gpkg":
        shutil.copy(demo_registry_template, target)
    return data_dir


@pytest.fixture
def demo_location(demo_data_dir, backend, request):
    """Where this test's copy of the demo registry lives: the GeoPackage in demo_data_dir, or a database URL."""
    if backend == "postgis":
        url = request.getfixturevalue("pg_cluster").reset(request.getfixturevalue("pg_demo_registry"))
        yield url
        store.pg.close_pool(url)
        return
    yield registry_path(demo_data_dir)


@pytest.fixture
def demo_database(demo_location, backend) -> dict:
    """The app configuration that points at demo_location: {} for the GeoPackage in DATA_DIR."""
    return {"DATABASE_URL": demo_location} if backend == "postgis" else {}


@pytest.fixture
def app(demo_data_dir, demo_location, backend):
    config = {"TESTING": True, "DATA_DIR": str(demo_data_dir), "SECRET_KEY": "test-secret"}
    if backend == "postgis":
        config["DATABASE_URL"] = demo_location
    return create_app(config)


@pytest.fixture
def client(app):
    return app.test_client()


def login(client, who: str):
    """Sign in through the real form (CSRF token included) and return the client."""
    import re
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    username, password = ACCOUNTS[who]
    r = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert r.status_code == 302, r.get_data(as_text=True)
    return client


def csrf_token(client, path: str = "/account") -> str:
    import re
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def report_id(client, answer: dict) -> int:
    """The staff id of the report a public answer (``POST /api/reports``) made: the answer names it only by its receipt
    and its reference, neither of which counts reports."""
    from fossil_registry import reports
    from fossil_registry.db import get_conn

    with client.application.app_context():
        return reports.get_by_receipt(get_conn(), answer["receipt"])["fid"]
