"""Protection markers (monuments, boundary posts, signboards, fences) of sites and sections, and their condition as
inspections find it.

* ``protection_markers`` (features, Point): one row per marker: the feature it belongs to (a site's or a section's
  code), kind, inscription (Chinese / English), date erected; never deleted (a marker found missing stays on record
  with its checks);
* ``marker_checks`` (attributes, append-only): what an inspection found of each marker (present, damaged, missing),
  and the follow-up a damaged or missing marker opened.

Photos of a marker are evidence photos (store/inspections.py, ``marker_id``).
"""
from __future__ import annotations

import sqlite3
from typing import Any

from shapely.geometry.base import BaseGeometry

from ..vocab import MarkerCondition, MarkerKind, Sensitivity, SiteStatus
from .dialect import backend, geometry_value, location_of
from .gpkg import decode_geometry
from .sites import touch_contents
from .tables import (DATE, DATETIME, INT, NOT_NULL, POINT, TEXT, Index, Layer, MustNameFeature, Refuse, Table,
                     append_only, col, ref)

MARKERS = "protection_markers"
CHECKS = "marker_checks"
MARKER_KINDS = MarkerKind.values()
MARKER_CONDITIONS = MarkerCondition.values()

MARKERS_TABLE = Table(MARKERS, (
    col("geom", POINT, NOT_NULL), col("feature_code", TEXT, NOT_NULL),
    col("kind", TEXT, NOT_NULL, check=MarkerKind.check_sql("kind")), col("inscription"), col("inscription_en"),
    col("erected_on", DATE), col("photo_count", INT, NOT_NULL, default="0"), col("created_at", DATETIME, NOT_NULL),
    col("created_by", TEXT, NOT_NULL),
), indexes=(Index("protection_markers_feature", "feature_code"),),
   layer=Layer("Protection markers", "Monuments, boundary posts, signboards and fences of sites and sections"),
   rules=(MustNameFeature(f"{MARKERS}_of_a_registered_feature", "feature_code",
                          "a marker belongs to a registered site or section"),
          Refuse(f"{MARKERS}_never_deleted", "DELETE", "markers stay on record: a missing one is recorded as missing")))

CHECKS_TABLE = Table(CHECKS, (
    ref("inspection_id", "inspections", NOT_NULL), ref("marker_id", MARKERS, NOT_NULL),
    col("condition", TEXT, NOT_NULL, check=MarkerCondition.check_sql("condition")), col("note"),
    ref("followup_id", "inspection_followups"),
), constraints=("UNIQUE (inspection_id, marker_id)",),
   indexes=(Index("marker_checks_marker", "marker_id, inspection_id"),),
   layer=Layer("Marker checks", "The condition of each protection marker at each inspection"),
   rules=(append_only(CHECKS, "marker checks are evidence: append-only"),))

TABLES = (MARKERS_TABLE, CHECKS_TABLE)


def add_markers(conn: sqlite3.Connection) -> None:
    """Schema step: the marker tables, and evidence photos that may show a marker or a rescue case."""
    from .inspections import photos_of_markers_and_rescues

    b = backend(conn)
    b.run(conn, b.create(*TABLES))
    photos_of_markers_and_rescues(conn)


def insert_marker(conn: sqlite3.Connection, *, feature_code: str, point: BaseGeometry, kind: str,
                  inscription: str | None, inscription_en: str | None, erected_on: str | None, photo_count: int,
                  created_at: str, created_by: str) -> int:
    cur = conn.execute(
        f"INSERT INTO {MARKERS} (geom, feature_code, kind, inscription, inscription_en, erected_on, photo_count, "
        "created_at, created_by) VALUES (?,?,?,?,?,?,?,?,?)",
        (geometry_value(conn, point), feature_code, kind, inscription, inscription_en, erected_on, photo_count,
         created_at, created_by))
    touch_contents(conn, MARKERS, point, created_at)
    return cur.lastrowid


_LAST_CHECK = (f"(SELECT c.condition FROM {CHECKS} c JOIN inspections i ON i.fid = c.inspection_id "
               "WHERE c.marker_id = m.fid ORDER BY i.inspected_on DESC, c.fid DESC LIMIT 1) AS last_condition, "
               f"(SELECT i.inspected_on FROM {CHECKS} c JOIN inspections i ON i.fid = c.inspection_id "
               "WHERE c.marker_id = m.fid ORDER BY i.inspected_on DESC, c.fid DESC LIMIT 1) AS last_checked_on")


def _marker(r: sqlite3.Row) -> dict[str, Any]:
    d = dict(r)
    d["point"] = decode_geometry(d.pop("geom"))
    return d


def get_marker(conn: sqlite3.Connection, marker_id: int) -> dict[str, Any] | None:
    r = conn.execute(f"SELECT m.*, {_LAST_CHECK} FROM {MARKERS} m WHERE m.fid = ?", (marker_id,)).fetchone()
    return None if r is None else _marker(r)


def markers_of(conn: sqlite3.Connection, feature_code: str) -> list[dict[str, Any]]:
    """A feature's markers with the condition its latest check found, oldest first."""
    return [_marker(r) for r in conn.execute(
        f"SELECT m.*, {_LAST_CHECK} FROM {MARKERS} m WHERE m.feature_code = ? ORDER BY m.fid", (feature_code,))]


def public_markers(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """The markers of open, active sites and sections: the only ones the public may see (decided in SQL)."""
    return [_marker(r) for r in conn.execute(
        f"SELECT m.*, {_LAST_CHECK} FROM {MARKERS} m WHERE m.feature_code IN "
        "(SELECT code FROM site_locations WHERE sensitivity = :open AND status = :active UNION ALL "
        "SELECT code FROM section_lines WHERE sensitivity = :open AND status = :active) ORDER BY m.fid",
        {"open": Sensitivity.OPEN, "active": SiteStatus.ACTIVE})]


def all_markers(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    return [_marker(r) for r in conn.execute(f"SELECT m.*, {_LAST_CHECK} FROM {MARKERS} m ORDER BY m.fid")]


def insert_check(conn: sqlite3.Connection, *, inspection_id: int, marker_id: int, condition: str, note: str | None,
                 followup_id: int | None) -> int:
    return conn.execute(f"INSERT INTO {CHECKS} (inspection_id, marker_id, condition, note, followup_id) "
                        "VALUES (?,?,?,?,?)", (inspection_id, marker_id, condition, note, followup_id)).lastrowid


def checks_of_inspection(conn: sqlite3.Connection, inspection_id: int) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(
        f"SELECT c.*, m.kind FROM {CHECKS} c JOIN {MARKERS} m ON m.fid = c.marker_id WHERE c.inspection_id = ? "
        "ORDER BY c.marker_id", (inspection_id,))]


def public_stamp(conn: sqlite3.Connection) -> tuple:
    """The public markers' stamp: a marker or a check added, or the public view of a feature changed (which decides
    whether its markers are public: map_layers.public_stamp), but not a hidden feature's edit."""
    from .map_layers import public_stamp as features_stamp

    row = conn.execute(f"SELECT (SELECT max(fid) FROM {MARKERS}), (SELECT max(fid) FROM {CHECKS})").fetchone()
    return (MARKERS, *row, *features_stamp(conn))


def stamp(conn: sqlite3.Connection) -> tuple:
    """Changes whenever a marker or a check is added, or a feature's sensitivity may have changed (which decides
    whether its markers are public): the cache key of the markers collection."""
    file = location_of(conn)
    row = conn.execute(f"SELECT (SELECT max(fid) FROM {MARKERS}), (SELECT max(fid) FROM {CHECKS}), "
                       "(SELECT max(fid) FROM site_versions), (SELECT max(fid) FROM section_versions)").fetchone()
    return (file, MARKERS, *row)
