"""Building a download: the file is written into a private temporary directory, handed over open, and the directory
removed at once (the open file stays readable until the answer is sent), so nothing is left behind whether the
download completes, fails or the client goes away. Whole layers are kept per registry state (cache.py). No Flask.

The whole registry for staff is the shareable export (registry.export_registry: an online-backup snapshot without
the private tables, personal data scrubbed) narrowed to the tables and rows the caller's API gives them (access.py),
never the live file; for anonymous callers it is a GeoPackage of the public view's sites and boundaries."""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import pyproj

from .. import local_time, registry, store
from ..coords import crs_name
from ..messages import Label
from ..ogcapi import ServiceCRS
from .cache import Cache
from .cache import key as cache_key
from .catalog import LAYERS, Wanted
from .settings import Settings

# The files are made by tables.py (GeoDataFrames: pandas, geopandas) and writers.py (GDAL, through pyogrio), imported by
# the first download that makes one: ~1 s of the server's start otherwise, for a request most processes never see.
if TYPE_CHECKING:
    from .writers import About, Written

PUBLIC_NOTICE = ("公开版：概化化石点仅给出所在 0.1 度网格的中心，隐藏化石点不含，文本中可能构成坐标的数字已隐去。 "
                 "Public view: sites of protected location at the centre of their 0.1-degree cell, hidden sites left out, "
                 "numbers in their texts that could be coordinates withheld.")
STAFF_NOTICE = ("精确数据，仅供工作人员使用，请勿外传：敏感化石点的位置是精确的。 "
                "Exact data for staff: the locations of sensitive sites are exact; do not share this file.")


@dataclass
class Download:
    """A finished file: ``open()`` it to send it (its directory goes at once), or ``discard()`` it."""

    path: Path
    directory: Path | None               # the private directory to remove; None: a kept file of the cache
    media_type: str
    filename: str                        # ASCII, e.g. fossil-sites-2026-11-28.gpkg
    filename_zh: str                     # e.g. 化石点-2026-11-28.gpkg
    crs: ServiceCRS
    count: int | None                    # features (None: the whole registry)
    renamed: dict[str, str] = field(default_factory=dict)
    cut: dict[str, int] = field(default_factory=dict)
    etag: str | None = None              # kept files: their content hash (conditional and range requests)

    def open(self) -> BinaryIO:
        """The file, open for reading; its directory is removed now (POSIX keeps an open file's data until it is
        closed), so no answer, finished or not, leaves anything on disk."""
        try:
            return self.path.open("rb")
        finally:
            self.discard()

    def discard(self) -> None:
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)


def names(wanted: Wanted, day: str) -> tuple[str, str]:
    """(ASCII file name, Chinese file name): layer, audience, CRS (when not the format's default) and the day."""
    layer, fmt = wanted.layer, wanted.format
    crs = ""
    if wanted.crs.uri != fmt.default_crs:
        crs = "-crs84" if wanted.crs.epsg is None else f"-epsg{wanted.crs.epsg}"
    audience, audience_zh = ("-public", "（公开版）") if wanted.public else ("", "")
    return (f"fossil-{layer.id}{audience}{crs}-{day}.{fmt.extension}",
            f"{layer.title_zh}{audience_zh}{crs.upper()}-{day}.{fmt.extension}")


def crs_label(crs: ServiceCRS) -> Label:
    """The CRS as files name it (coordinates x = longitude or easting, y = latitude or northing in every file); in
    Chinese on a Chinese page."""
    if crs.epsg is None:
        return crs_name("OGC:CRS84", "OGC:CRS84 (WGS 84 / CGCS2000 longitude, latitude)")
    return crs_name(f"EPSG:{crs.epsg}", f"EPSG:{crs.epsg} ({pyproj.CRS.from_epsg(crs.epsg).name})")


def _about(wanted: Wanted, count: int, tz: str) -> About:
    from .writers import About

    # the time a person reads in the README, in the registry's zone, and still ISO 8601 with its offset for programs
    generated = local_time.local_moment(store.utc_now(), tz).isoformat(timespec="seconds")
    return About(title=f"{wanted.layer.title_zh} {wanted.layer.title}",
                 audience=PUBLIC_NOTICE if wanted.public else STAFF_NOTICE,
                 crs=crs_label(wanted.crs), generated_at=generated, count=count)


def prepare(conn, wanted: Wanted, settings: Settings, *, day: str) -> Download:
    """The download as a file. A whole layer comes from the cache when its state has not changed since it was written
    (and is written into it otherwise); anything else is written into a new private directory. The layer's state and
    its features are read in one snapshot, so a kept file always holds the state its key names."""
    filename, filename_zh = names(wanted, day)
    with store.read_snapshot(conn):
        if settings.cache_dir is not None and wanted.whole and (wanted.public or wanted.layer.collection is not None):
            stamp = (wanted.layer.collection or LAYERS["sites"].collection).stamp_for(conn, wanted.public)
            made: list[Path] = []

            def build() -> tuple[Path, dict]:
                directory, written, count = _write(conn, wanted, settings)
                made.append(directory)
                return written.path, {"count": count, "renamed": written.renamed, "cut": written.cut}
            try:
                entry = Cache(settings.cache_dir, settings.cache_bytes).get_or_put(
                    cache_key(stamp, wanted), wanted.format.extension, build)
            finally:
                for directory in made:
                    shutil.rmtree(directory, ignore_errors=True)
            return Download(entry.path, None, wanted.format.media_type, filename, filename_zh, wanted.crs,
                            entry.count, entry.renamed, entry.cut, entry.etag)
        directory, written, count = _write(conn, wanted, settings)
    return Download(written.path, directory, wanted.format.media_type, filename, filename_zh, wanted.crs, count,
                    written.renamed, written.cut)


def _write(conn, wanted: Wanted, settings: Settings) -> tuple[Path, Written, int | None]:
    """Write the file into a new private directory (removed again if anything fails)."""
    from . import tables
    from .writers import WRITERS

    directory = Path(tempfile.mkdtemp(prefix="download-", dir=settings.work_dir))
    try:
        if wanted.layer.collection is None:
            written, count = _registry(conn, wanted, directory, settings.registry_path, settings.timezone)
        else:
            _, geoms, props = tables.records(conn, wanted)
            table = tables.in_crs(tables.frame(wanted.layer, wanted.public, geoms, props), wanted.crs)
            count = len(table)
            written = WRITERS[wanted.format.extension](table, wanted, directory, _about(wanted, count, settings.timezone))
        return directory, written, count
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise


def _registry(conn, wanted: Wanted, directory: Path, registry_path, tz: str) -> tuple[Written, int | None]:
    """Staff: the shareable export of what the caller may read (access.export_selection). Anonymous callers: the
    public view's layers (every registered kind of feature, the boundaries and the markers), read in one snapshot,
    and a table saying what the file is."""
    import pandas as pd
    import pyogrio

    from . import tables
    from .writers import Written, add_gpkg_layer

    path = directory / "registry.gpkg"
    if not wanted.public:
        registry.export_registry(registry_path, path, can=wanted.can)
        return Written(path), None
    layers = [la for la in LAYERS.values() if la.collection is not None and not la.staff_only]  # every kind
    read = [tables.layer_records(conn, layer, True) for layer in layers]  # in the caller's read snapshot
    count = 0
    for layer, (ids, geoms, props) in zip(layers, read):
        order = sorted(range(len(ids)), key=lambda i: ids[i])
        table = tables.frame(layer, True, [geoms[i] for i in order], [props[i] for i in order])
        one = Wanted(layer, wanted.format, wanted.crs, public=True)
        add_gpkg_layer(table, layer, path, _about(one, len(table), tz))
        count += len(table) if layer.id == "sites" else 0
    about = _about(wanted, count, tz)
    info = pd.DataFrame({"key": ["title", "audience", "crs", "generated_at", "sites"],
                         "value": [about.title, about.audience, about.crs, about.generated_at, str(count)]})
    pyogrio.write_dataframe(info, path, layer="about", driver="GPKG", append=True,
                            layer_options={"IDENTIFIER": "关于本文件 About this file", "DESCRIPTION": about.audience})
    return Written(path), count

