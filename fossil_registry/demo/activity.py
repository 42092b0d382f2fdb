"""Illustrative activity for the demo registry: inspections, reviewed revisions, a review queue and public reports.

The demo registry built by :mod:`fossil_registry.demo.build` holds 74 sites with one version each and nothing else, so
every screen of a fresh ``make run`` would be empty (and every site overdue on /inspections). :func:`seed_activity`
adds what a registry in real use looks like, *through the domain modules only* (``inspections.record_inspection``,
``revisions.propose`` / ``decide``, ``reports.submit_report``): every step is validated like a user's request, runs in
its own transaction with its audit record, and the four-eyes rule holds (demo-field proposes, demo-expert decides;
inspections are recorded by demo-expert and demo-admin, who hold ``inspection.write``).

What it adds (all of it ILLUSTRATIVE, like the sites themselves; dates are relative to ``today``, choices come from a
seeded ``random.Random``, so the same ``today`` and ``seed`` give the same content):

* the yearly status survey of the 16 stratigraphic sections (one inspection each in the last year, their protection
  markers found in place);
* inspection records over the last ~3 years: a set of written-out "stories" on national and province-level key sites
  (a quarry expanding near Guanling, road works at Xingyi, rockfall on the Wuliuan GSSP section, illegal digging...)
  with threats, follow-ups (some resolved by a later inspection, three still open, one of them past due), plus short
  routine patrol records on most general sites, so that the schedule shows a realistic mix: a dozen sites overdue, a
  few upcoming, most not yet due;
* six approved revisions (RTK resurvey, boundary enlarged after a new find, redrawn boundary, attribute changes; one
  site reaches version 3), one rejected proposal with the reviewer's reason;
* three proposals waiting for review: a location read from a phone map app in GCJ-02 (with the conversion note), a new
  site (marine reptiles exposed by a quarry near Zhenfeng; hidden by default) and a stale one (its site changed after it
  was proposed: approving it gives the 409 conflict and the three-way view);
* two public reports in the triage queue (damage with a contact, a new find without);
* two rescue cases: the Zhenfeng quarry find (officials on site the same day, 2 specimens rescued and 300 samples
  collected, opinion within the week; its new-site proposal waits in the review queue) and a road-cut find a few
  months ago judged not significant, reached after the 24 hours (the dashboard counts it as missed).

Version timestamps are the time of seeding: the registry's history is append-only and stamped by its own clock, so
revisions cannot be back-dated (their survey dates can be, and are). Inspection dates are the inspection days.
"""
from __future__ import annotations

import json
import math
import random
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Point, mapping
from shapely.ops import nearest_points

from .. import auth, coords, inspections, reports, rescues, revisions, sites, store
from ..errors import NotFound
from ..geometry import GEOD, in_metres
from ..blobs import BlobStore
from ..store import inspections as istore
from ..vocab import Level, RescueEvent, Sensitivity, Threat

DEFAULT_SEED = 20261121
FIELD, EXPERT, ADMIN = "demo-field", "demo-expert", "demo-admin"
DEMO_MARK = "（演示）"


# --------------------------------------------------------------------------------------------------------------------
# Inspections: written-out stories (days before today; "followup" due in days relative to today, may be negative)
# --------------------------------------------------------------------------------------------------------------------
STORIES: list[dict[str, Any]] = [
    # ---- national sites
    {"site": "GZ-0001", "ago": 900, "inspectors": ["罗应华", "王磊"], "condition": "good",
     "findings": "保护标志和围栏完好，化石层出露稳定。",
     "actions": "清理步道两侧灌木。"},
    {"site": "GZ-0001", "ago": 420, "inspectors": ["罗应华", "陈静"], "condition": "fair",
     "threats": [{"threat": Threat.QUARRYING, "severity": "medium",
                  "note": "东北约1.2公里的石灰岩采石场向保护区方向扩展"}],
     "findings": "采石场爆破震动明显，保护区内未见新裂缝。",
     "actions": "拍照记录采石场边界，已告知关岭县自然资源局。",
     "followup": {"key": "guanling-permit", "due": -360,
                  "description": "核实采石场开采许可范围未进入保护区缓冲带"}},
    {"site": "GZ-0001", "ago": 95, "inspectors": ["罗应华", "王磊", "杨帆"], "condition": "fair",
     "threats": [{"threat": Threat.QUARRYING, "severity": "high",
                  "note": "采石场工作面距保护区边界已不足400米"},
                 {"threat": "erosion_landslide", "severity": "low", "note": None}],
     "findings": "许可范围已核实，未越界；但爆破频繁。西南侧新发现的鱼龙骨骼已做临时覆盖保护。",
     "actions": "与采石场负责人面谈，要求提前通报爆破时间。",
     "resolves": ["guanling-permit"],
     "followup": {"key": "guanling-vibration", "due": 45,
                  "description": "在北侧边界安装爆破振动监测仪，与采石场商定爆破时段"}},
    {"site": "GZ-0005", "ago": 700, "inspectors": ["吴晓梅", "张建国"], "condition": "good",
     "threats": [{"threat": "construction", "severity": "low",
                  "note": "县道拓宽工程已立项，线路经过保护区东侧"}],
     "findings": "化石点状况良好，展示棚完好。",
     "actions": "向交通部门提供保护区边界图。"},
    {"site": "GZ-0005", "ago": 330, "inspectors": ["吴晓梅", "赵明"], "condition": "fair",
     "threats": [{"threat": "construction", "severity": "medium",
                  "note": "道路施工距东侧边界约80米，弃土堆在保护区外缘"}],
     "findings": "施工未进入保护区，但弃土压占边缘地带，排水沟被堵。",
     "actions": "现场要求施工方停止堆土。",
     "followup": {"key": "xingyi-road", "due": 25,
                  "description": "沿施工一侧设立界桩和警示牌，督促施工方清运弃土"}},
    {"site": "GZ-0009", "ago": 820, "inspectors": ["黄志强", "刘芳"], "condition": "good",
     "findings": "化石层和保护标志完好。", "actions": ""},
    {"site": "GZ-0009", "ago": 395, "inspectors": ["黄志强"], "condition": "fair",
     "threats": [{"threat": "erosion_landslide", "severity": "medium",
                  "note": "雨季后化石层上方坡面小规模滑塌"}],
     "findings": "滑塌物未覆盖主化石层。",
     "actions": "设置临时警戒线。"},
    {"site": "GZ-0013", "ago": 160, "inspectors": ["杨帆", "李娜"], "condition": "good",
     "threats": [{"threat": "vegetation", "severity": "low", "note": None}],
     "findings": "剖面清晰，游客步道维护良好。",
     "actions": "清除剖面上的苔藓和藤蔓。"},
    {"site": "GZ-0014", "ago": 610, "inspectors": ["杨帆", "李娜"], "condition": "good",
     "findings": "金钉子标志和解说牌完好。", "actions": ""},
    {"site": "GZ-0014", "ago": 80, "inspectors": ["杨帆", "黄志强"], "condition": "poor",
     "threats": [{"threat": "erosion_landslide", "severity": "high",
                  "note": "7月暴雨后落石覆盖剖面下部约15米"}],
     "findings": "剖面下部被落石掩埋，金钉子标志未受损。",
     "actions": "设置警示牌，暂停团队参观。",
     "followup": {"key": "gssp-rockfall", "due": -35,
                  "description": "清理剖面落石并安装防护网"}},
    {"site": "GZ-0017", "ago": 560, "inspectors": ["陈静", "赵明"], "condition": "good",
     "findings": "磷块岩露头稳定。", "actions": ""},
    {"site": "GZ-0017", "ago": 210, "inspectors": ["陈静"], "condition": "fair",
     "threats": [{"threat": "illegal_excavation", "severity": "low",
                  "note": "两处小采样坑，疑为私人采集"}],
     "findings": "采样坑位于保护区边缘，未见大规模破坏。",
     "actions": "回填采样坑，报告县文物管理所。",
     "actor": ADMIN},
    # ---- provincial sites
    {"site": "GZ-0002", "ago": 240, "inspectors": ["罗应华", "王磊"], "condition": "damaged",
     "threats": [{"threat": "illegal_excavation", "severity": "high",
                  "note": "新近盗挖坑3处，含化石岩板被砸碎"}],
     "findings": "盗挖坑深约1米，散落鱼龙椎体碎片。",
     "actions": "拍照取证，已报关岭县公安局和文物部门。",
     "followup": {"key": "huangtutang-fence", "due": -180,
                  "description": "加装围栏和监控摄像头，跟进公安立案"}},
    {"site": "GZ-0002", "ago": 120, "inspectors": ["罗应华"], "condition": "poor",
     "threats": [{"threat": "illegal_excavation", "severity": "medium",
                  "note": "未见新挖掘，但风险仍在"}],
     "findings": "围栏和摄像头已安装，未见新的盗挖痕迹。",
     "actions": "与村委会签订看护协议。",
     "resolves": ["huangtutang-fence"]},
    {"site": "GZ-0003", "ago": 300, "inspectors": ["王磊", "陈静"], "condition": "fair",
     "threats": [{"threat": Threat.QUARRYING, "severity": "medium",
                  "note": "永宁镇南约2公里的采石场扬尘和爆破"}],
     "findings": "海百合层表面有粉尘覆盖，未见结构性破坏。",
     "actions": "", "actor": ADMIN},
    {"site": "GZ-0006", "ago": 692, "inspectors": ["吴晓梅", "张建国"], "condition": "good",
     "findings": "化石点状况良好。", "actions": ""},
    {"site": "GZ-0019", "ago": 450, "inspectors": ["赵明", "刘芳"], "condition": "good",
     "findings": "保护标志完好，无人为活动痕迹。", "actions": ""},
    {"site": "GZ-0022", "ago": 380, "inspectors": ["李娜", "张建国"], "condition": "fair",
     "threats": [{"threat": "illegal_excavation", "severity": "medium",
                  "note": "周末游客敲取化石，网上有定位分享"}],
     "findings": "露头多处新鲜敲击痕。",
     "actions": "建议公开地图上模糊处理该点位置。",
     "actor": ADMIN},
    {"site": "GZ-0024", "ago": 520, "inspectors": ["黄志强", "刘芳"], "condition": "good",
     "threats": [{"threat": "construction", "severity": "low", "note": "新修机耕道"}],
     "findings": "剖面完好。", "actions": ""},
    {"site": "GZ-0026", "ago": 610, "inspectors": ["赵明"], "condition": "fair",
     "threats": [{"threat": "other", "severity": "medium",
                  "note": "煤矿采空区地面沉陷"}],
     "findings": "保护区北部出现地裂缝两条。",
     "actions": "设置观测桩。"},
    {"site": "GZ-0033", "ago": 760, "inspectors": ["黄志强", "赵明"], "condition": "good",
     "findings": "化石点状况良好。", "actions": ""},
    {"site": "GZ-0035", "ago": 200, "inspectors": ["陈静", "李娜"], "condition": "good",
     "threats": [{"threat": "vandalism", "severity": "low", "note": "洞壁新涂鸦"}],
     "findings": "洞内堆积未受扰动。",
     "actions": "清除涂鸦，洞口加装告示牌。"},
    {"site": "GZ-0037", "ago": 330, "inspectors": ["杨帆", "吴晓梅"], "condition": "good",
     "findings": "剖面出露良好；边界界桩与地质图不完全一致。",
     "actions": "记录需重新勾绘边界。"},
    {"site": "GZ-0042", "ago": 480, "inspectors": ["吴晓梅"], "condition": "fair",
     "threats": [{"threat": "vegetation", "severity": "medium", "note": "灌木覆盖界线剖面"}],
     "findings": "界线层位仍可辨认。",
     "actions": "清理剖面植被。"},
    {"site": "GZ-0044", "ago": 705, "inspectors": ["杨帆", "黄志强"], "condition": "good",
     "findings": "剖面完好。", "actions": ""},
    {"site": "GZ-0052", "ago": 250, "inspectors": ["赵明", "李娜"], "condition": "good",
     "findings": "化石点状况良好，标志清晰。", "actions": ""},
    {"site": "GZ-0054", "ago": 150, "inspectors": ["刘芳", "张建国"], "condition": "fair",
     "threats": [{"threat": "construction", "severity": "medium",
                  "note": "西侧茶园扩建平整土地"}],
     "findings": "平整范围距化石层约50米。",
     "actions": "告知茶园业主保护区范围。"},
    # ---- a general (hidden) site
    {"site": "GZ-0020", "ago": 180, "inspectors": ["王磊", "杨帆"], "condition": "good",
     "findings": "抢救发掘区已回填，标志完好。", "actions": ""},
]

INSPECTORS = ["罗应华", "王磊", "陈静", "杨帆", "吴晓梅", "张建国", "李娜", "赵明", "黄志强", "刘芳"]
ROUTINE_GOOD = [
    "例行巡查，未见异常。",
    "保护标志完好，化石层稳定。",
    "例行巡查，露头状况良好。",
]
ROUTINE_FAIR = {
    "vegetation": ("植被生长覆盖部分露头。",
                   "清理露头植被。"),
    "erosion_landslide": ("雨后坡面有少量崩落。",
                          "清理崩落物。"),
    "construction": ("附近新修道路，未进入保护范围。",
                     "提醒施工方保护范围。"),
}
ROUTINE_OVERDUE = 10      # general sites overdue on the dashboard ...
ROUTINE_NEVER = 4         # ... of which never inspected (the others last seen more than three years ago)
ROUTINE_UPCOMING = 3      # general sites whose 3-year interval ends within the next two months


def summary_line(counts: dict[str, int]) -> str:
    return (f"Added illustrative demo activity: {counts['inspections']} inspection records "
            f"({counts['followups_open']} open follow-ups), {counts['revisions_approved']} approved and "
            f"{counts['revisions_rejected']} rejected revisions, {counts['revisions_pending']} proposals waiting for "
            f"review, {counts['reports']} public reports to triage")


def seed_activity(path: str | Path, *, today: date | None = None, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Add the illustrative activity to the demo registry at ``path`` (after ``registry.create_demo_accounts``).
    Returns counts of what was created. Refuses a registry that already has inspections or proposals."""
    settings = inspections.Settings.defaults()
    today = today or inspections.local_today(settings.timezone)
    rng = random.Random(seed)
    conn = store.connect(path)
    try:
        store.migrate(conn)
        for username in (FIELD, EXPERT, ADMIN):
            try:
                auth.get_user(conn, username=username)
            except NotFound:
                raise RuntimeError(f"the demo account {username} does not exist: create the demo accounts first "
                                   "(registry.create_demo_accounts)") from None
        if istore.last_inspections(conn) or revisions.queue(conn, limit=1):
            raise RuntimeError("this registry already has inspections or proposals; demo activity is only added to "
                               "a fresh demo registry")
        counts: Counter = Counter()
        files = BlobStore(Path(path).resolve().parent.parent)  # no photos are added
        _seed_inspections(conn, files, settings, today, rng, counts)
        _seed_revisions(conn, today, counts)
        _seed_reports(conn, files, today, counts)
        _seed_rescues(conn, files, today, counts)
        open_followups = inspections.open_followups(conn, today)
        counts["followups_open"] = len(open_followups)
        counts["followups_overdue"] = sum(1 for f in open_followups if f["overdue"])
        return {k: counts[k] for k in ("inspections", "threats", "followups", "followups_open", "followups_overdue",
                                       "revisions_approved", "revisions_rejected", "revisions_pending",
                                       "site_versions_added", "reports", "rescue_cases")}
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------------------------------
def _routine_plan(conn, today: date, rng: random.Random) -> list[dict[str, Any]]:
    storied = {s["site"] for s in STORIES}
    general = [s for s in sites.list_current(conn) if s.properties.get("level") == Level.GENERAL and s.code not in storied]
    general.sort(key=lambda s: s.code)
    rng.shuffle(general)
    overdue, rest = general[:ROUTINE_OVERDUE], general[ROUTINE_OVERDUE:]
    plan = []
    for i, site in enumerate(overdue[:ROUTINE_OVERDUE - ROUTINE_NEVER] + rest):
        if i < ROUTINE_OVERDUE - ROUTINE_NEVER:
            ago = rng.randint(1110, 1400)   # last seen more than three years ago: overdue by weeks to months
        elif i < ROUTINE_OVERDUE - ROUTINE_NEVER + ROUTINE_UPCOMING:
            ago = rng.randint(1040, 1085)   # due within the next two months
        else:
            ago = rng.randint(25, 980)
        established = site.properties.get("established")
        day = today - timedelta(days=ago)
        if established and day < date.fromisoformat(established):
            day = min(today, date.fromisoformat(established) + timedelta(days=30))
        record: dict[str, Any] = {"site": site.code, "date": day, "inspectors": sorted(rng.sample(INSPECTORS, 2)),
                                  "actor": ADMIN if rng.random() < 0.2 else EXPERT}
        if rng.random() < 0.72:
            record.update(condition="good", findings=rng.choice(ROUTINE_GOOD), actions="")
        else:
            threat = rng.choice(sorted(ROUTINE_FAIR))
            findings, actions = ROUTINE_FAIR[threat]
            record.update(condition="fair", findings=findings, actions=actions,
                          threats=[{"threat": threat, "severity": rng.choice(["low", "low", "medium"]), "note": None}])
        plan.append(record)
    return plan


def _section_survey_plan(conn, today: date, rng: random.Random) -> list[dict[str, Any]]:
    """The yearly status survey of the stratigraphic sections: each inspected once in the last year, its markers
    found in place."""
    from ..sections import SECTION
    from ..store import markers as mstore

    plan = []
    for section in sites.list_current(conn, kind=SECTION):
        fair = rng.random() < 0.2
        plan.append({"site": section.code, "date": today - timedelta(days=rng.randint(20, 330)),
                     "inspectors": sorted(rng.sample(INSPECTORS, 2)), "condition": "fair" if fair else "good",
                     "findings": ("剖面局部被植被覆盖，层序仍可辨认。" if fair else
                                  "剖面出露良好，层序清楚。"),
                     "actions": "年度剖面状况调查。",
                     "threats": [{"threat": "vegetation", "severity": "low", "note": None}] if fair else [],
                     "markers": [{"marker": m["fid"], "condition": "present"} for m in mstore.markers_of(conn,
                                                                                                       section.code)]})
    return plan


def _seed_inspections(conn, files: BlobStore, settings, today: date, rng: random.Random,
                      counts: Counter) -> None:
    plan = []
    for story in STORIES:
        plan.append({**story, "date": today - timedelta(days=story["ago"])})
    plan += _routine_plan(conn, today, rng)
    plan += _section_survey_plan(conn, today, rng)
    plan.sort(key=lambda r: (r["date"], r["site"]))
    followup_ids: dict[str, int] = {}
    for item in plan:
        site = sites.current(conn, item["site"])
        data: dict[str, Any] = {"date": item["date"].isoformat(), "inspectors": item["inspectors"],
                                "condition": item["condition"], "threats": item.get("threats") or [],
                                "findings": item.get("findings", ""), "actions": item.get("actions", "")}
        if "ago" in item:  # the written-out records were made on site with a GNSS fix at the site's point
            data["point"] = mapping(site.location)
        if item.get("followup"):
            fu = item["followup"]
            data["followup"] = {"description": fu["description"], "due": (today + timedelta(days=fu["due"])).isoformat()}
        if item.get("resolves"):
            data["resolves"] = [followup_ids[k] for k in item["resolves"]]
        if item.get("markers"):
            data["markers"] = item["markers"]
        record = inspections.parse_record(data)
        saved = inspections.record_inspection(conn, files, item["site"], record, settings=settings,
                                              actor=item.get("actor", EXPERT), today=today)
        counts["inspections"] += 1
        counts["threats"] += len(saved["threats"])
        if item.get("followup"):
            followup_ids[item["followup"]["key"]] = saved["followups"][0]["fid"]
            counts["followups"] += 1


# --------------------------------------------------------------------------------------------------------------------
def _geojson(geom) -> dict:
    """A geometry as plain GeoJSON (lists, not tuples), as a client would send it."""
    return json.loads(json.dumps(mapping(geom)))


def _moved(point: Point, azimuth: float, metres: float) -> dict:
    lon, lat, _ = GEOD.fwd(point.x, point.y, azimuth, metres)
    return {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]}


def _metric_op(geom, fn):
    """Apply ``fn`` to the geometry in metres and return the result in lon/lat, to 7 decimals."""
    return shapely.transform(in_metres(geom, fn), lambda xy: np.round(xy, 7))


def _enlarged(boundary, azimuth: float, extra_m: float, radius_m: float):
    """The boundary plus a round lobe reaching ``extra_m`` beyond its outermost edge in the direction ``azimuth``
    (degrees clockwise from north). The lobe is built in metres; the union is made in lon/lat so that the original
    vertices stay exactly as they are."""
    def lobe(b):
        c = b.centroid
        far = Point(c.x + 1e5 * math.sin(math.radians(azimuth)), c.y + 1e5 * math.cos(math.radians(azimuth)))
        edge = nearest_points(b.boundary, far)[0]
        dx, dy = far.x - edge.x, far.y - edge.y
        norm = math.hypot(dx, dy)
        centre = Point(edge.x + dx / norm * (extra_m - radius_m), edge.y + dy / norm * (extra_m - radius_m))
        return centre.buffer(radius_m, quad_segs=6)
    return boundary.union(_metric_op(boundary, lobe))


def _redrawn(boundary, grow_m: float, tolerance_m: float):
    return _metric_op(boundary, lambda b: b.buffer(grow_m, quad_segs=4).simplify(tolerance_m))


def _propose(conn, code: str | None, fields: dict[str, Any]) -> revisions.Revision:
    if code is not None:
        fields = {"base_version": sites.current(conn, code).version, **fields}
    draft = revisions.parse_draft(fields)
    return revisions.propose(conn, draft, author=FIELD, site_code=code)


def _approve(conn, rev: revisions.Revision, comment: str | None, counts: Counter) -> None:
    revisions.decide(conn, rev.id, "approve", reviewer=EXPERT, round_seen=rev.round, comment=comment)
    counts["revisions_approved"] += 1
    counts["site_versions_added"] += 1


def _seed_revisions(conn, today: date, counts: Counter) -> None:
    """The revision stories: six approved (one site reaches version 3, one proposal left stale by it), then one
    rejected and the proposals waiting for review."""
    def day(ago: int) -> str:
        return (today - timedelta(days=ago)).isoformat()

    _seed_approved_revisions(conn, today, day, counts)
    _seed_rejected_and_pending_revisions(conn, day, counts)


def _seed_approved_revisions(conn, today: date, day, counts: Counter) -> None:  # a script of six written-out stories
    # 1. RTK resurvey of Panzhou Xinmin: the point moves 38 m
    xinmin = sites.current(conn, "GZ-0009")
    survey = today - timedelta(days=150)
    rev = _propose(conn, "GZ-0009", {
        "location": _moved(xinmin.location, 57.0, 38.0), "method": "rtk", "accuracy_m": 0.03,
        "survey_date": survey.isoformat(),
        "reason": f"{survey.year} 年 RTK 复测：点位移动 38 米至主发掘区标志桩（原点位由 1:5 万地形图数字化）"})
    _approve(conn, rev, "已与 RTK 记录和标志桩照片核对。", counts)

    # 2. Guanling Wolonggang: boundary enlarged after a new ichthyosaur find beyond its south-western edge
    wolonggang = sites.current(conn, "GZ-0001")
    rev = _propose(conn, "GZ-0001", {
        "boundary": _geojson(_enlarged(wolonggang.boundary, 225.0, 450.0, 350.0)), "method": "rtk", "accuracy_m": 0.05,
        "survey_date": day(88),
        "reason": "西南边界外 300 米新发现鱼龙骨架，扩大保护范围将其纳入（县级批复附于纸质档案）"})
    _approve(conn, rev, None, counts)

    # 3. stale on purpose: a handheld-GNSS point for the same site, based on version 2 ...
    wolonggang = sites.current(conn, "GZ-0001")
    _propose(conn, "GZ-0001", {
        "location": _moved(wolonggang.location, 225.0, 120.0), "method": "handheld_gnss", "accuracy_m": 5,
        "survey_date": day(20),
        "reason": "点位移动 120 米至新发掘区，即新发现以来的工作中心（手持 GNSS）"})
    counts["revisions_pending"] += 1
    # ... and then version 3 (attributes) is approved, so the proposal above is based on an old version
    rev = _propose(conn, "GZ-0001", {
        "properties": {
            "fossil_groups": list(dict.fromkeys(wolonggang.properties.get("fossil_groups", []) + ["fishes"])),
            "description": (wolonggang.properties.get("description") or "") + "新发掘区另产鱼类化石。",
            "description_en": (wolonggang.properties.get("description_en") or "")
            + " The new excavation also yields fishes."},
        "reason": "将新发掘区的鱼类化石补充到化石门类和描述中"})
    _approve(conn, rev, "鉴定已经博物馆鱼类专家确认。", counts)

    # 4. Wuliuan GSSP: the point moved 12 m onto the golden spike marker
    gssp = sites.current(conn, "GZ-0014")
    rev = _propose(conn, "GZ-0014", {
        "location": _moved(gssp.location, 310.0, 12.0), "method": "rtk", "accuracy_m": 0.02, "survey_date": day(75),
        "reason": "点位校正至金钉子标志（RTK，落石巡查时实测）"})
    _approve(conn, rev, None, counts)

    # 5. Dushan: boundary redrawn along the outcrop from the 1:10,000 geological map
    dushan = sites.current(conn, "GZ-0037")
    rev = _propose(conn, "GZ-0037", {
        "boundary": _geojson(_redrawn(dushan.boundary, 120.0, 25.0)), "method": "digitised", "accuracy_m": 10,
        "reason": "依据 1:1 万地质图沿泥盆系剖面出露范围重新勾绘边界"})
    _approve(conn, rev, "与图幅一致；界桩在下次巡查时移设。", counts)

    # 6. Huaxi Qingyan: generalised on the public map after repeated illegal collecting
    rev = _propose(conn, "GZ-0022", {
        "properties": {"sensitivity": Sensitivity.GENERALIZED},
        "reason": f"游客敲取化石并在网上分享点位，公开地图上模糊处理位置（见 {day(380)} 巡查记录）"})
    _approve(conn, rev, None, counts)


def _seed_rejected_and_pending_revisions(conn, day, counts: Counter) -> None:
    # rejected: a point digitised from a small-scale map, 1.4 km off
    wenghui = sites.current(conn, "GZ-0019")
    rev = _propose(conn, "GZ-0019", {
        "location": _moved(wenghui.location, 140.0, 1400.0), "method": "digitised", "accuracy_m": 50,
        "reason": "根据 1:5 万地形图修正点位"})
    revisions.decide(conn, rev.id, "reject", reviewer=EXPERT, round_seen=rev.round,
                     comment="新点位在河对岸，离露头较远；1:5 万地形图的精度不如现有的手持 GNSS 点位。请实地复测。")
    counts["revisions_rejected"] += 1

    # pending: a location read from a phone map app (GCJ-02), typed as shown by the app
    qinglong = sites.current(conn, "GZ-0049")
    true = _moved(qinglong.location, 20.0, 25.0)["coordinates"]
    glon, glat = coords.wgs84_to_gcj02(true[0], true[1])
    _propose(conn, "GZ-0049", {
        "location": f"{glon:.6f}, {glat:.6f}", "crs": "GCJ02", "method": "phone_map", "accuracy_m": 10,
        "survey_date": day(12),
        "reason": "巡查时用高德地图读取的化石露头位置（GCJ-02）"})
    counts["revisions_pending"] += 1

    # pending: a new site - marine reptiles exposed by a quarry near Zhenfeng (hidden by default)
    quarry = Point(105.676, 25.513)
    _propose(conn, None, {
        "location": _geojson(quarry),
        "boundary": _geojson(_metric_op(quarry, lambda p: p.buffer(220.0, quad_segs=3))),
        "properties": {"name": "贞丰者相采石场海生爬行动物化石点", "name_en": "Zhenfeng Zhexiang quarry marine reptiles",
                       "county": "贞丰县", "county_en": "Zhenfeng", "period": "Triassic",
                       "age": "Middle Triassic (Ladinian)", "formation": "法郎组",
                       "formation_en": "Falang Formation",
                       "fossil_groups": ["marine_reptiles", "fishes"],
                       "description": "采石场爆破面出露海生爬行动物骨骼（椎体、肋骨），已停止该工作面开采。（演示）",
                       "description_en": "Marine reptile bones (vertebrae, ribs) exposed on a quarry blasting face; "
                                         "work on that face has stopped. (demo)"},
        "method": "handheld_gnss", "accuracy_m": 5, "survey_date": day(6),
        "reason": f"采石场于 {day(7)} 报告新发现，{day(6)} 现场核实；建议新建化石点，使其在采石场恢复该工作面开采前"
                  f"得到保护{DEMO_MARK}"})
    counts["revisions_pending"] += 1


# --------------------------------------------------------------------------------------------------------------------
def _seed_reports(conn, files: BlobStore, today: date, counts: Counter) -> None:
    settings = reports.ReportSettings.defaults()
    items = [
        {"kind": "damage", "lon": 105.5893, "lat": 25.9046, "observed_on": (today - timedelta(days=3)).isoformat(),
         "contact": "visitor-demo@example.com",
         "description": "化石点东侧山坡有人挖坑，地上散落海百合化石碎片。"},
        {"kind": "find", "lon": 106.0512, "lat": 25.7784, "observed_on": (today - timedelta(days=9)).isoformat(),
         "description": "修路新开挖的路堑中有鱼化石印痕，约十几块。"},
    ]
    for item in items:
        data = reports.parse_report(item, settings)
        reports.submit_report(conn, files, data, settings=settings)
        counts["reports"] += 1


def _seed_rescues(conn, files: BlobStore, today: date, counts: Counter) -> None:
    settings = rescues.Settings.defaults()

    def at(ago: int, clock: str) -> str:
        return f"{(today - timedelta(days=ago)).isoformat()}T{clock}"

    quarry = rescues.open_case(conn, files, {
        "source": "construction", "reported_by": "者相采石场", "reported_at": at(7, "09:30"),
        "point": [105.676, 25.513], "county": "贞丰县",
        "description": "采石场爆破面出露海生爬行动物骨骼，已停工。"}, settings=settings, actor=EXPERT)
    for event in ({"kind": RescueEvent.OFFICIALS_ON_SITE, "done_at": at(7, "16:00"),
                   "note": "县自然资源局与省博物馆人员到场，划定临时保护范围。"},
                  {"kind": "specimens_rescued", "done_at": at(5, "15:00"), "specimens": 2,
                   "field_numbers": "ZX-2026-01, ZX-2026-02", "kept_at": "贵州省地质博物馆"},
                  {"kind": "samples_collected", "done_at": at(4, "17:00"), "samples": 300,
                   "field_numbers": "ZX-S001 - ZX-S300", "kept_at": "贵州省地质博物馆"},
                  {"kind": "opinion_issued", "done_at": at(2, "11:00"),
                   "note": "建议作为新化石点保护，野外组已提交新点建议。"}):
        rescues.add_event(conn, files, quarry["fid"], event, settings=settings, actor=EXPERT)
    road = rescues.open_case(conn, files, {
        "source": "public_report", "reported_by": "过路村民", "reported_at": at(200, "10:00"),
        "point": [106.912, 26.208], "county": "贵定县",
        "description": "修路路堑中见黑色化石碎片。"},
        settings=settings, actor=EXPERT)
    for event in ({"kind": RescueEvent.OFFICIALS_ON_SITE, "done_at": at(198, "14:00")},
                  {"kind": "opinion_issued", "done_at": at(195, "10:00")},
                  {"kind": "not_significant", "done_at": at(195, "10:00"),
                   "note": "仅为零散植物碎屑，无保护价值。"}):
        rescues.add_event(conn, files, road["fid"], event, settings=settings, actor=EXPERT)
    counts["rescue_cases"] += 2
