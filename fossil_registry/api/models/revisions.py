"""The revision workflow: what a proposal sends (JSON, a form or multipart with a file) and what it answers (the
proposal with its thread, the reviewer's three-way view, the queue and inbox, batch outcomes)."""
from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Field, create_model

from ... import revisions, sections, sites
from ...http.openapi import Answer, Body, form
from ...vocab import SurveyMethod
from .common import (ONE_OF, Count, Date, DateTime, Empty, GeometryIn, Id, LineString, MultiPolygon, Nullable, Point,
                     ReviewMetrics, SectionPropertyChanges, SitePropertyChanges, Warning, Whole)
from .sections import SectionState
from .sites import SiteState

Kind = Literal[tuple(revisions.KINDS)]
Status = Literal[tuple(revisions.STATUSES)]
Decision = Literal[tuple(revisions.DECISIONS)]
Text = Annotated[str, Field(max_length=revisions.MAX_REASON)]
Flag = Union[bool, Literal["1", "0", "true", "false", "yes", "no", "on", "off", ""]]


# ------------------------------------------------------------------------------------------------------ requests
class ProposalInput(Body):
    """a proposal: a new site or a change to one (as JSON; a form sends the same fields as text)"""
    reason: Annotated[Text, Field(description="why the site should change (required for a proposal)")] = None
    base_version: Annotated[Whole, Field(description="the site version the proposal is based on (a change to a "
                                                     "site)")] = None
    location: GeometryIn = None
    boundary: GeometryIn = None
    location_drawn: GeometryIn = None
    boundary_drawn: GeometryIn = None
    crs: Annotated[str | None, Field(description="CRS of location/boundary/file: EPSG:4544, CGCS2000, WGS84, GCJ02, "
                                                 "BD09, ... (default EPSG:4490)")] = None
    properties: Annotated[dict[str, Any] | str | None, Field(
        description="attribute changes {field: value} (SiteProperties' fields; JSON text in a form)")] = None
    remove_boundary: Flag = None
    retire: Flag = None
    accept_repair: Flag = None
    accept_simplify: Flag = None
    method: SurveyMethod | Literal[""] | None = None
    accuracy_m: Annotated[Union[Annotated[float, Field(gt=0, le=100000)], str, None],
                          Field(description="stated accuracy in metres (0 < x <= 100000)")] = None
    survey_date: Annotated[Union[Date, Literal[""], None], Field(description="not in the future")] = None
    comment: Annotated[str | None, Field(description="the author's reply (amendments)")] = None


class SectionProposalInput(ProposalInput):
    """a proposal of a section: its line instead of a location"""
    line: GeometryIn = None
    line_drawn: GeometryIn = None


File = Annotated[bytes, Field(description="GeoJSON, KML/KMZ, GPX, zipped Shapefile, GeoPackage or CSV of vertices "
                                          "(20 MiB; 64 MiB unzipped; 20,000 vertices)")]
Attachments = Annotated[list[bytes], Field(description="photos (JPEG, PNG, WebP, GIF), PDFs or other files (10 MiB "
                                                       "each, 5 at most)")]
_FIELDS = [*ProposalInput.model_fields]
ProposalForm = form("ProposalForm", required=[*_FIELDS, "target", "feature"])
ProposalMultipart = form(
    "ProposalMultipart", required=[*_FIELDS, "feature", "target", "file", "attachments"],
    target=Annotated[Literal["location", "boundary"], Field(description="what the file holds")], file=File,
    attachments=Attachments)
_SECTION_FIELDS = [*SectionProposalInput.model_fields]
SectionProposalForm = form("SectionProposalForm", required=[*_SECTION_FIELDS, "target", "feature"])
SectionProposalMultipart = form(
    "SectionProposalMultipart", required=[*_SECTION_FIELDS, "feature", "target", "file", "attachments"],
    target=Annotated[Literal["line", "boundary"], Field(description="what the file holds")],
    file=Annotated[bytes, Field(description="GPX, KML/KMZ, zipped Shapefile, GeoPackage, GeoJSON or CSV of "
                                            "vertices")],
    attachments=list[bytes])


class DecisionInput(Body):
    decision: Decision
    round: Annotated[Whole, Field(description="the round the reviewer saw (428 without it)")] = None
    comment: Annotated[Text | None, Field(description="required to reject or request changes")] = None


class BatchItem(Body):
    id: Whole
    round: Whole


class BatchDecisionInput(Body):
    items: Annotated[list[BatchItem], Field(min_length=1, max_length=200)]
    decision: Decision = "approve"
    comment: Text | None = None


class WithdrawInput(Body):
    comment: Text | None = None


class CommentInput(Body):
    comment: Annotated[str, Field(min_length=1, max_length=revisions.MAX_REASON)]


class RestoreInput(Body):
    version: Whole
    reason: Text


DecisionForm = form("DecisionForm", required=["decision", "round", "comment"])
CommentForm = form("CommentForm", required=["comment"])
RestoreForm = form("RestoreForm", required=["version", "reason"])


# ------------------------------------------------------------------------------------------------------ answers
class ThreadEvent(Answer):
    at: DateTime
    actor: str
    event: str
    comment: str | None
    detail: dict[str, Any] | None


class GeometrySource(BaseModel):
    format: str


class _Revision(Answer):
    id: Id
    kind: Kind
    feature: Literal["site", "section"]
    status: Status
    site: str | None
    base_version: Id | None
    author: str
    created_at: DateTime
    updated_at: DateTime
    round: Id
    reason: str | None
    method: SurveyMethod | None
    accuracy_m: float | None
    survey_date: Date | None
    boundary_action: Literal["keep", "set", "remove"]
    boundary: MultiPolygon | None
    properties: Union[SitePropertyChanges, SectionPropertyChanges]
    warnings: list[Warning]
    metrics: Union[ReviewMetrics, Empty]
    input: Annotated[dict[str, GeometrySource], Field(description="how each geometry arrived (format, file, source "
                                                                   "CRS, ...)")]
    restore_version: Id | None
    reviewer: str | None
    decided_at: DateTime | None
    decision_comment: str | None
    site_version: Id | None
    # the main geometry under the feature's name: a site's location, a section's line (one of the two, null if
    # unchanged)
    location: Point | None = None
    line: LineString | None = None


class Attachment(Answer):
    fid: Id
    filename: str
    content_type: str
    size: Count
    sha256: str
    url: str


class _Full(_Revision):
    url: str
    thread: list[ThreadEvent]
    attachments: list[Attachment]


Value = Annotated[Nullable, Field(description="a site field's value")]
FieldName = Literal[tuple(dict.fromkeys([*sites.PROPERTY_FIELDS, *sections.PROPERTY_FIELDS]))]
Main = Annotated[Union[Point, LineString], ONE_OF, Field(description="a site's location, a section's line")]


class AttributeChange(Answer):
    field: FieldName
    before: Value
    after: Value
    changed: bool
    audience: Annotated[Literal["public", "staff"] | None, Field(
        description="who reads this free text once applied: public (the reviewer clears it as public text) or staff "
                    "(the internal description of a feature whose location the public does not see exactly); null: "
                    "not free text")]


class _ChangeFlags(Answer):
    changed_since_base: bool
    proposed_change: bool
    conflict: bool


class ConflictField(_ChangeFlags):
    field: FieldName
    base: Value
    current: Value
    proposed: Value


class ConflictMetrics(Answer):
    base_to_current: ReviewMetrics
    current_to_proposed: ReviewMetrics


class LocationConflict(_ChangeFlags):
    base: Main
    current: Main
    proposed: Main | None


class BoundaryConflict(_ChangeFlags):
    base: MultiPolygon | None
    current: MultiPolygon | None
    proposed: MultiPolygon | None
    removed: bool


class ConflictGeometry(Answer):
    location: LocationConflict
    boundary: BoundaryConflict


class Conflict(Answer):
    """the three-way view of a stale proposal (base / current / proposed)"""
    base_version: Id
    current_version: Id
    fields: list[ConflictField]
    metrics: ConflictMetrics
    geometry: ConflictGeometry


class RevisionView(_Full):
    """a proposal as its reviewer sees it: thread, attachments, attribute changes, stale or not"""
    stale: bool
    current_version: Id | None
    attribute_changes: list[AttributeChange]
    conflict: Conflict = None


class RevisionSummary(_Revision):
    url: str
    stale: bool


class RevisionEntry(_Revision):
    pass


class RecentDecision(Answer):
    fid: Id
    revision_id: Id
    at: DateTime
    actor: str
    event: Literal["approved", "rejected", "changes_requested"]
    comment: str | None
    detail: dict[str, Any] | None
    site_code: str | None
    kind: Kind
    status: Status


MineCounts = create_model("MineCounts", __base__=Answer, **{s: (Count, ...) for s in revisions.STATUSES})


class Inbox(Answer):
    mine: MineCounts
    changes_requested: list[RevisionEntry]
    recent_decisions: list[RecentDecision]
    awaiting_review: Annotated[Count, Field(description="reviewers only")] = None


class RevisionList(Answer):
    revisions: list[RevisionSummary]
    count: Count
    inbox: Inbox


class Proposal(_Full):
    """a proposal with its thread and attachments; site_state: the site's new version (after an approval)"""
    site_state: Annotated[Union[SiteState, SectionState], ONE_OF] = None


class BatchOk(Answer):
    id: Id
    ok: Literal[True]
    status: Status
    round: Id
    site: str | None
    site_version: Id | None


class BatchFailed(Answer):
    id: Id
    ok: Literal[False]
    error: str
    http_status: int
    detail: str


class BatchResult(Answer):
    results: list[Annotated[Union[BatchOk, BatchFailed], ONE_OF]]
    approved: Count
    failed: Count


MODELS = [Warning, SitePropertyChanges, RevisionView, RevisionSummary, Inbox, RevisionList, Proposal, BatchResult]
