"""What can be downloaded: the layers (every registered kind of feature: sites, stratigraphic sections...; the
protection boundaries and markers; for staff, inspections and patrol tracks; the whole registry as one GeoPackage), the file formats, the CRSs each format takes, the Shapefile's field names, and the reading of a download
request (layer, format, crs, bbox, filters) into a ``Wanted``. No Flask.

The layers are the OGC API's collections (ogcapi.COLLECTIONS): a download holds exactly the features the feature
service would answer the same caller, built by the same record builders (the public view for anonymous callers)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

from .. import access, features, ogcapi
from ..features import GENERALIZED
from ..errors import NotFound, RegistryError
from ..messages import msg
from ..ogcapi.crs import EPSG_URI, STORAGE_EPSG

STORAGE_URI = EPSG_URI.format(code=STORAGE_EPSG)


class Unauthorized(RegistryError):
    """A staff layer asked for without signing in (401, like the feature service's staff collections)."""

    status = 401
    title = "Unauthorized"


@dataclass(frozen=True)
class Format:
    extension: str          # the URL's and the file's extension: sites.<extension>
    title: str
    media_type: str
    driver: str             # GDAL driver
    default_crs: str        # the CRS of the file when none is asked for (a URI of ogcapi.offered)
    any_crs: bool = True    # False: only the default CRS (KML is WGS 84 longitude/latitude by definition)
    note: str = ""


FORMATS: dict[str, Format] = {f.extension: f for f in (
    Format("gpkg", "GeoPackage", "application/geopackage+sqlite3", "GPKG", STORAGE_URI,
           note="QGIS, ArcGIS, GDAL; spatial index; the whole registry as registry.gpkg"),
    Format("geojson", "GeoJSON", "application/geo+json", "GeoJSON", ogcapi.CRS84,
           note="RFC 7946 in CRS84 (the default); another CRS is named in the file's crs member"),
    Format("kml", "KML", "application/vnd.google-earth.kml+xml", "KML", ogcapi.CRS84, any_crs=False,
           note="Ovital (奥维), Google Earth: placemarks named in Chinese, attributes in the description; "
                "always WGS 84 longitude/latitude"),
    Format("kmz", "KMZ", "application/vnd.google-earth.kmz", "KML", ogcapi.CRS84, any_crs=False,
           note="the KML zipped (doc.kml): a tenth of the size, for phones"),
    Format("shp.zip", "Shapefile (zipped)", "application/zip", "ESRI Shapefile", STORAGE_URI,
           note=".shp .shx .dbf .prj .cpg (UTF-8) and README.txt; field names cut to 10 characters, listed"),
    Format("csv", "CSV with WKT", "text/csv", "CSV", STORAGE_URI,
           note="UTF-8 with BOM for Excel; geometry as WKT in the column _WKT_EPSG_<code> (GDAL reads the CRS "
                "from its name), points also as two coordinate columns"),
    Format("fgb", "FlatGeobuf", "application/flatgeobuf", "FlatGeobuf", STORAGE_URI,
           note="with a packed Hilbert R-tree spatial index: fast for QGIS and web maps"),
)}


@dataclass(frozen=True)
class Layer:
    id: str
    title: str
    title_zh: str
    geometry: str                           # GDAL geometry type written ("Point", "MultiPolygon", ...)
    staff_only: bool
    collection: ogcapi.Collection | None    # None: the whole registry (registry.gpkg)
    formats: tuple[str, ...]
    fields: tuple[str, ...] = ()            # the attribute columns, in this order (public: see public_fields)
    staff_fields: tuple[str, ...] = ()      # columns only staff files carry
    public_fields: tuple[str, ...] = ()     # columns only public files carry
    ints: tuple[str, ...] = ()
    floats: tuple[str, ...] = ()
    bools: tuple[str, ...] = ()

    @property
    def table(self) -> str:
        """The layer's name inside a file (GeoPackage table, Shapefile and FlatGeobuf base name)."""
        return self.id.replace("-", "_")

    def columns(self, public: bool) -> tuple[str, ...]:
        return self.fields + (self.public_fields if public else self.staff_fields)


_ALL = tuple(FORMATS)

def _kind_layers(kind: features.FeatureKind) -> tuple[Layer, ...]:
    """The download layers of a kind of feature, one per collection (its own, and its point collection if it has
    one): the collection's features, its fields in the kind's order (the figures of its main geometry, such as a
    section's length_m, follow)."""
    titles = {kind.collection: (kind.title, kind.title_zh),
              kind.point_collection: (kind.point_title, kind.point_title_zh)}
    return tuple(Layer(cid, *titles[cid], ogcapi.COLLECTIONS[cid].geometry, False, ogcapi.COLLECTIONS[cid], _ALL,
                       ("code", *kind.property_fields, "version"), staff_fields=("updated_at",),
                       public_fields=(features.GENERALIZED,), ints=("version",), bools=(features.GENERALIZED,),
                       floats=("length_m",))
                 for cid in (kind.collection, kind.point_collection) if cid)


_MARKER_FIELDS = ("id", "feature", "kind", "inscription", "inscription_en", "erected_on", "last_condition",
                  "last_checked_on")
LAYERS: dict[str, Layer] = {la.id: la for la in (
    *(layer for kind in features.kinds() for layer in _kind_layers(kind)),
    Layer("boundaries", "Protection boundaries", "保护范围", "MultiPolygon", False, ogcapi.COLLECTIONS["boundaries"],
          _ALL, ("code", "name", "name_en", "level", "status", "version"), staff_fields=("sensitivity",),
          ints=("version",)),
    Layer("markers", "Protection markers", "保护标志", "Point", False, ogcapi.COLLECTIONS["markers"], _ALL,
          _MARKER_FIELDS, ints=("id",)),
    Layer("inspections", "Inspections", "巡查记录", "Point", True, ogcapi.COLLECTIONS["inspections"], _ALL,
          ("id", "site", "inspected_on", "condition", "threats", "inspectors", "photo_count", "site_version",
           "recorded_by"), ints=("id", "photo_count", "site_version")),
    Layer("patrol-tracks", "Patrol tracks", "巡查轨迹", "MultiLineString", True, ogcapi.COLLECTIONS["patrol-tracks"],
          _ALL, ("id", "site", "inspection_id", "inspected_on", "name", "length_m", "point_count"),
          ints=("id", "inspection_id", "point_count"), floats=("length_m",)),
    Layer("registry", "The whole registry", "化石点登记册", "", False, None, ("gpkg",)),
)}


# ------------------------------------------------------------------------------------------------------ requests
@dataclass
class Wanted:
    """One download as asked: what the file will hold."""

    layer: Layer
    format: Format
    crs: ogcapi.ServiceCRS
    public: bool
    bbox: tuple[float, float, float, float] | None = None   # lon/lat, on the caller's (public or exact) geometry
    filters: dict[str, set[str]] = field(default_factory=dict)
    # who asks (permission -> granted): the whole registry carries the tables and rows the caller's API gives them
    can: Callable[[str], bool] = field(default=lambda _permission: False, compare=False, repr=False)

    @property
    def whole(self) -> bool:
        """The whole layer as the caller may see it (no bbox, no filter but the default active status): cacheable."""
        return self.bbox is None and self.filters in ({}, {"status": {"active"}})


def split_name(name: str) -> tuple[str, str]:
    """"sites.shp.zip" -> ("sites", "shp.zip")."""
    layer, _, extension = name.partition(".")
    return layer, extension


def available(staff: bool) -> list[Layer]:
    return [la for la in LAYERS.values() if staff or not la.staff_only]


def is_staff(can: Callable[[str], bool]) -> bool:
    """Exact data (and the staff layers) for those who may read exact locations; the public view otherwise."""
    return can(access.EXACT)


def parse(name: str, args: Mapping[str, Sequence[str]], *, can: Callable[[str], bool], region, tz: str) -> Wanted:
    """A download request: ``name`` is "<layer>.<extension>", ``args`` the query (name -> values), ``can`` the caller
    (permission -> granted). Unknown layers and formats are 404 (naming which), staff layers 401 for anonymous callers,
    bad parameters 400 naming them."""
    staff = is_staff(can)
    layer_id, extension = split_name(name)
    layer = LAYERS.get(layer_id)
    if layer is None:
        raise NotFound(msg("downloads.no_layer", "no layer {layer!r}; layers: {layers}", layer=layer_id[:40],
                           layers=', '.join(la.id for la in available(staff))), parameter="layer")
    fmt = FORMATS.get(extension)
    if fmt is None or extension not in layer.formats:
        offered = ", ".join(layer.formats)
        raise NotFound(msg("downloads.no_format", "no format {extension!r} for {layer}; formats: {offered}",
                           extension=extension[:20], layer=layer.id, offered=offered), parameter="format")
    if layer.staff_only and not staff:
        raise Unauthorized(msg("downloads.staff_layer", "{layer} are for signed-in staff: sign in or send an API "
                               "token", layer=layer.id))
    if layer.collection is None:
        return _registry(layer, fmt, args, can=can, region=region)
    queryables = set(layer.collection.queryables)
    unknown = sorted(set(args) - {"crs", "bbox", "bbox-crs"} - queryables)
    if unknown:
        known = ", ".join(["crs", "bbox", "bbox-crs", *layer.collection.queryables])
        raise ogcapi.BadParameter(msg("downloads.unknown_parameters", "unknown parameter(s) {unknown}; a download of "
                                      "{layer} takes {known}", unknown=', '.join(unknown), layer=layer.id,
                                      known=known), parameter=unknown[0])
    asked = {k: v for k, v in args.items() if not (k == "crs" and v in ([], [""]))}
    query = ogcapi.parse(asked, layer.collection, region=region, tz=tz)
    crs = query.crs if "crs" in asked else ogcapi.resolve(fmt.default_crs, region, parameter="crs")
    if not fmt.any_crs and crs.uri != fmt.default_crs:
        raise ogcapi.BadParameter(msg("downloads.format_crs_fixed", "crs: {format} is always WGS 84 "
                                      "longitude/latitude ({crs}) by definition; leave crs out or choose another "
                                      "format", format=fmt.title, crs=fmt.default_crs), parameter="crs")
    return Wanted(layer, fmt, crs, public=not staff, bbox=query.bbox, filters=query.filters, can=can)


def _registry(layer: Layer, fmt: Format, args, *, can: Callable[[str], bool], region) -> Wanted:
    """The whole registry is one snapshot in its storage CRS: no bbox, no filter, no other CRS."""
    unknown = sorted(set(args) - {"crs"})
    if unknown:
        raise ogcapi.BadParameter(msg("downloads.registry_parameters", "unknown parameter(s) {unknown}: the "
                                      "registry GeoPackage is the whole registry; download a layer to choose an area "
                                      "or filter", unknown=', '.join(unknown)), parameter=unknown[0])
    given = [v for v in args.get("crs") or [] if v]
    if len(given) > 1:
        raise ogcapi.BadParameter(msg("ogcapi.given_times_give_once", "{name} is given {count} times; give it once",
                                      name="crs", count=len(given)), parameter="crs")
    crs = ogcapi.resolve(given[0] if given else STORAGE_URI, region, parameter="crs")
    if crs.epsg != STORAGE_EPSG:
        raise ogcapi.BadParameter(msg("downloads.registry_crs", "crs: the registry GeoPackage is in its storage "
                                      "CRS, CGCS2000 ({crs}); download a layer to get another CRS", crs=STORAGE_URI),
                                  parameter="crs")
    return Wanted(layer, fmt, crs, public=not is_staff(can), can=can)


# ------------------------------------------------------------------------------------------------------ Shapefile
DBF_NAME = 10        # characters of a .dbf field name
DBF_TEXT = 254       # bytes of a .dbf text value
SHORT_NAMES = {"description": "descr", "description_en": "descr_en", "public_description": "pub_descr",
               "public_description_en": "pub_dsc_en", "fossil_groups": "fossil_grp", "formation_en": "formatn_en",
               "sensitivity": "sensitiv", "established": "establishd", GENERALIZED: "generalizd",
               "inspected_on": "inspect_on", "photo_count": "photo_cnt", "site_version": "site_ver",
               "recorded_by": "record_by", "inspection_id": "insp_id", "point_count": "point_cnt"}


def shapefile_names(columns) -> dict[str, str]:
    """Field -> its .dbf name, for every field whose name is longer than 10 characters: the readable short names
    above, else the first characters made unique with a number."""
    taken = {c for c in columns if len(c) <= DBF_NAME}
    out = {}
    for c in columns:
        if len(c) <= DBF_NAME:
            continue
        short = SHORT_NAMES.get(c, c[:DBF_NAME])
        n = 1
        while short in taken:
            suffix = f"_{n}"
            short, n = c[:DBF_NAME - len(suffix)] + suffix, n + 1
        taken.add(short)
        out[c] = short
    return out
