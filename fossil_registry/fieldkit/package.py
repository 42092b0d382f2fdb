"""Checking out a field kit: the chosen sites (exact: kits are for staff) in a GeoPackage with their code and base
version, the features of every other registered kind in the area (stratigraphic sections...) for reference, empty
layers for new finds and survey points, a signed manifest, the QGIS project, the basemap clipped to the
area when the operator has one, and a short README, zipped into one folder. The kit is recorded (who, when, registry
stamp, area, every site's base version, the manifest's secret) with its audit entry in one transaction."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Mapping

from shapely.geometry import box

from .. import features, local_time, store
from ..errors import InvalidInput, NotFound
from ..store import fieldkit as kstore
from ..store import kitfile
from ..county_context import ProvinceContext
from . import basemap as basemaps
from . import context_layers
from .layers import (BOUNDARIES, FORMAT, KIT_BASEMAP, KIT_GPKG, KIT_LAYERS, KIT_PROJECT, LOCATIONS, MANIFEST,
                     MANIFEST_COLUMNS, PHOTO_FOLDER, REFERENCE_LAYERS, SITE_PROPERTIES)
from .qgis_project import project_qgz
from .settings import Settings
from ..messages import msg

AREA_KINDS = ("bbox", "county", "sites")


@dataclass(frozen=True)
class Area:
    """Where a kit is for: a lon/lat box, a county (Chinese or English name), or a list of site codes."""

    kind: str
    bbox: tuple[float, float, float, float] | None = None
    county: str | None = None
    codes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        value = {"bbox": list(self.bbox) if self.bbox else None, "county": self.county, "sites": list(self.codes)}
        return {"kind": self.kind, self.kind: value[self.kind]}


def parse_area(fields: Mapping[str, Any]) -> Area:
    """The area from a JSON body or a form: exactly one of ``bbox`` ([min_lon, min_lat, max_lon, max_lat] or
    "a,b,c,d"), ``county`` or ``sites`` (a list, or codes separated by commas, spaces or lines)."""
    given = [k for k in AREA_KINDS if fields.get(k) not in (None, "", [])]
    if len(given) != 1:
        raise InvalidInput(msg("fieldkit.choose_kit_s_area", "choose the kit's area with exactly one of bbox "
                               "(min_lon,min_lat,max_lon,max_lat), county or sites (a list of site codes)"))
    kind, value = given[0], fields[given[0]]
    if kind == "bbox":
        return Area("bbox", bbox=_bbox(value))
    if kind == "county":
        if not isinstance(value, str) or len(value.strip()) > 100:
            raise InvalidInput(msg("fieldkit.county_must_county_s", "county must be a county's name"))
        return Area("county", county=value.strip())
    codes = re.split(r"[\s,;，；]+", value.strip()) if isinstance(value, str) else value
    if not isinstance(codes, (list, tuple)) or not all(isinstance(c, str) for c in codes):
        raise InvalidInput(msg("fieldkit.sites_must_list_site", "sites must be a list of site codes such as GZ-0001"))
    codes = tuple(dict.fromkeys(c.strip().upper() for c in codes if c.strip()))
    bad = [c for c in codes if not features.CODE_PATTERN.match(c)]
    if bad:
        raise InvalidInput(msg("fieldkit.site_codes_codes_look", "not site codes: {bad} (codes look like GZ-0001)",
                               bad=', '.join(bad[:10])))
    return Area("sites", codes=codes)


def _bbox(value: Any) -> tuple[float, float, float, float]:
    parts = value.split(",") if isinstance(value, str) else value
    try:
        bbox = tuple(float(v) for v in parts)
    except (TypeError, ValueError):
        bbox = ()
    if len(bbox) != 4 or not (-180 <= bbox[0] < bbox[2] <= 180 and -90 <= bbox[1] < bbox[3] <= 90):
        raise InvalidInput(msg("fieldkit.bbox_must_min_lon", "bbox must be min_lon,min_lat,max_lon,max_lat in "
                               "degrees (got {value!r})", value=str(value)[:80]))
    return bbox


def select_sites(conn, area: Area, settings: Settings) -> list[features.Feature]:
    """The active sites of the area (exact state); refused if there are more than a kit may carry."""
    if area.kind == "bbox":
        chosen = features.list_current(conn, bbox=area.bbox)
    elif area.kind == "county":
        wanted = area.county.casefold()
        chosen = [s for s in features.list_current(conn) if wanted in
                  ((s.properties.get("county") or "").casefold(), (s.properties.get("county_en") or "").casefold())]
        if not chosen:
            raise InvalidInput(msg("fieldkit.active_site_county_named", "no active site in a county named {county!r}",
                                   county=area.county))
    else:
        chosen, unknown = [], []
        for code in area.codes:
            kind = features.kind_of(conn, code)
            if kind is not features.SITE:  # a section's (or another kind's) code: into its own layer
                continue
            try:
                chosen.append(features.current(conn, code, kind=kind))
            except NotFound:
                unknown.append(code)
        if unknown:
            raise InvalidInput(msg("fieldkit.site_code", "no site with code {unknown}",
                                   unknown=', '.join(unknown[:10])))
        retired = [s.code for s in chosen if s.properties.get("status") == "retired"]
        if retired:
            raise InvalidInput(msg("fieldkit.retired_sites_taken_into", "retired sites are not taken into the field: "
                                   "{retired}", retired=', '.join(retired[:10])))
    if len(chosen) > settings.max_sites:
        raise InvalidInput(msg("fieldkit.sites_area_kit_carries", "{count} sites in this area; a kit carries at most "
                               "{max_sites}: choose a smaller area", count=len(chosen), max_sites=settings.max_sites))
    return chosen


def select_others(conn, area: Area) -> list[features.Feature]:
    """The active features of every other registered kind in the area (exact, for reference): in the box, naming the
    county, or named by their codes."""
    kinds = [k for k in features.kinds() if k is not features.SITE]
    if area.kind == "bbox":
        inside = box(*area.bbox)
        return [f for k in kinds for f in features.list_current(conn, bbox=area.bbox, kind=k)
                if inside.intersects(f.location) or (f.boundary is not None and inside.intersects(f.boundary))]
    if area.kind == "county":
        wanted = area.county.casefold()
        return [f for k in kinds for f in features.list_current(conn, kind=k) if wanted in
                ((f.properties.get("county") or "").casefold(), (f.properties.get("county_en") or "").casefold())]
    out = []
    for code in area.codes:
        kind = features.kind_of(conn, code)
        if kind is not features.SITE:
            f = features.current(conn, code, kind=kind)
            if f.properties.get("status") != "retired":
                out.append(f)
    return out


def kit_bounds(area: Area, chosen: list[features.Feature]) -> tuple[float, float, float, float]:
    """The area the kit covers: the given box, grown to every chosen feature's main geometry and boundary."""
    geoms = [s.location for s in chosen] + [s.boundary for s in chosen if s.boundary is not None]
    if area.bbox is not None:
        geoms.append(box(*area.bbox))
    minx = min(g.bounds[0] for g in geoms)
    miny = min(g.bounds[1] for g in geoms)
    maxx = max(g.bounds[2] for g in geoms)
    maxy = max(g.bounds[3] for g in geoms)
    return (minx, miny, maxx, maxy)


# --------------------------------------------------------------------------------------------------------- the files
def sign(manifest: Mapping[str, str], secret: str) -> str:
    """HMAC-SHA256 of every manifest row except the signature, with the kit's secret."""
    body = json.dumps({k: v for k, v in manifest.items() if k != "signature"}, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"))
    return hmac.new(bytes.fromhex(secret), body.encode("utf-8"), hashlib.sha256).hexdigest()


def _site_row(site: features.Feature) -> dict[str, Any]:
    row = {"geom": site.location, "code": site.code, "base_version": site.version}
    for key in SITE_PROPERTIES:
        value = site.properties.get(key)
        row[key] = ", ".join(value) if isinstance(value, list) else value
    return row


def _reference_row(feature: features.Feature, columns: list[str]) -> dict[str, Any]:
    row = {"geom": feature.location, "code": feature.code, "base_version": feature.version}
    for key in columns:
        value = feature.properties.get(key)
        row[key] = (", ".join(map(str, value)) if all(isinstance(v, str) for v in value) else
                    json.dumps(value, ensure_ascii=False)) if isinstance(value, list) else value
    return row


def write_geopackage(path: Path, chosen: list[features.Feature], manifest: dict[str, str],
                     others: list[features.Feature] = (), context: ProvinceContext | None = None,
                     bounds: tuple[float, float, float, float] | None = None) -> int:
    """The kit's GeoPackage; with ``context`` and ``bounds``, the county context layers around them too. Returns how
    many counties it carries."""
    kitfile.create_kit_file(path, [{"name": la.name, "geometry": la.geometry, "identifier": la.title,
                                    "description": la.description, "columns": la.columns} for la in KIT_LAYERS] +
                            [{"name": MANIFEST, "geometry": None, "identifier": "Field kit manifest",
                              "description": "Which kit this is: do not edit (the registry checks its signature)",
                              "columns": MANIFEST_COLUMNS}] +
                            (context_layers.tables() if context is not None else []))
    kitfile.write_rows(path, LOCATIONS, [_site_row(s) for s in chosen])
    kitfile.write_rows(path, BOUNDARIES, [{"geom": s.boundary, "code": s.code, "base_version": s.version,
                                           "name": s.properties.get("name"), "level": s.properties.get("level")}
                                          for s in chosen if s.boundary is not None])
    for layer in REFERENCE_LAYERS:
        columns = [f.name for f in layer.fields if f.name not in ("code", "base_version")]
        kitfile.write_rows(path, layer.name, [_reference_row(f, columns) for f in others
                                              if f.kind.layers.primary == layer.name])
    kitfile.write_rows(path, MANIFEST, [{"key": k, "value": v} for k, v in manifest.items()])
    if context is not None and bounds is not None:
        return context_layers.write_rows(path, context, bounds)
    return 0


README = """化石点野外工具包 Fossil site field kit {kit}
==========================================================

中文
1. 将整个文件夹复制到平板或电脑，用 QField 或 QGIS 打开 fieldkit.qgz。
2. 在"化石点"和"保护范围"图层中修改位置、边界和属性；编号和基础版本不能修改。
   遗址已不存在时，勾选"建议撤销"，不要删除要素（删除的要素只会被报告，不会被提交）。
3. 新发现的化石点添加到"新发现"图层；照片和调查点添加到"调查点与照片"图层（照片保存在 DCIM 文件夹）。
4. 回来后先关闭 QField/QGIS 中的项目，再将整个文件夹（含 DCIM 和所有 fieldkit.gpkg* 文件）压缩成 zip 上传：
   网页 /fieldkit/checkin，或 POST /api/fieldkits/{kit}/checkin。每个修改都会成为一个待审核的提案。
   不要修改 kit_manifest 表：注册系统会核对它的签名。

English
1. Copy the whole folder to the tablet or laptop and open fieldkit.qgz in QField or QGIS.
2. Edit locations, boundaries and attributes in the "Fossil sites" and "Protection boundaries" layers; the site code and
   base version are read-only. If a site no longer exists, tick "propose retirement" instead of deleting it (deleted
   features are only reported, never proposed).
3. Add new finds to the "New finds" layer, photos and survey points to "Survey points and photos" (photos are stored in
   the DCIM folder).
4. Back at the office, close the project in QField/QGIS first, then upload a zip of the whole folder (with DCIM and
   every fieldkit.gpkg* file): the web page /fieldkit/checkin, or POST /api/fieldkits/{kit}/checkin. Every change
   becomes a proposal that a second person reviews. Do not edit the kit_manifest table: the registry checks its
   signature.

Kit {kit}, issued by {issued_by} at {issued_at} (registry stamp {stamp}); {count} sites. The locations of sensitive
sites in this kit are exact: keep the device safe and do not share the files.
"""


@dataclass
class Kit:
    """A kit just checked out: its id, the zip (an anonymous temporary file, read from the start) and what it holds."""

    kit_id: str
    filename: str
    file: IO[bytes]
    sites: int
    boundaries: int
    basemap: basemaps.Clip | None
    others: dict[str, int] = field(default_factory=dict)   # the other kinds' collection -> features carried

    def to_json(self) -> dict[str, Any]:
        clip = self.basemap
        return {"id": self.kit_id, "filename": self.filename, "sites": self.sites, "boundaries": self.boundaries,
                **self.others,
                "basemap": None if clip is None else {"tiles": clip.tiles, "zooms": clip.zooms,
                                                      "left_out": list(clip.left_out)}}


def check_out(conn, area: Area, *, actor: str, settings: Settings, basemap: bool = True,
              remote_addr: str | None = None, context: ProvinceContext | None = None) -> Kit:
    """Build a kit of ``area`` for ``actor`` and record it (with its audit entry). ``basemap``: carry the offline
    basemap clipped to the area, if the operator configured one; ``context``: the province's county context
    (county_context.load), whose counties around the area the kit carries as layers under the sites."""
    chosen = select_sites(conn, area, settings)
    others = select_others(conn, area)
    bounds = kit_bounds(area, chosen + others) if chosen or others else area.bbox
    if bounds is None:
        raise InvalidInput(msg("fieldkit.kit_s_area_holds", "the kit's area holds no site"))
    kit_id, secret = secrets.token_hex(16), secrets.token_hex(32)
    folder = f"fieldkit-{kit_id[:8]}"
    manifest = {"format": FORMAT, "kit_id": kit_id, "installation": kstore.installation_id(conn),
                "issued_by": actor, "issued_at": store.utc_now(), "registry_stamp": str(kstore.registry_stamp(conn)),
                "area": json.dumps(area.to_json(), ensure_ascii=False), "bbox": json.dumps(list(bounds)),
                "crs": "EPSG:4490", "sites": str(len(chosen)),
                **{k.collection: str(sum(f.kind is k for f in others)) for k in features.kinds()
                   if k is not features.SITE}}
    manifest["signature"] = sign(manifest, secret)
    out = tempfile.TemporaryFile()
    with tempfile.TemporaryDirectory(prefix="fieldkit-") as tmp:
        gpkg = Path(tmp) / KIT_GPKG
        counties = write_geopackage(gpkg, chosen, manifest, others, context=context, bounds=bounds)
        clip = None
        if basemap and settings.offline_basemap is not None:
            clip = basemaps.clip(settings.offline_basemap, bounds, Path(tmp) / KIT_BASEMAP,
                                 max_tiles=settings.basemap_max_tiles, margin_deg=settings.basemap_margin_deg,
                                 label=f"field kit {kit_id[:8]}")
        title = f"化石点野外工具包 Fossil site field kit {kit_id[:8]}"
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(gpkg, f"{folder}/{KIT_GPKG}")
            zf.writestr(f"{folder}/{KIT_PROJECT}", project_qgz(title=title, kit_id=kit_id, bbox=bounds,
                                                                basemap=clip is not None and clip.tiles > 0,
                                                                context=counties > 0))
            if clip is not None and clip.tiles:
                zf.write(Path(tmp) / KIT_BASEMAP, f"{folder}/{KIT_BASEMAP}", compress_type=zipfile.ZIP_STORED)
            zf.writestr(f"{folder}/{PHOTO_FOLDER}/", b"")
            zf.writestr(f"{folder}/README.txt", README.format(
                kit=kit_id, issued_by=actor, issued_at=local_time.with_offset(manifest["issued_at"], settings.timezone), stamp=manifest["registry_stamp"],
                count=len(chosen)))
    out.seek(0)
    _record(conn, manifest, secret, area, bounds, chosen, clip, remote_addr)
    return Kit(kit_id, f"{folder}.zip", out, len(chosen), sum(s.boundary is not None for s in chosen), clip,
               {k.collection: sum(f.kind is k for f in others) for k in features.kinds() if k is not features.SITE})


def _record(conn, manifest: dict[str, str], secret: str, area: Area, bounds, chosen: list[features.Feature],
            clip: basemaps.Clip | None, remote_addr: str | None) -> None:
    with store.transaction(conn):
        kstore.insert_kit(conn, kit_id=manifest["kit_id"], issued_by=manifest["issued_by"],
                          issued_at=manifest["issued_at"], installation=manifest["installation"],
                          registry_stamp=int(manifest["registry_stamp"]), area=area.to_json(), bounds=bounds,
                          sites={s.code: s.version for s in chosen},
                          boundaries=[s.code for s in chosen if s.boundary is not None], secret=secret,
                          basemap_tiles=clip.tiles if clip else 0)
        store.append_audit(conn, actor=manifest["issued_by"], action="fieldkit.checkout", target=manifest["kit_id"],
                           at=manifest["issued_at"], remote_addr=remote_addr,
                           detail={"area": area.to_json(), "sites": len(chosen),
                                   "registry_stamp": int(manifest["registry_stamp"]),
                                   "basemap_tiles": clip.tiles if clip else 0})
