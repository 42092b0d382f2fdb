"""The store: the registry's system of record, and the only package that holds SQL.

The registry is one GeoPackage 1.4 file (``<data dir>/sites/registry.gpkg``; files that leave it are 1.2,
``GPKG_EXCHANGE_VERSION``) that any GIS opens. Every change runs in one ``BEGIN IMMEDIATE`` transaction
(``transaction``) covering feature rows, spatial index, history and audit, so a change is all there or not at all.
SQL lives only in this package; everything else calls the functions below.

Each table is defined once (``tables``: columns, constraints, indexes, refusals), in the module of its family, and
each backend writes the DDL of its database from that definition (``dialect``). The modules:

* ``tables``: the table definitions' vocabulary (no SQL of a database); ``migrations``: creating a registry (the core
  tables) and the ordered migration steps, one list for both backends;
* ``gpkg``: GeoPackage geometry blobs, the ST_* functions, connections and transactions (no tables); ``gpkg_ddl``: the
  GeoPackage's own tables, a layer's registration and R-tree;
* ``schema``: integrity checks, backups and shareable exports (private tables, personal data scrubbed);
* ``sites``: the registered features' current state and history: the sites' (``site_locations``, ``site_boundaries``,
  ``site_versions``), and with ``sections.SECTIONS`` the stratigraphic sections' (``section_lines``...);
* ``sections``, ``markers``, ``rescues``: stratigraphic sections' tables, protection markers and their checks, rescue
  cases and their events;
* ``accounts``: users, API tokens, sign-in sessions and failed sign-ins;
* ``audit``: the audit trail;
* ``revisions``, ``inspections``, ``reports``: the review workflow, inspections and their evidence, public reports;
* ``map_layers``: the protection map's change stamp;
* ``read_model``: what the reads of the registered features need, kept by each write (docs/national-scale.md);
* ``supervision``: the dashboard's and the annual report's figures, counted in SQL (no tables, a few indexes).
* ``fieldkit``: field kits issued and their check-ins; ``kitfile``: a kit's own GeoPackage; ``mbtiles``: the offline
  basemap file.
* ``impact``: impact screenings of construction projects, their results and project cases.
* ``imports``: site imports (uploaded files of sites, each row's planned outcome and the proposal it made).

Two backends serve this contract (``dialect``): the GeoPackage file (``gpkg``, the embedded default) and
PostgreSQL/PostGIS (``pg``, ``pg_schema``; a ``postgresql://`` URL as the registry's location). A connection's backend
object (``dialect.backend(conn)``) answers what differs (DDL, locks, geometry values, date and JSON SQL); keep each
function small and named for what it does to the registry, not for how a backend does it. ``copy`` moves a whole
registry between any two locations.
The names below are the store's contract with the rest of the code
(``store.transaction(conn)``, ``store.get_site_row(...)``...); feature modules are used as ``store.<module>``.
"""
from __future__ import annotations

# store.schema imports the feature modules itself, once its layer helper is defined: import store.inspections or
# store.reports here only after it.
from .accounts import (UserRow, clear_login_failures, end_session, end_sessions_of, find_session, find_token,
                       get_user, insert_login_failure, insert_session, insert_token, insert_user, list_tokens,
                       list_users, lock_sign_in_attempts, login_failures_since, revoke_tokens, update_user)
from .audit import AUDIT, append_audit, list_audit
from . import copy, dialect, pg, read_model  # noqa: F401  (store.copy.copy_registry, store.dialect.is_url, store.pg.describe)
from .dialect import connect, lock_files, read_snapshot, transaction
from .map_layers import note_public_change, public_stamp
from .gpkg import blob_bounds, blob_srs_id, decode_geometries, decode_geometry, encode_geometry, utc_now
from .gpkg_ddl import GPKG_EXCHANGE_USER_VERSION, GPKG_EXCHANGE_VERSION
from .migrations import create_registry, is_registry, migrate
from .schema import Selection, backup_to, check_integrity, fold_wal, private_tables
from .sections import SECTIONS
from .sites import (BOUNDARIES, LOCATIONS, SITES, VERSIONS, Layers, SiteRow, VersionRow, append_version, boundary_codes_intersecting,
                    count_sites, count_sites_by_level_and_sensitivity, get_site_row, get_version, get_version_as_of,
                    list_site_rows, list_versions, next_site_code, versions_as_of, site_first_created, site_version_number,
                    write_site_row)

__all__ = [
    # connections and transactions (gpkg)
    "connect", "transaction", "read_snapshot", "utc_now", "lock_files",
    # geometry blobs (gpkg)
    "encode_geometry", "decode_geometry", "decode_geometries", "blob_bounds", "blob_srs_id",
    # the file as a whole (schema)
    "create_registry", "is_registry", "migrate", "check_integrity", "fold_wal", "backup_to", "private_tables",
    "Selection",
    # the GeoPackage version of files that leave the registry (gpkg_ddl)
    "GPKG_EXCHANGE_VERSION", "GPKG_EXCHANGE_USER_VERSION",
    # registered features (sites, sections): current state and history
    "Layers", "SITES", "SECTIONS", "LOCATIONS", "BOUNDARIES", "VERSIONS", "SiteRow", "VersionRow", "get_site_row", "list_site_rows", "write_site_row",
    "site_version_number", "next_site_code", "count_sites", "count_sites_by_level_and_sensitivity",
    "boundary_codes_intersecting", "append_version", "get_version", "get_version_as_of", "list_versions", "versions_as_of",
    "site_first_created",
    # accounts, tokens, sessions, failed sign-ins
    "UserRow", "insert_user", "get_user", "list_users", "update_user", "insert_token", "find_token", "list_tokens",
    "revoke_tokens", "insert_session", "find_session", "end_session", "end_sessions_of", "insert_login_failure",
    "lock_sign_in_attempts",
    "login_failures_since", "clear_login_failures",
    # audit trail
    "AUDIT", "append_audit", "list_audit",
    # the public stamp: moves only with what anonymous callers see
    "public_stamp", "note_public_change",
]
