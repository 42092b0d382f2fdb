"""A corpus of malformed and hostile input, built in code (nothing binary is committed): files for every upload
(geometry files, photos, attachments, field-kit check-ins) and strings for every text field. Used by
tests/test_hostile_input.py; each entry says what it is, so a failure names the attack.

Files: empty and truncated files of every format, ZIP bombs (honest and lying central directories, nested), path
traversal and links in ZIPs, XML entity bombs and external entities, deeply nested JSON and XML, huge coordinates,
NaN/Infinity, wrong or unknown CRSs, self-intersecting polygons, polyglots (a file that is two formats at once),
SQLite files that are not GeoPackages or carry triggers, decompression-bomb images.
Strings: SQL metacharacters, very long strings, control characters, bidirectional overrides, zero-width and
combining characters, emoji, NUL, lone surrogates (only expressible as JSON escapes).
"""
from __future__ import annotations

import functools
import io
import json
import sqlite3
import struct
import tempfile
import zipfile
import zlib
from pathlib import Path

MiB = 1024 * 1024

# A valid boundary in Guizhou (CGCS2000/WGS84 lon/lat) that the hostile variants start from.
RING = [[105.58, 25.90], [105.59, 25.90], [105.59, 25.91], [105.58, 25.91], [105.58, 25.90]]


def _geojson(geometry: dict, **extra) -> bytes:
    return json.dumps({"type": "Feature", "properties": {"name": "x"}, "geometry": geometry, **extra}).encode()


def _zip(members: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


@functools.lru_cache(maxsize=None)
def valid_shapefile_zip() -> bytes:
    import geopandas as gpd
    from shapely.geometry import Polygon

    with tempfile.TemporaryDirectory() as tmp:
        gpd.GeoDataFrame({"name": ["x"]}, geometry=[Polygon(RING)], crs="EPSG:4490").to_file(Path(tmp) / "site.shp")
        return _zip({p.name: p.read_bytes() for p in sorted(Path(tmp).iterdir())})


@functools.lru_cache(maxsize=None)
def valid_gpkg() -> bytes:
    import geopandas as gpd
    from shapely.geometry import Polygon

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "site.gpkg"
        gpd.GeoDataFrame({"name": ["x"]}, geometry=[Polygon(RING)], crs="EPSG:4490").to_file(path, driver="GPKG")
        return path.read_bytes()


def valid_jpeg(size=(64, 48)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, (90, 120, 60)).save(buf, "JPEG")
    return buf.getvalue()


@functools.lru_cache(maxsize=None)
def zip_bomb() -> bytes:
    """One member of 80 MiB of zeros (above the 64 MiB unzipped limit), about 80 KB compressed; honest sizes."""
    return _zip({"site.shp": bytes(80 * MiB), "site.shx": b"", "site.dbf": b""})


@functools.lru_cache(maxsize=None)
def lying_zip_bomb() -> bytes:
    """The central directory says 100 bytes; the member inflates to 8 MiB (caught while decompressing)."""
    data = bytearray(_zip({"site.shp": bytes(8 * MiB), "site.shx": b"x" * 100, "site.dbf": b"y" * 100}))
    index = data.find(b"PK\x01\x02")                      # the first central directory entry: uncompressed size at +24
    struct.pack_into("<I", data, index + 24, 100)
    local = data.find(b"PK\x03\x04")                      # and in the local header (+22)
    struct.pack_into("<I", data, local + 22, 100)
    return bytes(data)


@functools.lru_cache(maxsize=None)
def nested_zip_bomb() -> bytes:
    """A zip of zips (42.zip style): ten archives of 8 MiB each, inside one."""
    inner = _zip({"layer.shp": bytes(8 * MiB)})
    return _zip({f"part{i}.zip": inner for i in range(10)})


def symlink_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("site.shp")
        info.external_attr = (0o120777 << 16)  # a symbolic link to /etc/passwd
        zf.writestr(info, "/etc/passwd")
    return buf.getvalue()


BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY a "lol">'
                  + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
                  + ']><kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&j;</name><Point><coordinates>'
                  '105.58,25.9</coordinates></Point></Placemark></kml>').encode()
XXE = (b'<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       b'<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&x;</name><Point><coordinates>105.58,25.9'
       b'</coordinates></Point></Placemark></kml>')
EXTERNAL_DTD = (b'<?xml version="1.0"?><!DOCTYPE gpx SYSTEM "http://127.0.0.1:9/evil.dtd">'
                b'<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><wpt lat="25.9" lon="105.58"/></gpx>')
GPX_LAUGHS = BILLION_LAUGHS.replace(b"DOCTYPE kml", b"DOCTYPE gpx").replace(
    b'<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&j;</name><Point><coordinates>105.58,25.9'
    b'</coordinates></Point></Placemark></kml>',
    b'<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk><name>&j;</name><trkseg>'
    b'<trkpt lat="25.9" lon="105.58"/><trkpt lat="25.91" lon="105.59"/></trkseg></trk></gpx>')
DEEP_JSON = b"[" * 100_000 + b"]" * 100_000
DEEP_XML = (b'<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark>' + b"<MultiGeometry>" * 5000
            + b"<Point><coordinates>105.58,25.9</coordinates></Point>" + b"</MultiGeometry>" * 5000
            + b"</Placemark></kml>")


def _gpx(points: str) -> bytes:
    return ('<?xml version="1.0"?><gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>'
            + points + "</trkseg></trk></gpx>").encode()


def _kml(coordinates: str) -> bytes:
    return ('<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><Polygon><outerBoundaryIs>'
            f"<LinearRing><coordinates>{coordinates}</coordinates></LinearRing></outerBoundaryIs></Polygon>"
            "</Placemark></kml>").encode()


def sqlite_not_gpkg() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.gpkg"
        c = sqlite3.connect(path)
        c.execute("CREATE TABLE t (a)")
        c.commit()
        c.close()
        return path.read_bytes()


def gpkg_with_trigger() -> bytes:
    """A GeoPackage whose layer has a view and a trigger that would write elsewhere if a reader wrote to it, and a
    gpkg_contents row pointing at sqlite_master."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "site.gpkg"
        path.write_bytes(valid_gpkg())
        c = sqlite3.connect(path)
        c.execute("CREATE TABLE loot (x)")
        c.execute("CREATE TRIGGER t AFTER INSERT ON site BEGIN INSERT INTO loot VALUES (load_extension('x')); END")
        c.execute("CREATE VIEW v AS SELECT load_extension('/tmp/evil') AS geom")
        c.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier) VALUES ('sqlite_master', 'features', "
                  "'evil')")
        c.commit()
        c.close()
        return path.read_bytes()


def gpkg_with_garbage_geometry() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "site.gpkg"
        path.write_bytes(valid_gpkg())
        c = sqlite3.connect(path)
        c.execute("DROP TRIGGER IF EXISTS rtree_site_geom_update1")
        for (name,) in c.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            c.execute(f'DROP TRIGGER "{name}"')
        c.execute("UPDATE site SET geom = x'4750000300000000ffffffffffffffff'")
        c.commit()
        c.close()
        return path.read_bytes()


def png_bomb() -> bytes:
    """A PNG declaring 30,000 x 30,000 pixels (900 megapixels) in a few kilobytes."""
    width = height = 30_000
    raw_row = b"\x00" + bytes(width // 8)
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(raw_row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", body) + chunk(b"IEND", b""))


@functools.lru_cache(maxsize=None)
def geometry_files() -> list[tuple[str, str, bytes]]:
    """(what, file name, bytes) of hostile or broken geometry files: each must be refused by every geometry upload."""
    shp, gpkg = valid_shapefile_zip(), valid_gpkg()
    geojson = _geojson({"type": "Polygon", "coordinates": [RING]})
    files = [(f"empty .{ext}", f"empty.{ext}", b"") for ext in ("geojson", "kml", "kmz", "gpx", "zip", "gpkg", "csv")]
    files += [
        ("truncated GeoJSON", "cut.geojson", geojson[: len(geojson) // 2]),
        ("truncated KML", "cut.kml", _kml("105.58,25.90 105.59,25.90 105.59,25.91 105.58,25.90")[:150]),
        ("truncated GPX", "cut.gpx", _gpx('<trkpt lat="25.9" lon="105.58"/>' * 3)[:120]),
        ("truncated zipped Shapefile", "cut.zip", shp[: len(shp) // 2]),
        ("truncated GeoPackage", "cut.gpkg", gpkg[: len(gpkg) // 2]),
        ("GeoPackage header only", "head.gpkg", gpkg[:100]),
        ("ZIP bomb (80 MiB of zeros)", "bomb.zip", zip_bomb()),
        ("ZIP bomb with a lying central directory", "liar.zip", lying_zip_bomb()),
        ("nested ZIP bomb", "nested.zip", nested_zip_bomb()),
        ("ZIP with path traversal", "trav.zip", _zip({"../../../tmp/evil.shp": b"x", "site.dbf": b""})),
        ("ZIP with an absolute path", "abs.zip", _zip({"/etc/cron.d/evil.shp": b"x"})),
        ("ZIP with a Windows drive path", "drive.zip", _zip({"C:\\evil\\site.shp": b"x"})),
        ("ZIP with a symbolic link", "link.zip", symlink_zip()),
        ("KMZ with path traversal", "trav.kmz", _zip({"../doc.kml": _kml("105.58,25.9 105.59,25.9 105.59,25.91 "
                                                                         "105.58,25.9")})),
        ("XML entity bomb (KML)", "laughs.kml", BILLION_LAUGHS),
        ("XML entity bomb (GPX)", "laughs.gpx", GPX_LAUGHS),
        ("XML external entity (KML)", "xxe.kml", XXE),
        ("external DTD (GPX)", "dtd.gpx", EXTERNAL_DTD),
        ("deeply nested JSON", "deep.geojson", DEEP_JSON),
        ("deeply nested XML (KML)", "deep.kml", DEEP_XML),
        ("huge coordinates", "huge.geojson", _geojson({"type": "Polygon", "coordinates": [
            [[1e308, 1e308], [-1e308, 1e308], [-1e308, -1e308], [1e308, 1e308]]]})),
        ("coordinates beyond float range", "inf.geojson",
         b'{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1e400,25.9]}}'),
        ("NaN coordinates (GeoJSON)", "nan.geojson",
         b'{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[NaN,25.9],[105.59,25.9],'
         b'[105.59,25.91],[NaN,25.9]]]}}'),
        ("Infinity coordinates (GeoJSON)", "infinity.geojson",
         b'{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[Infinity,-Infinity]}}'),
        ("NaN coordinates (KML)", "nan.kml", _kml("nan,nan 105.59,25.9 105.59,25.91 nan,nan")),
        ("NaN coordinates (GPX)", "nan.gpx", _gpx('<trkpt lat="NaN" lon="105.58"/><trkpt lat="25.9" lon="inf"/>'
                                                  '<trkpt lat="25.91" lon="105.59"/>')),
        ("NaN coordinates (CSV)", "nan.csv", b"lon,lat\nnan,nan\ninf,25.9\n105.59,25.91\n"),
        ("coordinates in the wrong CRS (Web Mercator metres declared as lon/lat)", "wrongcrs.geojson",
         _geojson({"type": "Polygon", "coordinates": [[[11753000, 2988000], [11754000, 2988000],
                                                      [11754000, 2989000], [11753000, 2988000]]]})),
        ("lon/lat declared as Web Mercator", "declared.geojson",
         _geojson({"type": "Polygon", "coordinates": [RING]},
                  crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}})),
        ("unknown CRS", "unknown.geojson", _geojson({"type": "Polygon", "coordinates": [RING]},
                                                    crs={"type": "name", "properties": {"name": "EPSG:99999"}})),
        ("self-intersecting polygon (bow tie)", "bowtie.geojson", _geojson({"type": "Polygon", "coordinates": [
            [[105.58, 25.90], [105.59, 25.91], [105.59, 25.90], [105.58, 25.91], [105.58, 25.90]]]})),
        ("polygon with too few points", "line.geojson", _geojson({"type": "Polygon", "coordinates": [
            [[105.58, 25.90], [105.59, 25.91], [105.58, 25.90]]]})),
        ("polyglot: JPEG that is also a ZIP, as .zip", "poly.zip", valid_jpeg() + _zip({"readme.txt": b"x"})),
        ("polyglot: HTML with script, as .geojson", "poly.geojson",
         b'<html><script>alert(1)</script>{"type":"Point","coordinates":[105.58,25.9]}</html>'),
        ("polyglot: GIF/JavaScript, as .kml", "poly.kml", b"GIF89a/*\x00\x00*/=alert(1);//<kml></kml>"),
        ("polyglot: PDF named .gpkg", "poly.gpkg", b"%PDF-1.4\n" + gpkg[16:2000]),
        ("SQLite file that is not a GeoPackage", "plain.gpkg", sqlite_not_gpkg()),
        ("GeoPackage with triggers, a hostile view and contents naming sqlite_master", "trigger.gpkg",
         gpkg_with_trigger()),
        ("GeoPackage with a garbage geometry blob", "garbage.gpkg", gpkg_with_garbage_geometry()),
        ("binary garbage", "noise.geojson", bytes(range(256)) * 64),
        ("UTF-16 text", "utf16.geojson", geojson.decode().encode("utf-16")),
        ("CSV with SQL and formulas", "sql.csv", b"lon,lat\n=cmd|'/c calc'!A1,'; DROP TABLE site_locations;--\n"),
    ]
    return files


@functools.lru_cache(maxsize=None)
def photo_files() -> list[tuple[str, str, bytes]]:
    """(what, file name, bytes) of files that must be refused wherever a photo is uploaded."""
    jpeg = valid_jpeg()
    return [
        ("empty photo", "empty.jpg", b""),
        ("truncated JPEG", "cut.jpg", jpeg[: len(jpeg) // 3]),
        ("decompression bomb (900 megapixel PNG)", "bomb.png", png_bomb()),
        ("HTML named .jpg", "page.jpg", b"<html><body><script>alert(document.cookie)</script></body></html>"),
        ("SVG with script named .jpg", "vector.jpg",
         b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("GeoPackage named .jpg", "db.jpg", valid_gpkg()),
        ("ZIP named .jpg", "archive.jpg", _zip({"a.txt": b"x"})),
        ("GIF/JavaScript polyglot named .jpg", "poly.jpg", b"GIF89a/*\x00\x00\x00\x00*/=alert(1);"),
        ("binary garbage named .jpg", "noise.jpg", bytes(range(256)) * 16),
    ]


# Text values. Each is refused (4xx, nothing changed) or stored exactly as sent; never a 5xx, never interpreted.
REFUSED_TEXT = {
    "NUL": "before\x00after",
    "control characters (ANSI escape, backspace)": "red\x1b[31m\x08text",
    "bidirectional override (RTL)": "invoice\u202egnp.exe",
    "bidirectional isolate": "a\u2066b\u2069c",
    # beyond every text field's limit (the longest is 8,000 characters) two and a half times, within the url-encoded
    # form limit (180 KB as a form field; 100,000 characters cost each form ~0.4 s of parsing percent-escapes and
    # found nothing more); whole bodies beyond that limit: test_hostile_requests.py::test_a_form_body_beyond_the_limit...
    "very long string (20,000 characters)": "长" * 20_000,
}
STORED_TEXT = {
    "SQL metacharacters": "x'); DROP TABLE site_locations; -- \" OR 1=1 %_ \\",
    "zero-width characters": "a\u200bb\u200cc\u200dd\ufeffe",
    "combining characters": "e\u0301\u0302\u0303 n\u0303 \u5316\u77f3",
    "emoji": "三叶虫 \U0001F980\U0001F9B4 \U0001F468\u200D\U0001F52C",
    "Jinja and HTML": "{{ 7*7 }} {% raw %} <script>alert(1)</script> &amp;",
    "CRLF (header injection)": "line1\r\nSet-Cookie: x=1",
}
# Only expressible as JSON escapes: a lone surrogate is not a Unicode scalar value, so no UTF-8 text can carry it.
LONE_SURROGATES = {"lone high surrogate": '"a\\ud800b"', "lone low surrogate": '"\\udfff"',
                   "reversed pair": '"\\udc00\\ud800"'}


def json_with_raw(body: dict, field: str, raw_json_string: str) -> bytes:
    """``body`` as JSON with ``field`` set to a raw JSON string literal (e.g. one with a lone surrogate escape)."""
    marker = "__RAW_MARKER__"
    text = json.dumps({**body, field: marker}, ensure_ascii=False)
    return text.replace(json.dumps(marker), raw_json_string).encode()
