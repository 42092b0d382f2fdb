"""Screening a footprint against the registry: candidates through the R-trees, exact geodesic figures (measure.py),
the ring and the risk class of every registered feature of every kind (features.kinds(): sites, stratigraphic
sections...) within the outer ring, and of the protection markers there, for staff exactly and for everybody else only
from what the public view allows. Results can be saved, reopened, re-run against today's registry and reproduced against
the registry version they were run with.

Registry version: the number of the last entry in the append-only site history (``site_versions.fid``) when the
screening ran. The registry's state at version N is, for every site, its latest version at or below N, so a saved
screening is reproducible (``reproduce``) whatever happened since."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import Point, box, mapping
from shapely.geometry.base import BaseGeometry

from .. import features, public_view, store
from ..geometry import GEOD, geodesic_area_m2, grid_cell_centre
from .footprint import Footprint
from .labels import CONSULT, RISK_CLASSES
from .measure import measure
from .settings import Settings
from ..vocab import Sensitivity

DEGREE_M = 111_000.0  # metres per degree of latitude, rounded down: a search box widened with it is never too small


@dataclass
class Result:
    footprint: Footprint
    settings: Settings
    registry_version: int
    screened_at: str
    exact: bool                       # staff's exact figures, or only what the public view allows
    affected: list[dict[str, Any]]    # sites within the outer ring, nearest first (see _exact_entry / _public_entries)
    candidates: int = 0               # sites the spatial index proposed and that were measured
    screening_id: int | None = None   # once saved
    title: str | None = None
    created_by: str | None = None
    rerun_of: int | None = None
    notes: list[str] = field(default_factory=list)
    markers: list[dict[str, Any]] = field(default_factory=list)  # protection markers within the outer ring

    @property
    def highest_risk(self) -> str | None:
        found = {a["risk"] for a in self.affected}
        return next((r for r in RISK_CLASSES if r in found), CONSULT if CONSULT in found else None)

    def by_risk(self) -> dict[str, int]:
        counts = {r: 0 for r in (*RISK_CLASSES, CONSULT)}
        for a in self.affected:
            counts[a["risk"]] += 1
        return {k: v for k, v in counts.items() if v or k in RISK_CLASSES}

    def to_json(self) -> dict[str, Any]:
        body = {
            "view": "exact" if self.exact else "public",
            "registry_version": self.registry_version,
            "screened_at": self.screened_at,
            "footprint": mapping(self.footprint.geometry),
            "footprint_figures": self.footprint.figures(),
            "width_m": self.footprint.width_m,
            "source": self.footprint.source,
            "rings_m": list(self.settings.rings_m),
            "rules": self.settings.rule_table(),
            "affected": [dict(a) for a in self.affected],
            "highest_risk": self.highest_risk,
            "by_risk": self.by_risk(),
            "notes": self.footprint.notes + self.notes,
            "markers": [dict(m) for m in self.markers],
        }
        if self.screening_id is not None:
            body.update(screening_id=self.screening_id, title=self.title, created_by=self.created_by,
                        rerun_of=self.rerun_of)
        return body


def search_bounds(footprint: BaseGeometry, reach_m: float) -> tuple[float, float, float, float]:
    """The footprint's bounding box widened by ``reach_m`` metres on every side (in degrees of latitude and of the
    longitude at the box's latitude nearest the pole, so never too small)."""
    minx, miny, maxx, maxy = footprint.bounds
    dlat = reach_m / DEGREE_M
    dlon = reach_m / (DEGREE_M * max(math.cos(math.radians(max(abs(miny), abs(maxy)) + dlat)), 0.01))
    return (minx - dlon, miny - dlat, maxx + dlon, maxy + dlat)


def screen(conn, footprint: Footprint, settings: Settings, *, exact: bool) -> Result:
    """Screen ``footprint`` against the current registry, every kind of feature and the protection markers: ``exact``
    for staff who may read every feature's position, else only what public_view allows (see _public_entries)."""
    reach = settings.outer_ring_m
    bounds = search_bounds(footprint.geometry, reach)
    with store.read_snapshot(conn):  # the candidates and the registry version they belong to
        # staff: the history entry that names this state of the whole registry (screen_at reproduces it); anonymous
        # callers: the count of changes to the public view, which no edit of a hidden site moves
        version = store.impact.registry_version(conn) if exact else store.public_stamp(conn)[2]
        if exact:
            found = [f for kind in features.kinds() for f in features.list_near(conn, bounds, kind=kind)]
            public = None
        else:
            public = _public_candidates(conn, bounds, settings.hidden_cell_deg)
        markers = store.markers.all_markers(conn) if exact else public_view.public_markers(conn)
    if exact:
        targets = [Target(s.code, s.version, s.properties, s.location, s.boundary, s.kind.name) for s in found]
        affected = exact_entries(footprint, settings, targets)
        candidates = len(targets)
    else:
        affected, candidates = _public_entries(footprint, settings, *public)
    return Result(footprint, settings, version, store.utc_now(), exact, affected, candidates,
                  markers=marker_entries(footprint, settings, markers, bounds))


def screen_at(conn, footprint: Footprint, settings: Settings, registry_version: int, at: str | None = None
              ) -> Result:
    """Screen against the registry as it stood at ``registry_version`` (staff): from the history, not the R-trees.
    The registry version numbers the sites' history; the features of the other kinds are taken as they stood at
    ``at`` (the time the screening ran), when given."""
    bounds = search_bounds(footprint.geometry, settings.outer_ring_m)
    states = store.impact.site_states_at(conn, registry_version, bounds)
    targets = [Target(s["code"], s["version"], s["properties"], s["location"], s["boundary"]) for s in states
               if s["properties"].get("status", "active") == "active"]
    if at is not None:
        area = box(*bounds)
        for kind in features.kinds():
            if kind is features.SITE:  # the sites: by registry version, above
                continue
            targets += [Target(f.code, f.version, f.properties, f.location, f.boundary, kind.name)
                        for f in features.all_as_of(conn, at, kind=kind)
                        if f.properties.get("status", "active") == "active"
                        and (area.intersects(f.location) or (f.boundary is not None and area.intersects(f.boundary)))]
    affected = exact_entries(footprint, settings, targets)
    return Result(footprint, settings, registry_version, store.utc_now(), True, affected, len(targets))


def _public_candidates(conn, bounds: tuple[float, float, float, float], hidden_cell_deg: float
                       ) -> tuple[list[public_view.PublicSite], list[tuple[float, float, float, float]]]:
    """What an anonymous screening may measure against, of every kind: the sites' candidates as public_view gives
    them (public_view.impact_candidates), and for every other kind the same: its public features (public_view
    decides what of them is shown) and the cells of ``hidden_cell_deg`` degrees holding hidden ones, nothing else of
    them."""
    shown, cells = public_view.impact_candidates(conn, bounds, hidden_cell_deg)
    cells = set(cells)
    cell, c = public_view.CELL_DEG, hidden_cell_deg
    for kind in features.kinds():
        if kind is features.SITE:  # above: public_view's own query of the sites
            continue
        wide = (bounds[0] - cell, bounds[1] - cell, bounds[2] + cell, bounds[3] + cell)
        shown += public_view.public_sites(features.list_near(conn, wide, public_only=True, kind=kind))
        wide = (bounds[0] - c, bounds[1] - c, bounds[2] + c, bounds[3] + c)
        for f in features.list_near(conn, wide, kind=kind):
            if f.sensitivity == Sensitivity.HIDDEN:
                anchor = features.anchor_point(f.location)
                lon, lat = grid_cell_centre(anchor.x, anchor.y, c)
                cells.add((round(lon - c / 2, 6), round(lat - c / 2, 6), round(lon + c / 2, 6),
                           round(lat + c / 2, 6)))
    return shown, sorted(cells)


def marker_entries(footprint: Footprint, settings: Settings, markers: list[dict[str, Any]],
                   bounds: tuple[float, float, float, float]) -> list[dict[str, Any]]:
    """The protection markers within the outer ring (the caller's own: every marker for staff, those of open
    features for anyone else), nearest first: which feature's, what kind, whether the footprint covers it, the
    distance and the ring."""
    area = box(*bounds)
    near = [m for m in markers if area.intersects(m["point"])]
    out = []
    for m in measure(footprint.geometry, None, [n["point"] for n in near], settings.outer_ring_m):
        marker = near[m.index]
        ring = settings.ring_for(m.distance_m, m.intersects)
        if ring is None:
            continue
        out.append({"id": marker["fid"], "feature": marker["feature_code"], "kind": marker["kind"],
                    "inscription": marker.get("inscription"), "last_condition": marker.get("last_condition"),
                    "intersects": m.intersects, "distance_m": round(m.distance_m, 2), "ring_m": ring,
                    "location": [round(marker["point"].x, 7), round(marker["point"].y, 7)]})
    return sorted(out, key=lambda e: (e["distance_m"], e["id"]))


@dataclass(frozen=True)
class Target:
    code: str
    version: int
    properties: dict[str, Any]
    location: BaseGeometry
    boundary: BaseGeometry | None
    feature: str = "site"             # the kind of feature (features.FeatureKind.name)


def exact_entries(footprint: Footprint, settings: Settings, targets: list[Target]) -> list[dict[str, Any]]:
    geoms = [t.boundary if t.boundary is not None else t.location for t in targets]
    out = []
    for m in measure(footprint.geometry, footprint.area, geoms, settings.outer_ring_m):
        t = targets[m.index]
        ring = settings.ring_for(m.distance_m, m.intersects)
        if ring is None:
            continue
        out.append(_exact_entry(t, m, ring, settings.risk_for(ring, t.properties.get("level"))))
    return sorted(out, key=_order)


def _order(entry: dict[str, Any]) -> tuple:
    risk = entry["risk"]
    rank = RISK_CLASSES.index(risk) if risk in RISK_CLASSES else len(RISK_CLASSES)
    return (rank, entry["distance_m"] if entry["distance_m"] is not None else math.inf, -(entry["overlap_m2"] or 0),
            entry["code"] or "~")


def _exact_entry(t: Target, m, ring: float, risk: str) -> dict[str, Any]:
    area = geodesic_area_m2(t.boundary) if t.boundary is not None else None
    overlap_pct = round(m.overlap_m2 / area * 100, 3) if area else None
    return {"code": t.code, "feature": t.feature, "name": t.properties.get("name"), "name_en": t.properties.get("name_en"),
            "level": t.properties.get("level"), "sensitivity": t.properties.get("sensitivity"), "version": t.version,
            "intersects": m.intersects, "distance_m": round(m.distance_m, 2), "overlap_m2": round(m.overlap_m2, 1),
            "overlap_pct": overlap_pct, "site_area_m2": round(area, 1) if area is not None else None,
            "ring_m": ring, "risk": risk, "measured_to": "boundary" if t.boundary is not None else "location",
            "nearest": None if m.nearest is None else
            {"site": [round(v, 7) for v in m.nearest[0]], "footprint": [round(v, 7) for v in m.nearest[1]]}}


# ----------------------------------------------------------------------------------------------------- public view
def _public_entries(footprint: Footprint, settings: Settings, shown: list[public_view.PublicSite],
                    hidden_cells: list[tuple[float, float, float, float]]) -> tuple[list[dict[str, Any]], int]:
    """What anonymous callers get. Open sites: exact figures, as for staff (their positions are public). A site shown
    by its cell: only whether its public 0.1-degree cell lies within the outer ring, and "within N km", N bounding the
    distance to any point of that cell; no figure that depends on where in the cell it is. Hidden sites: one entry
    without code or position if a cell of IMPACT_HIDDEN_CELL_DEG holding one lies within the outer ring. Every answer
    is therefore a function of public information: repeated screenings cannot narrow a position down."""
    reach = settings.outer_ring_m
    open_sites = [p for p in shown if not p.generalized]
    targets = [Target(p.code, p.version, p.properties, p.location, p.boundary, p.kind.name) for p in open_sites]
    entries = exact_entries(footprint, settings, targets)
    for e in entries:
        e.pop("sensitivity")
    cells = [(p, _cell(p.location, public_view.CELL_DEG)) for p in shown if p.generalized]
    near = [cells[m.index] for m in measure(footprint.geometry, None, [c for _, c in cells], reach)]
    hidden = [box(*hidden_cells[m.index]) for m in measure(footprint.geometry, None,
                                                            [box(*c) for c in hidden_cells], reach)]
    kms = _within_km(footprint, [c for _, c in near] + hidden)
    for (p, _), km in zip(near, kms):
        entries.append(_notice_entry(p, km))
    if hidden:
        entries.append({**_withheld(), "code": None, "hidden": True, "within_km": min(kms[len(near):])})
    return sorted(entries, key=_order), len(targets) + len(cells) + len(hidden_cells)


def _cell(centre: Point, size: float) -> BaseGeometry:
    return box(centre.x - size / 2, centre.y - size / 2, centre.x + size / 2, centre.y + size / 2)


def _withheld() -> dict[str, Any]:
    return {"intersects": None, "distance_m": None, "overlap_m2": None, "overlap_pct": None, "ring_m": None,
            "risk": CONSULT}


def _notice_entry(p: public_view.PublicSite, km: int) -> dict[str, Any]:
    return {**_withheld(), "code": p.code, "feature": p.kind.name, "name": p.properties.get("name"),
            "name_en": p.properties.get("name_en"),
            "level": p.properties.get("level"), features.GENERALIZED: True, "within_km": km,
            "location": [p.location.x, p.location.y], "location_precision": f"{public_view.CELL_DEG}-degree grid cell"}


def _within_km(footprint: Footprint, cells: list[BaseGeometry]) -> list[int]:
    """For each cell, the whole kilometres within which every point of it lies from the footprint: the geodesic
    distance to the cell's centre plus the centre's distance to its farthest corner (triangle inequality), rounded
    up."""
    if not cells:
        return []
    centres = [c.centroid for c in cells]
    to_centre = {m.index: m.distance_m for m in measure(footprint.geometry, None, centres, math.inf)}
    out = []
    for i, (cell, centre) in enumerate(zip(cells, centres)):
        spread = max(GEOD.inv(centre.x, centre.y, x, y)[2] for x, y in list(cell.exterior.coords)[:4])
        out.append(max(1, math.ceil((to_centre[i] + spread) / 1000)))
    return out
