"""Public reports of finds or damage, and their triage by experts. Pure domain code (no Flask).

Anyone may report (location, description, photos, optional contact). A report never changes a site: it is stored
with the site it most likely concerns (boundary containing the point, else the nearest site within a radius) and waits
in a triage queue. An expert accepts it (creating a follow-up for a site, or linking it to an inspection of that site)
or dismisses it with a reason. The reporter's contact is kept in a private table (left out of exports) and is only
ever returned by ``get_report(..., with_contact=True)`` for staff.
"""
from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Iterable, Mapping

from shapely.geometry import Point, mapping

from . import config, sites, store
from .coords import parse_coordinate
from .errors import Conflict, InvalidInput, NotFound
from .geometry import validate_location
from .region import inside
from .inspections import (MAX_NOTE, distance_m, distance_to_site_m, insert_photo_row, local_today, parse_date,
                          photo_json)
from . import photos as photos_mod
from .blobs import BlobStore
from .photos import Upload, check_photo, read_photos
from .store import inspections as istore
from .store import reports as pstore  # public reports
from .report_references import normalized_reference, reference_of
from .vocab import ReportKind, ReportStatus, SiteStatus
from .messages import msg

KINDS = ReportKind.values()
STATES = ReportStatus.values()
MAX_DESCRIPTION = 4000
MIN_DESCRIPTION = 10
MAX_CONTACT = 200


@dataclass(frozen=True)
class ReportSettings:
    """Public report settings, read from the app configuration (defaults: config.py)."""

    max_photos: int
    photo_max_bytes: int
    photo_max_pixels: int
    max_request_bytes: int
    site_radius_m: float
    photo_max_distance_m: float
    followup_days: int
    timezone: str
    region: tuple[float, float, float, float]
    region_name: str
    hotline: str | None                # the public's telephone number for reports (config REPORT_HOTLINE)

    @classmethod
    def from_config(cls, config_: Mapping[str, Any]) -> "ReportSettings":
        c = config.settings(config_)
        return cls(max_photos=int(c["REPORT_MAX_PHOTOS"]), photo_max_bytes=int(c["REPORT_PHOTO_MAX_BYTES"]),
                   photo_max_pixels=int(c["PHOTO_MAX_PIXELS"]), max_request_bytes=int(c["REPORT_MAX_BYTES"]),
                   site_radius_m=float(c["REPORT_SITE_RADIUS_M"]), photo_max_distance_m=float(c["PHOTO_MAX_DISTANCE_M"]),
                   followup_days=int(c["REPORT_FOLLOWUP_DAYS"]), timezone=c["TIMEZONE"],
                   region=tuple(c["REGION_BBOX"]), region_name=c["REGION_NAME"],
                   hotline=(str(c.get("REPORT_HOTLINE") or "").strip() or None))

    @classmethod
    def defaults(cls) -> "ReportSettings":
        return cls.from_config({})


@dataclass
class ReportInput:
    kind: str
    point: Point
    description: str
    observed_on: date | None
    contact: str | None
    warnings: list[str]


def parse_report(data: Mapping[str, Any], settings: ReportSettings) -> ReportInput:
    """A report from JSON or form fields: kind, description, location as lon/lat (map click), a GeoJSON point or typed
    coordinates (``coordinates``), observed_on, contact."""
    if not isinstance(data, Mapping):
        raise InvalidInput(msg("reports.report_must_object", "a report must be an object"))
    kind = data.get("kind")
    if kind not in KINDS:
        raise InvalidInput(msg("reports.say_what_you_reporting", "say what you are reporting: kind must be one of "
                               "{kinds} (got {kind!r})", kinds=', '.join(KINDS), kind=kind),
                           field="kind")
    description = data.get("description")
    if not isinstance(description, str) or len(description.strip()) < MIN_DESCRIPTION:
        raise InvalidInput(msg("reports.describe_what_you_saw", "describe what you saw (at least {min_description} "
                               "characters)", min_description=MIN_DESCRIPTION), field="description")
    description = description.strip()
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(msg("reports.description_too_long_characters", "the description is too long ({count} "
                               "characters; the limit is {max_description})", count=len(description),
                               max_description=MAX_DESCRIPTION), field="description")
    contact = data.get("contact")
    if contact is not None and not isinstance(contact, str):
        raise InvalidInput(msg("reports.contact_must_text", "contact must be text"), field="contact")
    contact = (contact or "").strip() or None
    if contact and len(contact) > MAX_CONTACT:
        raise InvalidInput(msg("reports.contact_too_long_limit", "the contact is too long (the limit is "
                               "{max_contact} characters)", max_contact=MAX_CONTACT), field="contact")
    warnings: list[str] = []
    point = _location(data, settings, warnings)
    observed = data.get("observed_on")
    observed_on = parse_date(observed, "observed_on") if observed not in (None, "") else None
    if observed_on and observed_on > local_today(settings.timezone):
        raise InvalidInput(msg("reports.date_future", "the date {observed_on} is in the future",
                               observed_on=observed_on), field="observed_on")
    return ReportInput(kind=kind, point=point, description=description, observed_on=observed_on, contact=contact,
                       warnings=warnings)


def _location(data: Mapping[str, Any], settings: ReportSettings, warnings: list[str]) -> Point:
    """The first way the location was given: typed coordinates, else lon/lat, else a GeoJSON Point (the form sends
    the map's lon/lat beside what was typed). Each way that was given must be well-formed, used or not."""
    text, lon, lat, loc = data.get("coordinates"), data.get("lon"), data.get("lat"), data.get("location")
    if text is not None and not isinstance(text, str):
        raise InvalidInput(msg('reports.coordinates_text_e_g', 'coordinates must be text, e.g. 25.878, 105.372'), field="location")
    if any(isinstance(v, bool) or not isinstance(v, (str, int, float, type(None))) for v in (lon, lat)):
        raise InvalidInput(msg('inspections.lon_lat_must_decimal', 'lon and lat must be decimal degrees'), field="location")
    if loc not in (None, ""):
        loc = validate_location(loc)  # GeometryError: 422 with what is wrong
    if isinstance(text, str) and text.strip():
        parsed = parse_coordinate(text, region=settings.region)
        warnings.extend(parsed.warnings)
        point = Point(parsed.lon, parsed.lat)
    elif lon not in (None, "") or lat not in (None, ""):
        try:
            point = Point(float(lon), float(lat))
        except (TypeError, ValueError):
            raise InvalidInput(msg('inspections.lon_lat_must_decimal', 'lon and lat must be decimal degrees'), field="location") from None
    elif loc not in (None, ""):
        point = loc
    else:
        raise InvalidInput(msg("reports.give_location_click_map", "give the location: click on the map or type the "
                               "coordinates"), field="location")
    point = validate_location(point)
    if not inside(settings.region, point.x, point.y):  # a report is about this registry's region, strictly
        swapped = inside(settings.region, point.y, point.x)
        if swapped:
            raise InvalidInput(msg("reports.outside_region_swapped", "the location ({lon:.5f}, {lat:.5f}) is outside "
                                   "{region}; longitude and latitude look swapped", lon=point.x, lat=point.y,
                                   region=settings.region_name), field="location")
        raise InvalidInput(msg("reports.outside_region", "the location ({lon:.5f}, {lat:.5f}) is outside {region}",
                               lon=point.x, lat=point.y, region=settings.region_name), field="location")
    return point


def find_site(conn, point: Point, radius_m: float) -> tuple[str | None, float | None]:
    """The site a report most likely concerns: the one whose boundary contains the point, else the nearest within
    ``radius_m`` (geodesic, to boundary or location). Hidden sites included: the answer is for staff only."""
    dlat = radius_m / 110_574.0
    dlon = radius_m / (111_320.0 * max(math.cos(math.radians(point.y)), 0.01))
    bbox = (point.x - dlon, point.y - dlat, point.x + dlon, point.y + dlat)
    candidates = {s.code: s for s in sites.list_current(conn, bbox=bbox)}
    for code in store.boundary_codes_intersecting(conn, bbox):
        if code not in candidates:
            try:
                site = sites.current(conn, code)
            except NotFound:
                continue
            if site.properties.get("status") != SiteStatus.RETIRED:
                candidates[code] = site
    best: tuple[str | None, float | None] = (None, None)
    for site in candidates.values():
        d = distance_to_site_m((point.x, point.y), site)
        if d <= radius_m and (best[1] is None or d < best[1] or (d == best[1] and site.code < best[0])):
            best = (site.code, round(d, 1))
    return best


def submit_report(conn, blobs: BlobStore, data: ReportInput, *, settings: ReportSettings,
                  photos: Iterable[Upload] = (), actor: str = "anonymous",
                  remote_addr: str | None = None) -> dict[str, Any]:
    checked = read_photos(photos, max_count=settings.max_photos, max_bytes=settings.photo_max_bytes,
                          max_pixels=settings.photo_max_pixels)
    for photo in checked:
        check_photo(photo, distance_m=distance_m(photo.gps, data.point) if photo.gps else None,
                    max_distance_m=settings.photo_max_distance_m, expected_date=data.observed_on,
                    tz=settings.timezone, place="the reported location")
    site_code, site_distance = find_site(conn, data.point, settings.site_radius_m)
    with blobs.batch() as batch:
        for photo in checked:
            photos_mod.stage(batch, photo)
        with store.transaction(conn):
            now = store.utc_now()
            report_id = pstore.insert_report(
                conn, point=data.point, receipt=secrets.token_urlsafe(18), kind=data.kind,
                description=data.description, observed_on=data.observed_on.isoformat() if data.observed_on else None,
                submitted_at=now, submitted_by=actor, site_code=site_code, site_distance_m=site_distance,
                photo_count=len(checked))
            if data.contact:
                pstore.insert_contact(conn, report_id, data.contact)
            for photo in checked:
                insert_photo_row(conn, photo, now, report_id=report_id)
            # the audit entry names no contact data: the trail is readable by more people than the contact table
            store.append_audit(conn, actor=actor, action="report.submit", target=site_code, at=now,
                               remote_addr=remote_addr, detail={"report_id": report_id, "kind": data.kind,
                                                                "photos": len(checked)})
            store.lock_files(conn)
            batch.place()
    return get_report(conn, report_id, with_contact=False)


def get_report(conn, report_id: int, *, with_contact: bool) -> dict[str, Any]:
    r = pstore.get_report(conn, report_id=report_id)
    if r is None:
        raise NotFound(msg("reports.report", "no report {report_id}", report_id=report_id))
    r["id"] = r["fid"]
    r["reference"] = reference_of(r["receipt"])
    r["photos"] = istore.photos_of(conn, report_id=report_id)
    if with_contact:
        r["contact"] = pstore.contact_of(conn, report_id)
    return r


def find_by_reference(conn, reference: str) -> int | None:
    """The id of the report a reporter's reference names, or None. Reads every receipt (a reference is a hash, not an
    index): reports are tens to thousands a year."""
    wanted = normalized_reference(reference)
    if wanted is None:
        return None
    return next((fid for fid, receipt in pstore.report_receipts(conn) if reference_of(receipt) == wanted), None)


def get_by_receipt(conn, receipt: str) -> dict[str, Any]:
    r = pstore.get_report(conn, receipt=receipt) if receipt and len(receipt) <= 64 else None
    if r is None:
        raise NotFound(msg("reports.report_receipt", "no report with this receipt"))
    r["id"] = r["fid"]
    r["photos"] = istore.photos_of(conn, report_id=r["fid"])
    return r


def list_reports(conn, status: str | None = None, limit: int | None = 500) -> list[dict[str, Any]]:
    """The reports, newest first; ``status``: only those in that state (None: all; anything else is refused)."""
    if status is not None and status not in STATES:
        raise InvalidInput(msg('reports.status_one_join', 'status must be one of {join}', join=', '.join(STATES)), field="status")
    rows = pstore.list_reports(conn, status=status, limit=limit)
    for r in rows:
        r["id"] = r["fid"]
    return rows


def counts(conn) -> dict[str, int]:
    c = pstore.count_reports(conn)
    return {s: c.get(s, 0) for s in STATES}


def report_json(r: dict[str, Any], *, photo_url=None) -> dict[str, Any]:
    """A report for staff (triage): everything, the contact included when it was loaded."""
    out = {"id": r["fid"], "reference": reference_of(r["receipt"]), "kind": r["kind"], "status": r["status"],
           "description": r["description"], "location": mapping(r["point"]), "observed_on": r["observed_on"],
           "submitted_at": r["submitted_at"],
           "submitted_by": r["submitted_by"], "site": r["site_code"], "site_distance_m": r["site_distance_m"],
           "photo_count": r["photo_count"], "decided_at": r["decided_at"], "decided_by": r["decided_by"],
           "decision_note": r["decision_note"], "followup_id": r["followup_id"], "inspection_id": r["inspection_id"]}
    if "contact" in r:
        out["contact"] = r["contact"]
    if "photos" in r:
        out["photos"] = [photo_json(p, photo_url) for p in r["photos"]]
    return out


# --------------------------------------------------------------------------------------------------------------------
# Triage
# --------------------------------------------------------------------------------------------------------------------
def _open_report(conn, report_id: int) -> dict[str, Any]:
    r = pstore.get_report(conn, report_id=report_id)
    if r is None:
        raise NotFound(msg("reports.report", "no report {report_id}", report_id=report_id))
    if r["status"] != ReportStatus.NEW:
        raise Conflict(msg("reports.report_already", "report {report_id} was already {status} by {decided_by} on "
                           "{value}", report_id=report_id, status=r['status'], decided_by=r['decided_by'],
                           value=r['decided_at'][:10]))
    return r


def accept_report(conn, report_id: int, *, actor: str, settings: ReportSettings, site_code: str | None = None,
                  inspection_id: int | None = None, followup_description: str | None = None,
                  due_on: str | date | None = None, note: str | None = None,
                  remote_addr: str | None = None) -> dict[str, Any]:
    """Accept a report: link it to an inspection (of the site), or create a follow-up for the site. The site itself is
    not changed: changes to a site go through the revision workflow."""
    for name, value in (("note", note), ("site", site_code), ("followup description", followup_description)):
        if value is not None and not isinstance(value, str):
            raise InvalidInput(msg('reports.name_text', '{name} must be text', name=name), field=name.split()[0])
    note = (note or "").strip()[:MAX_NOTE * 4] or None
    with store.transaction(conn):
        r = _open_report(conn, report_id)
        code = (site_code or "").strip() or None
        if inspection_id is not None:
            rec = istore.get_inspection(conn, int(inspection_id))
            if rec is None:
                raise NotFound(msg("reports.inspection_record", "no inspection record {inspection_id}",
                                   inspection_id=inspection_id))
            if code and rec["code"] != code:
                raise InvalidInput(msg("reports.inspection_site", "inspection {inspection_id} is of site {code}, not "
                                       "{code2}", inspection_id=inspection_id, code=rec['code'], code2=code),
                                   field="inspection_id")
            code = rec["code"]
        code = code or r["site_code"]
        if not code:
            raise InvalidInput(msg("reports.name_site_report_concerns", "name the site this report concerns (no site "
                                   "was found near the reported location)"),
                               field="site")
        sites.current(conn, code)  # NotFound for an unknown code
        now = store.utc_now()
        followup_id = None
        if inspection_id is None:
            today = local_today(settings.timezone)
            due = (parse_date(due_on, "due date") if due_on not in (None, "")
                   else today + timedelta(days=settings.followup_days))
            if due < today:
                raise InvalidInput(msg("reports.follow_up_due_date", "the follow-up due date {due} is in the past",
                                       due=due), field="due")
            description = (followup_description or "").strip()[:MAX_NOTE * 4] or \
                f"Check public report #{report_id} ({r['kind']})"
            followup_id = istore.insert_followup(conn, code=code, description=description, due_on=due.isoformat(),
                                                 created_at=now, created_by=actor, report_id=report_id)
        if not pstore.decide_report(conn, report_id, status=ReportStatus.ACCEPTED, decided_at=now, decided_by=actor,
                                    note=note, site_code=code, followup_id=followup_id,
                                    inspection_id=int(inspection_id) if inspection_id is not None else None):
            raise Conflict(msg("reports.report_decided_meanwhile", "report {report_id} was decided meanwhile",
                               report_id=report_id))
        store.append_audit(conn, actor=actor, action="report.accept", target=code, at=now, remote_addr=remote_addr,
                           detail={"report_id": report_id, "followup_id": followup_id,
                                   "inspection_id": inspection_id})
    return get_report(conn, report_id, with_contact=True)


def dismiss_report(conn, report_id: int, *, reason: str, actor: str, remote_addr: str | None = None) -> dict[str, Any]:
    if reason is not None and not isinstance(reason, str):
        raise InvalidInput(msg('reports.reason_text', 'the reason must be text'), field="reason")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(msg("reports.give_reason_dismissing_report", "give the reason for dismissing the report"), field="reason")
    if len(reason) > MAX_NOTE * 4:
        raise InvalidInput(msg("reports.reason_too_long_limit", "the reason is too long (the limit is {value} "
                               "characters)", value=MAX_NOTE * 4), field="reason")
    with store.transaction(conn):
        r = _open_report(conn, report_id)
        now = store.utc_now()
        if not pstore.decide_report(conn, report_id, status=ReportStatus.DISMISSED, decided_at=now, decided_by=actor,
                                    note=reason):
            raise Conflict(msg("reports.report_decided_meanwhile", "report {report_id} was decided meanwhile",
                               report_id=report_id))
        store.append_audit(conn, actor=actor, action="report.dismiss", target=r["site_code"], at=now,
                           remote_addr=remote_addr, detail={"report_id": report_id, "reason": reason})
    return get_report(conn, report_id, with_contact=True)
