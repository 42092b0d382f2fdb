"""Shapes every area shares: numbers, GeoJSON (RFC 7946), problem details (RFC 7807), links, a site's attributes and
the geodesic figures of a change."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, RootModel

from ...http.openapi import Answer
from ...json_input import MAX_INT
from ...vocab import BoundaryRank, GsspState, Level, Sensitivity, Significance, SiteStatus


class OneOf:
    """Marks a union as exactly one of its members in the document (oneOf rather than anyOf)."""

    def __get_pydantic_json_schema__(self, core_schema, handler):
        schema = handler(core_schema)
        if "anyOf" in schema:
            schema["oneOf"] = schema.pop("anyOf")
        return schema


ONE_OF = OneOf()
Id = Annotated[int, Field(ge=1, le=MAX_INT)]
Count = Annotated[int, Field(ge=0)]
LonLat = Annotated[list[float], Field(min_length=2, max_length=2, description="[longitude, latitude]")]
Whole = Annotated[Union[int, Annotated[str, Field(pattern="^[0-9]+$")]],
                  Field(description="a whole number (or its digits as text)")]
Date = date
DateTime = datetime
Nullable = Annotated[Any, Field(json_schema_extra={"nullable": True})]

# ------------------------------------------------------------------------------------------------------ GeoJSON
Position = Annotated[list[float], Field(min_length=2, max_length=3)]
Line = Annotated[list[Position], Field(min_length=2)]
Ring = Annotated[list[Position], Field(min_length=4)]


class _Geometry(BaseModel):
    """Open: RFC 7946 (6.1) allows foreign members, which the code reads past (and never writes)."""
    model_config = ConfigDict(extra="allow")
    bbox: Annotated[list[float], Field(min_length=4, max_length=6)] = None


class Point(_Geometry):
    type: Literal["Point"]
    coordinates: Position


class MultiPoint(_Geometry):
    type: Literal["MultiPoint"]
    coordinates: list[Position]


class LineString(_Geometry):
    type: Literal["LineString"]
    coordinates: Line


class MultiLineString(_Geometry):
    type: Literal["MultiLineString"]
    coordinates: list[Line]


class Polygon(_Geometry):
    type: Literal["Polygon"]
    coordinates: Annotated[list[Ring], Field(min_length=1)]


class MultiPolygon(_Geometry):
    type: Literal["MultiPolygon"]
    coordinates: list[Annotated[list[Ring], Field(min_length=1)]]


Simple = Annotated[Union[Point, MultiPoint, LineString, MultiLineString, Polygon, MultiPolygon], ONE_OF]


class GeometryCollection(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["GeometryCollection"]
    geometries: list[Simple]


class Geometry(RootModel[Annotated[Union[Point, MultiPoint, LineString, MultiLineString, Polygon, MultiPolygon,
                                         GeometryCollection], ONE_OF]]):
    """a GeoJSON geometry (RFC 7946)"""


class Link(BaseModel):
    href: str
    rel: str = None
    type: str = None
    title: str = None


class Feature(BaseModel):
    type: Literal["Feature"]
    id: Annotated[Union[str, int], ONE_OF] = None
    geometry: Geometry | None
    properties: dict | None
    links: list[Link] = None


class FeatureCollection(BaseModel):
    type: Literal["FeatureCollection"]
    features: list[Feature]
    numberMatched: Count = None
    numberReturned: Count = None
    timeStamp: str = None
    links: list[Link] = None


# Geometry as a request gives it: GeoJSON (a geometry, a Feature or a FeatureCollection of one feature; its text in a
# form) or typed coordinates, one point per line
GeometryIn = Annotated[Union[Geometry, Feature, FeatureCollection, str, None], Field(
    description="GeoJSON (a geometry, a Feature or a FeatureCollection of one feature; its text in a form) or typed "
                "coordinates, one point per line, in crs")]
PointIn = Annotated[Union[Point, LonLat, str], Field(description="[lon, lat], a GeoJSON Point or typed coordinates")]


# ------------------------------------------------------------------------------------------------------ problems
class Problem(BaseModel):
    """RFC 7807 problem details; some carry more members (e.g. location, field, current_version)"""
    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: Annotated[int, Field(ge=400, le=599)]
    detail: Annotated[str, Field(description="in the caller's language (?lang=zh|en, else Accept-Language)")] = None
    instance: str = None
    location: LonLat = None
    field: Annotated[str, Field(description="the field at fault")] = None
    code: Annotated[str, Field(description="stable code of a domain error, e.g. geometry.self_intersection "
                                           "(docs/everyday.md)")] = None
    params: Annotated[dict, Field(description="the values the message was made from (nested messages as "
                                              "{code, params})")] = None


# ------------------------------------------------------------------------------------------------------ sites
class PublicTexts(Answer):
    """The text a reviewer cleared for publication: the only description the public reads of a protected feature
    (absent from versions written before it existed)."""
    public_description: Annotated[str | None, Field(description="public text, reviewed as such")] = None
    public_description_en: str | None = None


class FeatureFields(PublicTexts):
    """The fields every kind of feature has (features.kind.TEXT_FIELDS and the protection level)."""
    name: str
    name_en: str | None
    county: str | None
    county_en: str | None
    age: str | None
    formation: str | None
    formation_en: Annotated[str | None, Field(description="the formation's English name (formation: its Chinese "
                                                          "name)")] = None
    description: str | None
    description_en: str | None
    level: Level


class SiteFields(FeatureFields):
    period: str | None
    fossil_groups: list[str]
    sensitivity: Sensitivity
    established: Date | None
    status: SiteStatus


class SiteProperties(SiteFields):
    """a site's attributes (every field, null where not given; where the public sees the location only roughly,
    description and description_en are null for anonymous callers, who read its public description)"""


def optional(model: type[BaseModel], name: str, doc: str) -> type[BaseModel]:
    """``model`` with every field optional (may be absent): what a change gives of it."""
    from pydantic import create_model
    fields = {k: (f.annotation, Field(default=None, description=f.description))
              for k, f in model.model_fields.items()}
    return create_model(name, __base__=Answer, __doc__=doc, **fields)


SitePropertyChanges = optional(SiteProperties, "SitePropertyChanges", "the fields a proposal changes")


class StratigraphicBoundary(Answer):
    name: str
    rank: BoundaryRank
    gssp: GsspState | None


class SectionFields(FeatureFields):
    significance: Significance | None
    period: str | None
    units: list[str]
    stratigraphic_boundaries: list[StratigraphicBoundary]
    sensitivity: Sensitivity
    established: Date | None
    status: SiteStatus


class SectionProperties(SectionFields):
    """a section's attributes (every field, null where not given; for anonymous callers the description of a section
    whose location the public sees only roughly is null)"""
    length_m: Annotated[float, Field(description="geodesic length of the line")]


SectionPropertyChanges = optional(SectionFields, "SectionPropertyChanges",
                                  "the fields a proposal changes (a section)")


class _Metrics(Answer):
    location_shift_m: float | None
    area_before_m2: float | None
    area_after_m2: float | None
    area_change_pct: float | None
    centroid_shift_m: float | None
    hausdorff_m: float | None
    vertices_before: int | None
    vertices_after: int | None
    length_m_before: float | None = None  # a section's line (geodesic)
    length_m_after: float | None = None


class Metrics(_Metrics):
    """geodesic figures of a change (null where they do not apply; the lengths of a section's line only for
    sections)"""


class ReviewMetrics(_Metrics):
    """the figures a reviewer sees: Metrics and the areas a boundary change adds and removes"""
    area_added_m2: float | None
    area_removed_m2: float | None


class Empty(Answer):
    """no figures (nothing geometric changed)"""


class Warning(BaseModel):
    """something the reviewer should look at (some carry figures: distance_m, location...)"""
    code: str
    message: str


COMMON = [Problem, Link, Geometry, GeometryCollection, Feature, FeatureCollection, SiteProperties, Metrics,
          ReviewMetrics]
