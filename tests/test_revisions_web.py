"""The revision workflow's web pages: forms (typed, drawn, uploaded), review with map and figures, decisions, change
requests and resubmission, conflicts and rebasing, batch approval, history with comparison and restoration."""
from __future__ import annotations

import html
import io
import json
import re

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import LineString, box, mapping

from fossil_registry import sites
from fossil_registry.db import get_conn

from .conftest import csrf_token, login
from .test_revisions import BOWTIE, counts


def signed_in(app, who):
    return login(app.test_client(), who)


def submit(client, data, files=None, site="GZ-0003"):
    form = {"csrf_token": csrf_token(client, f"/revisions/new?site={site}" if site else "/revisions/new"), **data}
    if site:
        form.setdefault("site", site)
        form.setdefault("base_version", "1")
    form.update(files or {})
    return client.post("/revisions/new", data=form, content_type="multipart/form-data")


def seen(client, rid) -> dict:
    """What the decision form of /revisions/<rid> carries: its CSRF token and the round the reviewer is looking at."""
    page = client.get(f"/revisions/{rid}").get_data(as_text=True)
    form = re.search(r'<form[^>]*id="decision-form".*?</form>', page, re.S).group(0)
    return {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', form).group(1),
            "round": re.search(r'name="round" value="(\d+)"', form).group(1)}


def text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def rid_of(response) -> int:
    assert response.status_code == 303, text(response)[:3000]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_form_has_the_drawing_map_with_self_hosted_assets(app):
    field = signed_in(app, "field")
    r = field.get("/revisions/new?site=GZ-0003")
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "/static/vendor/leaflet-draw/leaflet.draw.js" in page and "/static/vendor/leaflet/leaflet.js" in page
    assert "cdn" not in page.lower() and "unpkg" not in page
    nonce = re.search(r"'nonce-([^']+)'", r.headers["Content-Security-Policy"]).group(1)
    # every inline script carries the nonce; JSON data blocks (type="application/json") are never run, and carry none
    inline = [tag for tag in re.findall(r"<script\b[^>]*>", page) if "src=" not in tag
              and 'type="application/json"' not in tag]
    assert inline and all(f'nonce="{nonce}"' in tag for tag in inline)
    config = json.loads(html.unescape(re.search(r'data-config="([^"]+)"', page).group(1)))
    assert config["boundary"]["type"] == "MultiPolygon" and config["boundary_input"] == "boundary_drawn"
    assert 'name="base_version" value="1"' in page and "revisions-form.js" in page


def test_typed_location_through_the_form_and_the_review_page(app):
    field = signed_in(app, "field")
    rid = rid_of(submit(field, {"location_text": "25.9025, 105.5855", "reason": "RTK resurvey", "method": "rtk",
                                "accuracy_m": "0.05", "survey_date": "2026-03-14"}))
    page = text(field.get(f"/revisions/{rid}"))
    assert f"Proposal #{rid}" in page and "waiting for review" in page and "RTK resurvey" in page
    assert re.search(r'data-metric="location_shift_m"><th>Location shift \(m\)</th><td>[\d,.]+</td>', page)
    assert "Proposed location" in page and "Current boundary" in page  # both on the map
    assert 'id="decision-form"' not in page  # authors never see the decision form
    expert = signed_in(app, "expert")
    page = text(expert.get(f"/revisions/{rid}"))
    assert 'id="decision-form"' in page and "Approve: write the next site version" in page
    r = expert.post(f"/revisions/{rid}/decision", data={**seen(expert, rid), "decision": "approve"})
    assert r.status_code == 303
    page = text(expert.get(f"/revisions/{rid}"))
    assert "Approved: GZ-0003 is now at version 2." in page and "applied as GZ-0003 version 2" in page
    with app.app_context():
        site = sites.current(get_conn(), "GZ-0003")
        assert (site.location.x, site.location.y) == (105.5855, 25.9025)


def test_form_error_rerenders_with_the_offered_repair(app):
    field = signed_in(app, "field")
    before = counts(app)
    r = submit(field, {"boundary_drawn": json.dumps(BOWTIE), "reason": "drawn on site"})
    assert r.status_code == 422
    page = text(r)
    assert "boundary ring self-intersects at 105.585 25.9" in page and 'name="accept_repair"' in page
    assert "Suggested repair" in page  # drawn on the map
    kept = re.search(r'id="boundary_drawn" value="([^"]+)"', r.get_data(as_text=True)).group(1)
    assert json.loads(html.unescape(kept)) == BOWTIE  # what was drawn is kept for the next attempt
    assert counts(app) == before
    rid = rid_of(submit(field, {"boundary_drawn": json.dumps(BOWTIE), "reason": "drawn on site",
                                "accept_repair": "true"}))
    assert "repaired" in text(field.get(f"/revisions/{rid}"))


def test_missing_reason_and_bad_coordinates_are_explained_in_the_form(app):
    field = signed_in(app, "field")
    before = counts(app)
    r = submit(field, {"location_text": "25.9025, 105.5855", "reason": ""})
    assert r.status_code == 422 and "needs a reason" in text(r)
    r = submit(field, {"location_text": "25.9025, 105.5855, 77", "reason": "x"})
    assert r.status_code == 422 and 'role="alert"' in text(r)
    assert counts(app) == before


def test_file_upload_and_new_site_through_the_form(app, tmp_path):
    ring = list(box(105.580, 25.896, 105.590, 25.906).exterior.coords)[:-1]
    walk = ring + [(ring[0][0] - 0.00005, ring[0][1] + 0.00005)]  # ends ~7 m from the start
    path = tmp_path / "walk.gpx"
    pyogrio.write_dataframe(gpd.GeoDataFrame({"name": ["边界巡走"]}, geometry=[LineString(walk)], crs="EPSG:4326"),
                            path, driver="GPX", layer_options={"FORCE_GPX_TRACK": "YES"})
    field = signed_in(app, "field")
    rid = rid_of(submit(field, {"reason": "walked the boundary", "target": "boundary"},
                        files={"file": (io.BytesIO(path.read_bytes()), "walk.gpx")}))
    page = text(field.get(f"/revisions/{rid}"))
    assert "GPX · walk.gpx · EPSG:4326" in page and "closed into a boundary" in page
    rid = rid_of(submit(field, {"name": "新发现鱼化石点", "location_text": "26.0512, 105.7001",
                                "fossil_groups": "fishes", "reason": "found during road works"}, site=None))
    page = text(field.get(f"/revisions/{rid}"))
    assert "new site" in page and "新发现鱼化石点" in page and "sensitivity 'hidden'" in page


def test_request_changes_then_amend_in_the_ui(app):
    field, expert = signed_in(app, "field"), signed_in(app, "expert")
    rid = rid_of(submit(field, {"location_text": "25.9026, 105.5856", "reason": "phone GPS"}))
    token = csrf_token(expert, f"/revisions/{rid}")
    expert.post(f"/revisions/{rid}/decision", data={**seen(expert, rid), "decision": "request_changes"})
    assert "needs a reason" in text(expert.get(f"/revisions/{rid}"))  # refused, said why
    expert.post(f"/revisions/{rid}/decision", data={**seen(expert, rid), "decision": "request_changes",
                                                    "comment": "give the accuracy, please"})
    inbox = text(field.get("/revisions"))
    assert "1 sent back to you" in inbox and "“give the accuracy, please” — ellen" in inbox
    form = field.get(f"/revisions/{rid}/amend")
    assert form.status_code == 200 and "The reviewer asked:" in text(form)
    r = field.post(f"/revisions/{rid}/amend", data={
        "csrf_token": csrf_token(field, f"/revisions/{rid}/amend"), "accuracy_m": "3", "method": "handheld_gnss",
        "reason": "phone GPS", "comment": "about 3 m"}, content_type="multipart/form-data")
    assert r.status_code == 303, text(r)[:2000]
    page = text(field.get(f"/revisions/{rid}"))
    assert "waiting for review" in page and "round 2" in page and "3.0 m" in page
    assert re.search(r"fiona</strong> resubmitted: “about 3 m”", page)


def test_own_proposal_cannot_be_decided_in_the_ui(app):
    expert = signed_in(app, "expert")
    rid = rid_of(submit(expert, {"location_text": "25.9027, 105.5857", "reason": "own"}))
    page = text(expert.get(f"/revisions/{rid}"))
    assert 'id="own-proposal-note"' in page and 'id="decision-form"' not in page
    r = expert.post(f"/revisions/{rid}/decision", data={"csrf_token": csrf_token(expert, f"/revisions/{rid}"),
                                                        "decision": "approve"})
    assert r.status_code == 403 and "nobody reviews their own proposal" in text(r)


def test_review_queue_counts_and_batch_approval(app):
    field, expert = signed_in(app, "field"), signed_in(app, "expert")
    a = rid_of(submit(field, {"location_text": "25.9028, 105.5858", "reason": "a"}))
    b = rid_of(submit(field, {"location_text": "25.8783, 105.3723", "reason": "b"}, site="GZ-0001"))
    own = rid_of(submit(expert, {"location_text": "25.5553, 104.6903", "reason": "own"}, site="GZ-0010"))
    page = text(expert.get("/review"))
    assert "2 proposals by others wait for review" in page
    assert f'value="{a}:1" form="batch-form"' in page and f'value="{own}:1" form="batch-form"' not in page
    assert "by others wait for your review" in text(expert.get("/revisions"))
    r = expert.post("/review/batch", data={"csrf_token": csrf_token(expert, "/review"), "items": [f"{a}:1", f"{b}:1"],
                                           "comment": "campaign checked"})
    assert r.status_code == 303
    page = text(expert.get("/review"))
    assert f"Approved 2 proposal(s): #{a} → GZ-0003 v2, #{b} → GZ-0001 v2." in page
    assert "0 proposals by others wait for review" in page


def test_conflict_view_and_rebase_in_the_ui(app):
    field, expert = signed_in(app, "field"), signed_in(app, "expert")
    first = rid_of(submit(field, {"location_text": "25.9029, 105.5859", "reason": "first"}))
    second = rid_of(submit(field, {"formation": "Zhuganpo Formation", "reason": "second"}))
    token = csrf_token(expert, f"/revisions/{first}")
    expert.post(f"/revisions/{first}/decision", data={**seen(expert, first), "decision": "approve"})
    page = text(expert.get(f"/revisions/{second}"))
    assert 'id="conflict"' in page and "based on version 1, but GZ-0003 is now at version 2" in page
    assert "Rebase onto version 2" in page and "Zhuganpo Formation" in page
    expert.post(f"/revisions/{second}/decision", data={**seen(expert, second), "decision": "approve"})
    assert "has changed since this proposal was made" in text(expert.get(f"/revisions/{second}"))
    assert expert.post(f"/revisions/{second}/rebase", data={"csrf_token": token}).status_code == 303
    page = text(expert.get(f"/revisions/{second}"))
    assert "now builds on version 2" in page and 'id="conflict"' not in page
    expert.post(f"/revisions/{second}/decision", data={**seen(expert, second), "decision": "approve"})
    assert "applied as GZ-0003 version 3" in text(expert.get(f"/revisions/{second}"))


def test_history_compare_and_restore(app):
    field, expert, admin = signed_in(app, "field"), signed_in(app, "expert"), signed_in(app, "admin")
    rid = rid_of(submit(field, {"boundary_drawn": json.dumps(mapping(box(105.581, 25.897, 105.589, 25.905))),
                                "name": "永宁海百合化石点", "reason": "new outline from the 2026 survey"}))
    expert.post(f"/revisions/{rid}/decision", data={**seen(expert, rid), "decision": "approve",
                                                    "comment": "fits the outcrop"})
    page = text(field.get("/sites/GZ-0003/history"))
    assert re.search(r'data-version="2".*?changed.*?fiona.*?ellen.*?new outline from the 2026 survey', page)
    assert "Propose restoring" not in page  # admins only
    assert 'data-metric="area_change_pct"' in page and 'data-field="name"' in page and "Area removed" in page
    page = text(admin.get("/sites/GZ-0003/history?a=1&b=2"))
    assert "Propose restoring v1" in page
    r = admin.post("/sites/GZ-0003/restore", data={"csrf_token": csrf_token(admin, "/sites/GZ-0003/history"),
                                                   "version": "1", "reason": "the 2026 outline was wrong"})
    restore = rid_of(r)
    page = text(admin.get(f"/revisions/{restore}"))
    assert "restore version" in page and "restores version 1" in page and 'id="decision-form"' not in page
    expert.post(f"/revisions/{restore}/decision", data={**seen(expert, restore), "decision": "approve"})
    with app.app_context():
        conn = get_conn()
        v1, v3 = sites.at_version(conn, "GZ-0003", 1), sites.current(conn, "GZ-0003")
        assert v3.version == 3 and v3.boundary.equals(v1.boundary) and v3.properties == v1.properties
    assert field.post("/sites/GZ-0003/restore", data={"csrf_token": csrf_token(field, "/revisions"),
                                                      "version": "1", "reason": "x"}).status_code == 403


@pytest.mark.parametrize("path", ["/revisions", "/review", "/revisions/new?site=GZ-0003", "/sites/GZ-0003/history"])
def test_pages_are_bilingual(app, path):
    expert = signed_in(app, "expert")
    zh = text(expert.get(path + ("&" if "?" in path else "?") + "lang=zh"))
    en = text(expert.get(path + ("&" if "?" in path else "?") + "lang=en"))
    assert zh != en
    english_only = ["Review queue", "Your proposals", "Propose a change to", "Compare two versions"]
    assert not any(s in zh for s in english_only)


def test_the_review_form_decides_on_the_round_it_was_rendered_with(app):
    field, expert = signed_in(app, "field"), signed_in(app, "expert")
    rid = rid_of(submit(field, {"formation": "Falang Formation", "reason": "harmless"}))
    form = seen(expert, rid)  # the expert opens the proposal (round 1) ...
    assert form["round"] == "1"
    r = field.post(f"/revisions/{rid}/amend", data={"csrf_token": csrf_token(field, f"/revisions/{rid}/amend"),
                                                    "sensitivity": "open", "location_text": "25.9, 105.6"})
    assert r.status_code == 303  # ... the author amends it meanwhile ...
    r = expert.post(f"/revisions/{rid}/decision", data={**form, "decision": "approve"})
    page = text(expert.get(f"/revisions/{rid}"))  # ... and the approval made on round 1 is refused, saying why
    assert "has changed since you opened it" in page and "waiting for review" in page
    assert seen(expert, rid)["round"] == "2"
    r = expert.post(f"/revisions/{rid}/decision", data={"csrf_token": form["csrf_token"], "decision": "approve"})
    assert "say which round" in text(expert.get(f"/revisions/{rid}"))
    expert.post(f"/revisions/{rid}/decision", data={**seen(expert, rid), "decision": "approve"})
    assert "applied as GZ-0003 version 2" in text(expert.get(f"/revisions/{rid}"))


# ------------------------------------------------------------------------------------------------ every field, every kind
SITE_FIELDS = {"name": "全字段化石点", "name_en": "Every-field site", "county": "测试县", "county_en": "Test County",
               "age": "Middle Triassic, Ladinian", "formation": "Zhuganpo Formation", "description": "海百合与鱼龙",
               "description_en": "Crinoids and ichthyosaurs", "level": "national", "period": "Permian",
               "fossil_groups": ["fishes", "ichthyosaurs"], "sensitivity": "generalized", "established": "2014-06-30",
               "status": "active"}
SECTION_FIELDS = {"name": "全字段剖面", "name_en": "Every-field section", "county": "测试县", "county_en": "Test County",
                  "age": "Cambrian, Series 2", "formation": "Test Formation", "description": "测试剖面",
                  "description_en": "A test section", "level": "general", "significance": "gssp_candidate",
                  "period": "Ordovician", "units": ["Kaili Formation", "Balang Member"],
                  "stratigraphic_boundaries": [{"name": "base of the Wuliuan Stage", "rank": "stage",
                                                "gssp": "candidate"},
                                               {"name": "base of the Kaili biota beds", "rank": "biozone",
                                                "gssp": None}],
                  "sensitivity": "generalized", "established": "2019-05-21", "status": "active"}
SECTION_LINE = {"type": "LineString", "coordinates": [[108.4262, 26.7330], [108.4266, 26.7336], [108.4270, 26.7341]]}
# How each value of SECTION_FIELDS / SITE_FIELDS reads on a page (lists and lists of objects included): a value of a
# vocabulary by its label
READABLE = {"fossil_groups": "fishes, ichthyosaurs", "units": "Kaili Formation, Balang Member",
            "stratigraphic_boundaries": "base of the Wuliuan Stage (GSSP candidate, stage); "
                                        "base of the Kaili biota beds (biozone)",
            "significance": "GSSP candidate", "sensitivity": "location generalized for the public"}
LEVEL_READS = {"national": "national key site", "general": "general site"}


class TestEveryFieldOfEveryKindIsShown:
    """A proposal of each feature kind (new and changed) with every field filled: its page, the review queue and, once
    approved, the history comparison answer 200 and show each field readably (a section's boundaries were a 500)."""

    PROPOSALS = {
        "new site": ("/api/revisions", {"location": {"type": "Point", "coordinates": [105.61, 25.91]},
                                        "boundary": mapping(box(105.605, 25.905, 105.615, 25.915))}, SITE_FIELDS),
        "site change": ("/api/sites/GZ-0003/revisions", {"base_version": 1}, SITE_FIELDS),
        "new section": ("/api/sections", {"line": SECTION_LINE}, SECTION_FIELDS),
        "section change": ("/api/sections/GZS-0001/revisions", {"base_version": 1, "line": SECTION_LINE},
                           SECTION_FIELDS),
    }

    @staticmethod
    def propose(app, which: str) -> tuple[int, dict]:
        from .conftest import bearer
        url, geometry, fields = TestEveryFieldOfEveryKindIsShown.PROPOSALS[which]
        r = app.test_client().post(url, headers=bearer("field"),
                                   json={"reason": f"every field of a {which}", **geometry, "properties": fields})
        assert r.status_code == 201, r.get_json()
        return r.get_json()["id"], fields

    @staticmethod
    def assert_every_field_shown(page: str, fields: dict) -> None:
        for field, value in fields.items():
            if field == "status":  # active: unchanged for a change, the default for a new feature
                continue
            row = re.search(rf'<tr data-field="{field}"[^>]*>(.*?)</tr>', page, re.S)
            assert row, field
            expected = READABLE.get(field) or (LEVEL_READS.get(value, value) if field == "level" else value)
            assert expected in html.unescape(re.sub(r"\s+", " ", row.group(1))), (field, row.group(1))

    @pytest.mark.parametrize("which", list(PROPOSALS))
    def test_the_proposal_page_shows_every_field(self, app, which):
        rid, fields = self.propose(app, which)
        expert = signed_in(app, "expert")
        r = expert.get(f"/revisions/{rid}")
        assert r.status_code == 200
        self.assert_every_field_shown(r.get_data(as_text=True), fields)
        assert expert.get(f"/revisions/{rid}?lang=zh").status_code == 200
        author = signed_in(app, "field")
        assert author.get(f"/revisions/{rid}").status_code == 200
        assert author.get(f"/revisions/{rid}/amend").status_code == 200

    @pytest.mark.parametrize("which", list(PROPOSALS))
    def test_the_review_queue_and_the_history_show_it(self, app, which):
        rid, fields = self.propose(app, which)
        expert = signed_in(app, "expert")
        queue = expert.get("/review")
        assert queue.status_code == 200 and f'id="rev-{rid}"' in queue.get_data(as_text=True)
        expert.post(f"/revisions/{rid}/decision", data={**seen(expert, rid), "decision": "approve"})
        rev = expert.get(f"/api/revisions/{rid}").get_json()
        assert rev["status"] == "approved", rev
        code, version = rev["site"], rev["site_version"]
        r = expert.get(f"/sites/{code}/history" + (f"?a={version - 1}&b={version}" if version > 1 else ""))
        assert r.status_code == 200
        if version > 1:
            self.assert_every_field_shown(r.get_data(as_text=True), {k: v for k, v in fields.items()
                                                                     if k != "sensitivity"})
