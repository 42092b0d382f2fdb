"""The illustrative demo stratigraphic sections and protection markers, built reproducibly from
``guizhou_sections.csv``: sections near real Guizhou sections (the Wuliuan GSSP at Balang, the Luodian conodont
sections, the Triassic type sections of Guanling, Xingyi and Panxian, the Ediacaran phosphorites...), with made-up
lines. ILLUSTRATIVE, not official records: positions, lines, lengths and boundaries are invented around the
approximate localities of ../shared/reference/guizhou-sites.md.

Each line starts at the CSV's point and runs ``length_m`` along ``azimuth``, bending a little at 3-5 vertices (seeded);
a section with ``boundary_m`` gets a protection boundary that far around its line.
"""
from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

from shapely.geometry import LineString, MultiPolygon

from ..geometry import GEOD, in_metres, validate_boundary
from ..vocab import MarkerKind
from .build import public_texts

SEED_CSV = Path(__file__).resolve().with_name("guizhou_sections.csv")
DEFAULT_SEED = 20261121

# Markers of the demo (feature, kind, metres from the line's start along the azimuth + 90°, inscription zh, en, date).
MARKERS = [
    ("GZS-0001", MarkerKind.MONUMENT, 25, "乌溜阶全球界线层型剖面点（金钉子）", "GSSP of the Wuliuan Stage", "2019-05-18"),
    ("GZS-0001", MarkerKind.SIGNBOARD, 40, "化石保护区 禁止采挖", "Protected section: no collecting", "2019-05-18"),
    ("GZS-0003", MarkerKind.MONUMENT, 20, "纳庆剖面保护碑", "Naqing section protection monument", "2017-10-09"),
    ("GZS-0007", MarkerKind.BOUNDARY_POST, 45, "保护界桩 01", "Boundary post 01", "2015-03-02"),
    ("GZS-0008", MarkerKind.SIGNBOARD, 30, "兴义生物群竹杆坡段剖面", "Zhuganpo Member section of the Xingyi biota", "2012-06-01"),
    ("GZS-0012", MarkerKind.MONUMENT, 15, "瓮安生物群剖面保护碑", "Weng'an biota section monument", "2005-09-20"),
    ("GZS-0016", MarkerKind.BOUNDARY_POST, 20, "保护界桩", "Boundary post", "2016-04-11"),
    ("GZ-0001", MarkerKind.SIGNBOARD, 0, "关岭化石群国家地质公园 保护区", "Guanling fossil site: protected area", "2006-04-01"),
    ("GZ-0001", MarkerKind.FENCE, 120, "", "", "2008-11-15"),
    ("GZ-0003", MarkerKind.BOUNDARY_POST, 60, "保护界桩 03", "Boundary post 03", "2010-05-06"),
]


def _line(rng: random.Random, lon: float, lat: float, azimuth: float, length_m: float) -> LineString:
    n = rng.randint(3, 5)
    points, az, x, y = [(lon, lat)], azimuth, lon, lat
    for _ in range(n):
        az += rng.uniform(-18, 18)
        x, y, _back = GEOD.fwd(x, y, az, length_m / n)
        points.append((round(x, 7), round(y, 7)))
    return LineString(points)


def _properties(row: dict[str, str]) -> dict[str, Any]:
    boundaries = []
    for item in filter(None, row["boundaries"].split(";")):
        name, rank, gssp = (item.split("|") + ["", ""])[:3]
        boundaries.append({"name": name, "rank": rank or "other", "gssp": gssp or None})
    props = {k: row[k] or None for k in ("name", "name_en", "county", "county_en", "level", "significance", "period",
                                          "age", "formation", "formation_en", "sensitivity", "description",
                                          "description_en", "established")}
    props.update(units=[u for u in row["units"].split(";") if u], stratigraphic_boundaries=boundaries)
    props.update(public_texts().get(row["code"], {}))
    return props


def demo_sections(seed: int = DEFAULT_SEED) -> list[dict[str, Any]]:
    """Every demo section: code, properties, line, boundary (or None)."""
    rng = random.Random(seed)
    out = []
    with open(SEED_CSV, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            line = _line(rng, float(row["lon"]), float(row["lat"]), float(row["azimuth"]), float(row["length_m"]))
            boundary = None
            if row["boundary_m"]:
                width = float(row["boundary_m"])
                boundary = validate_boundary(MultiPolygon([in_metres(line, lambda g, w=width: g.buffer(w))]))
            out.append({"code": row["code"], "properties": _properties(row), "line": line, "boundary": boundary,
                        "azimuth": float(row["azimuth"])})
    return out


def demo_markers(sections: list[dict[str, Any]], sites_by_code: dict[str, Any]) -> list[dict[str, Any]]:
    """The demo markers, placed beside the start of their section's line (or their site's location)."""
    azimuths = {s["code"]: (s["line"].coords[0], s["azimuth"]) for s in sections}
    out = []
    for code, kind, offset, text, text_en, erected in MARKERS:
        if code in azimuths:
            (lon, lat), azimuth = azimuths[code]
        else:
            lon, lat, azimuth = sites_by_code[code].location.x, sites_by_code[code].location.y, 0.0
        x, y, _ = GEOD.fwd(lon, lat, azimuth + 90, offset) if offset else (lon, lat, 0)
        out.append({"feature": code, "kind": kind, "point": [round(x, 7), round(y, 7)],
                    "inscription": text or None, "inscription_en": text_en or None, "erected_on": erected})
    return out


__all__ = ["MARKERS", "demo_markers", "demo_sections"]
