"""Rescue cases: when a find is reported (by the public, or by a construction project), staff open a case and record
what was done when, against the legal clock of the Regulations on the Protection of Fossils (art. 18: officials on
site within 24 hours of the report, an opinion within 7 days; both configurable), the specimens rescued and samples
collected (counts, field numbers, where they are kept), photos, and the outcome: a new-site proposal through the
revision workflow (four eyes, as always), or "not significant". Pure domain code (no Flask).

Nothing of a case is public: its place becomes public, if ever, as a registered site once the proposal is approved
and the site's sensitivity decided (new sites are proposed hidden unless the proposal says otherwise).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from shapely.geometry import mapping

from . import config, revisions, store
from . import photos as photos_mod
from .blobs import BlobStore
from .errors import Conflict, InvalidInput, NotFound
from .messages import Message, msg
from .inspections.records import distance_m, insert_photo_row, parse_point
from .photos import Upload, check_photo, read_photos
from .region import check_plausible
from .store import impact as impact_store
from .store import inspections as istore
from .store import reports as pstore
from .store import rescues as rstore
from .vocab import ReportStatus, RescueEvent, RescueSource, RevisionStatus

SOURCES = RescueSource.values()
EVENT_KINDS = RescueEvent.values()
# The events that close a case.
OUTCOMES = (RescueEvent.NEW_SITE_PROPOSED.value, RescueEvent.NOT_SIGNIFICANT.value)
MAX_TEXT = 4000
MAX_COUNT = 1_000_000


@dataclass(frozen=True)
class Settings:
    on_site_hours: int
    opinion_days: int
    max_photos: int
    photo_max_bytes: int
    photo_max_pixels: int
    photo_max_distance_m: float
    timezone: str
    region_bbox: tuple[float, float, float, float]
    region_name: str
    region_max_distance_km: float

    @classmethod
    def from_config(cls, config_: Mapping[str, Any]) -> "Settings":
        c = config.settings(config_)
        return cls(on_site_hours=int(c["RESCUE_ON_SITE_HOURS"]), opinion_days=int(c["RESCUE_OPINION_DAYS"]),
                   max_photos=int(c["RESCUE_MAX_PHOTOS"]), photo_max_bytes=int(c["PHOTO_MAX_BYTES"]),
                   photo_max_pixels=int(c["PHOTO_MAX_PIXELS"]), photo_max_distance_m=float(c["PHOTO_MAX_DISTANCE_M"]),
                   timezone=c["TIMEZONE"], region_bbox=tuple(c["REGION_BBOX"]), region_name=c["REGION_NAME"],
                   region_max_distance_km=float(c["REGION_MAX_DISTANCE_KM"]))

    @classmethod
    def defaults(cls) -> "Settings":
        return cls.from_config({})


# --------------------------------------------------------------------------------------------------------------------
# Reading input
# --------------------------------------------------------------------------------------------------------------------
def _utc(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_instant(value: Any, what: str, tz: str, *, now: datetime | None = None) -> str:
    """A moment (ISO date-time; a naive one is in the registry's time zone; a bare date means noon) in the store's UTC
    form; refused when malformed or in the future."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value or "").strip().replace(" ", "T")
        if not text:
            raise InvalidInput(msg("rescues.give_instant", "give {what} (date and time, e.g. 2026-05-03T14:30)",
                                   what=what), field=what)
        try:
            moment = (datetime.combine(date.fromisoformat(text), time(12)) if len(text) == 10
                      else datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            raise InvalidInput(msg("rescues.instant_malformed", "{what} must be a date and time like "
                                   "2026-05-03T14:30 (got {value!r})", what=what, value=text[:40]),
                               field=what) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz))
    now = now or datetime.now(timezone.utc)
    if moment > now + timedelta(minutes=5):  # a few minutes of clock difference between a phone and the server
        raise InvalidInput(msg("rescues.instant_future", "{what} {moment} is in the future", what=what,
                               moment=moment.isoformat(timespec='minutes')), field=what)
    return _utc(moment)


def _text(data: Mapping[str, Any], key: str, *, required: Message | None = None, limit: int = MAX_TEXT
          ) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(msg("rescues.must_text", "{key} must be text", key=key), field=key)
    value = (value or "").strip()
    if len(value) > limit:
        raise InvalidInput(msg("rescues.too_long", "{key} is too long ({count} characters; the limit is {limit})",
                               key=key, count=len(value), limit=limit), field=key)
    if not value and required:
        raise InvalidInput(required, field=key)
    return value or None


def _count(data: Mapping[str, Any], key: str, *, required: bool) -> int | None:
    value = data.get(key)
    if value in (None, ""):
        if required:
            raise InvalidInput(msg("rescues.give_count", "give {key}: how many (0 or more)", key=key), field=key)
        return None
    if isinstance(value, bool) or (isinstance(value, float) and value != int(value)):
        raise InvalidInput(msg("rescues.count_whole", "{key} must be a whole number", key=key), field=key)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(msg("rescues.count_not_number", "{key} must be a whole number (got {value!r})", key=key,
                               value=str(value)[:20]), field=key) from None
    if number < 0:
        raise InvalidInput(msg("rescues.count_negative", "{key} cannot be negative (got {number})", key=key,
                               number=number), field=key)
    if number > MAX_COUNT:
        raise InvalidInput(msg("rescues.count_too_large", "{key} is implausibly large ({number})", key=key,
                               number=number), field=key)
    return number


def _id(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidInput(msg("rescues.id_not_number", "{key} must be a number", key=key), field=key) from None


# --------------------------------------------------------------------------------------------------------------------
# Opening a case and recording what was done
# --------------------------------------------------------------------------------------------------------------------
_CASE_FIELDS = {"source", "report_id", "impact_case_id", "reported_by", "contact", "reported_at", "point", "lon", "lat",
                "county", "description"}


def _case_input(conn, data: Mapping[str, Any], settings: Settings) -> dict[str, Any]:
    """A case's content, checked; a public report it comes from gives its defaults (place, time, description)."""
    if not isinstance(data, Mapping):
        raise InvalidInput(msg("rescues.case_not_object", "a rescue case must be an object"))
    unknown = sorted(map(str, set(data) - _CASE_FIELDS))  # a nameless multipart part: the field None
    if unknown:
        raise InvalidInput(msg("rescues.case_unknown_fields", "unknown field(s) of a rescue case: {fields}",
                               fields=', '.join(unknown)))
    report_id, impact_case_id = _id(data, "report_id"), _id(data, "impact_case_id")
    report = pstore.get_report(conn, report_id=report_id) if report_id is not None else None
    if report_id is not None and report is None:
        raise NotFound(msg("rescues.no_report", "no public report {report_id}", report_id=report_id))
    if impact_case_id is not None and impact_store.get_case(conn, impact_case_id) is None:
        raise NotFound(msg("rescues.no_project_case", "no project case {impact_case_id}",
                           impact_case_id=impact_case_id))
    default = RescueSource.PUBLIC_REPORT if report else RescueSource.CONSTRUCTION if impact_case_id else None
    source = data.get("source") or default
    if source not in SOURCES:
        raise InvalidInput(msg("rescues.source_unknown", "source must be one of {sources} (got {source!r})",
                               sources=', '.join(SOURCES), source=source), field="source")
    raw_point = data.get("point") or ([data["lon"], data["lat"]] if data.get("lon") not in (None, "") else None)
    point = parse_point(raw_point, region=settings.region_bbox) if raw_point else (report or {}).get("point")
    if point is None:
        raise InvalidInput(msg("rescues.give_point", "give where the find is (point: [lon, lat] or typed "
                               "coordinates)"), field="point")
    check_plausible(point, settings.region_bbox, settings.region_name, what="find",
                    max_distance_km=settings.region_max_distance_km)
    reported_at = data.get("reported_at") or (report or {}).get("submitted_at")
    return {"source": source, "report_id": report_id, "impact_case_id": impact_case_id, "point": point,
            "reported_at": parse_instant(reported_at, "reported_at", settings.timezone),
            "reported_by": _text(data, "reported_by", limit=200) or (f"public report #{report_id}" if report else None)
            or _text(data, "reported_by", required=msg("rescues.say_who_reported", "say who reported the find (a "
                                                                   "person, or the project)")),
            "contact": _text(data, "contact", limit=200), "county": _text(data, "county", limit=200),
            "description": _text(data, "description", limit=MAX_TEXT) or (report or {}).get("description")
            or _text(data, "description", required=msg("rescues.describe_find", "describe the find"))}


def open_case(conn, blobs: BlobStore, data: Mapping[str, Any], *, settings: Settings, actor: str,
              photos: Iterable[Upload] = (), remote_addr: str | None = None) -> dict[str, Any]:
    """Open a rescue case (one transaction with its photos and audit entry). A public report it comes from that is
    still waiting for triage is accepted into the case in the same transaction."""
    case = _case_input(conn, data, settings)
    checked = _photos(photos, case["point"], settings, None)
    with blobs.batch() as batch:
        for photo in checked:
            photos_mod.stage(batch, photo)
        with store.transaction(conn):
            now = store.utc_now()
            case_id = rstore.insert_case(
                conn, point=case["point"], source=case["source"], report_id=case["report_id"],
                impact_case_id=case["impact_case_id"], reported_by=case["reported_by"],
                reported_at=case["reported_at"], county=case["county"], description=case["description"],
                opened_at=now, opened_by=actor)
            if case["contact"]:
                rstore.insert_contact(conn, case_id, case["contact"])
            for photo in checked:
                insert_photo_row(conn, photo, now, rescue_id=case_id)
            if case["report_id"] is not None:
                pstore.decide_report(conn, case["report_id"], status=ReportStatus.ACCEPTED, decided_at=now,
                                     decided_by=actor, note=f"rescue case #{case_id}")
            store.append_audit(conn, actor=actor, action="rescue.open", target=f"rescue:{case_id}", at=now,
                               remote_addr=remote_addr, detail={"case_id": case_id, "source": case["source"],
                                                                "report_id": case["report_id"], "photos": len(checked)})
            batch.place()
    return get_case(conn, case_id, settings=settings)


def _photos(photos: Iterable[Upload], point, settings: Settings, on: date | None) -> list:
    checked = read_photos(photos, max_count=settings.max_photos, max_bytes=settings.photo_max_bytes,
                          max_pixels=settings.photo_max_pixels)
    for photo in checked:
        check_photo(photo, distance_m=distance_m(photo.gps, point) if photo.gps else None,
                    max_distance_m=settings.photo_max_distance_m, expected_date=on, tz=settings.timezone,
                    place=msg("rescues.photo_place", "the find"))
    return checked


_EVENT_FIELDS = {"kind", "done_at", "note", "specimens", "samples", "field_numbers", "kept_at", "site", "reason"}


def add_event(conn, blobs: BlobStore, case_id: int, data: Mapping[str, Any], *, settings: Settings, actor: str,
              photos: Iterable[Upload] = (), remote_addr: str | None = None,
              policy: revisions.Policy | None = None) -> dict[str, Any]:
    """Record what was done when. ``new_site_proposed`` proposes the find as a new site (``site``: its properties and
    optionally its boundary, as a new-site proposal takes them; located at the find unless ``site.location`` says
    otherwise) and closes the case; ``not_significant`` closes it. Nothing is stored unless everything is valid."""
    if not isinstance(data, Mapping):
        raise InvalidInput(msg("rescues.event_not_object", "an event must be an object"))
    unknown = sorted(map(str, set(data) - _EVENT_FIELDS))
    if unknown:
        raise InvalidInput(msg("rescues.event_unknown_fields", "unknown field(s) of a rescue event: {fields}",
                               fields=', '.join(unknown)))
    case = _case_row(conn, case_id)
    kind = data.get("kind")
    if kind not in EVENT_KINDS:
        raise InvalidInput(msg("rescues.event_kind_unknown", "kind must be one of {kinds} (got {kind!r})",
                               kinds=', '.join(EVENT_KINDS), kind=kind), field="kind")
    done_at = parse_instant(data.get("done_at") or datetime.now(timezone.utc), "done_at", settings.timezone)
    if done_at < case["reported_at"]:
        raise InvalidInput(msg("rescues.done_before_reported", "done_at {done_at} is before the find was reported "
                               "({reported_at})", done_at=done_at, reported_at=case['reported_at']), field="done_at")
    if kind in OUTCOMES and case["status"] != "open":
        raise Conflict(msg("rescues.case_closed", "rescue case {case_id} is already closed ({outcome})",
                           case_id=case_id, outcome=case['outcome'].replace('_', ' ')))
    event = {"note": _text(data, "note", required=msg("rescues.say_why_not_significant", "say why the find is not "
                                                      "significant") if kind == RescueEvent.NOT_SIGNIFICANT else None),
             "specimens": _count(data, "specimens", required=kind == RescueEvent.SPECIMENS_RESCUED),
             "samples": _count(data, "samples", required=kind == RescueEvent.SAMPLES_COLLECTED),
             "field_numbers": _text(data, "field_numbers", limit=2000), "kept_at": _text(data, "kept_at", limit=500)}
    if kind in (RescueEvent.SPECIMENS_RESCUED, RescueEvent.SAMPLES_COLLECTED) and not event["kept_at"]:
        raise InvalidInput(msg("rescues.say_where_kept", "say where the specimens or samples are kept (kept_at)"),
                           field="kept_at")
    local_day = datetime.fromisoformat(done_at.replace("Z", "+00:00")).astimezone(ZoneInfo(settings.timezone)).date()
    checked = _photos(photos, case["point"], settings, local_day)
    with blobs.batch() as batch:
        for photo in checked:
            photos_mod.stage(batch, photo)
        with store.transaction(conn):
            revision_id = None
            if kind == RescueEvent.NEW_SITE_PROPOSED:
                revision_id = _propose_site(conn, case, data, actor, remote_addr, policy)
            now = store.utc_now()
            event_id = rstore.insert_event(conn, case_id=case_id, kind=kind, done_at=done_at, recorded_at=now,
                                           recorded_by=actor, revision_id=revision_id, photo_count=len(checked),
                                           **event)
            for photo in checked:
                insert_photo_row(conn, photo, now, rescue_id=case_id)
            if kind in OUTCOMES and not rstore.close_case(conn, case_id, outcome=kind, revision_id=revision_id,
                                                          closed_at=now, closed_by=actor):
                raise Conflict(msg("rescues.closed_meanwhile", "rescue case {case_id} was closed meanwhile",
                                   case_id=case_id))
            store.append_audit(conn, actor=actor, action=f"rescue.{kind}", target=f"rescue:{case_id}", at=now,
                               remote_addr=remote_addr, detail={"case_id": case_id, "event_id": event_id,
                                                                "revision_id": revision_id, "photos": len(checked)})
            batch.place()
    return get_case(conn, case_id, settings=settings)


def _propose_site(conn, case: dict[str, Any], data: Mapping[str, Any], actor: str, remote_addr: str | None,
                  policy: revisions.Policy | None) -> int:
    """The new-site proposal of a find (inside the event's transaction: a refused proposal records nothing)."""
    site = data.get("site")
    if not isinstance(site, Mapping) or not isinstance(site.get("properties"), Mapping):
        raise InvalidInput(msg("rescues.proposal_needs_site", "a new-site proposal needs the site: {example}",
                               example='{"site": {"properties": {"name": ...}, "boundary": ...}}'), field="site")
    fields = {k: v for k, v in site.items() if k in ("properties", "boundary", "location", "crs")}
    fields.setdefault("location", {"type": "Point", "coordinates": [case["point"].x, case["point"].y]})
    fields["reason"] = (f"rescue case #{case['fid']}: " + (data.get("reason") or case["description"]))[:4000]
    draft = revisions.parse_draft(fields, policy=policy)
    return revisions.propose(conn, draft, author=actor, site_code=None, policy=policy, remote_addr=remote_addr).id


# --------------------------------------------------------------------------------------------------------------------
# Reading, and the legal clock
# --------------------------------------------------------------------------------------------------------------------
def _case_row(conn, case_id: int) -> dict[str, Any]:
    case = rstore.get_case(conn, case_id)
    if case is None:
        raise NotFound(msg("rescues.no_case", "no rescue case {case_id}", case_id=case_id))
    return case


def _deadline(reported_at: str, delta: timedelta) -> str:
    return _utc(datetime.fromisoformat(reported_at.replace("Z", "+00:00")) + delta)


def clock(reported_at: str, on_site_at: str | None, opinion_at: str | None, settings: Settings,
          now: str | None = None) -> dict[str, dict[str, Any]]:
    """Each legal deadline: when it falls due, when it was done, and whether it was met, missed or is still open."""
    now = now or store.utc_now()
    out = {}
    for name, done, delta in (("on_site", on_site_at, timedelta(hours=settings.on_site_hours)),
                              ("opinion", opinion_at, timedelta(days=settings.opinion_days))):
        due = _deadline(reported_at, delta)
        status = ("met" if done <= due else "missed") if done else ("missed" if now > due else "open")
        out[name] = {"due": due, "done_at": done, "status": status}
    return out


def get_case(conn, case_id: int, *, settings: Settings, with_contact: bool = False) -> dict[str, Any]:
    case = _case_row(conn, case_id)
    events = rstore.events_of(conn, [case_id])[case_id]
    case["events"] = events
    case["photos"] = istore.photos_of(conn, rescue_id=case_id)
    first = {k: min((e["done_at"] for e in events if e["kind"] == k), default=None)
             for k in (RescueEvent.OFFICIALS_ON_SITE, RescueEvent.OPINION_ISSUED)}
    case["clock"] = clock(case["reported_at"], first[RescueEvent.OFFICIALS_ON_SITE], first[RescueEvent.OPINION_ISSUED],
                          settings)
    case["specimens"] = sum(e["specimens"] or 0 for e in events)
    case["samples"] = sum(e["samples"] or 0 for e in events)
    case["proposal"] = None
    if case["revision_id"] is not None:
        rev = revisions.get(conn, case["revision_id"])
        approved = rev.status == RevisionStatus.APPROVED
        case["proposal"] = {"id": rev.id, "status": rev.status, "site": rev.site_code if approved else None}
    if with_contact:
        case["contact"] = rstore.contact_of(conn, case_id)
    return case


def list_cases(conn, *, settings: Settings, status: str | None = None) -> list[dict[str, Any]]:
    if status not in (None, "open", "closed"):  # None: every case; an empty ?status= names no state
        raise InvalidInput(msg("rescues.status_unknown", "status must be open or closed"), field="status")
    rows = rstore.list_cases(conn, status=status or None)
    clocks = {r["fid"]: r for r in rstore.clock_rows(conn)}
    for r in rows:
        c = clocks[r["fid"]]
        r["clock"] = clock(r["reported_at"], c["on_site_at"], c["opinion_at"], settings)
        r["specimens"], r["samples"] = c["specimens"], c["samples"]
    return rows


def figures(conn, settings: Settings, start: str | None = None, end: str | None = None,
            now: str | None = None) -> dict[str, Any]:
    """Cases reported in [start, end) (UTC instants, either open): how many, by source, status and outcome; the legal
    clock (met, missed, open at ``now``) of officials on site and of the opinion; specimens rescued and samples
    collected. Counted in SQL (store/rescues.py); the supervision dashboard and annual report show the same figures."""
    return rstore.clock_counts(conn, start=start, end=end, as_of=now or store.utc_now(),
                               on_site_hours=settings.on_site_hours, opinion_days=settings.opinion_days)


def case_json(case: dict[str, Any], *, photo_url=None) -> dict[str, Any]:
    out = {"id": case["fid"], "source": case["source"], "report_id": case["report_id"],
           "impact_case_id": case["impact_case_id"], "reported_by": case["reported_by"],
           "reported_at": case["reported_at"], "county": case["county"], "description": case["description"],
           "location": mapping(case["point"]), "opened_at": case["opened_at"], "opened_by": case["opened_by"],
           "status": case["status"], "outcome": case["outcome"], "closed_at": case["closed_at"],
           "closed_by": case["closed_by"], "clock": case["clock"], "specimens": case["specimens"],
           "samples": case["samples"]}
    for key in ("proposal", "contact"):
        if key in case:
            out[key] = case[key]
    if "events" in case:
        out["events"] = [{k: e[k] for k in ("fid", "kind", "done_at", "recorded_at", "recorded_by", "note", "specimens",
                                            "samples", "field_numbers", "kept_at", "revision_id", "photo_count")}
                         for e in case["events"]]
        for e in out["events"]:
            e["id"] = e.pop("fid")
    if photo_url and "photos" in case:
        out["photos"] = [photo_url(p) for p in case["photos"]]
    return out
