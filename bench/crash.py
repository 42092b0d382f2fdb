"""Crash consistency: kill -9 the served app in the middle of writes, several times, and check what survived.

One data directory (the demo registry) is served by waitress (`python -m fossil_registry.serve`). Each round starts
the server, lets field users propose (some with a photo attached), experts approve and an inspector record inspections
with photos, all at once, and sends SIGKILL to the server at a random moment (no handler runs, no connection is
closed, writes are cut off wherever they are). Then, with the server dead:
- `registry check` (a separate process, as an operator runs it: integrity, R-tree, history, GDAL's validator on a
  snapshot, every file a record references) and GDAL's GeoPackage validator on the registry file itself
  (`python -m osgeo_utils.samples.validate_gpkg --extra --warning-as-error`) must pass;
- every write the server acknowledged before the kill (in this and every earlier round) must be there, as answered;
- nothing partial may exist: no proposal without its submission event and audit record, no approval without its site
  version, no inspection missing photos its audit record counts.
The server is then started again (it sweeps the files of writes the kill cut short) and the next round begins.

Run: .venv/bin/python bench/crash.py [--rounds 8] [--min 0.5 --max 4] [--quick]   (exit status 1 on any problem)
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (DEMO_CODES, Recorder, Server, Workload, expert, field_user, inspector,  # noqa: E402
                           missing_acknowledged, partial_writes, prepare_data_dir, registry_check, table,
                           validate_gpkg)
from fossil_registry import store  # noqa: E402
from fossil_registry.registry import (check_files, check_registry, registry_path,  # noqa: E402
                                      validate_geopackage)

FIELD_USERS, EXPERTS = 4, 2


@dataclass
class Round:
    number: int
    killed_after_s: float
    acknowledged: int          # writes acknowledged in this round
    cut_off: int               # requests in flight when the server died (no answer)
    problems: list[str] = field(default_factory=list)
    check_seconds: float = 0.0


def drive_until_killed(server: Server, accounts, work: Workload, rec: Recorder, kill_after: float,
                       seed: int, min_acknowledged: int = 0) -> float:
    """Writers on every kind of write; SIGKILL after ``kill_after`` seconds, while they are still writing, and not
    before ``min_acknowledged`` writes of this round were answered (a starved machine writes fewer per second; a
    minute at most)."""
    before = work.acknowledged()
    own = [DEMO_CODES[i::FIELD_USERS] for i in range(FIELD_USERS)]
    threads = [threading.Thread(target=field_user, args=(server.url, accounts.field[i], own[i], work, rec,
                                                         seed * 100 + i, 3)) for i in range(FIELD_USERS)]
    threads += [threading.Thread(target=expert, args=(server.url, accounts.experts[i], work, rec))
                for i in range(EXPERTS - 1)]
    threads.append(threading.Thread(target=inspector, args=(server.url, accounts.experts[-1], DEMO_CODES[::-1], work,
                                                            rec, seed)))
    for t in threads:
        t.start()
    time.sleep(kill_after)
    patience = time.monotonic() + 60
    while work.acknowledged() - before < min_acknowledged and time.monotonic() < patience:
        time.sleep(0.05)
    killed_at = time.monotonic()
    server.kill()
    work.stop.set()
    for t in threads:
        t.join(timeout=60)
    return killed_at


def after_crash(data_dir: Path, work: Workload, operator_checks: bool = True) -> list[str]:
    """Everything that must hold on disk right after the kill (the server is dead). ``operator_checks``: also run
    `registry check` and validate_gpkg as separate processes, as an operator would (else the same checks in this
    process, which saves their start-up in the quick test)."""
    problems = []
    path = registry_path(data_dir)
    conn = store.connect(path)  # opening recovers the WAL, as the restarted server will
    try:
        problems += missing_acknowledged(conn, work)
        problems += partial_writes(conn)
        problems += store.check_integrity(conn)
    finally:
        conn.close()
    if operator_checks:
        ok, out = registry_check(data_dir)
        if not ok:
            problems.append("registry check: " + out[-1500:])
        ok, out = validate_gpkg(path)
        if not ok:
            problems.append("validate_gpkg: " + out[-1500:])
    else:
        problems += check_registry(path, data_dir=data_dir) + validate_geopackage(path)
    return problems


def run(rounds: int, *, min_s: float = 0.5, max_s: float = 4.0, seed: int = 7, operator_checks: bool = True,
        log=print, min_acknowledged: int = 0) -> list[Round]:
    rng = random.Random(seed)
    results: list[Round] = []
    with tempfile.TemporaryDirectory(prefix="crash-") as tmp:
        data_dir = Path(tmp) / "data"
        accounts = prepare_data_dir(data_dir, field_users=FIELD_USERS, experts=EXPERTS)
        server = Server(data_dir)
        work = Workload()  # shared by every round: what earlier rounds acknowledged must survive later kills too
        try:
            for n in range(1, rounds + 1):
                server.start()
                work.stop.clear()
                before, rec = work.acknowledged(), Recorder()
                kill_after = rng.uniform(min_s, max_s)
                killed_at = drive_until_killed(server, accounts, work, rec, kill_after, seed * 1000 + n,
                                               min_acknowledged)
                with work.lock:
                    work.waiting.clear()  # the next round's experts start from that round's proposals
                started = time.perf_counter()
                problems = after_crash(data_dir, work, operator_checks)
                problems += [f"{c.kind}: {c.status} {c.error}" for c in rec.server_errors()]
                problems += [f"{c.kind}: {c.status} {c.error}" for c in rec.locked()]
                r = Round(n, kill_after, work.acknowledged() - before, sum(1 for c in rec.of() if c.status == 0 and c.started < killed_at),
                          problems, time.perf_counter() - started)
                results.append(r)
                log(f"round {n}: killed after {kill_after:.2f} s, {r.acknowledged} writes acknowledged, "
                    f"{r.cut_off} cut off; checks {r.check_seconds:.1f} s: "
                    + ("all present, nothing partial, registry check and validate_gpkg pass" if not problems
                       else f"{len(problems)} PROBLEM(S)"))
                for p in problems[:20]:
                    log("   PROBLEM: " + p)
            server.start()  # the restart after the last kill: it sweeps the files of writes the kill cut short
            conn = store.connect(registry_path(data_dir))
            try:
                unreferenced = check_files(conn, data_dir)[1]
            finally:
                conn.close()
            if unreferenced:
                results[-1].problems.append(f"{len(unreferenced)} unreferenced file(s) after the restart's sweep")
        finally:
            server.stop()
        if "database is locked" in server.log():
            results[-1].problems.append("the server log mentions 'database is locked'")
        results[-1].problems += after_crash(data_dir, work, operator_checks=False)
        log(f"total: {len(results)} rounds, {work.acknowledged()} acknowledged writes ({len(work.proposed)} "
            f"proposals, {len(work.approved)} approvals, {len(work.inspected)} inspections with photos), "
            f"{sum(1 for r in results if not r.problems)} rounds without a problem")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--min", type=float, default=0.5, help="earliest kill, seconds after the writes start")
    parser.add_argument("--max", type=float, default=4.0, help="latest kill")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="2 rounds")
    args = parser.parse_args(argv)
    results = run(2 if args.quick else args.rounds, min_s=args.min, max_s=args.max, seed=args.seed)
    print()
    print(table([{"round": r.number, "kill": f"{r.killed_after_s:.2f} s", "ack": r.acknowledged, "cut": r.cut_off,
                  "result": "survived" if not r.problems else f"{len(r.problems)} problem(s)"} for r in results],
                [("round", "round"), ("kill", "killed after"), ("ack", "writes acknowledged"),
                 ("cut", "requests cut off"), ("result", "after restart")]))
    return 1 if any(r.problems for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
