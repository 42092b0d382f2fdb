"""Impact screening: a footprint to screen (JSON, a form or multipart with a file), the result (exact for staff, the
public view for anonymous callers), saved screenings and their reproduction, project cases."""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, Field, RootModel, create_model

from ... import features, impact
from ...http.openapi import Answer, Body, form
from ...vocab import Level, MarkerKind, Sensitivity
from .common import ONE_OF, Count, DateTime, Feature, FeatureCollection, Geometry, Id, LonLat, Whole

Risk = Literal[(*impact.RISK_CLASSES, impact.CONSULT)]
Stage = Literal[impact.STAGES]
Decision = Literal[impact.DECISIONS]
CaseCondition = Literal[impact.CONDITIONS]
FormFlag = Annotated[Literal["1", "true", "yes", "on", "0", "false", "no", "off", ""],
                     Field(description="a form's yes or no")]
Format = Annotated[Literal["json", "gpkg", ""], Field(description="the answer: JSON (default) or a GeoPackage "
                                                                  "(?format= wins)")]
Metres = Annotated[float, Field(ge=0)]
QueryFormat = Literal["json", "gpkg"]
Title = str | None
FeatureKindName = Annotated[Literal[tuple(kind.name for kind in features.kinds())],
                            Field(description="the kind of feature (features.kinds())")]


# ------------------------------------------------------------------------------------------------------ requests
class ImpactRequest(Body):
    footprint: Annotated[Union[Geometry, Feature, FeatureCollection, str], Field(
        description="GeoJSON in crs (a geometry, a Feature or a FeatureCollection; its text in a form)")]
    crs: Annotated[Union[str, int, None], Field(description="EPSG code or name (default EPSG:4490)")] = None
    width_m: Annotated[Union[Metres, str, None], Field(
        description="width of lines and points in metres (IMPACT_MAX_WIDTH_M at most)")] = None
    buffers_m: Annotated[Union[Annotated[list[Union[Metres, str]], Field(max_length=12)], str, None], Field(
        description="ring distances in metres (0 is always one; 12 at most, each up to IMPACT_MAX_RING_M)")] = None
    save: Annotated[Union[bool, FormFlag, None], Field(description="true: save it (staff)")] = None
    title: Title = None
    format: Format | None = None


_SCREEN_TEXTS = ("footprint", "footprint_drawn", "crs", "width_m", "buffers_m", "save", "title", "feature")
ImpactForm = form("ImpactForm", optional=_SCREEN_TEXTS, format=Format)
ImpactMultipart = form("ImpactMultipart", required=["file"], optional=_SCREEN_TEXTS, format=Format, file=Annotated[
    bytes, Field(description="GeoJSON, KML/KMZ, GPX, zipped Shapefile, GeoPackage or CSV of vertices "
                             "(IMPACT_MAX_FILE_BYTES)")])


class CaseFields(Body):
    name: Annotated[str, Field(max_length=200)] = None
    developer: Annotated[str, Field(max_length=200)] | None = None
    reference: Annotated[str, Field(max_length=100)] | None = None
    stage: Stage | Literal[""] | None = None
    decision: Decision | Literal[""] | None = None
    conditions: Annotated[Union[list[CaseCondition], str, None], Field(
        description="condition codes (text: separated by commas); only with the decision 'conditions'")] = None
    conditions_note: Annotated[str, Field(max_length=2000)] | None = None
    note: Annotated[str, Field(max_length=2000)] | None = None


Version = Annotated[Whole, Field(description="the case version the change was based on (409 when the case moved on)")]


class NewCase(CaseFields):
    name: Annotated[str, Field(max_length=200)]


class CaseUpdate(CaseFields):
    version: Version


class CaseVersion(Body):
    version: Version


CaseForm = form("CaseForm", optional=CaseFields.model_fields)
CaseUpdateForm = form("CaseUpdateForm", optional=[*CaseFields.model_fields, "version"])
CaseVersionForm = form("CaseVersionForm", required=["version"])


# ------------------------------------------------------------------------------------------------------ answers
class Nearest(Answer):
    site: LonLat
    footprint: LonLat


class _Named(Answer):
    code: str
    name: str | None
    name_en: str | None
    level: Level | None


class MeasuredSite(_Named):
    """a site measured exactly (staff: every site; anonymous: open sites)"""
    version: Id
    intersects: bool
    distance_m: float
    overlap_m2: float
    overlap_pct: float | None
    site_area_m2: float | None
    ring_m: float
    risk: Risk
    measured_to: Literal["boundary", "location"]
    nearest: Nearest | None
    sensitivity: Sensitivity = None
    feature: FeatureKindName = None


class _Withheld(Answer):
    intersects: None
    distance_m: None
    overlap_m2: None
    overlap_pct: None
    ring_m: None
    risk: Literal[impact.CONSULT]
    within_km: Annotated[int, Field(ge=1)]
    notice: Annotated[str, Field(description="what to do (answers of POST /api/impact)")] = None


class GeneralizedSite(_Named, _Withheld):
    """a site near the footprint whose location the public sees only roughly (anonymous): only within how many
    km"""
    generalized: Literal[True]
    location: LonLat
    location_precision: str
    feature: FeatureKindName = None


class HiddenSite(_Withheld):
    """a hidden site near the footprint (anonymous): no code, no position"""
    code: None
    hidden: Literal[True]


class ImpactEntry(RootModel[Annotated[Union[MeasuredSite, GeneralizedSite, HiddenSite], ONE_OF]]):
    """a site near the footprint"""


class ImpactMarker(Answer):
    """a protection marker within the outer ring (anonymous: of open features only)"""
    id: Id
    feature: str
    kind: MarkerKind
    inscription: str | None
    last_condition: str | None
    intersects: bool
    distance_m: float
    ring_m: float
    location: LonLat


class FootprintSource(BaseModel):
    format: str
    filename: str | None
    source_crs: str | None
    feature: int | None
    notes: list[str]


class FootprintFigures(Answer):
    area_m2: float
    line_length_m: float
    points: Count
    vertices: Count
    bbox: Annotated[list[float], Field(min_length=4, max_length=4)]


_RISKS = (*impact.RISK_CLASSES, impact.CONSULT)
RiskRule = create_model("RiskRule", __base__=Answer, ring_m=(float, ...), **{lv.value: (Risk, ...) for lv in Level})
RiskCounts = create_model("RiskCounts", __base__=Answer, **{k: (Count, None) for k in _RISKS})


class RiskClass(Answer):
    label: str
    action: str


RiskClasses = create_model("RiskClasses", __base__=Answer, **{k: (RiskClass, ...) for k in _RISKS})


class _Result(Answer):
    view: Literal["exact", "public"]
    registry_version: int
    screened_at: DateTime
    footprint: Geometry
    footprint_figures: FootprintFigures
    width_m: float | None
    source: FootprintSource
    rings_m: list[float]
    rules: list[RiskRule]
    affected: list[ImpactEntry]
    highest_risk: Risk | None
    by_risk: RiskCounts
    notes: list[str]
    markers: Annotated[list[ImpactMarker], Field(description="protection markers within the outer ring")] = None
    risk_classes: RiskClasses


class ScreeningResult(_Result):
    """a screening (saved ones: screening_id, title, url, ...)"""
    screening_id: Id = None
    title: str | None = None
    created_by: str = None
    rerun_of: Id | None = None
    url: str = None


class SavedScreening(_Result):
    screening_id: Id
    title: str | None
    created_by: str
    rerun_of: Id | None
    url: str


class ScreeningSummary(Answer):
    fid: Id
    title: str | None
    created_at: DateTime
    created_by: str
    registry_version: int
    rerun_of: Id | None
    rings: list[float]
    rules: list[RiskRule]
    width_m: float | None
    source: FootprintSource
    figures: FootprintFigures
    notes: list[str]
    highest_risk: Risk | None
    affected_count: Count
    case_id: Id | None


class Screenings(Answer):
    screenings: list[ScreeningSummary]


class Difference(Answer):
    code: str
    saved: ImpactEntry | None
    reproduced: ImpactEntry | None


class Reproduction(Answer):
    registry_version: int
    identical: bool
    sites: Count
    differences: list[Difference]


class CaseChange(Answer):
    code: str
    changes: list[Literal["boundary", "location", "level", "status", "new"]]
    version_then: Id | None
    version_now: Id
    then: ImpactEntry | None
    now: ImpactEntry | None


class CaseSummary(Answer):
    fid: Id
    name: str
    developer: str | None
    reference: str | None
    stage: Stage
    decision: Decision
    conditions: list[CaseCondition]
    conditions_note: str | None
    screening_id: Id
    version: Id
    created_at: DateTime
    created_by: str
    updated_at: DateTime
    updated_by: str
    screening_title: str | None
    screened_at: DateTime
    registry_version: int
    highest_risk: Risk | None
    affected_count: Count
    flagged: bool
    changes: list[CaseChange]


class CaseEvent(Answer):
    fid: Id
    case_id: Id
    case_version: Id
    kind: Literal["opened", "updated", "rescreened"]
    at: DateTime
    actor: str
    stage: Stage
    decision: Decision
    conditions: list[CaseCondition]
    conditions_note: str | None
    note: str | None
    screening_id: Id


class Case(CaseSummary):
    events: list[CaseEvent]


class Cases(Answer):
    cases: list[CaseSummary]


MODELS = [ImpactRequest, ImpactEntry, ScreeningResult, SavedScreening, ScreeningSummary, Reproduction, CaseSummary,
          Case, CaseFields]
