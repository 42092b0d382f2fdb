"""Every GeoPackage that leaves the registry (downloads of every layer for the public and for staff, the whole
registry for each, a field kit, an impact screening's report, the operator's export) is GeoPackage 1.2 (application_id
"GPKG", user_version 10200: the oldest version that carries what they hold) and opens without a warning in GDAL 3.6's
ogrinfo, Debian 12's (a 1.4 file drew "may only be partially supported" there and in QGIS 3.22). The registry's own
store stays 1.4 (docs/downloads.md, "GeoPackage versions"). The exports, whose R-tree triggers are rewritten to 1.2's,
still pass GDAL's validator in its strictest mode."""
from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path

import pyogrio
import pytest

from fossil_registry import create_app, downloads, registry, store
from fossil_registry.registry import registry_path

from .conftest import bearer

ROAD = {"type": "LineString", "coordinates": [[105.30, 25.85], [105.40, 25.89], [105.50, 25.80], [105.58, 25.88]]}


@pytest.fixture(scope="module")
def served(tmp_path_factory, demo_registry_template):
    data_dir = tmp_path_factory.mktemp("exchange") / "data"
    registry_path(data_dir).parent.mkdir(parents=True)
    shutil.copy(demo_registry_template, registry_path(data_dir))
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "SECRET_KEY": "test-secret"})
    return app, app.test_client()


def assert_exchange_geopackage(path: Path) -> None:
    header = path.read_bytes()[:100]
    assert header[68:72] == b"GPKG", path.name
    assert int.from_bytes(header[60:64], "big") == store.GPKG_EXCHANGE_USER_VERSION == 10200, path.name
    done = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(path)], capture_output=True, text=True, timeout=120)
    complaints = [line for line in (done.stdout + done.stderr).splitlines() if line.startswith(("Warning", "ERROR"))]
    assert done.returncode == 0 and complaints == [], (path.name, complaints)


def _strictly_valid(path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "osgeo_utils.samples.validate_gpkg", "--extra",
                           "--warning-as-error", str(path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_machine_has_gdal_ogrinfo():
    version = subprocess.run(["ogrinfo", "--version"], capture_output=True, text=True).stdout
    assert version.startswith("GDAL 3."), version   # Debian 12: GDAL 3.6.2, which warns about GeoPackage 1.4


@pytest.mark.parametrize("who", ["anonymous", "field"])
def test_every_download_geopackage_is_version_1_2_and_gdal_opens_it_unwarned(served, tmp_path, who):
    _, client = served
    headers = {} if who == "anonymous" else bearer(who)
    layers = [la for la in downloads.LAYERS.values() if who != "anonymous" or not la.staff_only]
    for layer in layers:
        r = client.get(f"/api/downloads/{layer.id}.gpkg", headers=headers)
        assert r.status_code == 200, layer.id
        path = tmp_path / f"{layer.id}.gpkg"
        path.write_bytes(r.data)
        assert_exchange_geopackage(path)
        if layer.collection is not None:
            assert len(pyogrio.read_dataframe(path)) > 0 or layer.staff_only, layer.id


@pytest.mark.parametrize("who", ["field", "admin"])
def test_the_staff_registry_download_passes_the_strict_validator_as_1_2(served, tmp_path, who):
    _, client = served
    path = tmp_path / "registry.gpkg"
    path.write_bytes(client.get("/api/downloads/registry.gpkg", headers=bearer(who)).data)
    assert_exchange_geopackage(path)
    _strictly_valid(path)


def test_the_operators_export_is_1_2_and_the_registry_stays_1_4(served, tmp_path):
    app, _ = served
    source = registry_path(app.config["DATA_DIR"])
    dest = tmp_path / "export.gpkg"
    registry.export_registry(source, dest)
    assert_exchange_geopackage(dest)
    _strictly_valid(dest)
    assert int.from_bytes(source.read_bytes()[60:64], "big") == 10400   # the registry's own store
    # the R-tree still follows edits made by GDAL in the exported file (1.2's triggers, working)
    subprocess.run(["ogrinfo", str(dest), "-sql", "UPDATE site_locations SET geom = MakePoint(106.5, 26.5, 4490) "
                    "WHERE code = 'GZ-0001'"], check=True, capture_output=True)
    found = subprocess.run(["ogrinfo", "-ro", "-q", str(dest), "-sql", "SELECT code FROM site_locations",
                            "-spat", "106.49", "26.49", "106.51", "26.51"], capture_output=True, text=True).stdout
    assert "GZ-0001" in found


def test_a_field_kit_is_1_2_and_gdal_opens_it_unwarned(served, tmp_path):
    _, client = served
    r = client.post("/api/fieldkits", json={"county": "Guanling"}, headers=bearer("field"))
    assert r.status_code == 201
    with zipfile.ZipFile(BytesIO(r.data)) as zf:
        name = next(n for n in zf.namelist() if n.endswith("fieldkit.gpkg"))
        path = tmp_path / "fieldkit.gpkg"
        path.write_bytes(zf.read(name))
    assert_exchange_geopackage(path)
    _strictly_valid(path)


@pytest.mark.parametrize("who", ["anonymous", "field"])
def test_an_impact_report_is_1_2_and_gdal_opens_it_unwarned(served, tmp_path, who):
    _, client = served
    r = client.post("/api/impact?format=gpkg", json={"footprint": ROAD, "width_m": 30},
                    headers={} if who == "anonymous" else bearer(who))
    assert r.status_code == 200 and r.mimetype == "application/geopackage+sqlite3"
    path = tmp_path / "screening.gpkg"
    path.write_bytes(r.data)
    assert_exchange_geopackage(path)
