"""The audit trail as admins read it (web page, CSV download, API): filtered entries, dates read in the registry's
time zone. Writing audit records is part of every change's own transaction (store.append_audit)."""
from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from . import local_time, store
from .sites import parse_timestamp

FILTERS = ("actor", "action", "target", "since", "until")
COLUMNS = ("at", "actor", "action", "target", "remote_addr", "detail")


def entries(conn, filters: Mapping[str, str | None], *, tz: str, limit: int | None = 500) -> list[dict[str, Any]]:
    """Newest first. ``since``/``until``: dates or times (a bare ``since`` date means its start, a bare ``until`` its
    end, both in ``tz``); ``action`` may end with * (a prefix)."""
    since, until = filters.get("since"), filters.get("until")
    if since and len(since) == 10:
        since += "T00:00:00"
    return store.list_audit(conn, actor=filters.get("actor"), action=filters.get("action"),
                            target=filters.get("target"), since=parse_timestamp(since, tz) if since else None,
                            until=parse_timestamp(until, tz) if until else None, limit=limit)


def rows(found: Iterable[dict[str, Any]], tz: str) -> Iterable[list[Any]]:
    """Entries as table rows in COLUMNS order (the detail as JSON text; the time ISO 8601 in ``tz``, with its offset:
    what a person reads in a spreadsheet, still exact for a program)."""
    for e in found:
        yield [json.dumps(e[c], ensure_ascii=False) if c == "detail" and e[c]
               else local_time.local_moment(e[c], tz).isoformat(timespec="milliseconds") if c == "at"
               else (e[c] if c != "detail" else "") for c in COLUMNS]
