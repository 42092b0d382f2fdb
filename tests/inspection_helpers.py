"""Test data for inspections and reports: photos with EXIF written by Pillow, GPX tracks written by GDAL (pyogrio) or
as plain XML."""
from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

from PIL import ExifTags, Image


def dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    d = int(value)
    m = int((value - d) * 60)
    s = round((value - d - m / 60) * 3600, 4)
    return float(d), float(m), s


def jpeg(*, lon: float | None = None, lat: float | None = None, taken: datetime | str | None = None,
         offset: str | None = None, size: tuple[int, int] = (96, 64), colour=(120, 80, 40), fmt: str = "JPEG") -> bytes:
    """A small photo with EXIF DateTimeOriginal and GPS (as a phone writes them), via Pillow."""
    im = Image.new("RGB", size, colour)
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    if taken is not None:
        text = taken if isinstance(taken, str) else taken.strftime("%Y:%m:%d %H:%M:%S")
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = text
        if offset:
            exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.OffsetTimeOriginal] = offset
    if lon is not None and lat is not None:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps[ExifTags.GPS.GPSLatitudeRef] = "N" if lat >= 0 else "S"
        gps[ExifTags.GPS.GPSLatitude] = dms(lat)
        gps[ExifTags.GPS.GPSLongitudeRef] = "E" if lon >= 0 else "W"
        gps[ExifTags.GPS.GPSLongitude] = dms(lon)
    buf = io.BytesIO()
    im.save(buf, fmt, exif=exif)
    return buf.getvalue()


def broken_exif_jpeg() -> bytes:
    """A JPEG whose EXIF block is cut short: the IFD claims more entries than there are bytes."""
    data = jpeg(lon=105.4, lat=25.9, taken="2024:05:01 10:00:00")
    start = data.find(b"Exif\x00\x00") + 6
    # TIFF header (8 bytes), then the IFD entry count: claim 0x7fff entries
    return data[:start + 8] + b"\xff\x7f" + data[start + 10:]


def has_gps_exif(data: bytes) -> bool:
    im = Image.open(io.BytesIO(data))
    exif = im.getexif()
    return bool(exif.get_ifd(ExifTags.IFD.GPSInfo)) or ExifTags.IFD.GPSInfo in exif or "exif" in im.info


def gpx_xml(*segments, waypoints=(), times: bool = True) -> bytes:
    """GPX 1.1 text with one track of the given segments [(lon, lat), ...] (no gpxpy)."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">']
    for lon, lat in waypoints:
        parts.append(f'<wpt lat="{lat}" lon="{lon}"><name>w</name></wpt>')
    if segments:
        parts.append("<trk><name>patrol</name>")
        minute = 0
        for seg in segments:
            parts.append("<trkseg>")
            for lon, lat in seg:
                t = f"<time>2024-05-01T02:{minute:02d}:00Z</time>" if times else ""
                parts.append(f'<trkpt lat="{lat}" lon="{lon}"><ele>1200</ele>{t}</trkpt>')
                minute += 1
            parts.append("</trkseg>")
        parts.append("</trk>")
    parts.append("</gpx>")
    return "\n".join(parts).encode()


def gpx_by_gdal(tmp_path: Path, *lines) -> bytes:
    """A GPX file written by GDAL's GPX driver through pyogrio: one track (MultiLineString) with the given parts."""
    import geopandas as gpd
    import pyogrio
    from shapely.geometry import MultiLineString

    path = tmp_path / "patrol.gpx"
    frame = gpd.GeoDataFrame({"name": ["patrol"]}, geometry=[MultiLineString([list(l) for l in lines])], crs=4326)
    pyogrio.write_dataframe(frame, path, driver="GPX", layer="tracks")
    return path.read_bytes()


def photo_files(data_dir: Path) -> list[Path]:
    root = Path(data_dir) / "photos"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
