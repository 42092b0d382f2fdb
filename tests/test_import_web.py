"""The site import's pages (signed-in admin, CSRF tokens on every form): upload refusals that say what to choose, the
mapping form, the confirmation form and the summary page."""
from __future__ import annotations

import io
import re

from shapely.geometry import Point

from .conftest import csrf_token, login
from .import_helpers import gk108, shapefile_zip, wait


def _post_file(client, data: bytes, filename: str, **fields):
    return client.post("/imports", data={"file": (io.BytesIO(data), filename), "csrf_token": csrf_token(client,
                                                                                                      "/imports"),
                                         **fields}, content_type="multipart/form-data")


def _id(response) -> int:
    return int(re.search(r"/imports/(\d+)$", response.headers["Location"]).group(1))


def test_the_upload_form_refuses_a_file_without_its_crs_and_points_at_the_choice(client):
    login(client, "admin")
    e, n = gk108(107.98, 26.58)
    data = shapefile_zip([{"名称": "无投影点"}], [Point(e, n)], prj=False)
    r = _post_file(client, data, "noprj.zip")
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and 'id="import-error"' in page and "choose it" in page
    chosen = page.split('<label class="needs-choice">')
    assert len(chosen) == 2 and chosen[1].index('name="crs"') < 200   # the CRS choice is the one pointed at
    assert "CGCS2000 Gauss-Krüger 3° CM 108°E (EPSG:4545)" in client.get("/imports?lang=en").get_data(as_text=True)
    r = _post_file(client, data, "noprj.zip", crs="other", crs_other="EPSG:4545")
    assert r.status_code == 303
    body = wait(client, _id(r), who="admin")
    assert body["preview"]["crs"]["key"] == "EPSG:4545" and body["rows"][0]["outcome"] == "new"


def test_columns_are_mapped_on_the_page_and_the_rows_checked_again(client):
    login(client, "admin")
    csv = "地点,东经度数,北纬度数,保护\n榕江新点,108.52,25.93,一般\n".encode()
    r = _post_file(client, csv, "odd.csv")
    import_id = _id(r)
    body = wait(client, import_id)
    assert body["preview"]["with_geometry"] == 0 and body["rows"][0]["outcome"] == "refused"
    page = client.get(f"/imports/{import_id}").get_data(as_text=True)
    assert 'name="map_0"' in page and 'name="map_3"' in page
    r = client.post(f"/imports/{import_id}/mapping", data={
        "csrf_token": csrf_token(client, f"/imports/{import_id}"), "map_0": "name", "map_1": "x", "map_2": "y",
        "map_3": "level", "match": "", "distance_m": "50", "tolerance_m": "0.5", "encoding": "", "crs": ""})
    assert r.status_code == 303
    body = wait(client, import_id)
    assert body["generation"] == 2 and body["mapping"] == {"地点": "name", "东经度数": "x", "北纬度数": "y",
                                                           "保护": "level"}
    assert body["rows"][0]["outcome"] == "new" and body["rows"][0]["location"] == [108.52, 25.93]
    r = client.post(f"/imports/{import_id}/mapping", data={
        "csrf_token": csrf_token(client, f"/imports/{import_id}"), "map_0": "name", "map_1": "name"})
    assert r.status_code == 422 and "both mapped to name" in r.get_data(as_text=True)


def test_confirming_on_the_page_leads_to_the_summary(client):
    login(client, "admin")
    r = _post_file(client, "名称,经度,纬度\n榕江新点,108.52,25.93\n没有坐标的点,,\n".encode(), "two.csv")
    import_id = _id(r)
    wait(client, import_id)
    page = client.get(f"/imports/{import_id}").get_data(as_text=True)
    generation = re.search(r'name="generation" value="(\d+)"', page).group(1)
    token = csrf_token(client, f"/imports/{import_id}")
    missing = client.post(f"/imports/{import_id}/confirm", data={"csrf_token": token, "generation": generation})
    assert missing.status_code == 422 and "needs a reason" in missing.get_data(as_text=True)
    r = client.post(f"/imports/{import_id}/confirm", data={"csrf_token": token, "generation": generation,
                                                           "reason": "2025 榕江调查", "method": "handheld_gnss",
                                                           "accuracy_m": "5", "survey_date": "2025-04-02"})
    assert r.status_code == 303
    body = wait(client, import_id)
    rid = body["rows"][0]["revision"]
    summary = client.get(f"/imports/{import_id}").get_data(as_text=True)
    assert f'href="/revisions/{rid}"' in summary and 'id="summary-csv"' in summary
    assert "没有坐标的点" in summary.split('id="refused"')[1]
    proposal = client.get(f"/api/revisions/{rid}").get_json()
    assert proposal["method"] == "handheld_gnss" and proposal["accuracy_m"] == 5 and \
        proposal["survey_date"] == "2025-04-02" and proposal["reason"].startswith("2025 榕江调查 (import #")


def test_only_admins_see_the_import(client):
    login(client, "expert")
    assert client.get("/imports").status_code == 403
    assert 'href="/imports"' not in client.get("/account").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    login(client, "admin")
    page = client.get("/account?lang=en").get_data(as_text=True)
    assert 'href="/imports"' in page
    assert "Import sites" in client.get("/imports?lang=en").get_data(as_text=True)
    assert "导入化石点" in client.get("/imports?lang=zh").get_data(as_text=True)
