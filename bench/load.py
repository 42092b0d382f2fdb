"""Concurrency: field users submitting revisions and experts approving them, all at once, against the served app.

For each number of concurrent users (default 8, 16, 32; a quarter of them experts, at least two), a fresh copy of the
demo registry is served by waitress (`python -m fossil_registry.serve`, 8 threads, loopback) and a thread pool runs a
fixed number of requests: a field user reads a site (GET /api/sites/<code>) and proposes moving it (POST
/api/sites/<code>/revisions; every tenth as a multipart form with a photo attached); an expert takes the oldest proposal not yet decided and approves it (POST
/api/revisions/<id>/decision with the round it saw). Field users work on sites of their own (a proposal on a site that
another approval moved on is stale and refused with 409: correct, counted, not an error).

Then, with the server stopped, it checks what the issue asks:
- no answer 5xx, no "database is locked" (in answers or the server's log), every request answered;
- every 201 is present afterwards (the proposal with its author and location), every approval answered 200 is
  applied (the site's history holds the version the answer named, made from that proposal, at the proposed point);
- the spatial index is consistent and `registry check` (as a separate process, like an operator) passes.

Prints throughput and p50/p95 latency per level and one README-ready table. Exit status 1 if any check fails.

Run: .venv/bin/python bench/load.py [--users 8 16 32] [--requests 2000] [--quick]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (DEMO_CODES, Recorder, Server, Workload, expert, field_user,  # noqa: E402
                           latency_summary, missing_acknowledged, open_readonly, partial_writes, prepare_data_dir,
                           registry_check, table)
from fossil_registry import store  # noqa: E402
from fossil_registry.registry import registry_path  # noqa: E402


def verify(data_dir: Path, work: Workload) -> list[str]:
    """What must hold after the run, read straight from the GeoPackage (the server is stopped)."""
    conn = open_readonly(registry_path(data_dir))
    try:
        return missing_acknowledged(conn, work) + partial_writes(conn) + store.check_integrity(conn)
    finally:
        conn.close()


def run_level(users: int, requests_total: int, seed: int = 1) -> dict:
    experts = max(2, users // 4)
    fields = users - experts
    with tempfile.TemporaryDirectory(prefix="load-") as tmp:
        data_dir = Path(tmp) / "data"
        accounts = prepare_data_dir(data_dir, field_users=fields, experts=experts)
        server = Server(data_dir).start()
        work, rec = Workload(requests_total), Recorder()
        own = [DEMO_CODES[i::fields] for i in range(fields)]
        started = time.perf_counter()
        try:
            with ThreadPoolExecutor(users) as pool:
                jobs = [pool.submit(field_user, server.url, accounts.field[i], own[i], work, rec, seed * 1000 + i, 10)
                        for i in range(fields)]
                jobs += [pool.submit(expert, server.url, accounts.experts[i], work, rec) for i in range(experts)]
                for j in jobs:
                    j.result()
            elapsed = time.perf_counter() - started
        finally:
            server.stop()
        log = server.log()
        problems = [f"{c.kind}: {c.status} {c.error}" for c in rec.server_errors()]
        problems += [f"{c.kind}: no answer ({c.error})" for c in rec.of() if c.status == 0]
        problems += [f"{c.kind}: {c.status} {c.error}" for c in rec.locked()]
        if "database is locked" in log or "Traceback" in log:
            problems.append("the server log has errors:\n" + log[-2000:])
        problems += verify(data_dir, work)
        ok, out = registry_check(data_dir)
        if not ok:
            problems.append("registry check: " + out)
    calls = rec.of()
    statuses: dict[int, int] = {}
    for c in calls:
        statuses[c.status] = statuses.get(c.status, 0) + 1
    return {"users": users, "field": fields, "experts": experts, "requests": len(calls), "seconds": elapsed,
            "throughput": len(calls) / elapsed, **{f"all_{k}": v for k, v in latency_summary(calls).items()},
            **{f"propose_{k}": v for k, v in latency_summary(rec.of("propose")).items()},
            **{f"approve_{k}": v for k, v in latency_summary(rec.of("approve")).items()},
            "proposed": len(work.proposed), "approved": len(work.approved),
            "stale": sum(1 for c in rec.of("approve") if c.status == 409), "statuses": statuses,
            "server_errors": len(rec.server_errors()), "locked": len(rec.locked()),
            "check": "clean" if not problems else f"{len(problems)} problem(s)", "problems": problems}


COLUMNS = [("users", "users (field + experts)"), ("requests", "requests"), ("throughput", "req/s"),
           ("all_p50_ms", "p50 ms"), ("all_p95_ms", "p95 ms"), ("propose_p95_ms", "propose p95 ms"),
           ("approve_p95_ms", "approve p95 ms"), ("proposed", "201 kept"), ("approved", "approvals kept"),
           ("stale", "409 stale"), ("server_errors", "5xx"), ("locked", "locked"), ("check", "registry check")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--requests", type=int, default=2000, help="requests per level")
    parser.add_argument("--quick", action="store_true", help="8 users, 150 requests")
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.requests = [8], 150
    rows = []
    for users in args.users:
        row = run_level(users, args.requests)
        row["users"] = f"{users} ({row['field']} + {row['experts']})"
        rows.append(row)
        print(f"{users:>3} users: {row['requests']} requests in {row['seconds']:.1f} s = {row['throughput']:.1f}/s, "
              f"p50 {row['all_p50_ms']:.0f} ms, p95 {row['all_p95_ms']:.0f} ms; {row['proposed']} proposals and "
              f"{row['approved']} approvals kept, {row['stale']} stale (409), statuses {row['statuses']}; "
              f"{row['check']}", flush=True)
        for p in row["problems"][:20]:
            print("   PROBLEM:", p)
    print()
    print(table(rows, COLUMNS))
    return 1 if any(r["problems"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
