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
from typing import Any

from . import pg
from .dialect import for_update
from .sites import VERSIONS

KITS = "fieldkit_kits"
CHECKINS = "fieldkit_checkins"
ITEMS = "fieldkit_items"

DDL = f"""
CREATE TABLE {KITS} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, kit_id TEXT NOT NULL UNIQUE,
  issued_by TEXT NOT NULL, issued_at DATETIME NOT NULL, installation TEXT NOT NULL,
  registry_stamp INTEGER NOT NULL, area TEXT NOT NULL, min_x REAL, min_y REAL, max_x REAL, max_y REAL,
  sites TEXT NOT NULL, boundaries TEXT NOT NULL, secret TEXT NOT NULL,
  basemap_tiles INTEGER NOT NULL DEFAULT 0);
CREATE INDEX fieldkit_kits_issued ON {KITS} (issued_at);
CREATE TRIGGER {KITS}_never_change BEFORE UPDATE ON {KITS}
  BEGIN SELECT RAISE(ABORT, 'an issued field kit never changes'); END;
CREATE TRIGGER {KITS}_never_deleted BEFORE DELETE ON {KITS}
  BEGIN SELECT RAISE(ABORT, 'issued field kits are never deleted'); END;

CREATE TABLE {CHECKINS} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  kit_fid INTEGER NOT NULL REFERENCES {KITS}(fid), checked_in_at DATETIME NOT NULL, checked_in_by TEXT NOT NULL,
  filename TEXT NOT NULL, sha256 TEXT NOT NULL, summary TEXT NOT NULL);
CREATE INDEX fieldkit_checkins_kit ON {CHECKINS} (kit_fid, fid);
CREATE TRIGGER {CHECKINS}_append_only_update BEFORE UPDATE ON {CHECKINS}
  BEGIN SELECT RAISE(ABORT, 'field kit check-ins are append-only'); END;
CREATE TRIGGER {CHECKINS}_append_only_delete BEFORE DELETE ON {CHECKINS}
  BEGIN SELECT RAISE(ABORT, 'field kit check-ins are append-only'); END;

CREATE TABLE {ITEMS} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  kit_fid INTEGER NOT NULL REFERENCES {KITS}(fid), feature TEXT NOT NULL, content TEXT NOT NULL,
  revision_id INTEGER NOT NULL REFERENCES revisions(fid), created_at DATETIME NOT NULL,
  UNIQUE (kit_fid, feature, content));
CREATE TRIGGER {ITEMS}_append_only_update BEFORE UPDATE ON {ITEMS}
  BEGIN SELECT RAISE(ABORT, 'field kit items are append-only'); END;
CREATE TRIGGER {ITEMS}_append_only_delete BEFORE DELETE ON {ITEMS}
  BEGIN SELECT RAISE(ABORT, 'field kit items are append-only'); END;

INSERT OR IGNORE INTO registry_meta (key, value) VALUES ('installation_id', lower(hex(randomblob(16))));
"""

PG_DDL = f"""
CREATE TABLE {KITS} ({pg.identity()}, kit_id text NOT NULL UNIQUE,
  issued_by text NOT NULL, issued_at text NOT NULL, installation text NOT NULL,
  registry_stamp bigint NOT NULL, area text NOT NULL, min_x double precision, min_y double precision,
  max_x double precision, max_y double precision, sites text NOT NULL, boundaries text NOT NULL, secret text NOT NULL,
  basemap_tiles integer NOT NULL DEFAULT 0);
CREATE INDEX fieldkit_kits_issued ON {KITS} (issued_at);
{pg.refuse(f"{KITS}_never_change", KITS, "an issued field kit never changes", events="UPDATE")}
{pg.refuse(f"{KITS}_never_deleted", KITS, "issued field kits are never deleted", events="DELETE")}

CREATE TABLE {CHECKINS} ({pg.identity()},
  kit_fid bigint NOT NULL REFERENCES {KITS}(fid), checked_in_at text NOT NULL, checked_in_by text NOT NULL,
  filename text NOT NULL, sha256 text NOT NULL, summary text NOT NULL);
CREATE INDEX fieldkit_checkins_kit ON {CHECKINS} (kit_fid, fid);
{pg.append_only(CHECKINS, "field kit check-ins are append-only")}

CREATE TABLE {ITEMS} ({pg.identity()},
  kit_fid bigint NOT NULL REFERENCES {KITS}(fid), feature text NOT NULL, content text NOT NULL,
  revision_id bigint NOT NULL REFERENCES revisions(fid), created_at text NOT NULL,
  UNIQUE (kit_fid, feature, content));
{pg.append_only(ITEMS, "field kit items are append-only")}

INSERT INTO registry_meta (key, value) VALUES ('installation_id', replace(gen_random_uuid()::text, '-', ''))
  ON CONFLICT (key) DO NOTHING;
"""

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
