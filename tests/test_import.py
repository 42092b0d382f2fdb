"""The site import: real files (GDAL-written Shapefiles and GeoPackages, GBK spreadsheets, GeoJSON) uploaded through
the API into a copy of the demo registry, analysed and proposed by the background job, reviewed by another expert."""
from __future__ import annotations

import io
import sqlite3

import pytest
from shapely.geometry import MultiPolygon, Point, box

from fossil_registry import store

from .conftest import bearer, login
from .import_helpers import (by_row, confirm, geojson, geopackage, gk108, imported, shapefile_zip, upload, wait)

pytestmark = pytest.mark.both_backends

KAILI = (107.98, 26.58)          # far enough from every demo site to be a new one
GZ_0013 = (108.385, 26.770)      # 剑河八郎苗板坡化石点, national, Cambrian


def _revisions(client) -> list[dict]:
    return client.get("/api/revisions?status=submitted&limit=500", headers=bearer("admin")).get_json()["revisions"]


# ------------------------------------------------------------------------------------------------ Shapefile, GK zone
def test_a_shapefile_in_a_gauss_kruger_zone_with_a_gbk_dbf_becomes_proposals(client):
    e1, n1 = gk108(*KAILI)
    e2, n2 = gk108(*GZ_0013)
    data = shapefile_zip([{"编号": "KL-2025-01", "名称": "凯里新发现点", "级别": "一般", "时代": "寒武纪"},
                          {"编号": "GZ-0013", "名称": "剑河八郎苗板坡化石点", "级别": "国家级", "时代": "寒武纪"}],
                         [Point(e1, n1), Point(e2 + 30, n2)])
    body = imported(client, data, "survey.zip")
    preview = body["preview"]
    assert body["state"] == "ready"
    assert preview["format"] == "shapefile" and preview["encoding"] == "GBK"
    assert preview["encoding_source"] == "declared"
    assert preview["crs"]["key"] == "EPSG:4545" and preview["crs"]["source"] == "declared"
    assert preview["columns"] == ["编号", "名称", "级别", "时代"]
    assert preview["sample"][0]["values"]["名称"] == "凯里新发现点"
    assert body["mapping"] == {"编号": "code", "名称": "name", "级别": "level", "时代": "period"}
    rows = by_row(body)
    assert rows[1]["outcome"] == "new" and rows[1]["name"] == "凯里新发现点"
    lon, lat = rows[1]["location"]
    assert abs(lon - KAILI[0]) < 1e-7 and abs(lat - KAILI[1]) < 1e-7
    assert rows[2]["outcome"] == "change" and rows[2]["site"] == "GZ-0013" and rows[2]["base_version"] == 1
    assert rows[2]["matched_by"] == "code" and rows[2]["changes"] == ["location"]
    assert rows[2]["label"] == "change to GZ-0013 (version 1)"

    done = confirm(client, body, method="rtk", accuracy_m=0.05)
    assert done["state"] == "done" and done["counts"]["result_proposed"] == 2
    mine = {r["id"]: r for r in _revisions(client)}
    made = [mine[r["revision"]] for r in done["rows"]]
    assert made[0]["kind"] == "new_site" and made[0]["properties"]["name"] == "凯里新发现点"
    assert made[0]["properties"]["level"] == "general" and made[0]["properties"]["period"] == "Cambrian"
    assert made[0]["method"] == "rtk" and made[0]["accuracy_m"] == 0.05 and made[0]["author"] == "ada"
    assert made[1]["kind"] == "change" and made[1]["site"] == "GZ-0013" and made[1]["base_version"] == 1
    assert 29 < made[1]["metrics"]["location_shift_m"] < 31
    assert "import #" in made[1]["reason"] and "row 2" in made[1]["reason"]


def test_a_gbk_dbf_without_cpg_is_recognised(client):
    e, n = gk108(*KAILI)
    data = shapefile_zip([{"名称": "台江新发现点", "县": "台江县"}], [Point(e, n)], cpg=False)
    body = imported(client, data, "nocpg.zip")
    assert body["preview"]["encoding"] == "GBK" and body["preview"]["encoding_source"] == "detected"
    assert body["rows"][0]["name"] == "台江新发现点"
    assert any(".cpg" in n for n in body["preview"]["notes"])
    forced = client.post(f"/api/imports/{body['id']}/mapping", headers=bearer("admin"), json={"encoding": "UTF-8"})
    assert forced.status_code == 422 and "not UTF-8" in forced.get_json()["detail"]


def test_a_shapefile_without_prj_is_refused_until_its_crs_is_chosen(client):
    e, n = gk108(*KAILI)
    data = shapefile_zip([{"名称": "无投影点"}], [Point(e, n)], prj=False)
    r = upload(client, data, "noprj.zip")
    problem = r.get_json()
    assert r.status_code == 422 and problem["choose"] == "crs"
    assert "metres (e.g. 498,008, 2,941,094)" in problem["detail"]
    assert "does not say in which projected coordinate system: choose it" in problem["detail"]
    assert client.get("/api/imports", headers=bearer("admin")).get_json()["imports"] == []  # nothing kept
    body = imported(client, data, "noprj.zip", crs="EPSG:4545")
    assert body["preview"]["crs"] == {"key": "EPSG:4545", "label": body["preview"]["crs"]["label"],
                                      "source": "chosen"}
    lon, lat = body["rows"][0]["location"]
    assert abs(lon - KAILI[0]) < 1e-7 and abs(lat - KAILI[1]) < 1e-7


# ------------------------------------------------------------------------------------------------------------- CSV
GBK_CSV = ("编号,名称,级别,时代,县,化石类别,经度,纬度\n"
           "GZ-0015,凯里炉山凯里组剖面,省级,寒武纪,凯里市,三叶虫、海绵,107.900,26.620\n"
           "KC-07,凯里新发现点,一般,中寒武世,凯里市,三叶虫,108.05,26.45\n")


def test_a_gbk_csv_with_chinese_headers_is_read_and_its_values_understood(client):
    body = imported(client, GBK_CSV.encode("gbk"), "调查.csv")
    preview = body["preview"]
    assert preview["encoding"] == "GBK" and preview["encoding_source"] == "detected"
    assert preview["crs"]["key"] == "EPSG:4490" and preview["crs"]["source"] == "default"
    assert body["mapping"] == {"编号": "code", "名称": "name", "级别": "level", "时代": "period", "县": "county",
                               "化石类别": "fossil_groups", "经度": "x", "纬度": "y"}
    rows = by_row(body)
    assert rows[1]["outcome"] == "change" and rows[1]["site"] == "GZ-0015"
    assert rows[1]["changes"] == ["fossil_groups", "level"]  # general -> provincial; point and county are the same
    assert rows[2]["outcome"] == "new" and rows[2]["location"] == [108.05, 26.45]
    done = confirm(client, body)
    new = next(r for r in _revisions(client) if r["id"] == by_row(done)[2]["revision"])
    assert new["properties"]["period"] == "Cambrian" and new["properties"]["fossil_groups"] == ["trilobites"]
    change = next(r for r in _revisions(client) if r["id"] == by_row(done)[1]["revision"])
    assert change["properties"] == {"fossil_groups": ["trilobites", "sponges"], "level": "provincial"}


def test_text_in_an_unknown_encoding_is_refused_with_the_choices(client):
    latin = "name,lon,lat\nFundstelle Müller Straße,105.5,26.0\n".encode("latin-1")
    r = upload(client, latin, "sites.csv")
    problem = r.get_json()
    assert r.status_code == 422 and problem["choose"] == "encoding"
    assert problem["choices"] == ["UTF-8", "GBK", "GB18030"]
    assert "save the file as UTF-8" in problem["detail"]
    wrong = upload(client, GBK_CSV.encode("gbk"), "sites.csv", encoding="UTF-8")
    assert wrong.status_code == 422 and "not UTF-8 text" in wrong.get_json()["detail"]
    chosen = imported(client, GBK_CSV.encode("gb18030"), "sites.csv", encoding="GB18030")
    assert chosen["preview"]["encoding"] == "GB18030" and chosen["preview"]["encoding_source"] == "chosen"
    assert chosen["rows"][1]["name"] == "凯里新发现点"


def test_projected_numbers_in_a_csv_need_their_coordinate_system(client):
    e, n = gk108(*KAILI)
    csv = f"名称,X,Y\n凯里测点,{n:.3f},{e:.3f}\n".encode()
    r = upload(client, csv, "gk.csv")
    problem = r.get_json()
    assert r.status_code == 422 and problem["choose"] == "crs"
    assert "need a coordinate system" in problem["detail"] and "EPSG:4545" in problem["detail"]
    body = imported(client, csv, "gk.csv", crs="EPSG:4545")
    assert body["mapping"]["X"] == "y" and body["mapping"]["Y"] == "x"  # Chinese survey habit: X is the northing
    lon, lat = body["rows"][0]["location"]
    assert abs(lon - KAILI[0]) < 1e-7 and abs(lat - KAILI[1]) < 1e-7
    prefixed = f"名称,X,Y\n凯里测点,{n:.3f},{e + 36_000_000:.3f}\n".encode()
    body = imported(client, prefixed, "gk36.csv")   # the zone number in front of the easting says it all
    assert body["preview"]["crs"]["key"] == "EPSG:4524" and body["preview"]["crs"]["source"] == "inferred"
    lon, lat = body["rows"][0]["location"]
    assert abs(lon - KAILI[0]) < 1e-7 and abs(lat - KAILI[1]) < 1e-7


def test_empty_and_header_only_files_are_refused_and_nothing_is_kept(client):
    for data, name, words in ((b"", "empty.csv", "empty"), (b"  \n", "blank.csv", "empty"),
                              ("名称,经度,纬度\n".encode(), "header.csv", "no rows"),
                              (b'{"type": "FeatureCollection", "features": []}', "empty.geojson", "empty")):
        r = upload(client, data, name)
        assert r.status_code == 422 and words in r.get_json()["detail"], (name, r.get_json())
    assert client.get("/api/imports", headers=bearer("admin")).get_json()["imports"] == []


# ------------------------------------------------------------------------------------------ GeoJSON and GeoPackage
def test_a_geojson_file_with_a_boundary_and_a_row_without_geometry(client):
    outline = MultiPolygon([box(108.37, 26.76, 108.40, 26.78)])
    data = geojson([({"code": "GZ-0013", "name": "剑河八郎苗板坡化石点"}, outline),
                    ({"code": "GZ-0014", "level": "provincial"}, None),
                    ({"name": "no place"}, None)])
    body = imported(client, data, "sites.geojson")
    rows = by_row(body)
    assert body["preview"]["crs"]["key"] == "EPSG:4326"
    assert rows[1]["outcome"] == "change" and rows[1]["changes"] == ["boundary"]
    assert rows[2]["outcome"] == "change" and rows[2]["changes"] == ["level"]   # attributes only: no geometry needed
    assert any(w["message"].startswith("the protection level is lowered") for w in rows[2]["warnings"])
    assert rows[3]["outcome"] == "refused" and "a new site needs a location" in rows[3]["reason"]
    # a row's warnings are kept with their code and parameters: read in Chinese, they are Chinese
    zh = client.get(f"/api/imports/{body['id']}?limit=10", headers={**bearer("admin"), "Accept-Language": "zh"})
    lowered = next(w for w in by_row(zh.get_json())[2]["warnings"] if w["code"] == "level_lowered")
    assert lowered["message"] == "保护级别降低：国家级重点保护产地 → 省级重点保护产地" and lowered["message_code"] == "revisions.level_lowered"
    page = login(client, "admin").get(f"/imports/{body['id']}", headers={"Accept-Language": "zh"})
    assert page.status_code == 200 and "保护级别降低：国家级重点保护产地 → 省级重点保护产地" in page.get_data(as_text=True)


def test_a_geopackage_with_two_layers_reads_the_point_layer_and_offers_the_other(client):
    data = geopackage({"boundaries": ([{"code": "GZ-0013"}], [box(108.37, 26.76, 108.40, 26.78)]),
                       "points": ([{"名称": "新点甲", "级别": "一般"}, {"名称": "新点乙", "级别": "省级"}],
                                  [Point(108.05, 26.45), Point(108.06, 26.46)])})
    body = imported(client, data, "survey.gpkg")
    assert body["preview"]["layer"] == "points"
    assert sorted(lyr["name"] for lyr in body["preview"]["layers"]) == ["boundaries", "points"]
    assert [r["outcome"] for r in body["rows"]] == ["new", "new"]
    r = client.post(f"/api/imports/{body['id']}/mapping", headers=bearer("admin"), json={"layer": "boundaries"})
    assert r.status_code == 202 and r.get_json()["generation"] == 2
    body = wait(client, body["id"])
    assert body["preview"]["layer"] == "boundaries" and body["mapping"] == {"code": "code"}
    assert body["rows"][0]["outcome"] == "change" and body["rows"][0]["changes"] == ["boundary"]


def test_kml_placemarks_become_rows_with_their_extended_data(client):
    kml = ("<?xml version='1.0' encoding='UTF-8'?><kml xmlns='http://www.opengis.net/kml/2.2'><Document>"
           "<Placemark><name>奥维新点</name><ExtendedData><Data name='级别'><value>省级</value></Data></ExtendedData>"
           "<Point><coordinates>108.05,26.45,812</coordinates></Point></Placemark>"
           "<Placemark><name>剑河八郎苗板坡化石点</name><Point><coordinates>108.385,26.770</coordinates></Point>"
           "</Placemark></Document></kml>").encode()
    body = imported(client, kml, "ovital.kml")
    assert body["preview"]["format"] == "kml" and body["mapping"] == {"name": "name", "级别": "level"}
    rows = by_row(body)
    assert rows[1]["outcome"] == "new" and rows[1]["location"] == [108.05, 26.45]
    assert rows[2]["outcome"] == "unchanged" and rows[2]["site"] == "GZ-0013"
    assert rows[2]["matched_by"].startswith("location (")


# ------------------------------------------------------------------------------------------------------- matching
def test_matching_by_code_by_location_and_the_distance(client):
    csv = ("code,name,lon,lat\n"
           "GZ-0016,台江革一寒武纪化石点,108.3003,26.6301\n"      # code, moved ~40 m
           ",台江革一寒武纪化石点 (no code),108.3002,26.6302\n"   # location only, ~30 m from GZ-0016
           ",far away find,108.2000,26.7000\n").encode()
    body = imported(client, csv, "match.csv")
    rows = by_row(body)
    assert rows[1]["site"] == "GZ-0016" and rows[1]["matched_by"] == "code"
    assert rows[2]["outcome"] == "refused" and "rows 1, 2 all match GZ-0016" in rows[2]["reason"]
    assert rows[3]["outcome"] == "new"
    r = client.post(f"/api/imports/{body['id']}/mapping", headers=bearer("admin"),
                    json={"match": "location", "distance_m": 20})
    rows = by_row(wait(client, r.get_json()["id"]))
    assert [rows[n]["outcome"] for n in (1, 2, 3)] == ["new", "new", "new"]      # nothing within 20 m
    r = client.post(f"/api/imports/{body['id']}/mapping", headers=bearer("admin"),
                    json={"match": "location", "distance_m": 100})
    rows = by_row(wait(client, r.get_json()["id"]))
    assert rows[1]["site"] == rows[2]["site"] == "GZ-0016" and rows[1]["matched_by"].startswith("location (")
    assert rows[3]["outcome"] == "new"
    r = client.post(f"/api/imports/{body['id']}/mapping", headers=bearer("admin"),
                    json={"match": "code", "mapping": {"name": "name", "lon": "x", "lat": "y"}})
    assert r.status_code == 422 and "matching by code needs the column" in r.get_json()["detail"]


def test_a_point_within_the_tolerance_is_unchanged(client):
    csv = "code,name,lon,lat\nGZ-0016,台江革一寒武纪化石点,108.300001,26.630001\n".encode()
    assert imported(client, csv, "same.csv")["rows"][0]["outcome"] == "unchanged"
    moved = imported(client, csv, "same.csv", tolerance_m=0.05)["rows"][0]
    assert moved["outcome"] == "change" and moved["changes"] == ["location"]


# ------------------------------------------------------------------------------------------------ refused rows
def test_refused_rows_say_why_and_the_others_are_still_proposed(client):
    csv = ("编号,名称,级别,时代,经度,纬度,调查日期\n"
           "A-1,好的新点,一般,寒武纪,108.05,26.45,2025-03-01\n"
           "A-2,重复编号甲,一般,寒武纪,108.06,26.45,\n"
           "A-2,重复编号乙,一般,寒武纪,108.07,26.45,\n"
           "A-3,没有坐标,一般,寒武纪,,,\n"
           "A-4,北京的点,一般,寒武纪,116.40,39.90,\n"
           "A-5,坏级别,特级,寒武纪,108.08,26.45,\n"
           "A-6,坏时代,一般,侏罗纪或白垩纪,108.09,26.45,\n"
           "GZ-9999,不存在的编号,一般,寒武纪,108.10,26.45,\n"
           "A-7,未来日期,一般,寒武纪,108.11,26.45,2999-01-01\n"
           "A-8,半个坐标,一般,寒武纪,108.12,,\n").encode()
    body = imported(client, csv, "bad.csv")
    rows = by_row(body)
    assert rows[1]["outcome"] == "new"
    reasons = {n: rows[n]["reason"] for n in range(2, 11)}
    assert "the code A-2 is given in rows 2, 3" in reasons[2] and reasons[2] == reasons[3]
    assert "a new site needs a location" in reasons[4] or "no location" in reasons[4]
    assert "km from Guizhou" in reasons[5]
    assert "level '特级' is not a protection level" in reasons[6]
    assert "names more than one geological period" in reasons[7]
    assert "there is no site GZ-9999" in reasons[8]
    assert "survey_date 2999-01-01 is in the future" in reasons[9]
    assert "only one of 经度/纬度 is given" in reasons[10]
    assert all(rows[n]["outcome"] == "refused" for n in range(2, 11))
    done = confirm(client, body)
    summary = client.get(f"/api/imports/{body['id']}/summary", headers=bearer("admin")).get_json()
    assert summary["counts"] == {"proposed": 1, "already": 0, "unchanged": 0, "refused": 9, "pending": 0}
    assert [r["row"] for r in summary["refused"]] == list(range(2, 11))
    assert done["counts"]["result_proposed"] == 1
    csv_text = client.get(f"/api/imports/{body['id']}/summary.csv", headers=bearer("admin")).get_data(as_text=True)
    assert csv_text.startswith("\ufeffrow,file_code,name,outcome,result,site")
    assert "A-5,坏级别,refused,refused" in csv_text and "is not a protection level" in csv_text


# --------------------------------------------------------------------------------------------- re-run, review
def test_importing_the_same_file_again_proposes_nothing_new(client):
    body = imported(client, GBK_CSV.encode("gbk"), "调查.csv")
    first = confirm(client, body)
    before = len(_revisions(client))
    again = imported(client, GBK_CSV.encode("gbk"), "调查.csv")
    assert [r["outcome"] for r in again["rows"]] == ["already", "already"]
    assert [r["earlier_revision"] for r in again["rows"]] == [r["revision"] for r in first["rows"]]
    second = confirm(client, again)
    assert second["counts"]["result_proposed"] == 0 and second["counts"]["result_already"] == 2
    assert len(_revisions(client)) == before


def test_proposals_approved_by_another_expert_create_and_change_sites(client):
    body = confirm(client, imported(client, GBK_CSV.encode("gbk"), "调查.csv"))
    for row in body["rows"]:
        rev = client.get(f"/api/revisions/{row['revision']}", headers=bearer("expert")).get_json()
        r = client.post(f"/api/revisions/{row['revision']}/decision", headers=bearer("expert"),
                        json={"decision": "approve", "round": rev["round"]})
        assert r.status_code == 200, r.get_json()
    changed = client.get("/api/sites/GZ-0015", headers=bearer("expert")).get_json()
    assert changed["version"] == 2 and changed["properties"]["level"] == "provincial"
    new_code = client.get(f"/api/revisions/{by_row(body)[2]['revision']}", headers=bearer("admin")).get_json()["site"]
    new = client.get(f"/api/sites/{new_code}", headers=bearer("expert")).get_json()
    assert new["properties"]["name"] == "凯里新发现点" and new["location"]["coordinates"] == [108.05, 26.45]
    again = imported(client, GBK_CSV.encode("gbk"), "调查.csv")   # the file code KC-07 now names that site
    rows = by_row(again)
    assert rows[1]["outcome"] == "unchanged" and rows[2]["outcome"] == "unchanged" and rows[2]["site"] == new_code
    assert rows[2]["matched_by"].startswith("code KC-07 (imported earlier")


def test_an_admin_cannot_approve_the_proposals_of_their_own_import(client):
    body = confirm(client, imported(client, GBK_CSV.encode("gbk"), "调查.csv"))
    rid = body["rows"][0]["revision"]
    rev = client.get(f"/api/revisions/{rid}", headers=bearer("admin")).get_json()
    r = client.post(f"/api/revisions/{rid}/decision", headers=bearer("admin"),
                    json={"decision": "approve", "round": rev["round"]})
    assert r.status_code == 403


# ---------------------------------------------------------------------------------------- confirmation and state
def test_confirming_needs_the_analysis_seen_and_a_reason(client):
    body = imported(client, GBK_CSV.encode("gbk"), "调查.csv")
    url = f"/api/imports/{body['id']}/confirm"
    assert client.post(url, headers=bearer("admin"), json={"reason": "x"}).status_code == 422
    assert client.post(url, headers=bearer("admin"), json={"generation": 1}).status_code == 422
    client.post(f"/api/imports/{body['id']}/mapping", headers=bearer("admin"), json={"distance_m": 10})
    wait(client, body["id"])
    stale = client.post(url, headers=bearer("admin"), json={"generation": 1, "reason": "campaign"})
    assert stale.status_code == 409 and stale.get_json()["generation_now"] == 2
    assert client.post(url, headers=bearer("admin"), json={"generation": 2, "reason": "campaign"}).status_code == 202
    done = wait(client, body["id"])
    again = client.post(url, headers=bearer("admin"), json={"generation": 2, "reason": "campaign"})
    assert again.status_code == 409
    remap = client.post(f"/api/imports/{body['id']}/mapping", headers=bearer("admin"), json={"distance_m": 20})
    assert remap.status_code == 409 and done["state"] == "done"


def test_the_import_is_audited_and_its_file_dropped_once_proposed(client, app):
    body = confirm(client, imported(client, GBK_CSV.encode("gbk"), "调查.csv"))
    audit = client.get("/api/audit?limit=50", headers=bearer("admin")).get_json()
    actions = [a["action"] for a in audit["entries"] if a["target"] == f"import:{body['id']}"]
    assert sorted(actions) == ["import.confirm", "import.finish", "import.upload"]
    conn = store.connect(app.config["REGISTRY"])
    try:
        assert conn.execute("SELECT count(*) FROM import_files").fetchone()[0] == 0
    finally:
        conn.close()


def test_shareable_exports_leave_uploaded_files_out(client, app, tmp_path):
    imported(client, GBK_CSV.encode("gbk"), "调查.csv")
    conn = store.connect(app.config["REGISTRY"])
    try:
        store.backup_to(conn, tmp_path / "shared.gpkg", shareable=True)
    finally:
        conn.close()
    shared = sqlite3.connect(tmp_path / "shared.gpkg")
    try:
        names = {r[0] for r in shared.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        shared.close()
    assert "imports" in names and "import_rows" in names and "import_files" not in names


def test_a_job_whose_worker_stopped_is_taken_over_when_someone_looks(client, app):
    from fossil_registry import imports
    conn = store.connect(app.config["REGISTRY"])
    try:
        quiet = imports.Settings.from_config({**app.config, "REGISTRY": None, "REGISTRY_PATH": None})  # no thread
        imp = imports.create(conn, "调查.csv", GBK_CSV.encode("gbk"), {}, actor="ada", settings=quiet)
        assert imports.get(conn, imp["fid"])["state"] == "analysing"
        with store.transaction(conn):   # a worker that died mid-way (e.g. the server was restarted)
            store.imports.update_import(conn, imp["fid"], worker="gone", heartbeat_at="2000-01-01T00:00:00.000Z")
    finally:
        conn.close()
    body = wait(client, imp["fid"])
    assert body["state"] == "ready" and [r["outcome"] for r in body["rows"]] == ["change", "new"]


# ------------------------------------------------------------------------------------------------ large files
# 400 rows: 16 progress steps of analysis.PROGRESS_EVERY each way; 2,000 took 40 s on PostGIS and showed nothing more
ROWS = 400


def test_a_large_file_runs_in_the_background_with_progress(client):
    lines = ["name,level,lon,lat"] + [f"大批量点{i},一般,{106.0 + (i % 60) * 0.01:.4f},{26.0 + (i // 60) * 0.01:.4f}"
                                      for i in range(ROWS)]
    r = upload(client, "\n".join(lines).encode(), "big.csv")
    assert r.status_code == 202 and r.get_json()["state"] == "analysing"
    seen: list = []
    body = wait(client, r.get_json()["id"], seen=seen)
    assert body["counts"]["new"] == ROWS
    analysing = [done for state, done, total in seen if state == "analysing"]
    assert analysing == sorted(analysing) and seen[0][2] == ROWS
    r = client.post(f"/api/imports/{body['id']}/confirm", headers=bearer("admin"),
                    json={"generation": body["generation"], "reason": "bulk"})
    assert r.status_code == 202 and r.get_json()["progress"] == {"phase": "proposing", "done": 0, "total": ROWS}
    seen = []
    done = wait(client, body["id"], seen=seen)
    proposing = [d for state, d, _ in seen if state == "proposing"]
    assert proposing == sorted(proposing) and any(0 < d < ROWS for d in proposing)
    assert done["state"] == "done" and done["progress"]["done"] == ROWS
    assert done["counts"]["result_proposed"] == ROWS


# ------------------------------------------------------------------------------------------ pages and user text
def test_user_text_is_shown_as_text_on_the_pages(client):
    from .conftest import login
    name = "{{7*7}}<script>alert(1)</script>"
    csv = f"name,lon,lat\n\"{name}\",108.05,26.45\n".encode()
    body = imported(client, csv, "x{{9*9}}.csv")
    login(client, "admin")
    page = client.get(f"/imports/{body['id']}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "{{7*7}}&lt;script&gt;" in page and "x{{9*9}}.csv" in page   # shown as typed, never evaluated
    overlay = page.split('class="map-overlays"')[1]
    assert "\\u003cscript\\u003e" in overlay and "{{7*7}}" in overlay


# ------------------------------------------------------------------------------------------------ API contract
def test_every_import_call_is_in_the_openapi_document(client):
    from openapi_spec_validator import validate
    doc = client.get("/ogcapi/api").get_json()
    validate(doc)
    paths = {p: sorted(ops) for p, ops in doc["paths"].items() if p.startswith("/api/imports")}
    assert paths == {"/api/imports": ["get", "post"], "/api/imports/{import_id}": ["get"],
                     "/api/imports/{import_id}/mapping": ["post"], "/api/imports/{import_id}/confirm": ["post"],
                     "/api/imports/{import_id}/summary": ["get"], "/api/imports/{import_id}/summary.csv": ["get"]}
    assert doc["paths"]["/api/imports"]["post"]["responses"]["202"]["content"]["application/json"]["schema"] == \
        {"$ref": "#/components/schemas/Import"}
    assert "ImportRow" in doc["components"]["schemas"]


def test_hostile_uploads_are_refused_before_anything_is_kept(client):
    deep = ("[" * 100 + "]" * 100).encode()
    r = upload(client, b'{"type": "FeatureCollection", "features": ' + deep + b"}", "deep.geojson")
    assert r.status_code in (400, 422) and r.mimetype == "application/problem+json"
    bomb = io.BytesIO()
    import zipfile
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("../../evil.shp", b"x")
    r = upload(client, bomb.getvalue(), "evil.zip")
    assert r.status_code == 422 and "path traversal" in r.get_json()["detail"]
    r = upload(client, GBK_CSV.encode("gbk"), "ok.csv", mapping="[" * 100 + "]" * 100)
    assert r.status_code in (400, 422)
    assert client.get("/api/imports", headers=bearer("admin")).get_json()["imports"] == []
