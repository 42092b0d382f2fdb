"""Site import: the upload and its options, an import's analysis (rows with their planned outcome), its summary and
the list of imports."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, create_model

from ...http.openapi import Answer, Body, form
from ...vocab import SurveyMethod
from .common import Count, Date, DateTime, Id, LonLat, Warning

Outcome = Literal["new", "change", "unchanged", "already", "refused"]
State = Literal["analysing", "ready", "proposing", "done", "failed"]
Encoding = Annotated[Literal["auto", "UTF-8", "GBK", "GB18030"], Field(
    description="text encoding of a CSV or a Shapefile's .dbf (default: declared or recognised)")]
Crs = Annotated[str, Field(description="coordinate system when the file does not say (EPSG:4545, CGCS2000, WGS84, "
                                       "GCJ02, BD09, WKT)")]
Layer = Annotated[str, Field(description="GeoPackage layer or shapefile of a zip with several")]
Match = Literal["code_or_location", "code", "location"]
Distance = Annotated[float, Field(ge=0.1, description="matching by location: the largest distance")]
Tolerance = Annotated[float, Field(ge=0, description="a matched site moved less than this keeps its location")]


# ------------------------------------------------------------------------------------------------------ requests
class ImportOptions(Body):
    mapping: dict[str, str] = None
    encoding: Encoding = None
    crs: Crs = None
    layer: Layer = None
    match: Match = None
    distance_m: Distance = None
    tolerance_m: Tolerance = None


ImportUpload = form("ImportUpload", required=["file"], file=bytes, encoding=Encoding, crs=Crs, layer=Layer,
                    match=Match, distance_m=Distance, tolerance_m=Tolerance,
                    mapping=Annotated[str, Field(description="JSON object {column: field}")])


class ImportConfirmation(Body):
    generation: Id
    reason: str
    method: SurveyMethod = None
    accuracy_m: float = None
    survey_date: Date = None


# ------------------------------------------------------------------------------------------------------ answers
class _Row(Answer):
    row: Id
    code: str | None
    name: str | None
    outcome: Outcome
    label: str
    matched_by: str | None
    site: str | None
    base_version: Id | None
    changes: list[str]
    reason: str | None
    warnings: list[Warning]
    earlier_revision: Id | None
    result: Annotated[Literal["proposed", "already", "refused"] | None, Field(description="after confirmation")]
    revision: Id | None
    result_reason: str | None
    location: LonLat | None


class ImportRow(_Row):
    """a row of the file and what the import plans or did with it"""


class ProposedRow(_Row):
    url: str | None


class Progress(Answer):
    phase: State
    done: Count
    total: Count


class ImportOptionsUsed(Answer):
    encoding: Encoding | None = None
    crs: Crs | None = None
    layer: Layer | None = None
    match: Match | None = None
    distance_m: Distance | None = None
    tolerance_m: Tolerance | None = None
    defaults: Annotated[dict[str, Any], Field(description="the defaults the confirmation gave")] = None


class ImportLinks(Answer):
    self: str
    summary: str
    summary_csv: str
    page: str


class _Stamps(Answer):
    reason: str | None
    confirmed_by: str | None
    confirmed_at: DateTime | None
    finished_at: DateTime | None


class Import(_Stamps):
    id: Id
    state: State
    generation: Annotated[Id, Field(description="the analysis shown; confirm names it")]
    file: str
    format: str | None
    size: Count
    sha256: str
    created_by: str
    created_at: DateTime
    progress: Progress
    error: str | None
    options: ImportOptionsUsed
    mapping: dict[str, str] | None
    preview: Annotated[dict[str, Any] | None, Field(
        description="what was read of the file: format, layer(s), CRS, encoding, columns, rows, sample (its members "
                    "depend on the format)")]
    counts: Annotated[dict[str, Count], Field(description="rows by planned outcome and by result (result_*)")]
    rows: list[ImportRow]
    rows_offset: Count
    rows_limit: Count
    links: ImportLinks


SummaryCounts = create_model("SummaryCounts", __base__=Answer,
                             **{k: (Count, ...) for k in ("proposed", "already", "unchanged", "refused", "pending")})


class ImportSummary(_Stamps):
    id: Id
    state: State
    file: str
    counts: SummaryCounts
    proposed: list[ProposedRow]
    already: list[ProposedRow]
    unchanged: list[ImportRow]
    refused: list[ImportRow]
    pending: list[ImportRow]
    review_queue: str


class ImportListed(Answer):
    id: Id
    state: State
    filename: str
    format: str | None
    size: Count
    created_by: str
    created_at: DateTime
    updated_at: DateTime
    finished_at: DateTime | None
    progress_done: Count
    progress_total: Count
    counts: dict[str, Count]
    url: str


class Imports(Answer):
    imports: list[ImportListed]


MODELS = [ImportRow, Import, ImportSummary, Imports]
