"""A crawl of the Chinese interface: every page a role reaches from its start pages, read as a person reads it (visible
text and the words a pointer or a screen reader shows: title, placeholder, aria-label, alt, button values), with every
Latin word that is not a proper noun, an acronym, a code or a unit collected per page. Used by
tests/test_chinese_pages.py; run as a script (``python -m tests.chinese_pages``) it prints what it finds."""
from __future__ import annotations

import re
from collections import defaultdict
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

# Names a Chinese page writes in Latin letters as a Chinese reader knows them: file formats, standards, software,
# coordinate reference systems, units. Anything else in Latin letters is English left untranslated.
ALLOWED = {
    # formats and software
    "geopackage", "gpkg", "geojson", "kml", "kmz", "gpx", "csv", "shapefile", "shp", "flatgeobuf", "fgb", "pdf", "svg",
    "json", "html", "xlsx", "xls", "zip", "jpeg", "jpg", "png", "mbtiles", "qgis", "qfield", "qgz", "gdal", "ogr",
    "excel", "wps", "leaflet", "openapi", "postgis", "postgresql", "tianditu", "osm", "openstreetmap", "folium",
    "redoc", "swagger", "utf",
    # standards, reference systems and bodies
    "ogc", "api", "wgs", "cgcs", "cgcs2000", "epsg", "crs", "gcj", "bd", "gk", "utm", "iso", "ics", "ogcapi", "url",
    "http", "https", "id", "uri", "gps", "gnss", "rtk", "exif", "bbox", "mm", "cm", "km", "m", "ha", "kb", "mb", "gb",
    "km²", "m²", "utc", "cst", "lon", "lat", "zh", "en", "ma", "oapif", "wfs", "wms", "wmts", "xyz", "tms", "mvt",
    "dpi", "wkt", "bom", "rfc", "arcgis", "gis", "google", "earth", "readme", "txt", "cpg", "dbf", "prj", "shx", "mib",
    "webp", "ovital", "gssp", "wal", "features", "pro", "authorization", "bearer", "gbk", "get", "post",
    # scientific names of fossils, written in Latin in Chinese text too
    "oryctocephalus", "indicus", "traumatocrinus",
}
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
# codes (GZ-0001, GZS-0003, R-2026-0001), hexadecimal digests, dates and e-mail addresses are not words
CODE = re.compile("|".join((
    r"https?://\S+", r"(?<![\w/])/[\w./-]+",                  # addresses and paths (/api/downloads)
    r"\b[A-Z0-9]{4}(?:-[A-Z0-9]{4}){2}\b",                    # report receipts (K7QF-3M9P-2XWA)
    r"\b[A-Z][a-z]+/[A-Z][A-Za-z_]+\b",                       # time zones (Asia/Shanghai)
    r"\b[\w-]+=[\w:,.-]*",                                    # query parameters (level=national)
    r"\b[A-Z]{1,4}S?-[0-9A-Z-]+\b", r"\b[a-z]+:\d+\b",        # codes (GZ-0001, rescue:2)
    r"\b[0-9a-f]{12,}\b", r"\S+@\S+",                          # digests, e-mail addresses
    r"\b[A-Za-z0-9._-]+\.(?:gpkg|geojson|kml|kmz|gpx|csv|zip|pdf|shp|fgb|jpg|json|qgz|mbtiles)\b",  # file names
    r"\bEPSG:\d+", r"\b\d+[A-Za-z]+\b")))                       # CRS codes, numbers with units
SKIPPED_TAGS = {"script", "style", "template", "noscript"}
SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Reader(HTMLParser):
    """The text a person reads on a page, and the page's links."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.skipping = 0
        self.lang_skip: list[bool] = []
        self.texts: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in SKIPPED_TAGS:
            self.skipping += 1
        # text marked as another language (lang="en", e.g. the English name beside the Chinese one) is meant so
        other_language = bool(attrs.get("lang")) and not str(attrs.get("lang")).startswith("zh")
        if tag not in VOID:
            self.lang_skip.append(other_language)
        if self.skipping or any(self.lang_skip) or other_language:
            return
        for name in SHOWN_ATTRIBUTES:
            if attrs.get(name):
                self.texts.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.texts.append(attrs["value"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag in SKIPPED_TAGS:
            self.skipping = max(0, self.skipping - 1)
        if tag not in VOID and self.lang_skip:
            self.lang_skip.pop()

    def handle_data(self, data):
        if not self.skipping and not any(self.lang_skip):
            self.texts.append(data)


def english_words(text: str) -> list[str]:
    """The Latin words of ``text`` that a Chinese reader would not expect: not codes, not allowed names."""
    text = CODE.sub(" ", text)
    return [w for w in WORD.findall(text) if w.lower().strip("'’-") not in ALLOWED and len(w) > 1]


def read_page(html: str) -> tuple[list[str], list[str]]:
    reader = _Reader()
    reader.feed(html)
    return reader.texts, reader.links


# Pages a crawl does not open: sign-out, files (CSV, PDF, GeoPackage, photos), the map data, tiles and language switches
NOT_PAGES = re.compile(r"^/(logout|static/|basemap/|map/|photos/|markers/.*/photos/|report/[^/]+/photos/|api/)|"
                       r"\.(csv|pdf|gpkg|json|geojson|zip|jpg|qgz)$|/downloads/file")


def shape(path: str) -> str:
    """A page's kind: its path with numbers and codes replaced (one or two of each kind are enough)."""
    return re.sub(r"/(\d+|[A-Z]{1,4}S?-\d+|[0-9a-f]{16,}|[A-Za-z0-9_-]{20,})(?=/|$)", "/*", path)


def crawl(client, starts: list[str], *, per_shape: int = 2, limit: int = 400,
          keep_all: bool = False) -> dict[str, list[str]]:
    """{page: English words seen on it} for every page reached from ``starts`` (at most ``per_shape`` pages of each
    kind, query strings of other pages left out but the OGC API's ``f=html``), read in Chinese; with ``keep_all``
    every page reached, English or not."""
    seen_shapes: dict[str, int] = defaultdict(int)
    queue = list(starts)
    visited: set[str] = set()
    found: dict[str, list[str]] = {}
    while queue and len(visited) < limit:
        url = queue.pop(0)
        if url in visited:
            continue
        visited.add(url)
        r = client.get(url, headers={"Accept-Language": "zh-CN,zh;q=0.9", "Accept": "text/html"})
        if r.status_code != 200 or r.mimetype != "text/html":
            continue
        texts, links = read_page(r.get_data(as_text=True))
        words = [w for text in texts for w in english_words(text)]
        if words or keep_all:
            found[url] = words
        for link in links:
            parts = urlsplit(urljoin("http://localhost" + url, link))
            if parts.netloc not in ("localhost", "") or NOT_PAGES.search(parts.path):
                continue
            query = parts.query if parts.path.startswith("/ogcapi") and "f=html" in parts.query else ""
            if query and "lang=" in query:
                continue
            target = parts.path + ("?" + query if query else "")
            if target in visited or target in queue:
                continue
            kind = shape(parts.path) + ("?" + query if query else "")
            if seen_shapes[kind] >= per_shape:
                continue
            seen_shapes[kind] += 1
            queue.append(target)
    return found


STARTS = ["/", "/report", "/sections", "/downloads", "/ogcapi?f=html", "/ogcapi/collections?f=html",
          "/sites/GZ-0001", "/sites/GZ-0004"]
STAFF_STARTS = ["/account", "/review", "/revisions", "/revisions/new", "/reports", "/rescues", "/inspections",
                "/fieldkit", "/impact", "/impact/screenings", "/impact/cases", "/imports", "/supervision",
                "/supervision/annual-report", "/supervision/sites", "/sites/GZ-0001/history",
                "/sites/GZ-0001/timeline", "/sites/GZ-0001/inspections/new", "/sections/GZS-0001",
                "/sections/GZS-0001/inspections/new"]
ADMIN_STARTS = ["/admin/users", "/admin/audit"]


def starts_of(role: str) -> list[str]:
    return STARTS + (STAFF_STARTS if role != "anonymous" else []) + (ADMIN_STARTS if role == "admin" else [])


if __name__ == "__main__":  # python -m tests.chinese_pages: a served demo registry's Chinese pages, what is left
    import shutil
    import sys
    import tempfile
    from datetime import date
    from pathlib import Path

    from fossil_registry import create_app
    from fossil_registry.demo.activity import seed_activity
    from fossil_registry.registry import create_demo_accounts, init_registry, registry_path

    from .conftest import login

    data = Path(tempfile.mkdtemp()) / "data"
    init_registry(registry_path(data), demo=True)
    import tests.conftest as c
    from fossil_registry import auth, store
    conn = store.connect(registry_path(data))
    for who, (u, p) in c.ACCOUNTS.items():
        auth.create_user(conn, username=u, role=who.rstrip("2"), password=p, actor="x")
    conn.close()
    create_demo_accounts(registry_path(data))
    seed_activity(registry_path(data), today=date(2026, 6, 1))
    app = create_app({"TESTING": True, "DATA_DIR": str(data), "SECRET_KEY": "x"})
    roles = sys.argv[1:] or ["anonymous", "field", "expert", "admin"]
    for role in roles:
        client = app.test_client()
        if role != "anonymous":
            login(client, role)
        for page, words in crawl(client, starts_of(role)).items():
            print(role, page, sorted(set(words)))
    shutil.rmtree(data.parent)
