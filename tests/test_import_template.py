"""The import's template files (CSV for Excel, GeoPackage): linked from the import page, every column one the import
reads, and the example row, uploaded as it is, becomes exactly the new-site proposal it describes."""
from __future__ import annotations

import pyogrio
import pytest

from fossil_registry.imports import template

from .conftest import bearer, login
from .import_helpers import confirm, imported

FIELDS = {header: field for field, header in template.COLUMNS}


def _proposal(client, revision_id: int) -> dict:
    return client.get(f"/api/revisions/{revision_id}", headers=bearer("admin")).get_json()


@pytest.mark.parametrize("fmt", ["csv", "gpkg"])
def test_the_template_is_linked_and_its_example_becomes_a_proposal(client, fmt):
    login(client, "admin")
    page = client.get("/imports?lang=zh").get_data(as_text=True)
    assert f'href="/imports/template.{fmt}"' in page
    r = client.get(f"/imports/template.{fmt}")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    data = r.get_data()
    if fmt == "csv":
        assert data.startswith(b"\xef\xbb\xbf")  # Excel shows the Chinese headers
        assert data.decode("utf-8-sig").splitlines()[0].split(",") == template.headers()
    else:
        with _gpkg(data) as info:
            assert info["crs"] == "EPSG:4490" and info["geometry_type"] == "Point" and info["features"] == 1
    body = imported(client, data, f"template.{fmt}")
    assert body["state"] == "ready"
    expected = {h: f for h, f in FIELDS.items() if fmt == "csv" or f not in ("x", "y")}
    assert body["mapping"] == expected  # every column is recognised without choosing anything
    [row] = body["rows"]
    assert row["outcome"] == "new" and row["reason"] is None, row
    assert row["location"] == pytest.approx([template.EXAMPLE_LON, template.EXAMPLE_LAT])
    done = confirm(client, body, reason="模板示例")
    [made] = done["rows"]
    assert made["result"] == "proposed"
    props = _proposal(client, made["revision"])["properties"]
    assert props["level"] == "general" and props["period"] == "Triassic" and props["sensitivity"] == "generalized"
    assert props["fossil_groups"] == ["crinoids", "ichthyosaurs"] and props["established"] == "2024-06-30"


class _gpkg:
    """The template's only layer, as GDAL reads it."""

    def __init__(self, data: bytes):
        import tempfile
        self.dir = tempfile.TemporaryDirectory()
        self.path = f"{self.dir.name}/t.gpkg"
        with open(self.path, "wb") as fh:
            fh.write(data)

    def __enter__(self):
        [(name, geometry)] = pyogrio.list_layers(self.path)
        info = pyogrio.read_info(self.path, layer=name)
        return {"crs": info["crs"], "geometry_type": info["geometry_type"], "features": info["features"]}

    def __exit__(self, *exc):
        self.dir.cleanup()


def test_the_template_needs_the_import_permission(client):
    assert client.get("/imports/template.csv").status_code in (302, 401, 403)
    login(client, "expert")
    assert client.get("/imports/template.csv").status_code == 403
    login(client, "admin")
    assert client.get("/imports/template.xlsx").status_code == 404
