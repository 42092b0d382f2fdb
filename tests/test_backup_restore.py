"""Backup while writes continue, the short run CI does (the full one: bench/backup_restore.py): a backup of the served
app's data directory taken while field users propose (with attachments), an expert approves and an inspector records
inspections with photos; restored into an empty directory it passes the registry check and GDAL's validator, holds
every write acknowledged before the backup began, and nothing in part. The check is shown to catch a write the backup
lacks."""
from __future__ import annotations

from bench import backup_restore
from bench.harness import Workload, missing_acknowledged, partial_writes
from fossil_registry import registry, store

from .conftest import bearer


def test_a_backup_taken_during_writes_restores_complete_and_consistent():
    results, live = backup_restore.run(1, 2.0, operator=False, log=lambda _: None)
    assert live["problems"] == []
    (b,) = results
    assert b.writes_before >= 5, "too few writes before the backup to show anything"
    assert b.writes_during + (live["writes"] - b.writes_before) > 0, "the writes did not go on during the backup"
    assert b.files > 0 and b.versions > 74  # photos and attachments came along; approvals made new versions
    assert b.problems == []


def test_the_check_notices_a_write_the_backup_lacks(app, client, tmp_path):
    """A proposal acknowledged after the backup is reported missing from the restored registry, while one acknowledged
    before is found: the check reads the backup, it is not vacuous."""
    def propose(lon: float) -> dict:
        r = client.post("/api/sites/GZ-0003/revisions", headers=bearer("field"), json={
            "base_version": 1, "reason": "backup check", "location": {"type": "Point", "coordinates": [lon, 25.9021]}})
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    before, work = propose(105.5853), Workload()
    registry.backup_registry(app.config["DATA_DIR"], tmp_path / "backup")
    after = propose(105.5854)
    registry.restore_registry(tmp_path / "backup", tmp_path / "restored")
    work.proposed += [before, after]
    conn = store.connect(registry.registry_path(tmp_path / "restored"), readonly=True)
    try:
        assert missing_acknowledged(conn, work) == [f"proposal {after['id']} was answered 201 but is not in the registry"]
        assert partial_writes(conn) == []
    finally:
        conn.close()
