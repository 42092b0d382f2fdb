"""A field kit opened in real QGIS: Debian 12's QGIS 3.22 with its GDAL 3.6 (what many offices run; apt packages
``qgis`` and ``python3-qgis``), headless (QT_QPA_PLATFORM=offscreen), through /usr/bin/python3 and tests/qgis_probe.py,
not the venv. The project reads, every layer is valid with its features, points are drawn over lines over areas
(the sites above the protection boundaries' fill) and the basemap at the bottom, the labels use a font with CJK glyphs
that this machine has (not an empty family, which drew garbage from a TeX font), and neither QGIS nor GDAL warns about
anything (a GeoPackage 1.4 drew "may only be partially supported"). Slow tier ``qgis`` (tests/conftest.py)."""
from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from fossil_registry import create_app
from fossil_registry.fieldkit import context_layers
from fossil_registry.fieldkit.layers import KIT_LAYERS, LOCATIONS, BOUNDARIES, drawing_order
from fossil_registry.fieldkit.qgis_project import LABEL_FONT, label_font_expression

from .conftest import bearer
from .test_fieldkit_basemap import make_mbtiles

PROBE = Path(__file__).with_name("qgis_probe.py")
QGIS_PYTHON = "/usr/bin/python3"   # Debian's, with python3-qgis (the venv has no QGIS)


def open_in_qgis(project: Path) -> tuple[dict, str]:
    """(what tests/qgis_probe.py found, what QGIS and GDAL wrote to stderr)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(project.parent)}
    env.pop("PYTHONPATH", None)
    done = subprocess.run([QGIS_PYTHON, str(PROBE), str(project)], capture_output=True, text=True, timeout=300,
                          env=env, cwd=project.parent)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


def gdal_complaints(stderr: str) -> list[str]:
    """GDAL's warnings and errors among what a program wrote to stderr (Qt's own notes are not GDAL's)."""
    return [line for line in stderr.splitlines() if line.startswith(("Warning ", "ERROR "))]


@pytest.fixture(scope="module")
def kit(tmp_path_factory, demo_registry_template) -> Path:
    """A kit of Guanling county with the offline basemap, unzipped: its folder."""
    import shutil

    from fossil_registry.registry import registry_path

    root = tmp_path_factory.mktemp("kit-in-qgis")
    data_dir = root / "data"
    registry_path(data_dir).parent.mkdir(parents=True)
    shutil.copy(demo_registry_template, registry_path(data_dir))
    make_mbtiles(root / "survey.mbtiles")
    client = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "SECRET_KEY": "x",
                         "OFFLINE_BASEMAP": str(root / "survey.mbtiles")}).test_client()
    r = client.post("/api/fieldkits", json={"county": "Guanling"}, headers=bearer("field"))
    assert r.status_code == 201, r.get_json()
    (root / "kit.zip").write_bytes(r.data)
    with zipfile.ZipFile(root / "kit.zip") as zf:
        zf.extractall(root / "kit")
    (folder,) = [p for p in (root / "kit").iterdir() if p.is_dir()]
    return folder


@pytest.fixture(scope="module")
def opened(kit) -> tuple[dict, str]:
    return open_in_qgis(kit / "fieldkit.qgz")


def test_qgis_reads_the_kit_and_every_layer_is_valid(opened, kit):
    found, stderr = opened
    assert found["qgis"].startswith("3.") and found["read"] is True
    layers = {la["source"].split("|layername=")[-1] if la["provider"] == "ogr" else "basemap": la
              for la in found["layers"]}
    assert set(layers) == {la.name for la in KIT_LAYERS} | {la.name for la in context_layers.LAYERS} | {"basemap"}
    assert all(la["valid"] for la in found["layers"]), [la["name"] for la in found["layers"] if not la["valid"]]
    assert layers["basemap"]["provider"] == "gdal"
    assert layers[LOCATIONS]["geometry"] == "Point" and layers[LOCATIONS]["features"] > 0
    assert layers[BOUNDARIES]["geometry"] == "MultiPolygon" and layers[BOUNDARIES]["features"] > 0
    assert gdal_complaints(stderr) == [] and found["messages"] == []


def test_points_are_drawn_over_lines_over_areas_and_the_basemap_at_the_bottom(opened):
    found, _ = opened
    name_of = {la["id"]: (la["source"].split("|layername=")[-1] if la["provider"] == "ogr" else "basemap")
               for la in found["layers"]}
    order = [name_of[i] for i in found["order"]]   # top (drawn last) first
    # the kit's own layers, then the county context under them (seats over outlines), the basemap at the bottom
    assert order == [la.name for la in reversed(drawing_order(KIT_LAYERS))] + \
        [la.name for la in context_layers.LAYERS] + ["basemap"]
    assert order.index(LOCATIONS) < order.index(BOUNDARIES)   # the sites above the boundaries' fill
    geometry = {la.name: la.geometry for la in KIT_LAYERS}
    ranks = [{"POINT": 0, "LINESTRING": 1, "MULTILINESTRING": 1, "MULTIPOLYGON": 2}[geometry[n]] for n in order[:len(KIT_LAYERS)]]
    assert ranks == sorted(ranks)


def test_the_site_labels_use_a_cjk_font_this_machine_has(opened):
    found, _ = opened
    (sites,) = [la for la in found["layers"] if la.get("labels") and la["source"].endswith(f"layername={LOCATIONS}")]
    label = sites["label"]
    assert label["field"] == "code"
    assert label["family"] == LABEL_FONT and label["font_found"] is True   # QGIS found it: not its fallback font
    assert label["dd_family_active"] and label["dd_family"] == label_font_expression()
    assert label["dd_family_here"] == LABEL_FONT   # on Linux the expression picks the same family


def test_gdal_36_opens_the_kit_without_a_warning(kit):
    done = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(kit / "fieldkit.gpkg")], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and gdal_complaints(done.stderr) == [], done.stderr
    header = (kit / "fieldkit.gpkg").read_bytes()[:100]
    assert header[68:72] == b"GPKG" and int.from_bytes(header[60:64], "big") == 10200
