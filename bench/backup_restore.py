"""Backup and restore while writes continue: `registry backup` taken from the served app's data directory during a
stream of proposals (some with photos attached), approvals and inspections with photos, then each backup restored
into an empty data directory and checked.

One data directory (the demo registry) is served by waitress (`python -m fossil_registry.serve`); writer threads keep
writing through the API the whole time. Every few seconds an operator runs `flask --app app registry backup DIR` (a
separate process, as on a server) without stopping anything. After the writers stop, each backup is restored with
`flask --app app registry restore DIR` into a new data directory, and then:
- `registry check` on the restored directory (integrity, R-tree, history, GDAL's validator, every file a record
  references and its bytes) and GDAL's validator on the restored file itself must pass;
- every write acknowledged before the backup began is in the restored registry, as answered (a write acknowledged
  while the backup ran may be in it or not, but never in part);
- nothing partial: no proposal without its submission event and audit record, no approval without its version, no
  inspection missing photos;
- the live registry passes `registry check` too.

Prints, per backup: how long it took, its size and files, the writes acknowledged while it ran (proof that writes
continued), the writes it holds, and the time to restore and check. Exit status 1 on any problem.

Run: .venv/bin/python bench/backup_restore.py [--backups 3] [--every 4] [--quick]
"""
from __future__ import annotations

import argparse
import copy
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (DEMO_CODES, PYTHON, ROOT, Recorder, Server, Workload, expert, field_user,  # noqa: E402
                           inspector, missing_acknowledged, partial_writes, prepare_data_dir, registry_check, table,
                           validate_gpkg)
from fossil_registry import store  # noqa: E402
from fossil_registry.registry import (backup_registry, check_registry, registry_path,  # noqa: E402
                                      restore_registry, validate_geopackage)

FIELD_USERS, EXPERTS = 3, 2


@dataclass
class Backup:
    number: int
    seconds: float = 0.0
    size_mb: float = 0.0
    files: int = 0
    writes_before: int = 0         # acknowledged before it began: must all be in it
    writes_during: int = 0         # acknowledged while it ran
    versions: int = 0              # site versions it holds
    restore_seconds: float = 0.0
    check_seconds: float = 0.0
    acknowledged: Workload | None = None
    problems: list[str] = field(default_factory=list)


def flask(data_dir: Path, *args: str) -> tuple[bool, str]:
    """`flask --app app registry ...` as a separate process on ``data_dir``."""
    env = {**os.environ, "FLASK_DATA_DIR": str(data_dir), "FLASK_SECRET_KEY": "evidence-secret"}
    done = subprocess.run([PYTHON, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    return done.returncode == 0, (done.stdout + done.stderr).strip()


def snapshot_of(work: Workload) -> Workload:
    """What the server has acknowledged so far (a copy: the writers go on)."""
    with work.lock:
        done = Workload()
        done.proposed, done.approved = copy.copy(work.proposed), copy.copy(work.approved)
        done.inspected = copy.copy(work.inspected)
    return done


def take_backup(data_dir: Path, dest: Path, work: Workload, n: int, operator: bool) -> Backup:
    b = Backup(n, acknowledged=snapshot_of(work))
    b.writes_before = b.acknowledged.acknowledged()
    started = time.perf_counter()
    if operator:
        ok, out = flask(data_dir, "registry", "backup", str(dest))
        if not ok:
            b.problems.append("registry backup: " + out[-1500:])
    else:
        backup_registry(data_dir, dest)
    b.seconds = time.perf_counter() - started
    b.writes_during = work.acknowledged() - b.writes_before
    if registry_path(dest).exists():
        b.size_mb = registry_path(dest).stat().st_size / 1e6
        b.files = sum(1 for p in dest.rglob("*") if p.is_file()) - 1
    return b


def restore_and_check(b: Backup, backup_dir: Path, restored: Path, operator: bool) -> None:
    started = time.perf_counter()
    if operator:
        ok, out = flask(restored, "registry", "restore", str(backup_dir))
        if not ok:
            b.problems.append("registry restore: " + out[-1500:])
            return
    else:
        restore_registry(backup_dir, restored)
    b.restore_seconds = time.perf_counter() - started
    started = time.perf_counter()
    path = registry_path(restored)
    conn = store.connect(path, readonly=True)
    try:
        b.problems += missing_acknowledged(conn, b.acknowledged) + partial_writes(conn) + store.check_integrity(conn)
        b.versions = conn.execute("SELECT count(*) FROM site_versions").fetchone()[0]
    finally:
        conn.close()
    if operator:
        for name, (ok, out) in (("registry check", registry_check(restored)), ("validate_gpkg", validate_gpkg(path))):
            if not ok:
                b.problems.append(f"{name} of the restored registry: {out[-1500:]}")
    else:
        b.problems += check_registry(path, data_dir=restored) + validate_geopackage(path)
    b.check_seconds = time.perf_counter() - started


def _until_photos_acknowledged(work: Workload, timeout: float = 60) -> None:
    """A backup is to carry files too: on a loaded machine (the test suite in parallel) `every` seconds can pass before
    the first inspection with photos is answered, and the backup then held no file (the test's `files > 0` failed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with work.lock:
            if any(photos for _, photos in work.inspected):
                return
        time.sleep(0.1)


def run(backups: int = 3, every: float = 4.0, *, operator: bool = True, log=print) -> tuple[list[Backup], dict]:
    with tempfile.TemporaryDirectory(prefix="backup-") as tmp:
        tmp = Path(tmp)
        data_dir = tmp / "data"
        accounts = prepare_data_dir(data_dir, field_users=FIELD_USERS, experts=EXPERTS)
        server = Server(data_dir).start()
        work, rec = Workload(), Recorder()
        own = [DEMO_CODES[i::FIELD_USERS] for i in range(FIELD_USERS)]
        threads = [threading.Thread(target=field_user, args=(server.url, accounts.field[i], own[i], work, rec, 50 + i,
                                                             4)) for i in range(FIELD_USERS)]
        threads.append(threading.Thread(target=expert, args=(server.url, accounts.experts[0], work, rec)))
        threads.append(threading.Thread(target=inspector, args=(server.url, accounts.experts[1], DEMO_CODES, work,
                                                                rec, 3)))
        results: list[Backup] = []
        for t in threads:
            t.start()
        try:
            for n in range(1, backups + 1):
                time.sleep(every)
                _until_photos_acknowledged(work)
                results.append(take_backup(data_dir, tmp / f"backup-{n}", work, n, operator))
                b = results[-1]
                log(f"backup {n}: {b.seconds:.2f} s, {b.size_mb:.1f} MB and {b.files} files; {b.writes_before} writes "
                    f"acknowledged before it, {b.writes_during} while it ran")
            time.sleep(min(every, 2.0))  # writes go on after the last backup too
        finally:
            work.stop.set()
            for t in threads:
                t.join(timeout=60)
            server.stop()
        live: dict = {"writes": work.acknowledged(), "requests": len(rec.of()),
                      "server_errors": len(rec.server_errors()), "problems": []}
        live["problems"] += [f"{c.kind}: {c.status} {c.error}" for c in rec.server_errors() + rec.locked()]
        if "database is locked" in server.log():
            live["problems"].append("the server log mentions 'database is locked'")
        if operator:
            ok, out = registry_check(data_dir)
            if not ok:
                live["problems"].append("registry check of the live registry: " + out[-1500:])
        else:
            live["problems"] += check_registry(registry_path(data_dir), data_dir=data_dir)
        for b in results:
            restore_and_check(b, tmp / f"backup-{b.number}", tmp / f"restored-{b.number}", operator)
            log(f"backup {b.number} restored in {b.restore_seconds:.2f} s, checked in {b.check_seconds:.1f} s: "
                f"{b.versions} site versions; " + ("every write acknowledged before it is there, nothing partial, "
                                                   "registry check and validate_gpkg pass" if not b.problems
                                                   else f"{len(b.problems)} PROBLEM(S)"))
            for p in b.problems[:20]:
                log("   PROBLEM: " + p)
    return results, live


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backups", type=int, default=3)
    parser.add_argument("--every", type=float, default=4.0, help="seconds of writes before each backup")
    parser.add_argument("--quick", action="store_true", help="one backup after 2 s")
    args = parser.parse_args(argv)
    if args.quick:
        args.backups, args.every = 1, 2.0
    results, live = run(args.backups, args.every)
    print()
    print(f"live registry: {live['writes']} writes acknowledged in {live['requests']} requests, "
          f"{live['server_errors']} answered 5xx; " + ("registry check clean" if not live["problems"]
                                                        else "; ".join(live["problems"])))
    print(table([{"n": b.number, "s": b.seconds, "mb": b.size_mb, "files": b.files, "before": b.writes_before,
                  "during": b.writes_during, "restore": b.restore_seconds, "check": b.check_seconds,
                  "result": "clean" if not b.problems else f"{len(b.problems)} problem(s)"} for b in results],
                [("n", "backup"), ("s", "backup s"), ("mb", "size MB"), ("files", "photos/attachments"),
                 ("before", "writes before (all kept)"), ("during", "writes while it ran"),
                 ("restore", "restore s"), ("check", "check s"), ("result", "restored registry")]))
    return 1 if live["problems"] or any(b.problems for b in results) else 0


if __name__ == "__main__":
    sys.exit(main())
