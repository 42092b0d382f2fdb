"""SQL of the field kits on the registry side: which kits were issued, and what their check-ins proposed.

Tables (app tables, not GeoPackage layers):

* ``fieldkit_kits``: one row per kit handed out: its id, who took it and when, the registry stamp at that moment
  (``site_versions`` written so far), the area, the base version of every site it carries, and the secret that signs its
  manifest (an HMAC key: a kit of another installation, or one whose manifest was edited, is recognised). Never changed,
  never deleted; the secret is withheld from shareable exports (SCRUB).
* ``fieldkit_checkins``: every check-in of a kit, with the uploaded file's hash and what it did (append-only).
* ``fieldkit_items``: every proposal a check-in created, keyed by (kit, feature, content): re-checking in the same edit
  finds it here and creates nothing new (idempotence).

The kit GeoPackage itself is another file: store/kitfile.py.
"""
from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any

from .dialect import backend, for_update
from .sites import VERSIONS
from .tables import BIGINT, DATETIME, INT, NOT_NULL, REAL, TEXT, UNIQUE, Index, Refuse, Table, append_only, col, ref

KITS = "fieldkit_kits"
CHECKINS = "fieldkit_checkins"
ITEMS = "fieldkit_items"

KITS_TABLE = Table(KITS, (
    col("kit_id", TEXT, NOT_NULL, UNIQUE), col("issued_by", TEXT, NOT_NULL), col("issued_at", DATETIME, NOT_NULL),
    col("installation", TEXT, NOT_NULL), col("registry_stamp", BIGINT, NOT_NULL), col("area", TEXT, NOT_NULL),
    col("min_x", REAL), col("min_y", REAL), col("max_x", REAL), col("max_y", REAL), col("sites", TEXT, NOT_NULL),
    col("boundaries", TEXT, NOT_NULL), col("secret", TEXT, NOT_NULL), col("basemap_tiles", INT, NOT_NULL, default="0"),
), indexes=(Index("fieldkit_kits_issued", "issued_at"),),
   rules=(Refuse(f"{KITS}_never_change", "UPDATE", "an issued field kit never changes"),
          Refuse(f"{KITS}_never_deleted", "DELETE", "issued field kits are never deleted")))
CHECKINS_TABLE = Table(CHECKINS, (
    ref("kit_fid", KITS, NOT_NULL), col("checked_in_at", DATETIME, NOT_NULL), col("checked_in_by", TEXT, NOT_NULL),
    col("filename", TEXT, NOT_NULL), col("sha256", TEXT, NOT_NULL), col("summary", TEXT, NOT_NULL),
), indexes=(Index("fieldkit_checkins_kit", "kit_fid, fid"),),
   rules=(append_only(CHECKINS, "field kit check-ins are append-only"),))
ITEMS_TABLE = Table(ITEMS, (
    ref("kit_fid", KITS, NOT_NULL), col("feature", TEXT, NOT_NULL), col("content", TEXT, NOT_NULL),
    ref("revision_id", "revisions", NOT_NULL), col("created_at", DATETIME, NOT_NULL),
), constraints=("UNIQUE (kit_fid, feature, content)",), rules=(append_only(ITEMS, "field kit items are append-only"),))
TABLES = (KITS_TABLE, CHECKINS_TABLE, ITEMS_TABLE)


def add_field_kits(conn) -> None:
    """Schema step: the field kits' tables, and the random id of this installation (kits name it)."""
    b = backend(conn)
    b.run(conn, b.create(*TABLES))
    conn.execute("INSERT INTO registry_meta (key, value) VALUES ('installation_id', ?) ON CONFLICT (key) DO NOTHING",
                 (uuid.uuid4().hex,))


# The manifest secrets sign kits handed to field teams: a shareable export must not let anyone forge them.
SCRUB = ((KITS, f"UPDATE {KITS} SET secret = 'withheld'"),)

_JSON = ("area", "sites", "boundaries")


def installation_id(conn: sqlite3.Connection) -> str:
    """The random id of this registry installation (created by the field-kit migration)."""
    return conn.execute("SELECT value FROM registry_meta WHERE key = 'installation_id'").fetchone()[0]


def registry_stamp(conn: sqlite3.Connection) -> int:
    """How many site versions the registry has written: grows with every change of any site."""
    return conn.execute(f"SELECT coalesce(max(fid), 0) FROM {VERSIONS}").fetchone()[0]


def insert_kit(conn: sqlite3.Connection, *, kit_id: str, issued_by: str, issued_at: str, installation: str,
               registry_stamp: int, area: dict, bounds: tuple[float, float, float, float] | None,
               sites: dict[str, int], boundaries: list[str], secret: str, basemap_tiles: int) -> int:
    minx, miny, maxx, maxy = bounds if bounds is not None else (None, None, None, None)
    cur = conn.execute(
        f"INSERT INTO {KITS} (kit_id, issued_by, issued_at, installation, registry_stamp, area, min_x, min_y, max_x, "
        "max_y, sites, boundaries, secret, basemap_tiles) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (kit_id, issued_by, issued_at, installation, registry_stamp, json.dumps(area, ensure_ascii=False),
         minx, miny, maxx, maxy, json.dumps(sites, sort_keys=True), json.dumps(sorted(boundaries)), secret,
         basemap_tiles))
    return cur.lastrowid


def _kit(r: sqlite3.Row | None) -> dict[str, Any] | None:
    if r is None:
        return None
    d = dict(r)
    for key in _JSON:
        d[key] = json.loads(d[key])
    return d


def get_kit(conn: sqlite3.Connection, kit_id: str) -> dict[str, Any] | None:
    # inside a check-in's transaction the kit row is held, so two check-ins of one kit never both propose
    return _kit(conn.execute(f"SELECT * FROM {KITS} WHERE kit_id = ?" + for_update(conn), (kit_id,)).fetchone())


def get_kit_by_fid(conn: sqlite3.Connection, fid: int) -> dict[str, Any] | None:
    return _kit(conn.execute(f"SELECT * FROM {KITS} WHERE fid = ?", (fid,)).fetchone())


def list_kits(conn: sqlite3.Connection, *, limit: int = 50) -> list[dict[str, Any]]:
    """The latest kits with how often each was checked in (without their secrets)."""
    rows = conn.execute(
        f"SELECT k.fid, k.kit_id, k.issued_by, k.issued_at, k.area, k.sites, k.basemap_tiles, "
        f"(SELECT count(*) FROM {CHECKINS} c WHERE c.kit_fid = k.fid) AS checkins, "
        f"(SELECT max(fid) FROM {CHECKINS} c WHERE c.kit_fid = k.fid) AS last_checkin "
        f"FROM {KITS} k ORDER BY k.fid DESC LIMIT ?", (int(limit),)).fetchall()
    out = []
    for r in rows:
        d = dict(r)
        d["area"], d["sites"] = json.loads(d["area"]), json.loads(d["sites"])
        out.append(d)
    return out


def items_for(conn: sqlite3.Connection, kit_fid: int, feature: str) -> list[dict[str, Any]]:
    """The proposals earlier check-ins of this kit made from one feature, with their status now."""
    rows = conn.execute(
        f"SELECT i.content, i.revision_id, r.status FROM {ITEMS} i JOIN revisions r ON r.fid = i.revision_id "
        "WHERE i.kit_fid = ? AND i.feature = ? ORDER BY i.fid", (kit_fid, feature)).fetchall()
    return [dict(r) for r in rows]


def insert_item(conn: sqlite3.Connection, *, kit_fid: int, feature: str, content: str, revision_id: int,
                created_at: str) -> None:
    conn.execute(f"INSERT INTO {ITEMS} (kit_fid, feature, content, revision_id, created_at) VALUES (?,?,?,?,?)",
                 (kit_fid, feature, content, revision_id, created_at))


def insert_checkin(conn: sqlite3.Connection, *, kit_fid: int, checked_in_at: str, checked_in_by: str, filename: str,
                   sha256: str, summary: dict) -> int:
    cur = conn.execute(
        f"INSERT INTO {CHECKINS} (kit_fid, checked_in_at, checked_in_by, filename, sha256, summary) "
        "VALUES (?,?,?,?,?,?)",
        (kit_fid, checked_in_at, checked_in_by, filename, sha256, json.dumps(summary, ensure_ascii=False)))
    return cur.lastrowid


def _checkin(r: sqlite3.Row | None) -> dict[str, Any] | None:
    if r is None:
        return None
    d = dict(r)
    d["summary"] = json.loads(d["summary"])
    return d


def get_checkin(conn: sqlite3.Connection, fid: int) -> dict[str, Any] | None:
    return _checkin(conn.execute(
        f"SELECT c.*, k.kit_id FROM {CHECKINS} c JOIN {KITS} k ON k.fid = c.kit_fid WHERE c.fid = ?",
        (fid,)).fetchone())


def list_checkins(conn: sqlite3.Connection, kit_fid: int) -> list[dict[str, Any]]:
    return [_checkin(r) for r in conn.execute(
        f"SELECT c.*, k.kit_id FROM {CHECKINS} c JOIN {KITS} k ON k.fid = c.kit_fid WHERE c.kit_fid = ? "
        "ORDER BY c.fid", (kit_fid,))]
