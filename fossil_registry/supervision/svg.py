"""Server-side SVG: the annual report's charts and its map of the year's work. They print, they go into the PDF
(WeasyPrint runs no scripts) and they need no front-end library. Every text is escaped here (county and site names
are user text): the result is markup that holds data only."""
from __future__ import annotations

import math
from html import escape
from typing import Any, Mapping, Sequence

from markupsafe import Markup
from shapely.geometry.base import BaseGeometry

FONT = 'font-family="Noto Sans CJK SC, Noto Sans CJK, sans-serif"'


def _nice_max(value: float) -> float:
    """The top of the value axis: four whole, round steps (1, 2, 5 times a power of ten) that reach ``value``."""
    raw = max(value, 1) / 4
    power = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    for step in (1, 2, 5, 10):
        if raw <= step * power:
            return 4 * max(step * power, 1)
    return 40 * power


def _text(x: float, y: float, text: Any, *, size: int = 13, anchor: str = "start", fill: str = "#333",
          extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}" {extra}>'
            f"{escape(str(text))}</text>")


def _legend(series: Sequence[Mapping[str, Any]], x: float, y: float, width: float) -> tuple[list[str], float]:
    parts, cx, cy = [], x, y
    for s in series:
        w = 18 + 13 * len(str(s["name"])) + 12
        if cx + w > x + width:
            cx, cy = x, cy + 20
        parts.append(f'<rect x="{cx:.1f}" y="{cy - 11:.1f}" width="12" height="12" fill="{escape(s["color"])}"/>')
        parts.append(_text(cx + 16, cy, s["name"], size=13))
        cx += w
    return parts, cy + 10


def _totals(c: Mapping[str, Any]) -> list[float]:
    n = len(c["categories"])
    if c["kind"] == "stacked":
        return [sum(s["data"][i] for s in c["series"]) for i in range(n)]
    return [max((s["data"][i] for s in c["series"]), default=0) for i in range(n)]


def chart_svg(c: Mapping[str, Any], *, width: int = 640, height: int = 300) -> Markup:
    """A stacked or grouped bar chart, vertical or horizontal, or a line chart; an empty chart says so."""
    if not c["series"] or not any(any(s["data"]) for s in c["series"]):
        return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" class="chart empty" viewBox="0 0 {width} 40" '
                      f'role="img" {FONT}>{_text(width / 2, 24, "-", anchor="middle")}</svg>')
    legend, top = _legend(c["series"], 10, 18, width - 20)
    if c.get("horizontal"):
        body = _horizontal(c, width, height, top + 6)
    else:
        body = _vertical(c, width, height, top + 6)
    title = escape(str(c["title"]))
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" role="img" '
                  f'aria-label="{title}" {FONT}><title>{title}</title>{"".join(legend)}{body}</svg>')


def _vertical(c: Mapping[str, Any], width: int, height: int, top: float) -> str:
    left, bottom = 48, 36
    plot_w, plot_h = width - left - 10, height - top - bottom
    cats, series = c["categories"], c["series"]
    top_value = _nice_max(max(_totals(c)) or 1)
    parts = []
    for i in range(5):
        value = top_value * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e3e3"/>')
        parts.append(_text(left - 4, y + 4, f"{value:g}", size=12, anchor="end", fill="#666"))
    slot = plot_w / max(len(cats), 1)
    every = max(1, math.ceil(len(cats) / 8))
    for i, cat in enumerate(cats):
        x0 = left + slot * i
        if i % every == 0:
            parts.append(_text(x0 + slot / 2, top + plot_h + 16, cat, size=12, anchor="middle"))
    if c["kind"] == "line":
        for s in series:
            points = " ".join(f"{left + slot * (i + .5):.1f},{top + plot_h - plot_h * v / top_value:.1f}"
                              for i, v in enumerate(s["data"]))
            parts.append(f'<polyline points="{points}" fill="none" stroke="{escape(s["color"])}" stroke-width="2"/>')
        return "".join(parts)
    for i in range(len(cats)):
        base, x0 = 0.0, left + slot * i + slot * 0.15
        bar_w = slot * 0.7 / (1 if c["kind"] == "stacked" else len(series))
        for k, s in enumerate(series):
            v = s["data"][i]
            h = plot_h * v / top_value
            x = x0 if c["kind"] == "stacked" else x0 + bar_w * k
            y = top + plot_h - h - (plot_h * base / top_value if c["kind"] == "stacked" else 0)
            if v:
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                             f'fill="{escape(s["color"])}"><title>{escape(str(s["name"]))}: {v}</title></rect>')
            if c["kind"] == "stacked":
                base += v
    return "".join(parts)


def _horizontal(c: Mapping[str, Any], width: int, height: int, top: float) -> str:
    left = 170
    cats, series = c["categories"], c["series"]
    plot_w, plot_h = width - left - 40, height - top - 10
    top_value = _nice_max(max(_totals(c)) or 1)
    slot = plot_h / max(len(cats), 1)
    parts = []
    for i, cat in enumerate(cats):
        y0 = top + slot * i
        parts.append(_text(left - 6, y0 + slot / 2 + 5, cat, size=13, anchor="end"))
        base = 0.0
        for s in series:
            v = s["data"][i]
            w = plot_w * v / top_value
            if v:
                parts.append(f'<rect x="{left + plot_w * base / top_value:.1f}" y="{y0 + slot * .15:.1f}" '
                             f'width="{w:.1f}" height="{slot * .7:.1f}" fill="{escape(s["color"])}">'
                             f"<title>{escape(str(s['name']))}: {v}</title></rect>")
            base += v
        if base:
            parts.append(_text(left + plot_w * base / top_value + 4, y0 + slot / 2 + 5, f"{base:g}", size=12))
    return "".join(parts)


def _path(geom: BaseGeometry, xy) -> str:
    """SVG path data of a polygon's or multipolygon's rings (evenodd fill keeps the holes)."""
    rings = []
    for polygon in getattr(geom, "geoms", [geom]):
        for ring in (polygon.exterior, *polygon.interiors):
            rings.append("M" + " L".join("{:.1f},{:.1f}".format(*xy(x, y)) for x, y in ring.coords) + "Z")
    return " ".join(rings)


def points_svg(points: Sequence[Mapping[str, Any]], colours: Mapping[str, str], bbox: Sequence[float],
               labels: Sequence[Mapping[str, Any]] = (), *, width: int = 640, title: str = "",
               areas: Sequence[BaseGeometry] = (), outline: BaseGeometry | None = None) -> Markup:
    """A map without tiles: the points (lon, lat, kind) inside ``bbox`` (min_lon, min_lat, max_lon, max_lat) in an
    equirectangular projection true to scale at the box's middle latitude, over the county outlines ``areas`` and the
    province's ``outline`` (county_context), with place labels (lon, lat, text) and a scale bar."""
    min_lon, min_lat, max_lon, max_lat = bbox
    kx = math.cos(math.radians((min_lat + max_lat) / 2))
    scale = width / ((max_lon - min_lon) * kx)
    height = int((max_lat - min_lat) * scale) + 1

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return (lon - min_lon) * kx * scale, (max_lat - lat) * scale

    parts = [f'<rect x="0" y="0" width="{width}" height="{height}" fill="#f7f7f2" stroke="#ccc"/>']
    if outline is not None:
        parts.append(f'<path class="province" d="{_path(outline, xy)}" fill="#fff" fill-rule="evenodd" '
                     'stroke="none"/>')
    if areas:
        parts.append('<g class="counties" fill="none" stroke="#a39a86" stroke-width=".6" stroke-linejoin="round">'
                     + "".join(f'<path d="{_path(a, xy)}"/>' for a in areas) + "</g>")
    if outline is not None:
        parts.append(f'<path class="province-outline" d="{_path(outline, xy)}" fill="none" stroke="#5b5346" '
                     'stroke-width="1.6" stroke-linejoin="round"/>')
    for p in points:
        if p.get("lon") is None:
            continue
        x, y = xy(p["lon"], p["lat"])
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{escape(colours.get(p["kind"], "#555"))}" '
                     'stroke="#fff" stroke-width=".6"/>')
    for lab in labels:
        x, y = xy(lab["lon"], lab["lat"])
        # the halo is a text of its own under the label: WeasyPrint ignores paint-order, and a stroke painted over
        # the fill made the labels unreadable in the PDF
        parts.append(_text(x, y - 7, lab["text"], size=12, anchor="middle", fill="#fff",
                           extra='stroke="#fff" stroke-width="3" stroke-linejoin="round"'))
        parts.append(_text(x, y - 7, lab["text"], size=12, anchor="middle", fill="#444"))
    km = 100
    bar = km * 1000 / 111_320 * scale  # 100 km of latitude, the same on the page in every direction
    parts.append(f'<line x1="10" x2="{10 + bar:.1f}" y1="{height - 12}" y2="{height - 12}" stroke="#333" '
                 'stroke-width="2"/>')
    parts.append(_text(10, height - 18, f"{km} km", size=12))
    safe_title = escape(title)
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" class="work-map" viewBox="0 0 {width} {height}" '
                  f'role="img" aria-label="{safe_title}" {FONT}><title>{safe_title}</title>{"".join(parts)}</svg>')
