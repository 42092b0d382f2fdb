"""SQL of supervision: the figures of the province dashboard and the annual work report, counted in SQL over the
registry's own records (site versions, proposals, inspections, threats, follow-ups, public reports). No tables of its
own: the migration step below adds the indexes that let a period's figures be counted without scanning whole tables.

Time: stored timestamps are UTC (``YYYY-MM-DDTHH:MM:SS.mmmZ``, fixed width, so string order is time order); a period
arrives here already converted by the domain (supervision/period.py) into a UTC window ``[start, end)`` for timestamps
and local calendar days ``first_day .. last_day`` for the DATE columns (inspection days are local days). Where a local
day has to be read from a UTC timestamp in SQL (a site's first day, a decision's month), the connection gets a
``local_day(ts)`` function for the registry's time zone (``use_time_zone``).
"""
from __future__ import annotations

import sqlite3
from datetime import datetime
from functools import lru_cache
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from ..vocab import Condition, Level, ReportStatus, Severity, SiteStatus
from .dialect import backend, is_pg, pick
from .gpkg import decode_geometries
from .tables import in_list

# Indexes for counting periods (the tables were created by earlier steps; store/migrations.py runs this as
# "supervision").
DDL = """
CREATE INDEX inspections_date ON inspections (inspected_on, code, condition);
CREATE INDEX site_versions_time ON site_versions (created_at);
CREATE INDEX site_versions_as_of ON site_versions (code, created_at, version);
CREATE INDEX revisions_boundary_setters ON revisions (status, boundary_action, site_code, applied_version);
CREATE INDEX revisions_created ON revisions (created_at);
CREATE INDEX revisions_decided ON revisions (decided_at);
CREATE INDEX public_reports_submitted ON public_reports (submitted_at);
CREATE INDEX public_reports_decided ON public_reports (decided_at);
"""

KEY_LEVELS = (Level.NATIONAL.value, Level.PROVINCIAL.value)
BAD_CONDITIONS = (Condition.DAMAGED.value, Condition.DESTROYED.value)
# Vocabulary values as SQL literals.
_ACTIVE = f"'{SiteStatus.ACTIVE}'"
_NEW = f"'{ReportStatus.NEW}'"
_KEY_LEVELS = in_list(KEY_LEVELS)
_BAD = in_list(BAD_CONDITIONS)


def _interval_of(level: str) -> str:
    """SQL: the inspection interval parameter of the level in column ``level`` (:interval_national...)."""
    *named, last = Level.values()
    return f"CASE {level} " + " ".join(f"WHEN '{v}' THEN :interval_{v}" for v in named) + f" ELSE :interval_{last} END"


def _no_limit(conn) -> int | None:
    """LIMIT without a limit: -1 on SQLite, NULL on PostgreSQL."""
    return backend(conn).no_limit


@lru_cache(maxsize=64)
def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


def use_time_zone(conn: sqlite3.Connection, tz: str) -> None:
    """Give ``conn`` the SQL function local_day(utc_timestamp) -> 'YYYY-MM-DD' in ``tz``. (PostGIS: the function is
    part of the schema, store/pg_schema.py; the time zone is a setting of the connection.)"""
    if is_pg(conn):
        _zone(tz)  # an unknown zone is refused here, as on SQLite
        conn.execute("SELECT set_config('registry.time_zone', ?, false)", (tz,))
        return
    zone = _zone(tz)

    def local_day(ts):
        if ts is None:
            return None
        return datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(zone).date().isoformat()

    conn.create_function("local_day", 1, local_day, deterministic=True)


# --------------------------------------------------------------------------------------------------------------------
# The registry at an instant, and its inspection schedule on a day
# --------------------------------------------------------------------------------------------------------------------
def _schedule_cte(current: bool, postgis: bool = False) -> str:
    """CTEs ``live`` (sites active at :as_of) and ``scheduled`` (their next inspection: :interval_* days after the
    last inspection on or before :day, else after the site came into existence, as inspections.schedule computes it;
    status overdue, upcoming or ok on :day). ``current``: nothing changed after :as_of, so the sites' current rows are
    their state then (fast); otherwise each site's latest version before :as_of is read from the history.
    ``postgis``: the same in PostgreSQL's terms (jsonb instead of json_extract, date arithmetic)."""
    if postgis:
        return _pg_schedule_cte(current)
    if current:
        live = f"""live AS (SELECT code, level, county, county_en, name, sensitivity, established FROM site_locations
                 WHERE status = {_ACTIVE}),"""
    else:
        live = f"""snap AS (SELECT code, max(version) AS version FROM site_versions WHERE created_at < :as_of
                 GROUP BY code),
live AS (SELECT * FROM (SELECT v.code, json_extract(v.properties, '$.level') AS level,
                json_extract(v.properties, '$.county') AS county,
                json_extract(v.properties, '$.county_en') AS county_en, json_extract(v.properties, '$.name') AS name,
                json_extract(v.properties, '$.sensitivity') AS sensitivity,
                json_extract(v.properties, '$.established') AS established,
                coalesce(json_extract(v.properties, '$.status'), {_ACTIVE}) AS status
         FROM snap JOIN site_versions v ON v.code = snap.code AND v.version = snap.version)
         WHERE status = {_ACTIVE}),"""
    return f"""
WITH {live}
last AS (SELECT code, max(inspected_on) AS last_on FROM inspections WHERE inspected_on <= :day GROUP BY code),
due AS (SELECT live.code, live.level, live.county, live.county_en, live.name, live.sensitivity, last.last_on,
          date(coalesce(last.last_on, live.established,
                        local_day((SELECT min(f.created_at) FROM site_versions f WHERE f.code = live.code))),
               '+' || ({_interval_of("live.level")}) || ' days') AS due_on
        FROM live LEFT JOIN last ON last.code = live.code),
scheduled AS (SELECT due.*, CASE WHEN due_on < :day THEN 'overdue'
                              WHEN due_on <= date(:day, '+' || :upcoming_days || ' days') THEN 'upcoming'
                              ELSE 'ok' END AS status
              FROM due)
"""


def _pg_schedule_cte(current: bool) -> str:
    if current:
        live = f"""live AS (SELECT code, level, county, county_en, name, sensitivity, established FROM site_locations
                 WHERE status = {_ACTIVE}),"""
    else:
        props = ", ".join(f"p ->> '{k}' AS {k}" for k in ("level", "county", "county_en", "name", "sensitivity",
                                                            "established"))
        live = f"""snap AS (SELECT code, max(version) AS version FROM site_versions WHERE created_at < :as_of
                 GROUP BY code),
live AS (SELECT * FROM (SELECT v.code, {props}, coalesce(p ->> 'status', {_ACTIVE}) AS status
         FROM snap JOIN site_versions v ON v.code = snap.code AND v.version = snap.version,
              LATERAL (SELECT v.properties::jsonb AS p) j) s WHERE status = {_ACTIVE}),"""
    return f"""
WITH {live}
last AS (SELECT code, max(inspected_on) AS last_on FROM inspections WHERE inspected_on <= :day GROUP BY code),
due AS (SELECT live.code, live.level, live.county, live.county_en, live.name, live.sensitivity, last.last_on,
          (coalesce(last.last_on, live.established,
                    local_day((SELECT min(f.created_at) FROM site_versions f WHERE f.code = live.code)))::date
           + ({_interval_of("live.level")})::integer)::text AS due_on
        FROM live LEFT JOIN last ON last.code = live.code),
scheduled AS (SELECT due.*, CASE WHEN due_on < :day THEN 'overdue'
                              WHEN due_on <= (:day::date + :upcoming_days::integer)::text THEN 'upcoming'
                              ELSE 'ok' END AS status
              FROM due)
"""


def _schedule_params(as_of: str, day: str, intervals: Mapping[str, int], upcoming_days: int) -> dict[str, Any]:
    return {"as_of": as_of, "day": day, "upcoming_days": int(upcoming_days),
            **{f"interval_{level}": int(intervals[level]) for level in Level.values()}}


def _is_current(conn: sqlite3.Connection, as_of: str) -> bool:
    """Whether no site changed at or after ``as_of`` (then the current rows are the state at ``as_of``)."""
    last = conn.execute("SELECT max(created_at) FROM site_versions").fetchone()[0]
    return last is None or last < as_of


def schedule_groups(conn: sqlite3.Connection, *, as_of: str, day: str, intervals: Mapping[str, int],
                    upcoming_days: int) -> list[dict[str, Any]]:
    """The sites active at ``as_of`` with their schedule on ``day``, counted by county, level, status and whether
    never inspected: {county, county_en, level, status, never, sites, lon_sum, lat_sum} (positions from the spatial
    index, summed so that a county's mean position can be formed from its groups)."""
    sql = _schedule_cte(_is_current(conn, as_of), is_pg(conn)) + pick(conn, """
SELECT coalesce(s.county, '') AS county, max(s.county_en) AS county_en, s.level, s.status, s.last_on IS NULL AS never,
       count(*) AS sites, sum((r.minx + r.maxx) / 2) AS lon_sum, sum((r.miny + r.maxy) / 2) AS lat_sum,
       count(r.id) AS placed
FROM scheduled s LEFT JOIN site_locations l ON l.code = s.code LEFT JOIN rtree_site_locations_geom r ON r.id = l.fid
GROUP BY 1, 3, 4, 5""", """
SELECT coalesce(s.county, '') AS county, max(s.county_en) AS county_en, s.level, s.status,
       (s.last_on IS NULL)::integer AS never, count(*) AS sites, sum(ST_X(l.geom)) AS lon_sum,
       sum(ST_Y(l.geom)) AS lat_sum, count(l.geom) AS placed
FROM scheduled s LEFT JOIN site_locations l ON l.code = s.code
GROUP BY 1, 3, 4, 5""")
    return [dict(r) for r in conn.execute(sql, _schedule_params(as_of, day, intervals, upcoming_days))]


def list_scheduled_sites(conn: sqlite3.Connection, *, as_of: str, day: str, intervals: Mapping[str, int],
                         upcoming_days: int, level: str | None = None, sensitivity: str | None = None,
                         county: str | None = None, status: str | None = None, never: bool = False,
                         limit: int = 500) -> tuple[int, list[dict[str, Any]]]:
    """(number of matching sites, the first ``limit`` of them) with their schedule: the list behind a figure."""
    conditions, params = [], _schedule_params(as_of, day, intervals, upcoming_days)
    for column, value in (("level", level), ("sensitivity", sensitivity), ("status", status)):
        if value:
            conditions.append(f"{column} = :f_{column}")
            params[f"f_{column}"] = value
    if county is not None:
        conditions.append("coalesce(county, '') = :f_county")
        params["f_county"] = county
    if never:
        conditions.append("last_on IS NULL")
    where = (" WHERE " + " AND ".join(conditions)) if conditions else ""
    cte = _schedule_cte(_is_current(conn, as_of), is_pg(conn))
    total = conn.execute(cte + f"SELECT count(*) FROM scheduled{where}", params).fetchone()[0]
    rows = conn.execute(cte + f"SELECT code, name, level, sensitivity, county, county_en, last_on, due_on, "
                        f"status FROM scheduled{where} ORDER BY due_on, code LIMIT :limit",
                        {**params, "limit": int(limit)}).fetchall()
    return total, [dict(r) for r in rows]


def current_sites_by(conn: sqlite3.Connection, column: str) -> list[tuple[str, str, int]]:
    """(level, value of ``column``, number of active sites) for column sensitivity or county."""
    if column not in ("sensitivity", "county"):
        raise ValueError(column)
    return [tuple(r) for r in conn.execute(
        f"SELECT level, coalesce({column}, ''), count(*) FROM site_locations WHERE status = {_ACTIVE} GROUP BY 1, 2")]


def boundary_sources(conn: sqlite3.Connection) -> list[tuple[str, str, str, int]]:
    """The boundary survey campaign: (level, method, stated accuracy class, number of active sites), where method is
    the survey method of the approved proposal that last set each site's boundary ('not_stated' for boundaries that
    came with an import or a restoration, 'no_boundary' for sites without one) and the accuracy class is le1, le5,
    le30, gt30 metres or unknown. Every boundary after a site's first version comes from an approved proposal."""
    sql = f"""
WITH setters AS (SELECT site_code, max(applied_version) AS version FROM revisions
                 WHERE status = 'approved' AND boundary_action = 'set' GROUP BY site_code)
SELECT l.level,
       CASE WHEN b.code IS NULL THEN 'no_boundary' ELSE coalesce(r.method, 'not_stated') END AS method,
       CASE WHEN b.code IS NULL OR r.accuracy_m IS NULL THEN 'unknown' WHEN r.accuracy_m <= 1 THEN 'le1'
            WHEN r.accuracy_m <= 5 THEN 'le5' WHEN r.accuracy_m <= 30 THEN 'le30' ELSE 'gt30' END AS accuracy,
       count(*)
FROM site_locations l LEFT JOIN site_boundaries b ON b.code = l.code
LEFT JOIN setters s ON s.site_code = l.code
LEFT JOIN revisions r ON r.site_code = s.site_code AND r.applied_version = s.version AND r.status = 'approved'
WHERE l.status = {_ACTIVE} GROUP BY 1, 2, 3"""
    return [tuple(r) for r in conn.execute(sql)]


# --------------------------------------------------------------------------------------------------------------------
# A period's figures
# --------------------------------------------------------------------------------------------------------------------
_PERIOD_COUNTS = f"""
SELECT
 (SELECT count(DISTINCT code) FROM site_versions WHERE version > 1 AND created_at >= :start AND created_at < :end)
   AS sites_revised,
 (SELECT count(DISTINCT v.code) FROM site_versions v JOIN site_versions p ON p.code = v.code AND p.version = v.version - 1
  WHERE v.version > 1 AND v.created_at >= :start AND v.created_at < :end
    AND {{geometry_changed}}) AS sites_geometry_revised,
 (SELECT count(*) FROM site_versions WHERE version = 1 AND operation = 'create' AND created_at >= :start
    AND created_at < :end) AS new_sites,
 (SELECT count(*) FROM site_versions WHERE version = 1 AND operation = 'import' AND created_at >= :start
    AND created_at < :end) AS sites_imported,
 (SELECT count(*) FROM revisions WHERE created_at >= :start AND created_at < :end) AS revisions_submitted,
 (SELECT count(*) FROM revisions WHERE status = 'approved' AND decided_at >= :start AND decided_at < :end)
   AS revisions_approved,
 (SELECT count(*) FROM revisions WHERE status = 'rejected' AND decided_at >= :start AND decided_at < :end)
   AS revisions_rejected,
 (SELECT count(*) FROM revisions WHERE status = 'withdrawn' AND updated_at >= :start AND updated_at < :end)
   AS revisions_withdrawn,
 (SELECT count(*) FROM revisions WHERE created_at < :as_of
    AND (status IN ('submitted', 'changes_requested') OR coalesce(decided_at, updated_at) >= :as_of)
    AND NOT (status = 'withdrawn' AND updated_at < :as_of)) AS revisions_waiting,
 (SELECT count(*) FROM inspections WHERE inspected_on BETWEEN :first_day AND :last_day) AS inspections,
 (SELECT count(DISTINCT code) FROM inspections WHERE inspected_on BETWEEN :first_day AND :last_day) AS sites_inspected,
 (SELECT count(DISTINCT i.code) FROM inspections i JOIN site_locations l ON l.code = i.code
  WHERE i.inspected_on BETWEEN :first_day AND :last_day AND l.level IN {_KEY_LEVELS}) AS key_sites_inspected,
 (SELECT count(DISTINCT code) FROM inspections WHERE inspected_on BETWEEN :first_day AND :last_day
    AND condition IN {_BAD}) AS sites_damaged,
 (SELECT count(*) FROM inspections i WHERE i.inspected_on BETWEEN :first_day AND :last_day
    AND EXISTS (SELECT 1 FROM inspection_threats t WHERE t.inspection_id = i.fid)) AS inspections_with_threats,
 (SELECT count(*) FROM public_reports WHERE submitted_at >= :start AND submitted_at < :end) AS reports_received,
 (SELECT count(*) FROM public_reports WHERE status != {_NEW} AND decided_at >= :start AND decided_at < :end)
   AS reports_triaged,
 (SELECT count(*) FROM public_reports WHERE submitted_at < :late_before
    AND (decided_at IS NULL OR decided_at >= :as_of)) AS reports_open_over_24h,
 (SELECT count(*) FROM inspection_followups WHERE created_at >= :start AND created_at < :end) AS followups_created,
 (SELECT count(*) FROM inspection_followups WHERE closed_at >= :start AND closed_at < :end) AS followups_closed,
 (SELECT count(*) FROM inspection_followups WHERE created_at < :as_of AND (closed_at IS NULL OR closed_at >= :as_of))
   AS followups_open
"""


def period_counts(conn: sqlite3.Connection, *, start: str, end: str, first_day: str, last_day: str, as_of: str,
                  late_before: str) -> dict[str, int]:
    """The counts of one period: timestamps in [start, end), inspection days first_day..last_day; what is open is
    counted at ``as_of`` (public reports: submitted before ``late_before``, i.e. 24 hours before ``as_of``)."""
    changed = pick(conn, "(v.location != p.location OR coalesce(v.boundary, x'') != coalesce(p.boundary, x''))",
                   "(v.location IS DISTINCT FROM p.location OR v.boundary IS DISTINCT FROM p.boundary)")
    row = conn.execute(_PERIOD_COUNTS.replace("{geometry_changed}", changed), {
        "start": start, "end": end, "first_day": first_day, "last_day": last_day,
                                        "as_of": as_of, "late_before": late_before}).fetchone()
    return dict(row)


def _median(conn: sqlite3.Connection, values_sql: str, params: Mapping[str, Any]) -> float | None:
    """The median of the one-column query ``values_sql``, found in SQL (the middle row or two of the sorted values)."""
    sql = (f"WITH d(x) AS ({values_sql}) SELECT avg(x) FROM (SELECT x FROM d ORDER BY x "
           "LIMIT 2 - (SELECT count(*) FROM d) % 2 OFFSET ((SELECT count(*) FROM d) - 1) / 2) AS middle")
    value = conn.execute(sql, params).fetchone()[0]
    return None if value is None else float(value)


def _days(conn, later: str, earlier: str) -> str:
    """SQL: the days (fractional) from the UTC timestamp ``earlier`` to ``later``."""
    return backend(conn).days_between(later, earlier)


def median_decision_days(conn: sqlite3.Connection, *, start: str, end: str) -> float | None:
    """Median days from submission to approval or rejection, over the decisions in [start, end)."""
    return _median(conn, f"SELECT {_days(conn, 'decided_at', 'created_at')} FROM revisions "
                         "WHERE status IN ('approved', 'rejected') AND decided_at >= :start AND decided_at < :end",
                   {"start": start, "end": end})


def median_triage_hours(conn: sqlite3.Connection, *, start: str, end: str) -> float | None:
    """Median hours from a public report's submission to its triage, over the reports triaged in [start, end)."""
    return _median(conn, f"SELECT {_days(conn, 'decided_at', 'submitted_at')} * 24 FROM public_reports "
                         f"WHERE status != {_NEW} AND decided_at >= :start AND decided_at < :end",
                   {"start": start, "end": end})


def threats_by_kind(conn: sqlite3.Connection, *, first_day: str, last_day: str) -> list[tuple[str, str, int]]:
    """(threat, severity, number of inspections that recorded it) over the inspection days first_day..last_day."""
    return [tuple(r) for r in conn.execute(
        "SELECT t.threat, t.severity, count(*) FROM inspection_threats t JOIN inspections i ON i.fid = t.inspection_id "
        "WHERE i.inspected_on BETWEEN ? AND ? GROUP BY 1, 2", (first_day, last_day))]


def conditions_by_year(conn: sqlite3.Connection, *, first_day: str, last_day: str) -> list[tuple[str, str, int]]:
    """(year, condition, number of sites) where each site inspected in a year counts once, with the condition of its
    last inspection in that year (the latest record of its last day: the highest day-and-record key)."""
    sql = pick(conn, """SELECT year, condition, count(*) FROM (
               SELECT substr(inspected_on, 1, 4) AS year, condition,
                      max(inspected_on || printf('%012d', fid)) AS latest
               FROM inspections WHERE inspected_on BETWEEN ? AND ? GROUP BY code, year)
             GROUP BY 1, 2""", """SELECT year, condition, count(*) FROM (
               SELECT DISTINCT ON (code, substr(inspected_on, 1, 4)) substr(inspected_on, 1, 4) AS year, condition
               FROM inspections WHERE inspected_on BETWEEN ? AND ?
               ORDER BY code, substr(inspected_on, 1, 4), inspected_on DESC, fid DESC) AS last_of_year
             GROUP BY 1, 2""")
    return [tuple(r) for r in conn.execute(sql, (first_day, last_day))]


def latest_conditions(conn: sqlite3.Connection, *, day: str) -> dict[str, int]:
    """Active sites by the condition found at their last inspection on or before ``day``."""
    sql = f"""SELECT i.condition, count(*) FROM (
               SELECT code, max(inspected_on) AS day FROM inspections WHERE inspected_on <= ? GROUP BY code) m
             JOIN site_locations l ON l.code = m.code AND l.status = {_ACTIVE}
             JOIN inspections i ON i.fid = (SELECT max(j.fid) FROM inspections j
                                            WHERE j.code = m.code AND j.inspected_on = m.day)
             GROUP BY 1"""
    return {r[0]: r[1] for r in conn.execute(sql, (day,))}


def decisions_by_month(conn: sqlite3.Connection, *, start: str, end: str) -> list[tuple[str, str, int]]:
    """(local month YYYY-MM, approved|rejected, number) of the decisions in [start, end) (needs use_time_zone)."""
    return [tuple(r) for r in conn.execute(
        "SELECT substr(local_day(decided_at), 1, 7), status, count(*) FROM revisions "
        "WHERE status IN ('approved', 'rejected') AND decided_at >= ? AND decided_at < ? GROUP BY 1, 2", (start, end))]


def inspections_by_month(conn: sqlite3.Connection, *, first_day: str, last_day: str) -> list[tuple[str, str, int]]:
    """(month YYYY-MM, 'inspections', number) of the inspections on the days first_day..last_day."""
    return [tuple(r) for r in conn.execute(
        "SELECT substr(inspected_on, 1, 7), 'inspections', count(*) FROM inspections "
        "WHERE inspected_on BETWEEN ? AND ? GROUP BY 1", (first_day, last_day))]


def reports_by_month(conn: sqlite3.Connection, *, start: str, end: str) -> list[tuple[str, str, int]]:
    """(local month, received|triaged, number) of the public reports submitted or triaged in [start, end)."""
    return [tuple(r) for r in conn.execute(
        "SELECT substr(local_day(submitted_at), 1, 7), 'received', count(*) FROM public_reports "
        "WHERE submitted_at >= :start AND submitted_at < :end GROUP BY 1 UNION ALL "
        "SELECT substr(local_day(decided_at), 1, 7), 'triaged', count(*) FROM public_reports "
        f"WHERE status != {_NEW} AND decided_at >= :start AND decided_at < :end GROUP BY 1",
        {"start": start, "end": end})]


def waiting_proposals_by_age(conn: sqlite3.Connection, *, now: str) -> list[tuple[str, int]]:
    """Open proposals by days since submission: (lt7 | lt30 | lt90 | ge90, number)."""
    return [tuple(r) for r in conn.execute(
        "SELECT CASE WHEN age < 7 THEN 'lt7' WHEN age < 30 THEN 'lt30' WHEN age < 90 THEN 'lt90' ELSE 'ge90' END, "
        f"count(*) FROM (SELECT {_days(conn, '?', 'created_at')} AS age FROM revisions "
        "WHERE status IN ('submitted', 'changes_requested')) AS waiting GROUP BY 1", (now,))]


def inspections_in_period(conn: sqlite3.Connection, *, first_day: str, last_day: str, key_only: bool = False,
                          damage_only: bool = False, limit: int | None = None) -> tuple[int, list[dict[str, Any]]]:
    """(number, the first ``limit`` by day) of the inspections of a period, of key sites (KEY_LEVELS) or
    with damage found (condition damaged/destroyed, or a threat of high severity) only."""
    where = "i.inspected_on BETWEEN :first_day AND :last_day"
    if key_only:
        where += f" AND l.level IN {_KEY_LEVELS}"
    if damage_only:
        where += (f" AND (i.condition IN {_BAD} OR EXISTS (SELECT 1 FROM inspection_threats t "
                  f"WHERE t.inspection_id = i.fid AND t.severity = '{Severity.HIGH}'))")
    base = f"FROM inspections i JOIN site_locations l ON l.code = i.code WHERE {where}"
    params = {"first_day": first_day, "last_day": last_day, "limit": _no_limit(conn) if limit is None else int(limit)}
    total = conn.execute(f"SELECT count(*) {base}", params).fetchone()[0]
    rows = conn.execute(f"SELECT i.fid, i.code, l.name, l.name_en, l.level, l.county, i.inspected_on, i.inspectors, "
                        f"i.condition, i.threats, i.actions {base} ORDER BY i.inspected_on, i.fid LIMIT :limit",
                        params).fetchall()
    return total, [dict(r) for r in rows]


def new_sites_in_period(conn: sqlite3.Connection, *, start: str, end: str,
                        limit: int | None = None) -> tuple[int, list[dict[str, Any]]]:
    """(number, the first ``limit``) of the sites registered (version 1 created, not imported) in [start, end)."""
    base = "FROM site_versions WHERE version = 1 AND operation = 'create' AND created_at >= :start AND created_at < :end"
    params = {"start": start, "end": end, "limit": _no_limit(conn) if limit is None else int(limit)}
    total = conn.execute(f"SELECT count(*) {base}", params).fetchone()[0]
    rows = conn.execute(
        "SELECT code, created_at, author, reviewer, "
        + ", ".join(f"{backend(conn).json_text('properties', k)} AS {k}"
                    for k in ("name", "name_en", "level", "county"))
        + f" {base} ORDER BY created_at, code LIMIT :limit",
        params).fetchall()
    return total, [dict(r) for r in rows]


def open_followups_at(conn: sqlite3.Connection, *, as_of: str,
                      limit: int | None = None) -> tuple[int, list[dict[str, Any]]]:
    """(number, the first ``limit`` by due date) of the follow-ups open at ``as_of``: carried into the next period."""
    base = ("FROM inspection_followups f LEFT JOIN site_locations l ON l.code = f.code "
            "WHERE f.created_at < :as_of AND (f.closed_at IS NULL OR f.closed_at >= :as_of)")
    params = {"as_of": as_of, "limit": _no_limit(conn) if limit is None else int(limit)}
    total = conn.execute(f"SELECT count(*) {base}", params).fetchone()[0]
    rows = conn.execute(f"SELECT f.fid, f.code, l.name, l.name_en, f.description, f.due_on, f.created_at, "
                        f"f.inspection_id, f.report_id {base} ORDER BY f.due_on, f.fid LIMIT :limit", params).fetchall()
    return total, [dict(r) for r in rows]


def threat_points(conn: sqlite3.Connection, *, first_day: str, last_day: str,
                  limit: int) -> list[dict[str, Any]]:
    """Threats recorded in a period where they were seen (the inspection point, else the site's location): the most
    severe and most recent first, at most ``limit``."""
    rows = conn.execute(
        "SELECT i.code, l.name, i.inspected_on, t.threat, t.severity, coalesce(i.geom, l.geom) AS geom "
        "FROM inspection_threats t JOIN inspections i ON i.fid = t.inspection_id "
        "JOIN site_locations l ON l.code = i.code WHERE i.inspected_on BETWEEN ? AND ? "
        f"ORDER BY CASE t.severity WHEN '{Severity.HIGH}' THEN 0 WHEN '{Severity.MEDIUM}' THEN 1 ELSE 2 END, "
        "i.inspected_on DESC, t.fid "
        "LIMIT ?", (first_day, last_day, int(limit))).fetchall()
    return _with_points(rows)


def work_points(conn: sqlite3.Connection, *, start: str, end: str, first_day: str, last_day: str,
                limit: int) -> tuple[int, list[dict[str, Any]]]:
    """The period's work, one entry per site with its most notable kind: new (registered), damaged (damage found),
    revised (a new version), inspected; (number of sites, the first ``limit`` in that order)."""
    sql = f"""
WITH work(code, kind, rank) AS (
  SELECT code, 'new', 0 FROM site_versions WHERE version = 1 AND operation = 'create' AND created_at >= :start
    AND created_at < :end
  UNION ALL SELECT DISTINCT code, 'damaged', 1 FROM inspections WHERE inspected_on BETWEEN :first_day AND :last_day
    AND condition IN {_BAD}
  UNION ALL SELECT DISTINCT code, 'revised', 2 FROM site_versions WHERE version > 1 AND created_at >= :start
    AND created_at < :end
  UNION ALL SELECT DISTINCT code, 'inspected', 3 FROM inspections WHERE inspected_on BETWEEN :first_day AND :last_day),
best AS (SELECT code, min(rank) AS rank, kind FROM work GROUP BY code)"""
    if is_pg(conn):  # no bare columns beside an aggregate: the kind of each code's lowest rank
        sql = sql.replace("best AS (SELECT code, min(rank) AS rank, kind FROM work GROUP BY code)",
                          "best AS (SELECT DISTINCT ON (code) code, rank, kind FROM work ORDER BY code, rank)")
    params = {"start": start, "end": end, "first_day": first_day, "last_day": last_day}
    total = conn.execute(sql + " SELECT count(*) FROM best", params).fetchone()[0]
    rows = conn.execute(sql + " SELECT b.code, b.kind, l.name, l.geom FROM best b JOIN site_locations l "
                        "ON l.code = b.code ORDER BY b.rank, b.code LIMIT :limit",
                        {**params, "limit": int(limit)}).fetchall()
    return total, _with_points(rows)


def _with_points(rows: list[sqlite3.Row]) -> list[dict[str, Any]]:
    points = decode_geometries([r["geom"] for r in rows])
    out = []
    for r, p in zip(rows, points):
        d = {k: r[k] for k in r.keys() if k != "geom"}
        d["lon"], d["lat"] = (p.x, p.y) if p is not None else (None, None)
        out.append(d)
    return out


def first_activity_day(conn: sqlite3.Connection) -> str | None:
    """The earliest UTC timestamp in the site history (None for an empty registry)."""
    return conn.execute("SELECT min(created_at) FROM site_versions").fetchone()[0]
