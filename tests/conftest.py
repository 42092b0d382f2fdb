"""Each test gets real GeoPackage files in its own temporary directory; no storage is mocked."""
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


@pytest.fixture
def registry_file(tmp_path) -> Path:
    path = registry_path(tmp_path / "data")
    store.create_registry(path)
    return path


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
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


@pytest.fixture
def demo_data_dir(tmp_path, demo_registry_template) -> Path:
    data_dir = tmp_path / "data"
    target = registry_path(data_dir)
    target.parent.mkdir(parents=True)
    shutil.copy(demo_registry_template, target)
    return data_dir


@pytest.fixture
def app(demo_data_dir):
    return create_app({"TESTING": True, "DATA_DIR": str(demo_data_dir), "SECRET_KEY": "test-secret"})


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
