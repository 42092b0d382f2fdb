"""Sites: a site's state (exact for staff, the public view for anonymous callers), its versions and diffs; the
caller's account and the audit trail."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from ... import auth
from ...http.openapi import Answer
from .common import DateTime, Id, MultiPolygon, Nullable, Point, ReviewMetrics, SiteProperties, Metrics

Precision = Literal["exact", "0.1-degree grid cell centre"]


class _State(Answer):
    code: str
    version: Id


class SiteState(_State):
    """a site as staff see it, exact (reason: of this version, when asked for a past one)"""
    properties: SiteProperties
    location: Point
    boundary: MultiPolygon | None
    updated_at: DateTime
    updated_by: str
    reason: str | None = None


class PublicSite(_State):
    """a site as anonymous callers see it: a site whose location the public sees only roughly at its 0.1-degree cell
    centre without boundary, numbers in their texts withheld"""
    properties: SiteProperties
    location: Point
    boundary: MultiPolygon | None
    location_precision: Precision


class Version(Answer):
    version: Id
    operation: str
    created_at: DateTime
    author: str
    reviewer: str | None
    reason: str | None
    revision_id: Id | None


class SiteVersions(Answer):
    code: str
    versions: list[Version]


class FieldChange(Answer):
    old: Nullable = None
    new: Nullable = None


class SiteDiff(Answer):
    code: str
    from_version: Id
    to_version: Id
    properties: Annotated[dict[str, FieldChange], Field(description="changed fields: {field: {old, new}}")]
    location_changed: bool
    boundary_changed: bool
    metrics: Metrics


class Me(Answer):
    username: str
    role: Literal[tuple(auth.ROLES)]
    permissions: list[Literal[tuple(sorted(auth.POLICY))]]


class AuditEntry(Answer):
    fid: Id
    at: DateTime
    actor: str
    action: str
    target: str | None
    remote_addr: str | None
    detail: Annotated[dict[str, Any] | None, Field(description="what the action did (depends on the action)")]


class AuditEntries(Answer):
    entries: list[AuditEntry]


MODELS = [SiteState, PublicSite, SiteVersions, SiteDiff, Me, AuditEntries, ReviewMetrics]
