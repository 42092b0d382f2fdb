"""Checking a kit in: every feature compared with the site version the kit carried, and each changed site proposed
once through the revision workflow, on the kit's base version.

* a site whose location, boundary or properties changed becomes one proposal (its survey fields give the proposal's
  method, accuracy and date; the surveyor, condition and note go into its reason; its photos and those of the survey
  points naming it become attachments). A site that moved on since the kit was made is still proposed on the kit's
  base version: the workflow marks it stale, and its reviewer sees base / current / proposed (never applied silently);
* a site marked ``retire`` becomes a retirement proposal; a deleted feature is reported as missing, never proposed;
* each feature of the new-finds layer becomes a new-site proposal;
* unchanged sites create nothing; a feature already proposed from this kit with the same content creates nothing
  (re-checking in the same kit is idempotent: ``fieldkit_items``); one changed again while its earlier proposal is
  still open is refused (amend or withdraw that proposal first);
* a feature the workflow refuses (an invalid boundary, a place on another continent...) is reported with the reason,
  and the others are still proposed; problems that concern the kit as a whole refuse everything (contents.py).

Each proposal and its record in ``fieldkit_items`` are one transaction; the check-in and its audit record another.
"""
from __future__ import annotations

import hashlib
import json
import posixpath
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.geometry import MultiPoint, Point
from shapely.geometry.base import BaseGeometry

from .. import features, revisions, store
from ..coords import CoordinateError
from ..errors import Conflict, InvalidInput, RegistryError
from ..geometry import GeometryError
from ..store import fieldkit as kstore
from .contents import Feature, KitContents, read_contents
from .layers import LOCATIONS, SITE_PROPERTIES
from .settings import Settings
from .upload import Upload, opened
from ..messages import message_of, msg

FIND_PROPERTIES = ("name", "name_en", "county", "level", "period", "age", "formation", "fossil_groups", "description")
SURVEY = ("surveyor", "method", "accuracy_m", "survey_date", "note", "condition")
TOLERANCE_DEG = 1e-9  # ~0.1 mm: what a GIS may change by re-encoding an untouched geometry


@dataclass
class Plan:
    """One proposal to make: a changed site or a new find."""

    key: str                      # idempotency key within the kit: site:<code> or find:<id>
    feature: str                  # the feature(s) it comes from, for the summary
    site: str | None
    fields: dict[str, Any]        # for revisions.parse_draft
    photos: list[tuple[str, bytes]] = field(default_factory=list)
    content: str = ""


@dataclass
class Summary:
    proposed: list[dict] = field(default_factory=list)
    already_proposed: list[dict] = field(default_factory=list)
    unchanged: list[dict] = field(default_factory=list)
    missing: list[dict] = field(default_factory=list)
    refused: list[dict] = field(default_factory=list)
    photos_not_used: list[dict] = field(default_factory=list)

    def to_json(self) -> dict[str, list[dict]]:
        return {k: list(v) for k, v in self.__dict__.items()}


def check_in(conn, filename: str, data: bytes, *, actor: str, settings: Settings, kit_id: str | None = None,
             remote_addr: str | None = None) -> dict[str, Any]:
    """Check in an edited kit (its GeoPackage, or a zip of its folder); returns the stored check-in with its summary."""
    summary = Summary()
    with opened(filename, data, settings) as upload:
        contents = read_contents(conn, upload, settings, kit_id)
        plans = plan(conn, contents, upload, settings, summary)
    for p in plans:
        _propose(conn, contents.kit, p, settings, actor, remote_addr, summary)
    return _record(conn, contents.kit, upload, summary, actor, remote_addr)


# ---------------------------------------------------------------------------------------------------------- planning
def plan(conn, contents: KitContents, upload: Upload, settings: Settings, summary: Summary) -> list[Plan]:
    """The proposals a kit asks for (changed sites, then new finds); reports unchanged and missing features."""
    photos = _survey_photos(contents, summary)
    plans = []
    for code, base_version in sorted(contents.kit["sites"].items()):
        try:
            p = _site_plan(conn, contents, code, base_version, summary)
        except (RegistryError, GeometryError, CoordinateError) as exc:
            summary.refused.append({"feature": _label(contents, code), "site": code, **_reason(exc)})
            continue
        taken = ([contents.locations[code].values.get("photo")] if code in contents.locations else []) + \
            photos.pop(("site", code), [])
        if p is None:
            summary.photos_not_used += [{"feature": _label(contents, code), "photo": name, "reason":
                                         "the site is unchanged: photos of an unchanged site belong in an inspection"}
                                        for name in taken if name]
            continue
        _attach(p, taken, upload, settings, summary)
        plans.append(p)
    for find in contents.finds:
        find_id = _text(find.values.get("find_id"))
        extra = photos.pop(("find", find_id), []) if find_id else []
        try:
            p = _find_plan(contents, find)
        except (RegistryError, GeometryError, CoordinateError) as exc:
            summary.refused.append({"feature": find.label, "site": None, **_reason(exc)})
            continue
        _attach(p, [find.values.get("photo"), *extra], upload, settings, summary)
        plans.append(p)
    for (kind, key), names in photos.items():
        summary.photos_not_used += [{"feature": f"survey point of {key}", "photo": n, "reason":
                                     f"no proposal for {kind} {key}"} for n in names]
    for p in plans:
        p.content = _content_hash(p)
    return plans


def _label(contents: KitContents, code: str) -> str:
    parts = [f.label for f in (contents.locations.get(code), contents.boundaries.get(code)) if f is not None]
    return " + ".join(parts) or code


def _site_plan(conn, contents: KitContents, code: str, base_version: int, summary: Summary) -> Plan | None:
    base = features.at_version(conn, code, base_version)
    loc, bnd = contents.locations.get(code), contents.boundaries.get(code)
    fields: dict[str, Any] = {}
    if loc is None:
        summary.missing.append({"feature": LOCATIONS, "site": code, "what": "location",
                                "note": "deleted in the field? To retire a site, tick 'retire' instead of deleting it"})
    else:
        point = _point(loc)
        if not point.equals_exact(base.location, TOLERANCE_DEG):
            fields["location"] = _geojson(point)
        changes = _property_changes(loc.values, base.properties)
        if changes:
            fields["properties"] = changes
        if _truthy(loc.values.get("retire")) and base.properties.get("status") != "retired":
            fields["retire"] = True
    if bnd is not None and bnd.geometry is not None and _boundary_changed(bnd.geometry, base.boundary):
        fields["boundary"] = _geojson(bnd.geometry)
    elif code in contents.kit["boundaries"] and (bnd is None or bnd.geometry is None):
        summary.missing.append({"feature": bnd.label if bnd else "site_boundaries", "site": code, "what": "boundary",
                                "note": "deleted in the field? A boundary is removed through the web form, not by "
                                        "deleting it from a kit"})
    if not fields:
        summary.unchanged.append({"feature": _label(contents, code), "site": code})
        return None
    fields.update(_survey([loc, bnd], contents.kit["kit_id"], _label(contents, code)), base_version=base_version)
    return Plan(f"site:{code}", _label(contents, code), code, fields)


def _find_plan(contents: KitContents, find: Feature) -> Plan:
    find_id = _text(find.values.get("find_id"))
    fields: dict[str, Any] = {"properties": {k: find.values[k] for k in FIND_PROPERTIES
                                             if find.values.get(k) not in (None, "")}}
    if find.geometry is not None:
        fields["location"] = _geojson(_point(find))
    fields.update(_survey([find], contents.kit["kit_id"], find.label))
    return Plan(f"find:{find_id}" if find_id else f"find:fid:{find.fid}", find.label, None, fields)


def _point(feature: Feature) -> Point:
    geom = feature.geometry
    if isinstance(geom, MultiPoint) and len(geom.geoms) == 1:
        geom = geom.geoms[0]
    if not isinstance(geom, Point):
        raise InvalidInput(msg("fieldkit.location_point", "{label}: the location is {value}, not a point",
                               label=feature.label, value='missing' if geom is None else geom.geom_type))
    return geom


def _geojson(geom: BaseGeometry) -> dict[str, Any]:
    """GeoJSON as a JSON body carries it (lists, full precision), for revisions.parse_draft."""
    return json.loads(shapely.to_geojson(geom))


def _boundary_changed(new: BaseGeometry, old: BaseGeometry | None) -> bool:
    if old is None:
        return True
    return not shapely.normalize(new).equals_exact(shapely.normalize(old), TOLERANCE_DEG)


def _same(a: Any, b: Any) -> bool:
    empty = (None, "", [])
    return (a in empty and b in empty) or a == b


def _property_changes(values: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """The properties whose kit value differs from the base version (checked like any proposal's; a cleared level or
    sensitivity keeps the base value)."""
    given = {}
    for key in SITE_PROPERTIES:
        if key not in values or (key in ("level", "sensitivity") and values[key] in (None, "")):
            continue
        value = values[key]
        if key == "fossil_groups" and value is None:
            value = ""
        if key == "established" and isinstance(value, str):
            value = value[:10] or None
        given[key] = value
    checked = features.SITE.normalize(given, partial=True)
    return {k: v for k, v in checked.items() if not _same(base.get(k), v)}


def _truthy(value: Any) -> bool:
    return value in (1, True) or str(value).strip().lower() in ("1", "true", "yes")


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ("" if value is None else str(value))


def _survey(features: list[Feature | None], kit_id: str, label: str) -> dict[str, Any]:
    """The proposal's survey information: the first feature that gives each field (the site's location, then its
    boundary); the reason says where the change comes from, who surveyed it, and the condition seen."""
    got: dict[str, Any] = {}
    for key in SURVEY:
        for f in features:
            if f is not None and f.values.get(key) not in (None, ""):
                got[key] = f.values[key]
                break
    note = _text(got.get("note"))
    facts = [f"field kit {kit_id[:8]}, {label}"]
    facts += [f"surveyor {_text(got['surveyor'])}"] if got.get("surveyor") else []
    facts += [f"condition {_text(got['condition'])}"] if got.get("condition") else []
    reason = (note[:revisions.MAX_REASON - 300] + "\n" if note else "Field survey. ") + "(" + "; ".join(facts) + ")"
    out: dict[str, Any] = {"reason": reason}
    for key in ("method", "accuracy_m"):
        if got.get(key) not in (None, ""):
            out[key] = got[key]
    if got.get("survey_date"):
        out["survey_date"] = _text(got["survey_date"])[:10]
    return out


# ------------------------------------------------------------------------------------------------------------ photos
def _survey_photos(contents: KitContents, summary: Summary) -> dict[tuple[str, str], list[str]]:
    """The photos of the survey points, by the site code or find id they name."""
    finds = {_text(f.values.get("find_id")) for f in contents.finds} - {""}
    out: dict[tuple[str, str], list[str]] = {}
    for point in contents.survey_points:
        photo = _text(point.values.get("photo"))
        if not photo:
            continue
        code, find_id = _text(point.values.get("site_code")), _text(point.values.get("find_id"))
        if code in contents.kit["sites"]:
            out.setdefault(("site", code), []).append(photo)
        elif find_id in finds:
            out.setdefault(("find", find_id), []).append(photo)
        else:
            summary.photos_not_used.append({"feature": point.label, "photo": photo, **_reason(msg(
                "fieldkit.photo_point_names_nothing", "the survey point names no site of the kit and no new find"))})
    return out


def _attach(p: Plan, names: list[Any], upload: Upload, settings: Settings, summary: Summary) -> None:
    """The photos that can be attached to the proposal (readable images within the workflow's limits)."""
    policy = settings.policy
    for name in dict.fromkeys(_text(n) for n in names if _text(n)):
        data, why = upload.photo(name)
        if data is None:
            summary.photos_not_used.append({"feature": p.feature, "photo": name, **_reason(why)})
            continue
        try:
            if policy.files is None:
                raise InvalidInput(msg("fieldkit.attachments_available_data_directory", "attachments are not "
                                       "available (no data directory)"))
            if len(data) > policy.max_attachment_bytes:
                raise InvalidInput(msg("fieldkit.larger_than_mib", "larger than {value} MiB",
                                       value=policy.max_attachment_bytes // (1024 * 1024)))
            if len(p.photos) >= policy.max_attachments:
                raise InvalidInput(msg("fieldkit.proposal_carries_most_attachments", "a proposal carries at most "
                                       "{max_attachments} attachments", max_attachments=policy.max_attachments))
            revisions.attachment_type(posixpath.basename(name), data)
        except InvalidInput as exc:
            summary.photos_not_used.append({"feature": p.feature, "photo": name, **_reason(exc)})
            continue
        p.photos.append((posixpath.basename(name), data))


def _content_hash(p: Plan) -> str:
    """What the proposal would change (not its survey notes): the same edit checked in twice has the same hash."""
    content = {k: p.fields.get(k) for k in ("location", "boundary", "properties", "retire", "base_version")}
    content["site"] = p.site
    content["photos"] = sorted(hashlib.sha256(data).hexdigest() for _, data in p.photos)
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def _reason(why: Any) -> dict[str, Any]:
    """Why something was refused, as stored in the summary: the English text (reason) and, for a message, what it takes
    to show it in the reader's language later (message_code, msgid, params)."""
    found = message_of(why)
    text = why.detail if isinstance(why, RegistryError) else str(why)
    return {"reason": text, **(found.as_record() if found is not None else {"message": text})}


# ------------------------------------------------------------------------------------------------------------ writing
def _propose(conn, kit: dict[str, Any], p: Plan, settings: Settings, actor: str, remote_addr: str | None,
             summary: Summary) -> None:
    """Propose one plan with its item record (one transaction), unless this kit already proposed the same content."""
    try:
        draft = revisions.parse_draft(p.fields, policy=settings.policy, attachments=p.photos)
        draft.input = {target: {"format": "field kit", "filename": f"kit {kit['kit_id'][:8]}", "feature": p.feature,
                                "source_crs": "EPSG:4490"} for target in ("location", "boundary") if target in p.fields}
        with store.transaction(conn):  # under the write lock: a parallel check-in of the same kit waits here
            earlier = kstore.items_for(conn, kit["fid"], p.key)
            same = next((e for e in earlier if e["content"] == p.content), None)
            if same is not None:
                summary.already_proposed.append({"feature": p.feature, "site": p.site,
                                                 "revision": same["revision_id"], "status": same["status"]})
                return
            still_open = next((e for e in earlier if e["status"] in revisions.OPEN), None)
            if still_open is not None:
                raise Conflict(msg("fieldkit.changed_again_since_proposed", "changed again since it was proposed as "
                                   "#{revision_id}, which is still open: amend or withdraw proposal #{revision_id}, "
                                   "then check in again", revision_id=still_open['revision_id']))
            rev = revisions.propose(conn, draft, author=actor, site_code=p.site, policy=settings.policy,
                                    remote_addr=remote_addr)
            kstore.insert_item(conn, kit_fid=kit["fid"], feature=p.key, content=p.content, revision_id=rev.id,
                               created_at=store.utc_now())
    except (RegistryError, GeometryError, CoordinateError) as exc:
        summary.refused.append({"feature": p.feature, "site": p.site, **_reason(exc)})
        return
    stale = any(w.get("code") == "stale_base" for w in rev.warnings)
    summary.proposed.append({
        "feature": p.feature, "site": p.site, "revision": rev.id, "kind": rev.kind, "base_version": rev.base_version,
        "stale": stale, "current_version": store.site_version_number(conn, p.site) if p.site else None,
        "changes": rev.changes, "photos": len(rev.attachments), "metrics": rev.metrics})


def _record(conn, kit: dict[str, Any], upload: Upload, summary: Summary, actor: str,
            remote_addr: str | None) -> dict[str, Any]:
    body = summary.to_json()
    counts = {k: len(v) for k, v in body.items()}
    with store.transaction(conn):
        now = store.utc_now()
        fid = kstore.insert_checkin(conn, kit_fid=kit["fid"], checked_in_at=now, checked_in_by=actor,
                                    filename=upload.filename, sha256=upload.sha256, summary=body)
        store.append_audit(conn, actor=actor, action="fieldkit.checkin", target=kit["kit_id"], at=now,
                           remote_addr=remote_addr,
                           detail={"checkin": fid, "file_sha256": upload.sha256, **counts,
                                   "revisions": [p["revision"] for p in summary.proposed]})
    return kstore.get_checkin(conn, fid)
