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
    path = app.config["REGISTRY"]
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
    conn = store.connect(app.config["REGISTRY"])
    conn.execute("DELETE FROM rtree_site_boundaries_geom WHERE id = (SELECT min(id) FROM rtree_site_boundaries_geom)")
    conn.close()
    _, result = run(data_dir, "registry", "check")
    assert result.exit_code == 1
    assert "missing from the spatial index" in result.output


def test_export_is_shareable_and_backup_is_complete(tmp_path):
    """Issue 9, finding 12, and issue 10's risky default: an export carries no personal data unless a full backup is
    asked for by name, and a backup restores completely."""
    import io
    import sqlite3

    from fossil_registry import auth, registry
    from fossil_registry.db import get_conn

    from .inspection_helpers import jpeg

    data_dir = tmp_path / "data"
    app, result = run(data_dir, "registry", "init", "--demo")
    assert result.exit_code == 0, result.output
    client = app.test_client()
    secret_text = "Call Li Wei on 13800138000, the slabs are under my barn"
    r = client.post("/api/reports", content_type="multipart/form-data", environ_base={"REMOTE_ADDR": "203.0.113.77"},
                    data={"kind": "find", "lon": "105.41", "lat": "25.91", "description": secret_text,
                          "contact": "liwei@example.cn", "photos": [(io.BytesIO(jpeg(lon=105.41, lat=25.91)),
                                                                     "li-wei-farm.jpg")]})
    assert r.status_code == 201, r.get_json()
    receipt = r.get_json()["receipt"]
    page = client.get("/login").get_data(as_text=True)
    import re
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": "my-password-by-mistake", "password": "x" * 12, "csrf_token": token},
                environ_base={"REMOTE_ADDR": "203.0.113.78"})
    with app.app_context():
        hashes = [u.username for u in auth.list_users(get_conn())]
    assert hashes  # demo accounts exist

    shareable = tmp_path / "shareable.gpkg"
    for args in (("registry", "export", str(shareable)),):
        _, result = run(data_dir, *args)
        assert result.exit_code == 0, result.output
    raw = shareable.read_bytes()
    for secret in (secret_text, "liwei@example.cn", "203.0.113.77", "203.0.113.78", "my-password-by-mistake", receipt,
                   "li-wei-farm.jpg", "pbkdf2", "scrypt"):
        assert secret.encode() not in raw, secret
    con = sqlite3.connect(shareable)
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert not tables & {"users", "api_tokens", "user_sessions", "login_failures", "report_contacts"}
    assert con.execute("SELECT count(*) FROM public_reports").fetchone()[0] >= 1  # the reports themselves stay
    triggers = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert "audit_log_append_only_update" in triggers and "public_reports_keep_content" in triggers
    con.close()
    assert registry.validate_geopackage(shareable) == []
    # the function's default is the shareable export too: no argument lets private tables out
    again = tmp_path / "again.gpkg"
    registry.export_registry(app.config["REGISTRY"], again)
    assert b"liwei@example.cn" not in again.read_bytes()

    backup = tmp_path / "backup"
    _, result = run(data_dir, "registry", "backup", str(backup))
    assert result.exit_code == 0 and "personal data" in result.output, result.output
    assert b"liwei@example.cn" in (backup / "sites" / "registry.gpkg").read_bytes()
    assert registry.check_registry(backup / "sites" / "registry.gpkg", data_dir=backup) == []
    restored = tmp_path / "restored"
    app2, result = run(restored, "registry", "restore", str(backup))
    assert result.exit_code == 0, result.output
    _, result = run(restored, "registry", "check")
    assert result.exit_code == 0, result.output
    assert app2.test_client().get(f"/report/{receipt}").status_code == 200  # the reporter's receipt still works
    _, result = run(restored, "registry", "restore", str(backup))
    assert result.exit_code == 1 and "replace" in result.output


def test_export_never_overwrites_the_registry_and_drops_report_photo_details(tmp_path):
    import io
    import sqlite3

    from .inspection_helpers import jpeg

    data_dir = tmp_path / "data"
    app, result = run(data_dir, "registry", "init", "--demo")
    r = app.test_client().post("/api/reports", content_type="multipart/form-data", data={
        "kind": "find", "lon": "105.41", "lat": "25.91", "description": "Ammonites by the road cut.",
        "photos": [(io.BytesIO(jpeg(lon=105.31, lat=25.91, taken="2024:05:01 10:00:00")), "p.jpg")]})
    assert r.status_code == 201
    path = app.config["REGISTRY"]
    before = path and __import__("pathlib").Path(path).read_bytes()
    _, result = run(data_dir, "registry", "export", str(path))
    assert result.exit_code == 1 and "the registry itself" in result.output
    assert __import__("pathlib").Path(path).read_bytes() == before
    out = tmp_path / "share.gpkg"
    _, result = run(data_dir, "registry", "export", str(out))
    con = sqlite3.connect(out)
    row = con.execute("SELECT taken_at, flags, flag_message, gps_lon FROM evidence_photos WHERE report_id IS NOT NULL"
                      ).fetchone()
    con.close()
    assert row == (None, None, None, None)
