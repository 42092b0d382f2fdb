"""Configuration defaults: the one home of settings. Any key can be overridden as an environment variable FLASK_<KEY>
(values are parsed as JSON where they can be, e.g. FLASK_REGION_BBOX='[103.6, 24.6, 109.6, 29.2]')."""

# Where the registry lives: <DATA_DIR>/sites/registry.gpkg (plus the secret key and uploaded files).
DATA_DIR = "data"
# `make run` (fossil_registry.serve) creates the illustrative demo registry when DATA_DIR holds none.
CREATE_DEMO_IF_MISSING = True
# Signs session cookies. Unset: a random key is generated once and kept in <DATA_DIR>/secret_key.
SECRET_KEY = None
# Naive timestamps and bare dates in queries (as_of=...) are read in this time zone.
TIMEZONE = "Asia/Shanghai"
# The registry's region: locations outside it draw a warning. (min_lon, min_lat, max_lon, max_lat), EPSG:4490.
REGION_NAME = "Guizhou"
REGION_BBOX = (103.6, 24.6, 109.6, 29.2)
SITE_CODE_PREFIX = "GZ-"
# Largest request body accepted (uploads included), bytes.
MAX_CONTENT_LENGTH = 32 * 1024 * 1024
JSON_SORT_KEYS = False
# Sign-in attempts that fail, per client address and per account name (Flask-Limiter syntax).
LOGIN_LIMIT_PER_CLIENT = "20 per 10 minutes"
LOGIN_LIMIT_PER_ACCOUNT = "5 per 5 minutes"
# Number of reverse proxies in front of the app (0 = none): trust that many X-Forwarded-For/-Proto hops.
PROXY_FIX = 0
# Session cookie: HttpOnly and SameSite=Lax always; Secure whenever the request came over HTTPS (or always, if True).
SESSION_COOKIE_SECURE = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# CSRF tokens live as long as the session: a form left open while surveying stays usable.
WTF_CSRF_TIME_LIMIT = None
