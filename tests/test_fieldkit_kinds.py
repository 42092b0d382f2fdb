"""A field kit carries every registered kind of feature of its area, not only the sites: the stratigraphic sections
in a layer of their own (exact lines, code, base version and fields, read-only), drawn in the QGIS project; a kit
of section codes carries those sections; the check-in is as before."""
from __future__ import annotations

import sqlite3
import zipfile

import pyogrio
import pytest
from shapely.geometry import box

from fossil_registry import features
from fossil_registry.db import get_conn
from fossil_registry.features import SECTION
from fossil_registry.registry import validate_geopackage

from .fieldkit_helpers import checkout

pytestmark = pytest.mark.both_backends


def _sections(app):
    with app.app_context():
        return features.list_current(get_conn(), kind=SECTION)


def test_a_kit_issued_for_an_area_carries_its_sections(client, app, tmp_path):
    every = _sections(app)
    first = every[0].location
    area = box(*first.bounds).buffer(0.05).bounds
    inside = sorted(s.code for s in every if box(*area).intersects(s.location))
    kit_id, folder = checkout(client, tmp_path, bbox=list(area))
    gpkg = folder / "fieldkit.gpkg"
    assert validate_geopackage(gpkg) == []
    layers = dict(pyogrio.list_layers(gpkg))
    assert layers["section_lines"] == "LineString"
    lines = pyogrio.read_dataframe(gpkg, layer="section_lines")
    assert sorted(lines.code) == inside and inside
    exact = {s.code: s for s in every}
    for row in lines.itertuples():
        section = exact[row.code]
        assert row.geometry.equals_exact(section.location, 0) and row.base_version == section.version
        assert row.name == section.properties["name"] and row.significance == section.properties["significance"]
    manifest = dict(sqlite3.connect(gpkg).execute("SELECT key, value FROM kit_manifest").fetchall())
    assert manifest["sections"] == str(len(inside))
    with zipfile.ZipFile(folder / "fieldkit.qgz") as zf:
        project = zf.read(next(n for n in zf.namelist() if n.endswith(".qgs"))).decode()
    assert "layername=section_lines" in project and "地层剖面 Stratigraphic sections" in project


def test_a_kit_of_codes_carries_the_sections_named(client, app, tmp_path):
    section = _sections(app)[0]
    _, folder = checkout(client, tmp_path, sites=["GZ-0001", section.code])
    gpkg = folder / "fieldkit.gpkg"
    assert list(pyogrio.read_dataframe(gpkg, layer="site_locations").code) == ["GZ-0001"]
    assert list(pyogrio.read_dataframe(gpkg, layer="section_lines").code) == [section.code]
