"""Each test gets real GeoPackage files in its own temporary directory; no storage is mocked."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from shapely.geometry import MultiPolygon, Point, box

from fossil_registry import create_app, sites, store
from fossil_registry.registry import init_registry, registry_path


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


@pytest.fixture(scope="session")
def demo_registry_template(tmp_path_factory) -> Path:
    """The demo registry is built once per run and copied for each test that needs it."""
    path = tmp_path_factory.mktemp("demo") / "registry.gpkg"
    init_registry(path, demo=True)
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
