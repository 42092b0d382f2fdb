"""The registry CLI: init, check, export."""
from __future__ import annotations

import pyogrio

from fossil_registry import create_app, store


def run(data_dir, *args):
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "SECRET_KEY": "x"})
    return app, app.test_cli_runner().invoke(args=list(args))


def test_init_demo_check_and_export(tmp_path):
    data_dir = tmp_path / "data"
    app, result = run(data_dir, "registry", "init", "--demo")
    assert result.exit_code == 0, result.output
    assert "illustrative demo sites" in result.output
    path = app.config["REGISTRY_PATH"]
    gdf = pyogrio.read_dataframe(path, layer="site_locations")
    assert len(gdf) >= 60 and gdf.crs.to_epsg() == 4490
    assert (gdf["sensitivity"] == "generalized").sum() >= 5 and (gdf["sensitivity"] == "hidden").sum() >= 2

    _, result = run(data_dir, "registry", "check")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK")

    _, again = run(data_dir, "registry", "init")
    assert again.exit_code == 1 and "already exists" in again.output

    dest = tmp_path / "snapshot.gpkg"
    _, result = run(data_dir, "registry", "export", str(dest))
    assert result.exit_code == 0, result.output
    assert len(pyogrio.read_dataframe(dest, layer="site_locations")) == len(gdf)


def test_check_fails_on_a_broken_registry(tmp_path):
    data_dir = tmp_path / "data"
    app, result = run(data_dir, "registry", "init", "--demo")
    conn = store.connect(app.config["REGISTRY_PATH"])
    conn.execute("DELETE FROM rtree_site_boundaries_geom WHERE id = (SELECT min(id) FROM rtree_site_boundaries_geom)")
    conn.close()
    _, result = run(data_dir, "registry", "check")
    assert result.exit_code == 1
    assert "missing from the spatial index" in result.output
