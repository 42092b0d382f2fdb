"""Downloads of every registered kind of feature and of the protection markers: ``sections`` and ``markers`` in every
format the downloads offer, read back by GDAL; staff get every feature exactly, anonymous callers exactly what the
API (the public view) gives them: no hidden section, no generalized section's line, no marker of a protected
feature, and no protected section's true coordinate in any file."""
from __future__ import annotations

import pandas as pd
import pyogrio
import pytest

from fossil_registry import downloads, features, public_view
from fossil_registry.db import get_conn
from fossil_registry.features import SECTION
from fossil_registry.store import markers as mstore

from .conftest import bearer
from .test_downloads import _dump, _save
from .test_public_leaks import _assert_no_leaks

API = "/api/downloads/"
FORMATS = list(downloads.FORMATS)

pytestmark = pytest.mark.both_backends


def _frame(tmp_path, response, ext: str) -> pd.DataFrame:
    """Every feature of the download (every layer of the file, joined: there is one)."""
    path = _save(tmp_path, response, f"download.{ext}")
    if ext == "kmz":
        path = f"/vsizip/{path}/doc.kml"
    names = [name for name, _ in pyogrio.list_layers(path)]
    return pd.concat([pyogrio.read_dataframe(path, layer=name) for name in names], ignore_index=True)


def _sections(app, public: bool):
    with app.app_context():
        conn = get_conn()
        if public:
            return sorted(public_view.list_public(conn, kind=SECTION), key=lambda p: p.code)
        return sorted(features.list_current(conn, include_retired=True, kind=SECTION), key=lambda s: s.code)


def _codes(frame: pd.DataFrame) -> list[str]:
    column = "code" if "code" in frame.columns else "Name"
    return sorted(frame[column])


def test_both_layers_are_in_the_catalogue_in_every_format(client):
    body = client.get("/api/downloads").get_json()
    layers = {la["id"]: la for la in body["layers"]}
    for layer in ("sections", "markers"):
        assert layer in layers and not layers[layer]["staff_only"]
        assert set(downloads.LAYERS[layer].formats) == set(FORMATS)


@pytest.mark.parametrize("ext", FORMATS)
def test_sections_in_every_format_for_staff_and_for_the_public(app, client, tmp_path, ext):
    everything = _sections(app, public=False)
    staff = _frame(tmp_path, client.get(f"{API}sections.{ext}", headers=bearer("field")), ext)
    assert len(staff) == len(everything) > 0
    if ext not in ("kml", "kmz"):
        assert _codes(staff) == [s.code for s in everything]
        assert set(staff.geometry.geom_type) == {"LineString"}
    shown = _sections(app, public=True)
    lines = [p for p in shown if not p.generalized]   # a generalized section: only in section-points, at its cell
    assert lines and len(lines) < len(shown)
    public = _frame(tmp_path, client.get(f"{API}sections.{ext}"), ext)
    assert len(public) == len(lines)
    points = _frame(tmp_path, client.get(f"{API}section-points.{ext}"), ext)
    assert len(points) == len(shown) < len(everything)
    if ext not in ("kml", "kmz"):
        assert _codes(public) == [p.code for p in lines]
        assert _codes(points) == [p.code for p in shown]
    hidden = [s for s in everything if s.sensitivity == "hidden" or s.properties.get("status") != "active"]
    assert hidden
    assert set(public.geometry.geom_type) == {"LineString"} and set(points.geometry.geom_type) == {"Point"}


@pytest.mark.parametrize("ext", FORMATS)
def test_markers_in_every_format_for_staff_and_for_the_public(app, client, tmp_path, ext):
    with app.app_context():
        conn = get_conn()
        every, public_ones = mstore.all_markers(conn), mstore.public_markers(conn)
    assert len(public_ones) < len(every)
    staff = _frame(tmp_path, client.get(f"{API}markers.{ext}", headers=bearer("field")), ext)
    assert len(staff) == len(every)
    public = _frame(tmp_path, client.get(f"{API}markers.{ext}"), ext)
    assert len(public) == len(public_ones)
    if ext not in ("kml", "kmz"):
        assert sorted(public["feature"]) == sorted(m["feature_code"] for m in public_ones)


def test_no_anonymous_section_or_marker_download_carries_a_protected_true_location(app, client, tmp_path):
    everything = _sections(app, public=False)
    bodies = []
    for layer in ("sections", "section-points", "markers"):
        for ext in FORMATS:
            bodies.append((f"{API}{layer}.{ext}", 200, _dump(tmp_path, client.get(f"{API}{layer}.{ext}"), ext)
                           if ext != "shp.zip" else _frame(tmp_path, client.get(f"{API}{layer}.{ext}"), ext)
                           .to_json(default=str)))
    path = _save(tmp_path, client.get(f"{API}registry.gpkg"), "public.gpkg")  # the public registry holds them too
    for layer in ("sections", "section_points", "markers"):
        bodies.append((f"registry.gpkg {layer}", 200, pyogrio.read_dataframe(path, layer=layer).to_json(default=str)))
    assert sorted(pyogrio.read_dataframe(path, layer="section_points")["code"]) == \
        [p.code for p in _sections(app, public=True)]
    assert sorted(pyogrio.read_dataframe(path, layer="sections")["code"]) == \
        [p.code for p in _sections(app, public=True) if not p.generalized]
    _assert_no_leaks(bodies, everything)
    with pytest.raises(AssertionError):  # the same check finds them in the staff files
        _assert_no_leaks([("staff", 200, _dump(tmp_path, client.get(f"{API}sections.gpkg", headers=bearer("field")),
                                                "gpkg"))], everything)
