"""What a returned kit holds, checked as a whole before anything is proposed: that it is a kit this registry issued
(installation, kit id, the manifest's HMAC signature), that its layers are still the kit's (columns, EPSG:4490 in the
layer and in every geometry), and that every site feature still carries the code and base version it was issued with,
once per layer. Any of these failing refuses the whole kit (422), naming each feature and its problem: nothing is
proposed from a kit that is not what it claims to be."""
from __future__ import annotations

import hmac
import math
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from .. import store, untrusted
from ..errors import InvalidInput, TooLarge
from ..store import fieldkit as kstore
from ..store import kitfile
from .layers import BOUNDARIES, FORMAT, LAYERS, LOCATIONS, MANIFEST, NEW_FINDS, SURVEY_POINTS, Layer
from .package import sign
from .settings import Settings
from .upload import Upload
from ..messages import msg, msg_list

KIT_SRS = 4490
MAX_PROBLEMS = 50


@dataclass
class Feature:
    layer: str
    fid: int
    values: dict[str, Any]
    geometry: BaseGeometry | None

    @property
    def code(self) -> str | None:
        code = self.values.get("code")
        return code.strip() if isinstance(code, str) and code.strip() else None

    @property
    def label(self) -> str:
        return f"{self.layer} #{self.fid}" + (f" ({self.code})" if self.code else "")


@dataclass
class KitContents:
    kit: dict[str, Any]                                   # the registry's record of the kit
    locations: dict[str, Feature] = field(default_factory=dict)
    boundaries: dict[str, Feature] = field(default_factory=dict)
    finds: list[Feature] = field(default_factory=list)
    survey_points: list[Feature] = field(default_factory=list)


def read_contents(conn, upload: Upload, settings: Settings, expected_kit: str | None = None) -> KitContents:
    """The checked contents of an uploaded kit; InvalidInput naming every problem otherwise."""
    manifest, features, problems = read_kit_file(str(upload.gpkg), upload.filename, settings.max_features)
    kit = verified_kit(conn, manifest, upload.filename, expected_kit)
    contents = KitContents(kit, finds=features[NEW_FINDS], survey_points=features[SURVEY_POINTS])
    contents.locations = _by_code(features[LOCATIONS], kit, problems)
    contents.boundaries = _by_code(features[BOUNDARIES], kit, problems)
    _unique_finds(contents.finds, problems)
    if problems:
        shown = msg_list(problems[:10] + ([msg("fieldkit.and_more", "and {count} more", count=len(problems) - 10)]
                                          if len(problems) > 10 else []), "; ")
        raise InvalidInput(msg("fieldkit.nothing_proposed_because_problem", "{filename}: nothing was proposed, "
                               "because {count} problem(s) concern the kit as a whole: {shown}",
                               filename=upload.filename, count=len(problems), shown=shown), problems=problems[:MAX_PROBLEMS])
    return contents


@untrusted.bounded
def read_kit_file(path: str, filename: str, max_features: int) -> tuple[dict[str, str] | None,
                                                                      dict[str, list[Feature]], list[str]]:
    """The manifest and every layer's features of an uploaded kit file, and the problems found in them; read in a
    bounded worker process (untrusted.py), SQLite's statements interrupted at the read's deadline."""
    try:
        kconn = kitfile.open_kit_file(path, untrusted.deadline())
    except kitfile.KitFileTooSlow:
        raise untrusted.too_slow() from None
    except kitfile.KitFileError as exc:
        raise InvalidInput(msg("fieldkit.readable_geopackage", "{filename} is not a readable GeoPackage ({exc})",
                               filename=filename, exc=exc)) from None
    try:
        check = kitfile.quick_check(kconn)
        if check != "ok":
            raise InvalidInput(msg("fieldkit.damaged_sqlite_nothing_proposed", "{filename} is damaged (SQLite: "
                                   "{check}); nothing was proposed", filename=filename, check=check))
        if not kitfile.is_geopackage(kconn):
            raise InvalidInput(msg("fieldkit.geopackage_so_field_kit", "{filename} is not a GeoPackage, so not a "
                                   "field kit of this registry", filename=filename))
        manifest = kitfile.read_manifest(kconn, MANIFEST)
        problems: list[str] = []
        features = {layer.name: _read_layer(kconn, layer, max_features, problems) for layer in LAYERS}
    except kitfile.KitFileTooSlow:
        raise untrusted.too_slow() from None
    except kitfile.KitFileError as exc:
        raise InvalidInput(msg("fieldkit.damaged_nothing_proposed", "{filename} is damaged ({exc}); nothing was "
                               "proposed", filename=filename, exc=exc)) from None
    finally:
        kconn.close()
    return manifest, features, problems


def verified_kit(conn, manifest: dict[str, str] | None, filename: str, expected: str | None) -> dict[str, Any]:
    """The registry's record of the kit the manifest names, after checking it is ours and unedited."""
    if manifest is None:
        raise InvalidInput(msg("fieldkit.field_kit_registry_table", "{filename} is not a field kit of this registry: "
                               "it has no {manifest} table", filename=filename, manifest=MANIFEST))
    if manifest.get("format") != FORMAT:
        raise InvalidInput(msg("fieldkit.unknown_field_kit_format", "{filename}: unknown field kit format {value!r} "
                               "(expected {value2})", filename=filename, value=manifest.get('format', '')[:60],
                               value2=FORMAT))
    theirs, ours = manifest.get("installation", ""), kstore.installation_id(conn)
    if theirs != ours:
        raise InvalidInput(msg("fieldkit.kit_another_registry_installation", "{filename} is a kit of another "
                               "registry installation ({theirs!r}, this one is {ours!r}): check it in where it was "
                               "issued", filename=filename, theirs=theirs[:32], ours=ours), problem="other_installation")
    kit_id = manifest.get("kit_id", "")
    kit = kstore.get_kit(conn, kit_id)
    if kit is None:
        raise InvalidInput(msg("fieldkit.registry_issued_kit", "{filename}: this registry issued no kit {kit_id!r}",
                               filename=filename, kit_id=kit_id[:40]), problem="unknown_kit")
    try:
        expected_signature = sign(manifest, kit["secret"])
    except ValueError:  # a registry restored from a shareable export has no secrets
        raise InvalidInput(msg("fieldkit.kit_verified_secret_registry", "{filename}: kit {kit_id} cannot be verified "
                               "(its secret is not in this registry)", filename=filename, kit_id=kit_id)) from None
    if not hmac.compare_digest(expected_signature, manifest.get("signature", "")):
        raise InvalidInput(msg("fieldkit.kit_s_manifest_edited", "{filename}: the kit's manifest ({manifest}) was "
                               "edited, so the kit cannot be trusted; check in the file as the kit left it",
                               filename=filename, manifest=MANIFEST), problem="manifest_edited")
    if expected is not None and expected != kit_id:
        raise InvalidInput(msg("fieldkit.kit_kit", "{filename} is kit {kit_id}, not kit {expected}", filename=filename,
                               kit_id=kit_id, expected=expected), problem="other_kit")
    return kit


def _read_layer(kconn, layer: Layer, max_features: int, problems: list[str]) -> list[Feature]:
    columns = kitfile.table_columns(kconn, layer.name)
    if columns is None:
        problems.append(msg("fieldkit.layer_missing", "layer {name} is missing", name=layer.name))
        return []
    needed = {"fid"} | ({"code", "base_version"} if layer.name in (LOCATIONS, BOUNDARIES) else set())
    if needed - set(columns):
        problems.append(msg("fieldkit.layer_column_s_removed", "layer {name}: column(s) {value} were removed",
                            name=layer.name, value=', '.join(sorted(needed - set(columns)))))
        return []
    geometry = kitfile.geometry_columns(kconn).get(layer.name)
    if geometry is None:
        problems.append(msg("fieldkit.layer_geometry_column_any", "layer {name} has no geometry column any more",
                            name=layer.name))
        return []
    if geometry["srs_id"] != KIT_SRS:
        problems.append(msg("fieldkit.layer_epsg_but_kit", "layer {name} is in EPSG:{srs_id}, but the kit's layers "
                            "are in EPSG:4490 (CGCS2000 longitude/latitude): edit the kit's own layers, do not save "
                            "them in another CRS", name=layer.name, srs_id=geometry['srs_id']))
        return []
    count = kitfile.count_rows(kconn, layer.name)
    if count > max_features:
        raise TooLarge(msg("fieldkit.layer_holds_features_kit", "layer {name} holds {count:,} features; a kit "
                           "check-in reads at most {max_features:,} per layer", name=layer.name, count=count,
                           max_features=max_features))
    rows = kitfile.read_rows(kconn, layer.name, [f.name for f in layer.fields if f.name in columns],
                             geometry["column"])
    out = []
    for row in rows:
        blob = row.pop("geom")
        feature = Feature(layer.name, row.pop("fid"), row, None)
        feature.geometry = _geometry(blob, feature, problems)
        out.append(feature)
    return out


def _geometry(blob: bytes | None, feature: Feature, problems: list[str]) -> BaseGeometry | None:
    """The feature's geometry in 2-D, checked to be EPSG:4490 longitude/latitude."""
    if blob is None:
        return None
    try:
        srs_id = store.blob_srs_id(blob)
        geom = store.decode_geometry(blob)
    except Exception:  # noqa: BLE001 - any damaged blob (header or WKB) is reported as such
        problems.append(msg("fieldkit.geometry_read_damaged", "{label}: the geometry cannot be read (damaged)",
                            label=feature.label))
        return None
    if srs_id not in (KIT_SRS, 0, -1):  # 0/-1: 'undefined' (some writers); the range check below still applies
        problems.append(msg("fieldkit.geometry_epsg_kit_s", "{label}: the geometry is in EPSG:{srs_id}, not in the "
                            "kit's EPSG:4490", label=feature.label, srs_id=srs_id))
        return None
    if geom is None or geom.is_empty:
        return None
    geom = shapely.force_2d(geom)
    coords = shapely.get_coordinates(geom)
    if not all(math.isfinite(v) for v in coords.flat) or (abs(coords[:, 0]) > 180).any() or \
            (abs(coords[:, 1]) > 90).any():
        x, y = coords[0]
        problems.append(msg("fieldkit.coordinates_longitude_latitude_geometry", "{label}: coordinates ({x:.6g}, "
                            "{y:.6g}) are not longitude/latitude: the geometry was written in another CRS (metres?) "
                            "than the kit's EPSG:4490", label=feature.label, x=x, y=y))
        return None
    return geom


def _by_code(features: list[Feature], kit: dict[str, Any], problems: list[str]) -> dict[str, Feature]:
    """Site features by code: every code one of the kit's, once per layer, with the base version it was issued at."""
    issued: dict[str, int] = kit["sites"]
    seen: dict[str, Feature] = {}
    for f in features:
        code = f.code
        if code is None:
            problems.append(msg("fieldkit.site_code_new_finds", "{label}: no site code (new finds belong in the "
                                "{new_finds} layer)", label=f.label, new_finds=NEW_FINDS))
        elif code not in issued:
            problems.append(msg("fieldkit.one_kit_s_sites", "{label}: {code} is not one of the kit's sites: was the "
                                "code changed?", label=f.label, code=code))
        elif code in seen:
            problems.append(msg("fieldkit.also_each_site_appears", "{label}: {code} is also {label2}: each site "
                                "appears once per layer (was a feature copied, or a code changed?)", label=f.label,
                                code=code, label2=seen[code].label))
        elif _whole(f.values.get("base_version")) != issued[code]:
            problems.append(msg("fieldkit.base_version_edited_kit", "{label}: base version {value!r} was edited (the "
                                "kit carries {code} at version {issued})", label=f.label,
                                value=f.values.get('base_version'), code=code, issued=issued[code]))
        else:
            seen[code] = f
    return seen


def _whole(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number == value or str(number) == str(value).strip() else None


def _unique_finds(finds: list[Feature], problems: list[str]) -> None:
    seen: dict[str, Feature] = {}
    for f in finds:
        find_id = (f.values.get("find_id") or "").strip() if isinstance(f.values.get("find_id"), str) else ""
        if find_id and find_id in seen:
            problems.append(msg("fieldkit.find_id_also_copied", "{label}: find id {find_id} is also {label2} (a "
                                "copied feature?)", label=f.label, find_id=find_id, label2=seen[find_id].label))
        elif find_id:
            seen[find_id] = f
