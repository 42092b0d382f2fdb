"""A report's receipt gives the reporter what to quote and whom to call: the reference number, prominent, and the
office's hotline (config REPORT_HOTLINE) on the receipt and the report form; no number when none is configured."""
from __future__ import annotations

import re

from fossil_registry import create_app

from .conftest import csrf_token, login

HOTLINE = "0851-86812345"


def _report(client) -> str:
    r = client.post("/report", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(client, "/report"), "kind": "find", "coordinates": "105.372, 25.878",
        "description": "施工中在路堑边发现化石，已停工保护现场。"})
    assert r.status_code == 303, r.get_data(as_text=True)
    return r.headers["Location"]


def test_the_receipt_names_the_hotline_and_the_reference_to_quote(demo_data_dir):
    app = create_app({"TESTING": True, "DATA_DIR": str(demo_data_dir), "SECRET_KEY": "x", "REPORT_HOTLINE": HOTLINE,
                      "PUBLIC_BASE_URL": "https://fossils.example.gov.cn"})
    client = app.test_client()
    assert HOTLINE in client.get("/report?lang=zh").get_data(as_text=True)
    receipt = _report(client)
    page = client.get(receipt + "?lang=zh").get_data(as_text=True)
    reference = re.search(r'<strong class="reference" id="reference">([^<]+)</strong>', page).group(1)
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", reference)
    hotline = re.search(r'<p class="hotline" id="hotline">([^<]+)</p>', page).group(1)
    assert HOTLINE in hotline and "受理编号" in hotline
    # the address is written out from the published address, for the reporter who did not bookmark it
    assert "https://fossils.example.gov.cn/report/" in page
    # staff find the report by the reference the reporter quotes on the phone
    staff = login(app.test_client(), "expert")
    found = staff.get(f"/reports?reference={reference}")
    assert found.status_code in (302, 303) and re.search(r"/reports/\d+$", found.headers["Location"])


def test_no_hotline_configured_shows_no_number(app, client):
    assert 'id="hotline"' not in client.get("/report").get_data(as_text=True)
    page = client.get(_report(client)).get_data(as_text=True)
    assert 'id="hotline"' not in page and 'id="reference"' in page and "Write down this reference number" in page
