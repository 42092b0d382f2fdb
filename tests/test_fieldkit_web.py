"""The field-kit pages: check out from the form, check in the edited kit, and the summary page (proposals with links,
stale ones marked, refusals with their reasons, photos not attached), in English and Chinese; bad uploads answer
with the page and the reason."""
from __future__ import annotations

import io
import re
import zipfile

from fossil_registry import sites
from fossil_registry.db import get_conn

from .conftest import csrf_token, login
from .fieldkit_helpers import ogr_sql, zip_folder


def _checkout_form(client, tmp_path, **form):
    token = csrf_token(client, "/fieldkit")
    r = client.post("/fieldkit", data={"csrf_token": token, **form})
    assert r.status_code == 200 and r.mimetype == "application/zip", r.get_data(as_text=True)[:500]
    assert re.match(r"attachment; filename=fieldkit-[0-9a-f]{8}\.zip", r.headers["Content-Disposition"])
    with zipfile.ZipFile(io.BytesIO(r.data)) as zf:
        zf.extractall(tmp_path / "kit")
    return next((tmp_path / "kit").iterdir())


def _checkin_form(client, data: bytes, filename: str):
    token = csrf_token(client, "/fieldkit")
    return client.post("/fieldkit/checkin", data={"csrf_token": token, "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def test_the_page_offers_counties_and_is_in_the_menu(client):
    login(client, "field")
    page = client.get("/fieldkit").get_data(as_text=True)
    assert ">关岭布依族苗族自治县 (4)</option>" in page and 'action="/fieldkit/checkin"' in page
    assert "No offline basemap is configured" in page
    assert 'href="/fieldkit"' in client.get("/account").get_data(as_text=True)
    zh = client.get("/fieldkit?lang=zh").get_data(as_text=True)
    assert "领取工具包" in zh and "回传工具包" in zh


def test_check_out_edit_check_in_and_read_the_summary(client, app, tmp_path):
    login(client, "field")
    folder = _checkout_form(client, tmp_path, area="county", county="关岭布依族苗族自治县")
    with app.app_context():  # GZ-0002 moves on while the team is out
        sites.change_site(get_conn(), "GZ-0002", base_version=1, properties={"age": "Carnian"}, author="ada",
                          reason="literature update")
    gpkg = folder / "fieldkit.gpkg"
    ogr_sql(gpkg, "UPDATE site_locations SET age = 'Ladinian', photo = 'DCIM/{{ 7*7 }}.jpg' WHERE code = 'GZ-0001'")
    ogr_sql(gpkg, "UPDATE site_locations SET formation = 'Falang Formation' WHERE code = 'GZ-0002'")
    ogr_sql(gpkg, "UPDATE site_locations SET fossil_groups = 'dragons' WHERE code = 'GZ-0003'")
    r = _checkin_form(client, zip_folder(folder), "kit.zip")
    assert r.status_code == 303 and re.fullmatch(r"/fieldkit/checkins/\d+", r.headers["Location"])
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    links = re.findall(r'href="/revisions/(\d+)"', page)
    assert len(links) == 2
    assert "stale: the site is now at version 2" in page and "based on version 1" in page
    assert "unknown fossil group(s) dragons" in page
    assert "GZ-0004" in page.split('id="unchanged"')[1]
    assert '<span class="mono">DCIM/{{ 7*7 }}.jpg</span>' in page and "49.jpg" not in page  # user text is data
    assert "not in the uploaded zip" in page
    zh = client.get(r.headers["Location"] + "?lang=zh").get_data(as_text=True)
    assert "已提交 2 个提案" in zh and "已过时" in zh
    # in Chinese throughout: the changes by their fields' names, the reasons stored as messages (issue 25)
    assert "时代" in zh and "地层（组）" in zh and ">age<" not in zh and "formation" not in zh
    assert "未知化石门类 dragons" in zh and "unknown fossil group" not in zh
    assert "不在上传的 zip 压缩包中" in zh and "not in the uploaded zip" not in zh
    kits = client.get("/fieldkit").get_data(as_text=True)
    assert r.headers["Location"] in kits  # the latest check-in of the kit is linked from the list


def test_bad_uploads_answer_with_the_page_and_the_reason(client, tmp_path):
    login(client, "field")
    r = _checkin_form(client, b"not a kit at all", "notes.txt")
    assert r.status_code == 422 and "neither a GeoPackage nor a zip" in r.get_data(as_text=True)
    assert 'id="checkin"' in r.get_data(as_text=True)
    token = csrf_token(client, "/fieldkit")
    r = client.post("/fieldkit/checkin", data={"csrf_token": token}, content_type="multipart/form-data")
    assert r.status_code == 422 and "Choose the kit" in r.get_data(as_text=True)
    r = client.post("/fieldkit", data={"csrf_token": token, "area": "sites", "sites": "GZ-9999"})
    assert r.status_code == 422 and "no site with code GZ-9999" in r.get_data(as_text=True)
    r = client.post("/fieldkit", data={"csrf_token": token, "area": "everywhere"})
    assert r.status_code == 422 and "Choose how the kit" in r.get_data(as_text=True)
