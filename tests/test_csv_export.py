"""Every CSV export neutralises cells a spreadsheet would run as formulas (issue 9, finding 8; OWASP "CSV injection")."""
from __future__ import annotations

import csv
import io

import pytest

from fossil_registry import csv_export, sites
from fossil_registry.db import get_conn

from .conftest import login

FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"click\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
            "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("value", FORMULAS)
def test_formula_cells_are_neutralised(value):
    assert csv_export.cell(value) == "'" + value


@pytest.mark.parametrize("value", ["-12.5", "+3", "1e-3", "永宁", "Guanling = 关岭", 42, -7.25, None])
def test_other_cells_stay_as_they_are(value):
    assert csv_export.cell(value) == ("" if value is None else value)


def _cells(body: bytes) -> list[str]:
    text = body.decode("utf-8-sig")
    return [c for row in csv.reader(io.StringIO(text)) for c in row]


def test_audit_and_inspection_exports_neutralise_user_text(app):
    payload = "=HYPERLINK(\"http://evil.example\",\"x\")"
    with app.app_context():
        conn = get_conn()
        site = sites.current(conn, "GZ-0001")
        sites.change_site(conn, "GZ-0001", base_version=site.version, author="ada", reason=payload,
                          properties={"name": payload, "county": "@SUM(1+1)"})
    admin = login(app.test_client(), "admin")
    # the failed sign-in names an attacker-chosen user name: it lands in the audit trail
    anon = app.test_client()
    page = anon.get("/login").get_data(as_text=True)
    import re
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    anon.post("/login", data={"username": "=1+2", "password": "whatever-123", "csrf_token": token})
    for path in ("/admin/audit.csv", "/inspections.csv"):
        r = admin.get(path)
        assert r.status_code == 200 and r.mimetype == "text/csv" and r.data.startswith("\ufeff".encode())
        cells = _cells(r.data)
        assert not any(c.startswith(("=", "+", "@")) or (c.startswith("-") and not re.fullmatch(r"-[\d.]+", c))
                       for c in cells), [c for c in cells if c[:1] in "=+-@"]
        assert any(c.startswith("'=HYPERLINK") or c.startswith("'@SUM") or c == "'=1+2" for c in cells), path
