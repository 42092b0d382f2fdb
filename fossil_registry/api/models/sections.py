"""Stratigraphic sections (their state, versions and inspections) and the protection markers of sites and
sections."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ... import markers
from ...http.openapi import Answer, ClosedBody, form
from ...vocab import MarkerCondition, MarkerKind
from .common import (Count, Date, DateTime, Id, LineString, MultiPolygon, Point, PointIn, SectionProperties,
                     SectionPropertyChanges)
from .inspections import Inspection
from .sites import Precision, Version


class _State(Answer):
    code: str
    version: Id
    properties: SectionProperties
    line: LineString | None
    boundary: MultiPolygon | None


class SectionState(_State):
    """a section as staff see it, exact (reason: of this version, when asked for a past one)"""
    updated_at: DateTime
    updated_by: str
    reason: str | None = None


class PublicSection(_State):
    """a section as anonymous callers see it: one whose location the public sees only roughly, as its 0.1-degree
    cell centre (location; no line, no boundary)"""
    location_precision: Precision
    location: Point = None


class SectionVersions(Answer):
    code: str
    versions: list[Version]


class SectionInspections(Answer):
    section: str
    inspections: list[Inspection]


class MarkerPhoto(Answer):
    url: str
    sha256: str = None
    name: str = None
    thumbnail_url: str = None


class Marker(Answer):
    """a protection marker (created_at/by: staff only; warnings: when recorded)"""
    id: Id
    feature: str
    kind: MarkerKind
    inscription: str | None
    inscription_en: str | None
    erected_on: Date | None
    point: Point
    last_condition: MarkerCondition | None
    last_checked_on: Date | None
    photo_count: Count
    photos: list[MarkerPhoto]
    created_at: DateTime = None
    created_by: str = None
    warnings: list[str] = None


class Markers(Answer):
    feature: str
    markers: list[Marker]


Inscription = Annotated[str, Field(max_length=markers.MAX_INSCRIPTION)]


class MarkerInput(ClosedBody):
    """a marker (other fields are refused)"""
    kind: MarkerKind
    point: PointIn
    inscription: Inscription | None = None
    inscription_en: Inscription | None = None
    erected_on: Annotated[Date | None, Field(description="not in the future")] = None


_MARKER_TEXTS = ("inscription", "inscription_en", "erected_on")
MarkerForm = form("MarkerForm", required=["kind", "point"], optional=_MARKER_TEXTS)
MarkerMultipart = form("MarkerMultipart", required=["kind", "point"], optional=_MARKER_TEXTS,
                       photos=Annotated[list[bytes], Field(description="JPEG/PNG photos of the marker")])

MODELS = [SectionProperties, SectionPropertyChanges, SectionState, PublicSection, SectionVersions, SectionInspections,
          Marker, Markers, MarkerInput]
