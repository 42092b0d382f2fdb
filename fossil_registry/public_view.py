"""The public view: the one place that decides what anonymous callers may see of a site, or of any registered feature
(a stratigraphic section follows the same rules: ``Sensitivity.OPEN`` shows its line, ``Sensitivity.GENERALIZED``
only its cell's centre as a point, ``Sensitivity.HIDDEN`` nothing).

* ``Sensitivity.OPEN``: exact location and boundary are public.
* ``Sensitivity.GENERALIZED``: only the centre of the 0.1-degree grid cell containing the site; no boundary; of its
  free text only what a reviewer cleared for publication (names, county, age, formation, the public description: the
  kind's ``public_text_fields``), never the internal description (a pattern list cannot know every way of writing a
  position: issue 22); in the published text, as a second line, every number that could be (part of) a coordinate, in
  any notation, is withheld (withheld_numbers: only years, dates, times and small measures stay); filtering (bbox) is done
  on the cell's centre, so repeated bbox queries cannot bisect the true position.
* ``Sensitivity.HIDDEN``: absent from every public output (counted only in aggregate statistics).

Every answer to an anonymous caller (pages, map layers, search, the JSON API, report receipts, errors) is built from
what this module returns, never from a ``sites.Site`` directly.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable

from shapely.geometry import Point, box, mapping

from . import features
from . import sites as sites_mod
from . import store, withheld_numbers
from .errors import NotFound
from .geometry import grid_cell_centre
from .report_references import reference_of
from .sites import Site
from .vocab import Sensitivity, SiteStatus

CELL_DEG = 0.1
# Fields the public never sees, whatever the sensitivity (staff user names).
STAFF_ONLY_FIELDS = ("updated_by",)
REDACTED = withheld_numbers.REDACTED


@dataclass(frozen=True)
class PublicSite:
    code: str
    version: int
    properties: dict[str, Any]
    location: Any                      # a site's point or a section's line; the cell centre (Point) if generalized
    boundary: Any | None
    generalized: bool
    kind: Any = sites_mod.SITE

    def to_json(self) -> dict[str, Any]:
        precision = f"{CELL_DEG}-degree grid cell centre" if self.generalized else "exact"
        if self.generalized and self.kind.primary != "location":  # a section shown only as its cell: no line at all
            return {"code": self.code, "version": self.version, "properties": dict(self.properties),
                    self.kind.primary: None, "location": mapping(self.location), "boundary": None,
                    "location_precision": precision}
        return {**sites_mod.state_json(self.code, self.version, self.properties, self.location, self.boundary,
                                       self.kind), "location_precision": precision}

    @property
    def point(self) -> Point:
        """The feature as one point (a kind's point collection, docs/ogcapi.md): a site's location, the middle of an
        open section's line, the cell's centre of a feature whose location is protected."""
        return self.location if self.generalized else sites_mod.anchor_point(self.location)

    def feature(self) -> dict[str, Any]:
        return {"type": "Feature", "id": self.code, "geometry": mapping(self.location),
                "properties": {"code": self.code, **self.properties, "version": self.version,
                               Sensitivity.GENERALIZED.value: self.generalized}}


def redact_coordinates(text: str | None) -> str | None:
    """``text`` with every number that could be (part of) a coordinate withheld (withheld_numbers: everything but
    years, dates, times and small measures)."""
    return withheld_numbers.redact(text)


def public_site(site: Site) -> PublicSite | None:
    """What the public may see of one site (or section); None if it must not appear at all."""
    if site.properties.get("status") == SiteStatus.RETIRED or site.sensitivity == Sensitivity.HIDDEN:
        return None
    props = {k: v for k, v in site.properties.items() if k not in STAFF_ONLY_FIELDS}
    if site.sensitivity == Sensitivity.OPEN:
        return PublicSite(site.code, site.version, props, site.location, site.boundary, False, site.kind)
    if site.sensitivity != Sensitivity.GENERALIZED:  # unknown values are treated as the strictest case
        return None
    anchor = sites_mod.anchor_point(site.location)
    lon, lat = grid_cell_centre(anchor.x, anchor.y, CELL_DEG)
    for key in site.kind.internal_text_fields:  # staff only: the keys stay (every answer has the same fields), empty
        props[key] = None
    for key in site.kind.public_text_fields:
        if isinstance(props.get(key), str):
            props[key] = redact_coordinates(props[key])
    for key in site.kind.public_lists:  # lists of names published like its texts (a section's units): free text too
        if props.get(key):
            props[key] = _redacted_list(props[key])
    return PublicSite(site.code, site.version, props, Point(lon, lat), None, True, site.kind)


def _redacted_list(items: list) -> list:
    return [{k: (redact_coordinates(v) if isinstance(v, str) else v) for k, v in i.items()} if isinstance(i, dict)
            else redact_coordinates(i) if isinstance(i, str) else i for i in items]


def public_sites(all_sites: Iterable[Site], bbox: tuple[float, float, float, float] | None = None) -> list[PublicSite]:
    """Public versions of the given sites, filtered on their *public* geometry."""
    out = []
    area = box(*bbox) if bbox else None
    for site in all_sites:
        p = public_site(site)
        if p is None:
            continue
        if area is not None and not (area.intersects(p.location) or (p.boundary is not None and area.intersects(p.boundary))):
            continue
        out.append(p)
    return out


def of_geometry(shown: Iterable[PublicSite], geometry: str) -> list[PublicSite]:
    """The public features whose public geometry is of type ``geometry`` (GeoJSON name): what a collection of that
    one type may hold (docs/ogcapi.md). A section whose location is protected is shown as its cell's centre, a point:
    it is not among the sections' lines (it is in their point collection, ``PublicSite.point``)."""
    return [p for p in shown if p.location.geom_type == geometry]


def list_public(conn, bbox: tuple[float, float, float, float] | None = None, kind=None) -> list[PublicSite]:
    """Public sites (or features of ``kind``) in bbox. The store query is widened by one grid cell so that cell
    centres whose true location lies just outside the bbox are still found, then the exact filter runs on the public
    geometry."""
    wide = None
    if bbox is not None:
        wide = (bbox[0] - CELL_DEG, bbox[1] - CELL_DEG, bbox[2] + CELL_DEG, bbox[3] + CELL_DEG)
    return public_sites(sites_mod.list_current(conn, bbox=wide, public_only=True, kind=kind), bbox)


def get_public(conn, code: str, kind=None) -> PublicSite:
    """One public site (or feature of ``kind``; ``"any"``: of whichever kind holds the code); a hidden or retired one
    answers exactly as an unknown code does."""
    candidates = sites_mod.kinds() if kind == "any" else (kind or sites_mod.SITE,)
    for candidate in candidates:
        try:
            p = public_site(sites_mod.current(conn, code, public_only=True, kind=candidate))
        except NotFound:
            continue
        if p is not None:
            return p
    # not the kind of whatever holds the code: a hidden section must answer as an unknown code does, word for word
    raise sites_mod.not_found(code, candidates[0])


def impact_candidates(conn, bounds: tuple[float, float, float, float], hidden_cell_deg: float
                      ) -> tuple[list[PublicSite], list[tuple[float, float, float, float]]]:
    """What an anonymous impact screening (impact.screening) may measure against near ``bounds``: the public sites
    (``Sensitivity.OPEN`` exactly, ``Sensitivity.GENERALIZED`` only as their CELL_DEG cell), and the cells of
    ``hidden_cell_deg`` degrees that hold hidden sites, as (min_lon, min_lat, max_lon, max_lat) boxes - nothing else
    of a hidden site, not even how many share a cell. The store query is widened by a cell, so the answer depends only on the cells."""
    wide = (bounds[0] - CELL_DEG, bounds[1] - CELL_DEG, bounds[2] + CELL_DEG, bounds[3] + CELL_DEG)
    shown = [p for p in (public_site(s) for s in sites_mod.list_near(conn, wide, public_only=True)) if p is not None]
    c = hidden_cell_deg
    wide = (bounds[0] - c, bounds[1] - c, bounds[2] + c, bounds[3] + c)
    cells = set()
    for point in store.impact.hidden_site_locations(conn, wide):
        lon, lat = grid_cell_centre(point.x, point.y, c)
        cells.add((round(lon - c / 2, 6), round(lat - c / 2, 6), round(lon + c / 2, 6), round(lat + c / 2, 6)))
    return shown, sorted(cells)


def statistics(conn) -> dict[str, Any]:
    """Aggregate counts of the active sites (counted in SQL, no site read): the only public output in which hidden
    sites take part."""
    by_level: Counter = Counter()
    by_sensitivity: Counter = Counter()
    for level, sensitivity, n in sites_mod.counts(conn):
        by_level[level] += n
        by_sensitivity[sensitivity] += n
    return {"total": sum(by_level.values()), "by_level": dict(by_level), "by_sensitivity": dict(by_sensitivity)}


# Public reports (docs/inspections.md): what the person holding a report's receipt is shown. Never the contact, nor
# the description (reporters type phone numbers into it), nor the site the report was matched to (it could reveal a
# hidden site near the reported place), nor anything read from photo metadata (GPS, date): photos only by reference,
# served as the metadata-free display copy (blobs area "display").
def report_receipt(report: dict[str, Any]) -> dict[str, Any]:
    point = report["point"]
    return {"reference": reference_of(report["receipt"]), "receipt": report["receipt"], "kind": report["kind"],
            "status": report["status"], "submitted_at": report["submitted_at"], "observed_on": report["observed_on"],
            "location": {"type": "Point", "coordinates": [round(point.x, 6), round(point.y, 6)]},
            "photos": [p["sha256"] for p in report.get("photos", [])]}


def public_markers(conn) -> list[dict[str, Any]]:
    """The protection markers anonymous callers may see: those of open, active features (decided in SQL by the
    store, as for the features themselves)."""
    return store.markers.public_markers(conn)


features.set_public_projection(public_site)  # the versioned store moves the public stamp by what this shows

__all__ = ["PublicSite", "of_geometry", "public_markers", "public_site", "public_sites", "list_public", "get_public", "statistics", "impact_candidates",
           "redact_coordinates", "CELL_DEG", "report_receipt"]
