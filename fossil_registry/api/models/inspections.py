"""Inspections: the record an inspector sends (JSON, or a form of flat fields, or multipart with the GPX track and
photos), the records, the schedule of what is due and a site's timeline."""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, Field, create_model

from ... import inspections
from ...http.openapi import Answer, ClosedBody, form
from ...vocab import Condition, Level, MarkerCondition, MarkerKind, Severity, Threat
from .common import ONE_OF, Count, Date, DateTime, Id, LonLat, MultiLineString, Point, PointIn

Text = Annotated[str, Field(max_length=inspections.MAX_TEXT)]
Note = Annotated[str, Field(max_length=inspections.MAX_NOTE * 4)]
OpenOrClosed = Literal["open", "closed"]


# ------------------------------------------------------------------------------------------------------ requests
class ThreatIn(BaseModel):
    threat: Threat
    severity: Severity
    note: str | None = None


class SeverityNote(BaseModel):
    severity: Severity
    note: str | None = None


class FollowupIn(BaseModel):
    description: Note
    due: Annotated[Date, Field(description="not before the inspection")]


class MarkerCheck(BaseModel):
    marker: Union[Id, str]
    condition: MarkerCondition
    note: str | None = None


class InspectionRecord(ClosedBody):
    """an inspection record (other fields are refused)"""
    date: Annotated[Date, Field(description="the day of the inspection (not in the future)")]
    condition: Condition
    inspectors: Annotated[Union[Annotated[list[Annotated[str, Field(max_length=80)]],
                                          Field(max_length=inspections.MAX_INSPECTORS)], str, None],
                          Field(description="names (text: separated by commas); default: the caller")] = None
    threats: Annotated[Union[list[ThreatIn], dict[str, Union[Severity, SeverityNote]], str, None], Field(
        description="threats with their severity: a list, {threat: severity}, or text "
                    f"'{Threat.QUARRYING}:{Severity.HIGH}, {Threat.EROSION_LANDSLIDE}:{Severity.LOW}'")] = None
    findings: Text | None = None
    actions: Text | None = None
    followup: Annotated[Union[FollowupIn, Literal[""], Literal[False], None],
                        Field(description="what is to be done by when (a follow-up)")] = None
    point: Annotated[PointIn | None, Field(description="where the inspection was made: GeoJSON Point, [lon, lat] or "
                                                       "typed coordinates")] = None
    resolves: Annotated[Union[list[Union[int, str]], int, str, None], Field(
        description="open follow-ups of the site this inspection deals with (their ids)")] = None
    markers: Annotated[list[MarkerCheck] | None, Field(
        description="the condition of each protection marker of the site or section checked")] = None


_FLAT = ("date", "inspectors", "condition", "threats", "findings", "actions", "followup_description", "followup_due",
         "point", "lon", "lat", "resolve")
_RECORD_PART = Annotated[str, Field(description="the InspectionRecord as JSON text (or the flat fields below)")]
InspectionForm = form("InspectionForm", optional=_FLAT, record=_RECORD_PART)
InspectionMultipart = form(
    "InspectionMultipart", optional=_FLAT, record=_RECORD_PART,
    track=Annotated[bytes, Field(description="a GPX patrol track")],
    photos=Annotated[list[bytes], Field(description="JPEG/PNG photos (INSPECTION_MAX_PHOTOS per record, 20 by "
                                                    "default)")])


class CloseFollowupInput(BaseModel):
    note: Annotated[str, Field(min_length=1, max_length=inspections.MAX_NOTE * 4)]


CloseFollowupForm = form("CloseFollowupForm", required=["note"])


# ------------------------------------------------------------------------------------------------------ answers
class ThreatFound(Answer):
    threat: Threat
    severity: Severity
    note: Annotated[str | None, Field(description="required for 'other'; cut at 500 characters")]


class Followup(Answer):
    id: Id
    site: str
    description: str
    due: Date
    status: OpenOrClosed
    created_at: DateTime
    created_by: str
    inspection_id: Id | None
    report_id: Id | None
    closed_at: DateTime | None
    closed_by: str | None
    closing_note: str | None
    closed_by_inspection: Id | None


class Photo(Answer):
    sha256: str
    name: str
    media_type: str
    width: int
    height: int
    size_bytes: int
    taken_at: str | None
    gps: LonLat | None
    distance_m: float | None
    flags: list[str]
    flagged: bool
    message: str | None
    url: str
    thumbnail_url: str


class Track(Answer):
    name: str | None
    length_m: float | None
    point_count: int | None
    started_at: str | None
    ended_at: str | None
    geometry: MultiLineString = None


class MarkerChecked(Answer):
    marker: Id
    kind: MarkerKind
    condition: MarkerCondition
    note: str | None
    followup_id: Id | None


class Inspection(Answer):
    id: Id
    site: str
    date: Date
    inspectors: list[str]
    condition: Condition
    threats: list[ThreatFound]
    findings: str
    actions: str
    point: Point | None
    site_version: Id
    recorded_at: DateTime
    recorded_by: str
    photo_count: Count
    flagged_photos: Count
    track: Track | None
    photos: list[Photo] = None
    followups: list[Followup] = None
    markers: list[MarkerChecked] = None


class SiteInspections(Answer):
    site: str
    inspections: list[Inspection]


DueStatus = Literal["overdue", "upcoming", "ok"]
Intervals = create_model("Intervals", __base__=Answer,
                         **{level.value: (Annotated[int, Field(ge=1)], ...) for level in Level})
DueCounts = create_model("DueCounts", __base__=Answer, **{k: (Count, ...) for k in DueStatus.__args__})


class DueSite(Answer):
    site: str
    kind: Literal["site", "section"]
    name: str
    name_en: str | None
    county: str | None
    level: Level
    interval_days: int
    last_inspected_on: Date | None
    last_condition: Condition | None
    due_on: Date
    days_overdue: int
    status: DueStatus
    open_followups: Count
    location: Point  # a site's location, the middle of a section's line


class DueFollowup(Followup):
    overdue: bool


class InspectionsDue(Answer):
    today: Date
    intervals: Intervals
    upcoming_days: int
    counts: DueCounts
    sites: list[DueSite]
    followups: list[DueFollowup]


class _Event(Answer):
    date: Date
    at: DateTime


class VersionEvent(_Event):
    kind: Literal["version"]
    version: Id
    operation: str
    author: str
    reviewer: str | None
    reason: str | None


class InspectionEvent(_Event):
    kind: Literal["inspection"]
    id: Id
    condition: Condition
    threats: list[ThreatFound]
    inspectors: list[str]
    findings: str
    photo_count: int
    flagged_photos: int
    track: bool


class FollowupEvent(_Event):
    kind: Literal["followup"]
    id: Id
    description: str
    due_on: Date
    status: OpenOrClosed
    inspection_id: Id | None
    report_id: Id | None


class FollowupClosedEvent(_Event):
    kind: Literal["followup_closed"]
    id: Id
    description: str
    closed_by: str | None
    note: str | None
    inspection_id: Id | None


class ReportEvent(_Event):
    kind: Literal["report"]
    id: Id
    report_kind: str
    status: str
    description: str | None
    decision_note: str | None


class ImpactCaseEvent(_Event):
    kind: Literal["impact_case"]
    id: Id
    name: str
    event: str
    stage: str | None
    decision: str | None
    conditions: list[str] | None
    actor: str
    screening_id: Id | None
    ring_m: float | None
    risk: str | None


class ConditionFound(Answer):
    date: Date
    condition: Condition
    inspection_id: Id


class Timeline(Answer):
    """a site's versions, inspections, follow-ups, reports and project cases in order (report texts: for those who
    triage reports)"""
    site: str
    events: list[Annotated[Union[VersionEvent, InspectionEvent, FollowupEvent, FollowupClosedEvent, ReportEvent,
                                 ImpactCaseEvent], ONE_OF]]
    conditions: list[ConditionFound]


MODELS = [InspectionRecord, Followup, Photo, Inspection, SiteInspections, InspectionsDue, Timeline]
