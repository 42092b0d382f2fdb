"""Rescue cases: a find reported by the public or by a construction project, and what the office did about it.

* ``rescue_cases`` (features, Point): where the find is, who reported it and when (the legal clock starts then), the
  description, and how the case ended (a new-site proposal, or not significant). Staff only: nothing of it is ever
  public (a find's place becomes public, if at all, as a registered site with its sensitivity decided);
* ``rescue_events`` (attributes, append-only): what was done when (officials on site, the opinion, specimens rescued
  and samples collected with their field numbers and where they are kept, notes, the outcome);
* ``rescue_contacts``: the reporter's contact, private (left out of exports).

A case's content never changes once opened; it goes from open to closed once (triggers).
"""
from __future__ import annotations

import sqlite3
from typing import Any

from shapely.geometry.base import BaseGeometry

from ..vocab import RescueEvent, RescueSource
from .dialect import backend, geometry_value
from .gpkg import decode_geometry, where
from .sites import touch_contents
from .tables import (BIGINT, DATETIME, INT, NOT_NULL, POINT, PRIMARY_KEY, TEXT, Index, Layer, Refuse, Table,
                     append_only, col, in_list, ref)

CASES = "rescue_cases"
EVENTS = "rescue_events"
CONTACTS = "rescue_contacts"
SOURCES = RescueSource.values()
EVENT_KINDS = RescueEvent.values()
OUTCOMES = (RescueEvent.NEW_SITE_PROPOSED.value, RescueEvent.NOT_SIGNIFICANT.value)

PRIVATE_TABLES: tuple[str, ...] = (CONTACTS,)
# Who reported a find is personal data (a name, a company's site manager): withheld from shareable exports.
SCRUB = ((CASES, f"UPDATE {CASES} SET reported_by = '(withheld from shareable exports)'"),)

CASES_TABLE = Table(CASES, (
    col("geom", POINT, NOT_NULL), col("source", TEXT, NOT_NULL, check=RescueSource.check_sql("source")),
    ref("report_id", "public_reports"), col("impact_case_id", BIGINT), col("reported_by", TEXT, NOT_NULL),
    col("reported_at", DATETIME, NOT_NULL), col("county"), col("description", TEXT, NOT_NULL),
    col("opened_at", DATETIME, NOT_NULL), col("opened_by", TEXT, NOT_NULL),
    col("status", TEXT, NOT_NULL, default="'open'", check="status IN ('open','closed')"),
    col("outcome", TEXT, check=f"outcome IS NULL OR outcome IN {in_list(OUTCOMES)}"), ref("revision_id", "revisions"),
    col("closed_at", DATETIME), col("closed_by"),
), constraints=("CHECK ((status = 'open') = (outcome IS NULL))",
                f"CHECK (outcome != '{RescueEvent.NEW_SITE_PROPOSED}' OR revision_id IS NOT NULL)"),
   indexes=(Index("rescue_cases_status", "status, reported_at"),),
   layer=Layer("Rescue cases", "Finds reported by the public or construction projects and their rescue (staff only: "
               "never public)"),
   rules=(Refuse(f"{CASES}_closed_once", "UPDATE", "a rescue case is closed once", when="OLD.status != 'open'"),
          Refuse(f"{CASES}_keep_content", "UPDATE OF geom, source, report_id, impact_case_id, reported_by, "
                 "reported_at, county, description, opened_at, opened_by",
                 "what a rescue case was opened with is never changed"),
          Refuse(f"{CASES}_never_deleted", "DELETE", "rescue cases are closed, never deleted")))

EVENTS_TABLE = Table(EVENTS, (
    ref("case_id", CASES, NOT_NULL), col("kind", TEXT, NOT_NULL, check=RescueEvent.check_sql("kind")),
    col("done_at", DATETIME, NOT_NULL), col("recorded_at", DATETIME, NOT_NULL), col("recorded_by", TEXT, NOT_NULL),
    col("note"), col("specimens", INT, check="specimens IS NULL OR specimens >= 0"),
    col("samples", INT, check="samples IS NULL OR samples >= 0"), col("field_numbers"), col("kept_at"),
    ref("revision_id", "revisions"), col("photo_count", INT, NOT_NULL, default="0"),
), indexes=(Index("rescue_events_case", "case_id, done_at"),),
   layer=Layer("Rescue case events", "What was done when in each rescue case"),
   rules=(append_only(EVENTS, "the record of a rescue is append-only"),))

CONTACTS_TABLE = Table(CONTACTS, (ref("case_id", CASES, PRIMARY_KEY, NOT_NULL), col("contact", TEXT, NOT_NULL)),
                       fid=False)
TABLES = (CASES_TABLE, EVENTS_TABLE, CONTACTS_TABLE)


def add_rescues(conn) -> None:
    """Schema step: the rescue cases' tables, and (where the database checks that a referenced table exists) the
    reference of the evidence photos' rescue_id, whose column came with the markers step before this table existed."""
    b = backend(conn)
    b.run(conn, b.create(*TABLES))
    if b.checks_references_exist:
        b.run(conn, "ALTER TABLE evidence_photos ADD CONSTRAINT evidence_photos_rescue_id_fkey FOREIGN KEY (rescue_id) "
                    f"REFERENCES {CASES}(fid)")


def insert_case(conn: sqlite3.Connection, *, point: BaseGeometry, source: str, report_id: int | None,
                impact_case_id: int | None, reported_by: str, reported_at: str, county: str | None, description: str,
                opened_at: str, opened_by: str) -> int:
    cur = conn.execute(
        f"INSERT INTO {CASES} (geom, source, report_id, impact_case_id, reported_by, reported_at, county, description, "
        "opened_at, opened_by) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (geometry_value(conn, point), source, report_id, impact_case_id, reported_by, reported_at, county, description,
         opened_at, opened_by))
    touch_contents(conn, CASES, point, opened_at)
    return cur.lastrowid


def insert_contact(conn: sqlite3.Connection, case_id: int, contact: str) -> None:
    conn.execute(f"INSERT INTO {CONTACTS} (case_id, contact) VALUES (?, ?)", (case_id, contact))


def contact_of(conn: sqlite3.Connection, case_id: int) -> str | None:
    r = conn.execute(f"SELECT contact FROM {CONTACTS} WHERE case_id = ?", (case_id,)).fetchone()
    return None if r is None else r[0]


def close_case(conn: sqlite3.Connection, case_id: int, *, outcome: str, revision_id: int | None, closed_at: str,
               closed_by: str) -> bool:
    return conn.execute(f"UPDATE {CASES} SET status = 'closed', outcome = ?, revision_id = ?, closed_at = ?, "
                        "closed_by = ? WHERE fid = ? AND status = 'open'",
                        (outcome, revision_id, closed_at, closed_by, case_id)).rowcount == 1


def _case(r: sqlite3.Row) -> dict[str, Any]:
    d = dict(r)
    d["point"] = decode_geometry(d.pop("geom"))
    return d


def get_case(conn: sqlite3.Connection, case_id: int) -> dict[str, Any] | None:
    r = conn.execute(f"SELECT * FROM {CASES} WHERE fid = ?", (case_id,)).fetchone()
    return None if r is None else _case(r)


def list_cases(conn: sqlite3.Connection, *, status: str | None = None, report_id: int | None = None,
               limit: int = 500) -> list[dict[str, Any]]:
    clause, params = where(("status = ?", status), ("report_id = ?", report_id))
    return [_case(r) for r in conn.execute(f"SELECT * FROM {CASES}{clause} ORDER BY reported_at DESC, fid DESC "
                                           "LIMIT ?", [*params, int(limit)])]


def insert_event(conn: sqlite3.Connection, *, case_id: int, kind: str, done_at: str, recorded_at: str,
                 recorded_by: str, note: str | None, specimens: int | None, samples: int | None,
                 field_numbers: str | None, kept_at: str | None, revision_id: int | None, photo_count: int) -> int:
    return conn.execute(
        f"INSERT INTO {EVENTS} (case_id, kind, done_at, recorded_at, recorded_by, note, specimens, samples, "
        "field_numbers, kept_at, revision_id, photo_count) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (case_id, kind, done_at, recorded_at, recorded_by, note, specimens, samples, field_numbers, kept_at,
         revision_id, photo_count)).lastrowid


def events_of(conn: sqlite3.Connection, case_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in case_ids}
    if not case_ids:
        return out
    marks = ",".join("?" * len(case_ids))
    for r in conn.execute(f"SELECT * FROM {EVENTS} WHERE case_id IN ({marks}) ORDER BY done_at, fid", case_ids):
        out[r["case_id"]].append(dict(r))
    return out


def _case_totals(clause: str) -> str:
    """Per case (those of ``clause``): when officials first reached the site, when the first opinion was given, the
    specimens and samples; one pass over the cases joined to their events through the events' case index."""
    return ("SELECT c.fid, c.source, c.status, c.outcome, c.reported_at, "
            f"min(CASE WHEN e.kind = '{RescueEvent.OFFICIALS_ON_SITE}' THEN e.done_at END) AS on_site, "
            f"min(CASE WHEN e.kind = '{RescueEvent.OPINION_ISSUED}' THEN e.done_at END) AS opinion, "
            "coalesce(sum(e.specimens), 0) AS specimens, coalesce(sum(e.samples), 0) AS samples "
            f"FROM {CASES} c LEFT JOIN {EVENTS} e ON e.case_id = c.fid{clause} GROUP BY c.fid")


def clock_rows(conn: sqlite3.Connection, start: str | None = None, end: str | None = None) -> list[dict[str, Any]]:
    """Per case reported in [start, end) (UTC instants, either open): when it was reported, when officials first
    reached the site and when the first opinion was given, the specimens and samples recorded, its status and
    outcome. The legal clock is judged from these by the domain (rescues.clock)."""
    clause, params = where(("c.reported_at >= ?", start), ("c.reported_at < ?", end))
    return [dict(r) for r in conn.execute(
        f"SELECT fid, source, status, outcome, reported_at, on_site AS on_site_at, opinion AS opinion_at, specimens, "
        f"samples FROM ({_case_totals(clause)}) AS t ORDER BY reported_at", params)]


def _later(conn, column: str, amount: int, unit: str) -> str:
    """SQL: the instant ``amount`` ``unit`` (hours, days) after the UTC timestamp ``column``, as stored (ISO text)."""
    return backend(conn).after(column, amount, unit)


def _n(condition: str) -> str:
    """SQL: how many rows meet ``condition`` (in both dialects: PostgreSQL does not sum booleans)."""
    return f"coalesce(sum(CASE WHEN {condition} THEN 1 ELSE 0 END), 0)"


def clock_counts(conn: sqlite3.Connection, *, start: str | None, end: str | None, as_of: str, on_site_hours: int,
                 opinion_days: int) -> dict[str, Any]:
    """The cases reported in [start, end) counted in SQL: by status, source and outcome; the legal clock of each
    deadline as met (done by the deadline), missed (done later, or not done by ``as_of`` with the deadline passed) or
    open (not done, deadline still ahead at ``as_of``); specimens rescued and samples collected."""
    clause, params = where(("c.reported_at >= ?", start), ("c.reported_at < ?", end))
    # MATERIALIZED: the deadlines are computed once per case, not once per sum() that reads them (3x faster)
    row = conn.execute(
        f"WITH k AS MATERIALIZED (SELECT status, source, outcome, on_site, opinion, specimens, samples, "
        f"{_later(conn, 'reported_at', on_site_hours, 'hours')} AS on_site_due, "
        f"{_later(conn, 'reported_at', opinion_days, 'days')} AS opinion_due "
        f"FROM ({_case_totals(clause)}) AS t) SELECT count(*), "
        + ", ".join(_n(f"status = '{s}'") for s in ("open", "closed")) + ", "
        + ", ".join(_n(f"source = '{s}'") for s in SOURCES) + ", "
        + ", ".join(_n(f"outcome = '{o}'") for o in OUTCOMES) + ", "
        + ", ".join(f"{_n(f'{d} IS NOT NULL AND {d} <= {d}_due')}, "
                    f"{_n(f'({d} IS NOT NULL AND {d} > {d}_due) OR ({d} IS NULL AND ? > {d}_due)')}, "
                    f"{_n(f'{d} IS NULL AND ? <= {d}_due')}" for d in ("on_site", "opinion"))
        + ", coalesce(sum(specimens), 0), coalesce(sum(samples), 0) FROM k",
        [*params, as_of, as_of, as_of, as_of]).fetchone()
    values = list(row)
    out: dict[str, Any] = {"cases": values.pop(0), "open": values.pop(0), "closed": values.pop(0)}
    out["by_source"] = {s: values.pop(0) for s in SOURCES}
    out["by_outcome"] = {o: values.pop(0) for o in OUTCOMES}
    for d in ("on_site", "opinion"):
        out[d] = {"met": values.pop(0), "missed": values.pop(0), "open": values.pop(0)}
    out["specimens"], out["samples"] = values.pop(0), values.pop(0)
    return out
