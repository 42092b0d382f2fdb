"""Inspection records: reading a record from JSON or a form, recording it with its threats, patrol track, photos and
follow-up in one transaction, reading records back, follow-ups, and the files of recorded photos."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable, Mapping

from shapely.geometry import Point, mapping
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from .. import photos as photos_mod
from .. import access, json_input, sites, store
from ..blobs import BlobStore
from ..coords import parse_coordinate
from ..errors import Conflict, InvalidInput, NotFound
from ..formats import Track, parse_gpx
from ..geometry import geodesic_distance_m, local_metres, validate_location
from ..photos import WARNING_FLAGS, Photo, Upload, check_photo, read_photos
from ..region import check_plausible
from ..store import inspections as istore
from . import marker_checks
from .settings import Settings, local_date, local_today
from ..messages import msg
from ..vocab import Condition, Severity, Threat

CONDITIONS = Condition.values()
THREATS = Threat.values()
SEVERITIES = Severity.values()
MAX_TEXT = 8000
MAX_NOTE = 500
MAX_INSPECTORS = 20


# --------------------------------------------------------------------------------------------------------------------
# Geodesic distance from a point to a site (or any geometry)
# --------------------------------------------------------------------------------------------------------------------
def distance_m(lonlat: tuple[float, float] | Point, geom: BaseGeometry) -> float:
    """Geodesic metres from a point to a geometry: 0 inside a polygon; otherwise to its nearest point, which is found in
    a transverse Mercator centred on the point (geometry.local_metric_crs), then measured on the ellipsoid."""
    pt = lonlat if isinstance(lonlat, Point) else Point(lonlat)
    if geom.geom_type == "Point":
        return geodesic_distance_m(pt, geom)
    if geom.covers(pt):
        return 0.0
    frame = local_metres(pt)
    _, nearest = nearest_points(frame.to_metres(pt), frame.to_metres(geom))
    return geodesic_distance_m(pt, frame.to_lonlat(nearest))


def distance_to_site_m(lonlat, site: sites.Site) -> float:
    return distance_m(lonlat, site.boundary if site.boundary is not None else site.location)


# --------------------------------------------------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------------------------------------------------
@dataclass
class RecordInput:
    inspected_on: date
    inspectors: list[str]
    condition: str
    threats: list[dict[str, Any]]
    findings: str
    actions: str
    followup: dict[str, Any] | None
    point: Point | None
    resolves: list[int]
    markers: list[dict[str, Any]] = field(default_factory=list)   # condition of each protection marker


def parse_date(value: Any, what: str) -> date:
    """A date given as a date or as ISO text; anything else (a JSON number: 20250101 is no date here) is refused."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise InvalidInput(msg('inspections.what_date_like_got', '{what} must be a date like 2025-05-01 (got {str!r})', what=what, str=str(value)[:40]), field=what)
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput(msg("inspections.must_date_like_got", "{what} must be a date like 2025-05-01 (got "
                               "{value!r})", what=what, value=str(value)[:40]), field=what) from None


def _text(data: Mapping, key: str, limit: int = MAX_TEXT) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(msg("inspections.must_text", "{key} must be text", key=key), field=key)
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(msg("inspections.too_long_characters_limit", "{key} is too long ({count} characters; the "
                               "limit is {limit})", key=key, count=len(value), limit=limit), field=key)
    return value


def _parse_threats(raw: Any) -> list[dict[str, Any]]:
    items: list[tuple[Any, Any, Any]] = []
    if raw in (None, "", [], {}):
        return []
    if isinstance(raw, str):
        for part in re.split(r"[,;\n]", raw):
            if part.strip():
                threat, _, severity = part.partition(":")
                items.append((threat.strip(), severity.strip() or None, None))
    elif isinstance(raw, Mapping):
        for threat, value in raw.items():
            if isinstance(value, Mapping):
                items.append((threat, value.get("severity"), value.get("note")))
            else:
                items.append((threat, value, None))
    elif isinstance(raw, list):
        for item in raw:
            if not isinstance(item, Mapping):
                raise InvalidInput(msg("inspections.threats_must_list_threat", "threats must be a list of "
                                       '{{"threat": ..., "severity": ...}} objects'), field="threats")
            items.append((item.get("threat"), item.get("severity"), item.get("note")))
    else:
        raise InvalidInput(msg("inspections.threats_must_list_threats", "threats must be a list of threats with "
                               "their severity"), field="threats")
    out, seen = [], set()
    for threat, severity, note in items:
        if threat not in THREATS:
            raise InvalidInput(msg("inspections.unknown_threat_known_threats", "unknown threat {threat!r}; known "
                                   "threats are {threats}", threat=threat, threats=', '.join(THREATS)), field="threats")
        if threat in seen:
            raise InvalidInput(msg("inspections.threat_listed_twice", "threat {threat} is listed twice", threat=threat), field="threats")
        seen.add(threat)
        if severity not in SEVERITIES:
            raise InvalidInput(msg("inspections.severity_must_one_got", "severity of {threat} must be one of "
                                   "{severities} (got {severity!r})", threat=threat, severities=', '.join(SEVERITIES),
                                   severity=severity),
                               field="threats")
        if note is not None and not isinstance(note, str):
            raise InvalidInput(msg("inspections.note_must_text", "the note on {threat} must be text", threat=threat), field="threats")
        note = (note or "").strip()[:MAX_NOTE] or None
        if threat == Threat.OTHER and not note:
            raise InvalidInput(msg("inspections.threat_other_needs_note", "threat 'other' needs a note saying what "
                                   "it is"), field="threats")
        out.append({"threat": threat, "severity": severity, "note": note})
    return out


def parse_point(raw: Any, region=None) -> Point | None:
    """An optional point: GeoJSON Point, [lon, lat], or typed coordinates (coords.parse_coordinate)."""
    if raw in (None, "", [], {}):
        return None
    if isinstance(raw, str):
        parsed = parse_coordinate(raw, region=region) if region else parse_coordinate(raw)
        return Point(parsed.lon, parsed.lat)
    if isinstance(raw, (list, tuple)) and len(raw) == 2:
        try:
            raw = {"type": "Point", "coordinates": [float(raw[0]), float(raw[1])]}
        except (TypeError, ValueError):
            raise InvalidInput(msg("inspections.point_must_longitude_latitude", "a point must be [longitude, "
                                   "latitude] in decimal degrees"), field="point") from None
    return validate_location(raw)


def _split_names(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        raw = re.split(r"[,;\n、，；]", raw)
    if not isinstance(raw, (list, tuple)) or not all(isinstance(n, str) for n in raw):
        raise InvalidInput(msg("inspections.inspectors_must_list_names", "inspectors must be a list of names"), field="inspectors")
    names = list(dict.fromkeys(n.strip() for n in raw if n.strip()))
    if len(names) > MAX_INSPECTORS or any(len(n) > 80 for n in names):
        raise InvalidInput(msg("inspections.most_inspectors_up_characters", "at most {max_inspectors} inspectors of "
                               "up to 80 characters each", max_inspectors=MAX_INSPECTORS), field="inspectors")
    return names


def _ids(raw: Any, what: str) -> list[int]:
    if raw in (None, "", []):
        return []
    if isinstance(raw, (str, int)):
        raw = [raw]
    if not isinstance(raw, (list, tuple)) or any(v in (None, "") for v in raw):
        raise InvalidInput(msg('inspections.what_list_numbers', '{what} must be a list of numbers', what=what), field=what)
    return sorted({json_input.whole_number(v, what, field=what) for v in raw})


def parse_record(data: Mapping[str, Any], *, default_inspector: str | None = None) -> RecordInput:
    """Check the form of an inspection record (codes, dates, texts); rules that need the site are checked on record."""
    if not isinstance(data, Mapping):
        raise InvalidInput(msg("inspections.inspection_record_must_object", "an inspection record must be an object"))
    unknown = sorted(set(data) - {"date", "inspectors", "condition", "threats", "findings", "actions", "followup",
                                  "point", "resolves", "markers"})
    if unknown:
        raise InvalidInput(msg("inspections.unknown_field_s_inspection", "unknown field(s) in the inspection record: "
                               "{unknown}", unknown=', '.join(unknown)))
    if not data.get("date"):
        raise InvalidInput(msg("inspections.inspection_needs_date", "an inspection needs its date"), field="date")
    inspected_on = parse_date(data["date"], "date")
    condition = data.get("condition")
    if condition not in CONDITIONS:
        raise InvalidInput(msg("inspections.condition_must_one_got", "condition must be one of {conditions} (got "
                               "{condition!r})", conditions=', '.join(CONDITIONS), condition=condition), field="condition")
    inspectors = _split_names(data.get("inspectors"))
    if not inspectors and default_inspector:
        inspectors = [default_inspector]
    if not inspectors:
        raise InvalidInput(msg("inspections.name_least_one_inspector", "name at least one inspector"), field="inspectors")
    followup = data.get("followup")
    if followup in (None, "", {}, False):
        followup = None
    else:
        if not isinstance(followup, Mapping):
            raise InvalidInput(msg("inspections.followup_must_object_description", "followup must be an object "
                                   '{{"description": ..., "due": "2025-06-01"}}'), field="followup")
        description = _text(followup, "description", MAX_NOTE * 4)
        if not description:
            raise InvalidInput(msg("inspections.follow_up_needs_description", "a follow-up needs a description of "
                                   "what is to be done"), field="followup")
        if not followup.get("due"):
            raise InvalidInput(msg("inspections.follow_up_needs_due", "a follow-up needs a due date"), field="followup")
        due = parse_date(followup["due"], "followup due date")
        if due < inspected_on:
            raise InvalidInput(msg("inspections.follow_up_due_before", "the follow-up is due on {due}, before the "
                                   "inspection ({inspected_on})", due=due, inspected_on=inspected_on),
                               field="followup")
        followup = {"description": description, "due_on": due}
    return RecordInput(inspected_on=inspected_on, inspectors=inspectors, condition=condition,
                       threats=_parse_threats(data.get("threats")), findings=_text(data, "findings"),
                       actions=_text(data, "actions"), followup=followup, point=parse_point(data.get("point")),
                       resolves=_ids(data.get("resolves"), "resolves"),
                       markers=marker_checks.parse_checks(data.get("markers")))


def record_from_form(form: Mapping[str, Any], getlist=None) -> dict[str, Any]:
    """The record from flat form fields (HTML form or API multipart): date, inspectors, condition, threat_<code> =
    severity (+ threat_<code>_note) or threats = "<code>:<severity>, ...", findings, actions, followup_description,
    followup_due, point (typed coordinates) or lon/lat, resolve (repeated)."""
    def value(key):
        v = form.get(key)
        return v.strip() if isinstance(v, str) else v

    threats: Any = value("threats") or None
    if threats is None:
        threats = [{"threat": t, "severity": value(f"threat_{t}"), "note": value(f"threat_{t}_note") or None}
                   for t in THREATS if value(f"threat_{t}")]
    record: dict[str, Any] = {"date": value("date"), "inspectors": value("inspectors") or None,
                              "condition": value("condition") or None, "threats": threats,
                              "findings": value("findings") or "", "actions": value("actions") or ""}
    if value("followup_description") or value("followup_due") or value("followup_needed"):
        record["followup"] = {"description": value("followup_description") or "", "due": value("followup_due")}
    if value("point"):
        record["point"] = value("point")
    elif value("lon") or value("lat"):
        try:
            record["point"] = [float(value("lon")), float(value("lat"))]
        except (TypeError, ValueError):
            raise InvalidInput(msg("inspections.lon_lat_must_decimal", "lon and lat must be decimal degrees"), field="point") from None
    resolves = getlist("resolve") if getlist else form.get("resolve")
    if resolves:
        record["resolves"] = resolves
    checks = marker_checks.checks_from_form(form)
    if checks:
        record["markers"] = checks
    return record


# --------------------------------------------------------------------------------------------------------------------
# Recording
# --------------------------------------------------------------------------------------------------------------------
def site_existed_since(conn, site: sites.Site, tz: str) -> date:
    """When the site (or section) came into existence for the registry: its ``established`` date, or else its first
    version's."""
    established = site.properties.get("established")
    if established:
        return date.fromisoformat(established)
    created = store.site_first_created(conn, site.code, site.kind.layers)
    return local_date(created, tz) if created else local_date(site.updated_at, tz)


def check_record_dates(conn, site: sites.Site, record: RecordInput, today: date, tz: str) -> None:
    if record.inspected_on > today:
        raise InvalidInput(msg("inspections.inspection_date_future_today", "the inspection date {inspected_on} is in "
                               "the future (today is {today})", inspected_on=record.inspected_on, today=today),
                           field="date")
    since = site_existed_since(conn, site, tz)
    if record.inspected_on < since:
        raise InvalidInput(msg("inspections.inspection_date_before_site", "the inspection date {inspected_on} is "
                               "before {kind} {code} existed (established {since})", inspected_on=record.inspected_on,
                               kind=site.kind.noun, code=site.code, since=since), field="date")


def _checked_places(record: RecordInput, track: Upload | None, settings: Settings) -> Track | None:
    """The inspection point and the patrol track (read from GPX) must lie where the registry's sites can be."""
    if record.point is not None:
        check_plausible(record.point, settings.region_bbox, settings.region_name, what="inspection point",
                        max_distance_km=settings.region_max_distance_km)
    if track is None or not (track.data or track.filename):
        return None
    parsed = parse_gpx(track.data, filename=track.filename, max_bytes=settings.gpx_max_bytes,
                       max_points=settings.gpx_max_points)
    check_plausible(parsed.geom, settings.region_bbox, settings.region_name, what="patrol track",
                    max_distance_km=settings.region_max_distance_km)
    return parsed


def record_inspection(conn, blobs: BlobStore, code: str, record: RecordInput, *, settings: Settings,
                      actor: str, track: Upload | None = None, photos: Iterable[Upload] = (),
                      remote_addr: str | None = None, today: date | None = None) -> dict[str, Any]:
    """Check and store one inspection record with its threats, track, photos and follow-up, or nothing at all."""
    today = today or local_today(settings.timezone)
    site = sites.current(conn, code)
    check_record_dates(conn, site, record, today, settings.timezone)
    marker_checks.check_markers_exist(conn, code, record.markers)
    parsed_track = _checked_places(record, track, settings)
    checked = read_photos(photos, max_count=settings.max_photos, max_bytes=settings.photo_max_bytes,
                          max_pixels=settings.photo_max_pixels)
    for photo in checked:
        check_photo(photo, distance_m=distance_to_site_m(photo.gps, site) if photo.gps else None,
                    max_distance_m=settings.photo_max_distance_m, expected_date=record.inspected_on,
                    tz=settings.timezone, tolerance_days=settings.photo_date_tolerance_days, place=f"site {code}")
    flagged = sum(1 for p in checked if set(p.flags) & set(WARNING_FLAGS))
    with blobs.batch() as batch:
        for photo in checked:
            photos_mod.stage(batch, photo)
        with store.transaction(conn):
            site_now = sites.current(conn, code)
            now = store.utc_now()
            inspection_id = istore.insert_inspection(
                conn, code=code, point=record.point, inspected_on=record.inspected_on.isoformat(),
                inspectors=", ".join(record.inspectors), condition=record.condition,
                threats_summary=", ".join(f"{t['threat']}:{t['severity']}" for t in record.threats),
                findings=record.findings, actions=record.actions, followup_needed=record.followup is not None,
                photo_count=len(checked), flagged_photos=flagged, site_version=site_now.version,
                recorded_at=now, recorded_by=actor)
            for t in record.threats:
                istore.insert_threat(conn, inspection_id, t["threat"], t["severity"], t["note"])
            if parsed_track is not None:
                istore.insert_track(conn, inspection_id=inspection_id, code=code,
                                    inspected_on=record.inspected_on.isoformat(), geom=parsed_track.geom,
                                    name=parsed_track.name, length_m=parsed_track.length_m,
                                    point_count=parsed_track.point_count, started_at=parsed_track.started_at,
                                    ended_at=parsed_track.ended_at, when=now)
            for photo in checked:
                insert_photo_row(conn, photo, now, inspection_id=inspection_id)
            followup_id = None
            if record.followup is not None:
                followup_id = istore.insert_followup(
                    conn, code=code, description=record.followup["description"],
                    due_on=record.followup["due_on"].isoformat(), created_at=now, created_by=actor,
                    inspection_id=inspection_id)
            for fid in record.resolves:
                _close(conn, fid, code=code, note=None, actor=actor, when=now,
                       inspection_id=inspection_id)
            marker_followups = marker_checks.record_checks(
                conn, inspection_id=inspection_id, code=code, checks=record.markers, inspected_on=record.inspected_on,
                followup_days=settings.marker_followup_days, actor=actor, now=now)
            store.append_audit(conn, actor=actor, action="inspection.record", target=code, at=now,
                               remote_addr=remote_addr,
                               detail={"inspection_id": inspection_id, "date": record.inspected_on.isoformat(),
                                       "condition": record.condition, "photos": len(checked), "flagged": flagged,
                                       "track": parsed_track is not None, "followup_id": followup_id,
                                       "resolved_followups": record.resolves, "markers": len(record.markers),
                                       "marker_followups": marker_followups})
            store.lock_files(conn)
            batch.place()
    return get_inspection(conn, inspection_id)


def insert_photo_row(conn, photo: Photo, now: str, *, inspection_id: int | None = None,
                     report_id: int | None = None, marker_id: int | None = None, rescue_id: int | None = None) -> None:
    istore.insert_photo(conn, sha256=photo.sha256, inspection_id=inspection_id, report_id=report_id,
                        marker_id=marker_id, rescue_id=rescue_id,
                        original_name=photo.original_name, media_type=photo.media_type, extension=photo.extension,
                        width=photo.width, height=photo.height, size_bytes=photo.size,
                        taken_at=photo.taken_at_text(), gps_lon=photo.gps[0] if photo.gps else None,
                        gps_lat=photo.gps[1] if photo.gps else None, distance_m=photo.distance_m, flags=photo.flags,
                        flag_message=photo.message, created_at=now)


# --------------------------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------------------------
def _complete(conn, rows: list[dict[str, Any]], *, with_photos: bool = True) -> list[dict[str, Any]]:
    ids = [r["fid"] for r in rows]
    threats = istore.threats_of(conn, ids)
    tracks = istore.tracks_of(conn, ids)
    for r in rows:
        r["id"] = r["fid"]
        r["threats"] = threats.get(r["fid"], [])
        r["track"] = tracks.get(r["fid"])
        r["inspectors"] = [n for n in (r["inspectors"] or "").split(", ") if n]
        if with_photos:
            r["photos"] = istore.photos_of(conn, inspection_id=r["fid"])
            r["followups"] = istore.list_followups(conn, inspection_id=r["fid"])
            r["markers"] = marker_checks.checks_of(conn, r["fid"])
    return rows


def get_inspection(conn, inspection_id: int) -> dict[str, Any]:
    row = istore.get_inspection(conn, inspection_id)
    if row is None:
        raise NotFound(msg("inspections.inspection_record", "no inspection record {inspection_id}",
                           inspection_id=inspection_id))
    rec = _complete(conn, [row])[0]
    track = istore.track_of(conn, inspection_id)
    if track is not None:
        rec["track"] = track
    return rec


def list_for_site(conn, code: str, *, with_photos: bool = False) -> list[dict[str, Any]]:
    sites.current(conn, code)  # NotFound for unknown codes
    return _complete(conn, istore.list_inspections(conn, code), with_photos=with_photos)


def inspection_json(rec: dict[str, Any], *, photo_url=None) -> dict[str, Any]:
    """A record as the (staff) API returns it. ``photo_url(kind, photo)`` makes the links to the photo files."""
    track = rec.get("track")
    out = {
        "id": rec["fid"], "site": rec["code"], "date": rec["inspected_on"], "inspectors": rec["inspectors"],
        "condition": rec["condition"], "threats": rec["threats"], "findings": rec["findings"],
        "actions": rec["actions"], "point": mapping(rec["point"]) if rec.get("point") is not None else None,
        "site_version": rec["site_version"], "recorded_at": rec["recorded_at"], "recorded_by": rec["recorded_by"],
        "photo_count": rec["photo_count"], "flagged_photos": rec["flagged_photos"],
        "track": None,
    }
    if track:
        out["track"] = {k: track.get(k) for k in ("name", "length_m", "point_count", "started_at", "ended_at")}
        if track.get("geom") is not None:
            out["track"]["geometry"] = mapping(track["geom"])
    if "photos" in rec:
        out["photos"] = [photo_json(p, photo_url) for p in rec["photos"]]
    if "followups" in rec:
        out["followups"] = [followup_json(f) for f in rec["followups"]]
    if "markers" in rec:
        out["markers"] = rec["markers"]
    return out


@dataclass(frozen=True)
class PhotoFile:
    path: Path
    media_type: str
    name: str


def photo_file(conn, blobs: BlobStore, sha256: str, area: str, *, can) -> PhotoFile:
    """One file of a recorded photo (``area``: originals, thumbs or display) for a caller who may read a record it
    belongs to (``can``: permission -> granted; access.readable_photos); NotFound for anything else, so that a
    photo's hash does not say whether a record the caller may not read holds it."""
    rows = access.readable_photos(conn, sha256.lower(), can) if isinstance(sha256, str) and len(sha256) == 64 else []
    if not rows:
        raise NotFound(msg("inspections.such_photo", "no such photo"))
    row = rows[0]
    try:
        path = blobs.path(area, row["sha256"], row["extension"])
    except ValueError:
        raise NotFound(msg("inspections.such_photo", "no such photo")) from None
    if not path.is_file():
        raise NotFound(msg("inspections.photo_s_file_missing", "the photo's file is missing from the data directory"))
    return PhotoFile(path, row["media_type"] if area == "originals" else "image/jpeg",
                     row["original_name"] or f"{row['sha256']}.{row['extension']}")


def photo_json(p: dict[str, Any], photo_url=None) -> dict[str, Any]:
    out = {"sha256": p["sha256"], "name": p["original_name"], "media_type": p["media_type"], "width": p["width"],
           "height": p["height"], "size_bytes": p["size_bytes"], "taken_at": p["taken_at"],
           "gps": [p["gps_lon"], p["gps_lat"]] if p["gps_lon"] is not None else None, "distance_m": p["distance_m"],
           "flags": p["flags"], "flagged": bool(set(p["flags"]) & set(WARNING_FLAGS)), "message": p["flag_message"]}
    if photo_url:
        out["url"] = photo_url("originals", p)
        out["thumbnail_url"] = photo_url("thumbs", p)
    return out


def followup_json(f: dict[str, Any]) -> dict[str, Any]:
    return {"id": f["fid"], "site": f["code"], "description": f["description"], "due": f["due_on"],
            "status": f["status"], "created_at": f["created_at"], "created_by": f["created_by"],
            "inspection_id": f["inspection_id"], "report_id": f["report_id"], "closed_at": f["closed_at"],
            "closed_by": f["closed_by"], "closing_note": f["closing_note"],
            "closed_by_inspection": f["closed_by_inspection"]}


# --------------------------------------------------------------------------------------------------------------------
# Follow-ups
# --------------------------------------------------------------------------------------------------------------------
def _close(conn, followup_id: int, *, code: str | None, note: str | None, actor: str, when: str,
           inspection_id: int | None) -> dict[str, Any]:
    f = istore.get_followup(conn, followup_id)
    if f is None:
        raise NotFound(msg("inspections.follow_up", "no follow-up {followup_id}", followup_id=followup_id))
    if code is not None and f["code"] != code:
        raise InvalidInput(msg("inspections.follow_up_belongs_site", "follow-up {followup_id} belongs to site "
                               "{code}, not {code2}", followup_id=followup_id, code=f['code'], code2=code), field="resolves")
    if f["status"] != "open" or not istore.close_followup(conn, followup_id, closed_at=when, closed_by=actor,
                                                          note=note, inspection_id=inspection_id):
        raise Conflict(msg("inspections.follow_up_already_closed", "follow-up {followup_id} is already closed",
                           followup_id=followup_id))
    return f


def close_followup(conn, followup_id: int, *, note: str | None, actor: str, remote_addr: str | None = None) -> dict:
    if note is not None and not isinstance(note, str):
        raise InvalidInput(msg('inspections.note_text', 'the note must be text'), field="note")
    note = (note or "").strip()
    if not note:
        raise InvalidInput(msg("inspections.say_how_follow_up", "say how the follow-up was dealt with"), field="note")
    if len(note) > MAX_NOTE * 4:
        raise InvalidInput(msg("inspections.note_too_long_limit", "the note is too long (the limit is {value} "
                               "characters)", value=MAX_NOTE * 4), field="note")
    with store.transaction(conn):
        now = store.utc_now()
        f = _close(conn, followup_id, code=None, note=note, actor=actor, when=now, inspection_id=None)
        store.append_audit(conn, actor=actor, action="inspection.followup_close", target=f["code"], at=now,
                           remote_addr=remote_addr, detail={"followup_id": followup_id})
    return istore.get_followup(conn, followup_id)


def open_followups(conn, today: date, code: str | None = None) -> list[dict[str, Any]]:
    rows = istore.list_followups(conn, code=code, status="open")
    for f in rows:
        f["overdue"] = date.fromisoformat(f["due_on"]) < today
        f["days_left"] = (date.fromisoformat(f["due_on"]) - today).days
    return rows
