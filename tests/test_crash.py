"""Crash consistency, the short round CI runs (the full suite: bench/crash.py): the served app is killed with SIGKILL
while field users propose (with attachments), experts approve and an inspector records inspections with photos; every
write it acknowledged must be there afterwards, nothing may be there in part, and the registry must pass its check and
GDAL's GeoPackage validator. The checks themselves are shown to catch a lost or partial write."""
from __future__ import annotations

from bench import crash
from bench.harness import Workload, missing_acknowledged, partial_writes
from fossil_registry import store


def test_acknowledged_writes_survive_kill_9_and_nothing_is_left_in_part():
    # killed 1.5-2.5 s in, once 10 writes were answered (at load average 10 a round had answered only 4 by then)
    rounds = crash.run(1, min_s=1.5, max_s=2.5, operator_checks=False, log=lambda _: None, min_acknowledged=10)
    assert len(rounds) == 1
    assert rounds[0].acknowledged >= 10, "the round wrote too little before the kill to show anything"
    assert rounds[0].problems == []


def test_the_crash_checks_notice_a_lost_or_partial_write(conn):
    """The checks above are not vacuous: an acknowledged proposal that is missing, and a proposal row without its
    submission event and audit record (what a non-atomic write would leave), are both reported."""
    work = Workload()
    work.proposed.append({"id": 4242, "site": "GZ-0001", "location": {"type": "Point", "coordinates": [105.5, 25.9]}})
    assert missing_acknowledged(conn, work) == ["proposal 4242 was answered 201 but is not in the registry"]
    assert partial_writes(conn) == []
    with store.transaction(conn):
        conn.execute("INSERT INTO revisions (kind, status, author, created_at, updated_at, reason) "
                     "VALUES ('new_site', 'submitted', 'x', '2026-01-01', '2026-01-01', 'half a write')")
    assert partial_writes(conn) == ["proposal 1 lacks its submission event or audit record"]
