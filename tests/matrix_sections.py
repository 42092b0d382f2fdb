"""Role matrix of stratigraphic sections, protection markers and rescue cases (picked up by tests/test_auth.py)."""
from __future__ import annotations

import itertools

from fossil_registry import rescues, sites, store
from fossil_registry.blobs import BlobStore
from fossil_registry.sections import SECTION

_n = itertools.count(1)


def _version(app, code: str) -> int:
    conn = store.connect(app.config["REGISTRY"])
    try:
        return sites.current(conn, code, kind=SECTION).version
    finally:
        conn.close()


def _case(app) -> int:
    conn = store.connect(app.config["REGISTRY"])
    try:
        case = rescues.open_case(conn, BlobStore(app.config["DATA_DIR"]), {
            "source": "construction", "reported_by": "matrix", "reported_at": "2026-01-05T09:00",
            "point": [105.61, 25.52], "description": "matrix find"}, settings=rescues.Settings.from_config(app.config),
            actor="matrix")
        return case["fid"]
    finally:
        conn.close()


def _marker():
    return {"kind": "boundary_post", "point": f"{105.372 + 0.0001 * next(_n):.5f}, 25.878",
            "inscription": "矩阵界桩"}


WEB = {
    "sections.index": ("GET", "/sections", None, None),
    "sections.section_page": ("GET", "/sections/GZS-0001", None, None),
    "sections.add_marker": ("POST", "/sites/GZ-0001/markers", _marker, "expert"),
    "sections.add_section_marker": ("POST", "/sections/GZS-0001/markers",
                                    lambda: {**_marker(), "point": "108.4268, 26.7338"}, "expert"),
    "inspections.new_for_section": ("GET", "/sections/GZS-0003/inspections/new", None, "expert"),
    "rescues.index": ("GET", "/rescues", None, "field"),
    "rescues.detail": ("GET", lambda app: f"/rescues/{_case(app)}", None, "field"),
    "rescues.create": ("POST", "/rescues", lambda: {
        "source": "other", "reported_by": "matrix", "reported_at": "2026-02-01T10:00", "point": "25.52, 105.61",
        "description": "matrix web find"}, "expert"),
    "rescues.add_event": ("POST", lambda app: f"/rescues/{_case(app)}/events",
                          lambda: {"kind": "note", "note": "matrix"}, "expert"),
}

API = {
    "sections_api.list_sections": ("GET", "/api/sections", None, None),
    "sections_api.get_section": ("GET", "/api/sections/GZS-0001", None, None),
    "sections_api.section_versions": ("GET", "/api/sections/GZS-0001/versions", None, "field"),
    "sections_api.section_diff": ("GET", "/api/sections/GZS-0001/diff?from=1&to=1", None, "field"),
    "sections_api.section_inspections": ("GET", "/api/sections/GZS-0001/inspections", None, "field"),
    "sections_api.feature_markers": ("GET", "/api/sites/GZ-0001/markers", None, None),
    "sections_api.section_markers": ("GET", "/api/sections/GZS-0001/markers", None, None),
    "sections_api.propose_section": ("POST", "/api/sections", lambda: {
        "reason": "matrix", "properties": {"name": f"矩阵剖面 {next(_n)}", "county": "罗甸县"},
        "line": {"type": "LineString", "coordinates": [[106.41, 25.41 + 0.001 * next(_n)], [106.412, 25.412]]}},
        "field"),
    "sections_api.propose_section_change": ("POST", "/api/sections/GZS-0005/revisions", lambda app: {
        "base_version": _version(app, "GZS-0005"), "reason": "matrix",
        "properties": {"age": f"matrix {next(_n)}"}}, "field"),
    "sections_api.inspect_section": ("POST", "/api/sections/GZS-0006/inspections",
                                     lambda: {"date": "2025-06-01", "condition": "good"}, "expert"),
    "sections_api.add_marker": ("POST", "/api/sites/GZ-0003/markers", _marker, "expert"),
    "sections_api.add_section_marker": ("POST", "/api/sections/GZS-0003/markers",
                                        lambda: {**_marker(), "point": [106.4032, 25.4037]}, "expert"),
    "rescues_api.list_cases": ("GET", "/api/rescues", None, "field"),
    "rescues_api.get_case": ("GET", lambda app: f"/api/rescues/{_case(app)}", None, "field"),
    "rescues_api.open_case": ("POST", "/api/rescues", lambda: {
        "source": "construction", "reported_by": "matrix", "reported_at": "2026-03-01T08:00",
        "point": [105.62, 25.53], "description": "matrix API find"}, "expert"),
    "rescues_api.add_event": ("POST", lambda app: f"/api/rescues/{_case(app)}/events",
                              lambda: {"kind": "officials_on_site", "done_at": "2026-01-05T15:00"}, "expert"),
}
