"""Reading an import file with its options into rows placed in EPSG:4490: the file's own reader (formats.read_table),
the coordinate system it declares, or the one chosen, or (CSV) the one its numbers and zone prefixes give, and each
row's geometry converted. Problems of the file as a whole (unreadable, empty, unknown encoding, unknown coordinate
system) refuse it here, before any row is looked at; a row whose geometry cannot be read keeps the reason."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import shapely
from shapely.geometry import MultiPoint, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from .. import coords, formats
from ..errors import InvalidInput
from ..geometry import GeometryError
from ..messages import msg
from .fields import COORDINATE_TARGETS
from .settings import Settings

MATCH_MODES = ("code_or_location", "code", "location")
SAMPLE_ROWS = 20


@dataclass(frozen=True)
class Options:
    """How to read and match a file: chosen encoding, CRS and layer (None: as the file says or as recognised), the
    matching mode (None: by code, then by location, when a code column is mapped; else by location), the distance of
    matching by location and the tolerance below which a matched site's location is unchanged."""

    encoding: str | None = None
    crs: str | None = None
    layer: str | None = None
    match: str | None = None
    distance_m: float | None = None
    tolerance_m: float | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, Any], settings: Settings, base: "Options | None" = None) -> "Options":
        """Options from request fields, on top of ``base`` (the import's current ones); checked."""
        base = base or cls()
        values = base.to_json()
        for key in values:
            if key in raw:
                value = raw[key]
                values[key] = None if value in (None, "", "auto") else value
        for key in ("encoding", "crs", "layer", "match"):
            if values[key] is not None and not isinstance(values[key], str):
                raise InvalidInput(msg("imports.option_must_text", "{key} must be text", key=key))
        formats.encoding_codec(values["encoding"])  # an unknown choice is refused now
        if values["crs"]:
            coords.resolve_crs(values["crs"])
        if values["match"] is not None and values["match"] not in MATCH_MODES:
            raise InvalidInput(msg("imports.match_unknown", "match must be one of {modes} (got {value!r})",
                                   modes=', '.join(MATCH_MODES), value=str(values['match'])[:40]))
        values["distance_m"] = _metres(values["distance_m"], "distance_m", 0.1, settings.max_match_distance_m)
        values["tolerance_m"] = _metres(values["tolerance_m"], "tolerance_m", 0.0, 1000.0)
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        return {"encoding": self.encoding, "crs": self.crs, "layer": self.layer, "match": self.match,
                "distance_m": self.distance_m, "tolerance_m": self.tolerance_m}


def _metres(value: Any, name: str, low: float, high: float) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(msg("imports.metres_not_number", "{name} must be a number of metres (got {value!r})",
                               name=name, value=str(value)[:40])) from None
    if not math.isfinite(number) or not low <= number <= high:
        raise InvalidInput(msg("imports.metres_out_of_range", "{name} must be between {low:g} and {high:,.0f} metres "
                               "(got {number:g})", name=name, low=low, high=high, number=number))
    return number


@dataclass
class Row:
    number: int
    values: dict[str, str]
    geometry: BaseGeometry | None = None   # EPSG:4490: a Point (location) or a MultiPolygon (boundary)
    problem: str | None = None             # why the row has no usable geometry


@dataclass
class Read:
    table: formats.Table
    rows: list[Row]
    source_crs: str | None                 # EPSG key or WKT the geometries were read in; None: the file has none
    crs_source: str | None                 # declared | chosen | inferred | default
    coordinate_columns: tuple[str | None, str | None] = (None, None)
    notes: list[str] = field(default_factory=list)

    def info(self) -> dict[str, Any]:
        """What the preview shows of the file."""
        t = self.table
        crs = None
        if self.source_crs:
            resolved = coords.resolve_crs(self.source_crs)
            crs = {"key": resolved.key, "label": resolved.label, "source": self.crs_source}
        return {"format": t.format, "format_label": formats.FORMAT_LABELS.get(t.format, t.format),
                "filename": t.filename, "layer": t.layer, "layers": [{k: v for k, v in lyr.items() if k != "member"}
                                                                     for lyr in t.layers],
                "encoding": t.encoding, "encoding_source": t.encoding_source, "crs": crs, "columns": t.columns,
                "rows": len(self.rows), "with_geometry": sum(r.geometry is not None for r in self.rows),
                "coordinate_columns": list(self.coordinate_columns), "has_geometry": not t.needs_coordinates,
                "notes": list(dict.fromkeys(t.notes + self.notes)),
                "sample": [{"row": r.number, "values": r.values} for r in self.rows[:SAMPLE_ROWS]]}


def read(filename: str, data: bytes, options: Options, settings: Settings,
         mapping: Mapping[str, str] | None = None) -> Read:
    """The file's rows with their geometries in EPSG:4490; ``mapping`` (column -> target) names a CSV's coordinate
    columns (None: the reader's guess)."""
    table = formats.read_table(filename, data, settings.limits, encoding=options.encoding, layer=options.layer)
    if table.needs_coordinates:
        return _with_columns(table, options, settings, mapping)
    notes: list[str] = []
    if not any(r.geometry is not None for r in table.rows):
        return Read(table, [Row(r.number, r.values) for r in table.rows], None, None, notes=notes)
    source, crs_source = _source_crs(table, options, notes)
    return Read(table, _placed_all(table, source), source, crs_source, notes=notes)


def _with_columns(table: formats.Table, options: Options, settings: Settings,
                  mapping: Mapping[str, str] | None) -> Read:
    if mapping is None:
        x, y = formats.coordinate_columns(table)
    else:
        by_target = {t: c for c, t in mapping.items() if t in COORDINATE_TARGETS}
        x, y = by_target.get("x"), by_target.get("y")
    if not (x and y):
        note = msg("imports.no_coordinate_columns", "no coordinate columns were found (name them "
                   "longitude/latitude, 经度/纬度, easting/northing, X/Y, or map them): rows can only change sites "
                   "matched by code")
        return Read(table, [Row(r.number, r.values) for r in table.rows], None, None, (x, y), [note])
    placed = formats.with_points(table, x, y, options.crs, region=settings.policy.region_bbox)
    source = placed.crs
    crs_source = "chosen" if options.crs else ("inferred" if coords.resolve_crs(source).kind == "projected"
                                               else "default")
    return Read(placed, _placed_all(placed, source), source, crs_source, (x, y))


def _source_crs(table: formats.Table, options: Options, notes: list[str]) -> tuple[str, str]:
    """The CRS to read the geometries in: formats.choose_crs, plus the one mistake it cannot see, metres in a file
    that is longitude/latitude by convention (a GeoJSON written from a Gauss-Kruger layer)."""
    metres = _looks_projected(table)
    chosen = coords.resolve_crs(options.crs) if options.crs else None
    if metres and not table.crs_declared and (table.crs is None or coords.resolve_crs(table.crs).kind != "projected"):
        if chosen is None or chosen.kind != "projected":
            raise formats.CrsUnknown(msg(
                "imports.metres_without_crs", "{filename}: the coordinates are metres (e.g. {example}), not degrees, "
                "and the file does not say in which projected coordinate system: choose it (e.g. a CGCS2000 "
                "Gauss-Kruger zone)", filename=table.filename, example=_example(table)), choose="crs")
        return (chosen.key if chosen.key != "WKT" else chosen.crs.to_wkt()), "chosen"
    try:
        source, crs_notes = formats.choose_crs(table, options.crs)
    except InvalidInput as exc:
        if table.crs is None:
            raise formats.CrsUnknown(exc.detail, choose="crs") from None
        raise
    notes += crs_notes
    if table.crs is None:
        return source, "chosen"
    return source, "declared" if table.crs_declared or source == table.crs else "chosen"


def _looks_projected(table: formats.Table) -> bool:
    pts = [shapely.get_coordinates(r.geometry)[0] for r in table.rows[:200] if r.geometry is not None]
    return bool(pts) and sum(abs(x) > 360 or abs(y) > 360 for x, y in pts) > len(pts) / 2


def _example(table: formats.Table) -> str:
    g = next(r.geometry for r in table.rows if r.geometry is not None)
    x, y = shapely.get_coordinates(g)[0]
    return f"{x:,.0f}, {y:,.0f}"


def _placed_all(table: formats.Table, source: str) -> list[Row]:
    """Every row placed in EPSG:4490: the points of the file in one transformation (a file of 5,000 sites is mostly
    points), anything else, and any point the batch cannot take, one by one with its own reason."""
    points = [i for i, r in enumerate(table.rows) if isinstance(r.geometry, Point)]
    placed: dict[int, Point] = {}
    if len(points) > 1:
        try:
            moved = formats.to_registry_crs(MultiPoint([table.rows[i].geometry for i in points]), source,
                                            filename=table.filename)
            placed = dict(zip(points, moved.geoms))
        except (InvalidInput, GeometryError, coords.CoordinateError):
            placed = {}
    return [Row(r.number, r.values, placed[i]) if i in placed else _placed(table, r, source)
            for i, r in enumerate(table.rows)]


def _placed(table: formats.Table, r: formats.TableRow, source: str | None) -> Row:
    if r.geometry is None:
        return Row(r.number, r.values, None, r.problem)
    geom = r.geometry
    if isinstance(geom, MultiPoint) and len(geom.geoms) == 1:
        geom = geom.geoms[0]
    if isinstance(geom, Polygon):
        geom = MultiPolygon([geom])
    if not isinstance(geom, (Point, MultiPolygon)):
        return Row(r.number, r.values, None, msg("imports.row_geometry_kind", "the row's geometry is a {type}: a site "
                                                 "is a point (its location) or a polygon (its boundary)",
                                                 type=geom.geom_type))
    try:
        return Row(r.number, r.values, formats.to_registry_crs(geom, source, filename=table.filename))
    except (InvalidInput, GeometryError, coords.CoordinateError) as exc:
        return Row(r.number, r.values, None, getattr(exc, "detail", None) or str(exc))

