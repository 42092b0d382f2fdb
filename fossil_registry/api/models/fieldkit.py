"""Field kits: the area a kit is checked out for, the kits issued, and what a check-in made of each feature."""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, create_model


from ...http.openapi import Answer, Body
from .common import ONE_OF, Count, DateTime, Empty, Id, ReviewMetrics

Bbox = Annotated[list[float], Field(min_length=4, max_length=4)]


class FieldkitArea(Body):
    """exactly one of bbox, county or sites"""
    bbox: Annotated[Union[Bbox, str], Field(description="[min_lon, min_lat, max_lon, max_lat] (or its text)")] = None
    county: Annotated[str, Field(max_length=100, description="a county's name (Chinese or English)")] = None
    sites: Annotated[Union[list[str], str], Field(description="site codes (text: separated by commas or spaces)")] = \
        None
    basemap: Annotated[bool, Field(description="false: leave the offline basemap out")] = True


class BboxArea(Answer):
    kind: Literal["bbox"]
    bbox: Bbox


class CountyArea(Answer):
    kind: Literal["county"]
    county: str


class SitesArea(Answer):
    kind: Literal["sites"]
    sites: list[str]


Area = Annotated[Union[BboxArea, CountyArea, SitesArea], ONE_OF]


class _Item(Answer):
    feature: Annotated[str, Field(description="the kit's feature(s) it comes from")]
    site: str | None


class ProposedItem(_Item):
    revision: Id
    kind: str
    base_version: Id | None
    stale: bool
    current_version: Id | None
    changes: list[str]
    photos: Count
    metrics: Union[ReviewMetrics, Empty]
    url: str = None


class AlreadyProposedItem(_Item):
    revision: Id
    status: str
    url: str = None


class UnchangedItem(_Item):
    pass


class MissingItem(_Item):
    what: Literal["location", "boundary"]
    note: str


class RefusedItem(_Item):
    reason: str


class PhotoNotUsed(Answer):
    feature: str
    photo: str | None
    reason: str


class _Summary(Answer):
    proposed: list[ProposedItem]
    already_proposed: list[AlreadyProposedItem]
    unchanged: list[UnchangedItem]
    missing: list[MissingItem]
    refused: list[RefusedItem]
    photos_not_used: list[PhotoNotUsed]


class CheckinSummary(_Summary):
    pass


class KitCheckin(Answer):
    id: Id
    at: DateTime
    by: str
    file: str
    sha256: str
    summary: CheckinSummary


class FieldkitSummary(Answer):
    id: str
    issued_by: str
    issued_at: DateTime
    area: Area
    sites: Count
    checkins: Count
    url: str


class Fieldkits(Answer):
    kits: list[FieldkitSummary]


class Fieldkit(Answer):
    id: str
    issued_by: str
    issued_at: DateTime
    registry_stamp: int
    area: Area
    bbox: Bbox
    sites: Annotated[dict[str, Id], Field(description="site code: base version")]
    boundaries: list[str]
    basemap_tiles: Count
    checkins: list[KitCheckin]


CheckinCounts = create_model("CheckinCounts", __base__=Answer, **{k: (Count, ...) for k in _Summary.model_fields})


class Checkin(_Summary):
    """what became of each feature: proposed (one proposal per changed site), already proposed (checked in before),
    unchanged, missing, refused and why"""
    id: Id
    kit: str
    checked_in_at: DateTime
    checked_in_by: str
    file: str
    sha256: str
    counts: CheckinCounts


MODELS = [FieldkitArea, FieldkitSummary, Fieldkit, Checkin]
