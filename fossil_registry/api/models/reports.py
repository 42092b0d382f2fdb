"""Public reports: what anyone may send (JSON, a form, or multipart with photos), the receipt they get back, and the
reports as staff triage them."""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, Field, create_model

from ... import reports
from ...http.openapi import Answer, Body, form
from ...vocab import ReportKind, ReportStatus
from .common import Count, Date, DateTime, Id, Point
from .inspections import Photo

Reference = Annotated[str, Field(
    pattern="^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$",
    description="what the reporter quotes: random (a hash of the receipt), not a count of reports",
    json_schema_extra={"example": "K7QF-3M9P-2XWA"})]
Cut = Annotated[str, Field(description=f"text (cut at {reports.MAX_NOTE * 4} characters)")]


# ------------------------------------------------------------------------------------------------------ requests
class ReportSubmission(Body):
    """a report: the location as coordinates (text), lon/lat or a GeoJSON Point, inside the region"""
    kind: ReportKind
    description: Annotated[str, Field(
        min_length=reports.MIN_DESCRIPTION, max_length=reports.MAX_DESCRIPTION,
        description=f"what was seen ({reports.MIN_DESCRIPTION} characters at least, not counting spaces at either "
                    "end)")]
    coordinates: Annotated[str | None, Field(description="typed coordinates (decimal or DMS, either order)")] = None
    lon: Union[float, str, None] = None
    lat: Union[float, str, None] = None
    location: Point | None = None
    observed_on: Annotated[Union[Date, Literal[""], None], Field(description="not in the future")] = None
    contact: Annotated[str | None, Field(max_length=reports.MAX_CONTACT,
                                         description="how staff can reach the reporter (staff only)")] = None


_FIELDS = [*ReportSubmission.model_fields]
ReportForm = form("ReportForm", required=_FIELDS)
ReportMultipart = form("ReportMultipart", required=[*_FIELDS, "photos"], photos=Annotated[
    list[bytes], Field(description="JPEG/PNG photos (REPORT_MAX_PHOTOS, 5 by default; 8 MiB each)")])


class FollowupRequest(BaseModel):
    description: Cut | None = None
    due: Annotated[Union[Date, Literal[""], None], Field(
        description="not in the past (default: in REPORT_FOLLOWUP_DAYS)")] = None


class AcceptInput(Body):
    site: Annotated[str | None, Field(description="the site it concerns (default: the one found near)")] = None
    inspection_id: Id | None = None
    followup: FollowupRequest | None = None
    note: Cut | None = None


class DismissInput(Body):
    reason: Annotated[str, Field(min_length=1, max_length=reports.MAX_NOTE * 4)]


DismissForm = form("DismissForm", required=["reason"])


# ------------------------------------------------------------------------------------------------------ answers
class ReceiptPhoto(Answer):
    url: str


class ReportReceipt(Answer):
    """what the reporter gets back: no contact, no photo metadata, not the site"""
    reference: Reference
    receipt: str
    kind: ReportKind
    status: ReportStatus
    submitted_at: DateTime
    observed_on: Date | None
    location: Point
    photos: list[ReceiptPhoto]
    receipt_url: str
    warnings: list[str] = None


class Report(Answer):
    """a report as staff see it in the queue"""
    id: Id
    reference: Reference
    kind: ReportKind
    status: ReportStatus
    description: str
    location: Point
    observed_on: Date | None
    submitted_at: DateTime
    submitted_by: str
    site: str | None
    site_distance_m: float | None
    photo_count: Count
    decided_at: DateTime | None
    decided_by: str | None
    decision_note: str | None
    followup_id: Id | None
    inspection_id: Id | None


class ReportDetail(Report):
    """a report with the reporter's contact and the photos"""
    contact: str | None
    photos: list[Photo]


class ReportTriaged(Report):
    """a report after the decision"""
    contact: str | None = None
    photos: list[Photo] = None


ReportCounts = create_model("ReportCounts", __base__=Answer, **{s.value: (Count, ...) for s in ReportStatus})


class ReportQueue(Answer):
    reports: list[Report]
    counts: ReportCounts


MODELS = [ReportSubmission, ReportReceipt, Report, ReportDetail, ReportTriaged, ReportQueue]
