"""What the evidence suites (bench/load.py, crash.py, soak.py, backup_restore.py) share: a data directory holding the
demo registry with as many field and expert accounts as a run needs, the app served the way `make run` serves it
(waitress, its own process) that can be killed with SIGKILL and started again, timed HTTP calls, the writes a run
drives (proposals, approvals, inspections with photos), and the checks every suite ends with (`registry check` and
GDAL's GeoPackage validator, each run as the operator runs it: a separate process).

Nothing here fakes storage: every call goes over loopback HTTP to the real server, every check reads the real file.
"""
from __future__ import annotations

import io
import itertools
import json
import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import requests
from shapely.geometry import shape

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fossil_registry import auth, store  # noqa: E402
from fossil_registry.registry import init_registry, registry_path  # noqa: E402

PYTHON = sys.executable
DEMO_CODES = [f"GZ-{i:04d}" for i in range(1, 75)]


# ------------------------------------------------------------------------------------------------------- set-up
@dataclass
class Accounts:
    """API tokens by role: field users propose, experts review; one admin for what needs one."""
    field: list[str]
    experts: list[str]
    admin: str


def prepare_data_dir(data_dir: Path, *, field_users: int, experts: int) -> Accounts:
    """A data directory with the demo registry (74 sites) and ``field_users`` + ``experts`` accounts with a token each.
    Passwords are random and thrown away: the suites call the API with bearer tokens."""
    path = registry_path(data_dir)
    init_registry(path, demo=True)
    conn = store.connect(path)
    try:
        store.migrate(conn)
        tokens: dict[str, list[str]] = {"field": [], "expert": [], "admin": []}
        for role, count in (("field", field_users), ("expert", experts), ("admin", 1)):
            for i in range(1, count + 1):
                name = f"{role}{i:02d}"
                auth.create_user(conn, username=name, role=role, password=auth.random_password(),
                                 actor="evidence-setup")
                tokens[role].append(auth.issue_token(conn, name, label="evidence", actor="evidence-setup"))
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return Accounts(field=tokens["field"], experts=tokens["expert"], admin=tokens["admin"][0])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`python -m fossil_registry.serve` on a loopback port, in its own process: started, stopped, killed -9."""

    def __init__(self, data_dir: Path, *, threads: int = 8, env: dict[str, str] | None = None):
        self.data_dir = Path(data_dir)
        self.threads = threads
        self.extra_env = env or {}
        self.process: subprocess.Popen | None = None
        self.port, self.url = 0, ""
        self.log_path = self.data_dir.parent / "server.log"

    def start(self, timeout: float = 90) -> "Server":
        """Start (or start again, after a kill: on a new port, as the old one may linger) and wait until it answers."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "FLASK_DATA_DIR": str(self.data_dir), "FLASK_SECRET_KEY": "evidence-secret",
               "FLASK_CREATE_DEMO_IF_MISSING": "false", "PORT": str(self.port), "HOST": "127.0.0.1",
               "THREADS": str(self.threads), "PYTHONUNBUFFERED": "1", **self.extra_env}
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen([PYTHON, "-m", "fossil_registry.serve"], env=env, cwd=ROOT, stdout=log,
                                        stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(self.url + "/api/me", timeout=2).status_code == 401:
                    return self
            except requests.RequestException:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError("the server did not start:\n" + self.log()[-3000:])
            time.sleep(0.1)

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: no handler, no atexit, no flush; what a power cut does to the process (not to the disk)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# ------------------------------------------------------------------------------------------------------- calls
@dataclass
class Call:
    kind: str
    status: int          # 0: no answer (connection refused or reset, e.g. the server was killed)
    seconds: float
    body: dict | None = None
    error: str | None = None
    started: float = 0.0  # time.monotonic() when sent


@dataclass
class Recorder:
    """Every call of a run, from any thread."""
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, call: Call) -> Call:
        with self.lock:
            self.calls.append(call)
        return call

    def of(self, kind: str | None = None) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if kind is None or c.kind == kind]

    def server_errors(self) -> list[Call]:
        return [c for c in self.of() if c.status >= 500]

    def locked(self) -> list[Call]:
        """Answers that mention SQLite's lock error (whatever their status)."""
        return [c for c in self.of() if "locked" in (c.error or "") or "locked" in str(c.body or "")]


def session(token: str | None) -> requests.Session:
    s = requests.Session()
    if token:
        s.headers["Authorization"] = f"Bearer {token}"
    return s


def call(rec: Recorder, s: requests.Session, kind: str, method: str, url: str, *, timeout: float = 60,
         **kwargs) -> Call:
    sent, start = time.monotonic(), time.perf_counter()
    try:
        r = s.request(method, url, timeout=timeout, **kwargs)
    except requests.RequestException as exc:
        return rec.add(Call(kind, 0, time.perf_counter() - start, error=type(exc).__name__, started=sent))
    elapsed = time.perf_counter() - start
    body = None
    if r.headers.get("Content-Type", "").split(";")[0] in ("application/json", "application/problem+json",
                                                             "application/geo+json"):
        try:
            body = r.json()
        except ValueError:
            body = None
    error = None if r.status_code < 400 else (body.get("detail") if isinstance(body, dict) else r.text[:300])
    return rec.add(Call(kind, r.status_code, elapsed, body, error, sent))


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def latency_summary(calls: list[Call]) -> dict[str, float]:
    times = [c.seconds * 1000 for c in calls if c.status]
    return {"n": len(times), "p50_ms": percentile(times, 50), "p95_ms": percentile(times, 95),
            "mean_ms": statistics.fmean(times) if times else float("nan")}


# ------------------------------------------------------------------------------------------------------- writes
class Workload:
    """What the client threads of a run share: a request budget (or none) and a stop signal, the proposals waiting
    for a decision, and every write the server acknowledged (its answer body), which must all be there afterwards."""

    def __init__(self, budget: int | None = None):
        self.remaining = budget
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.waiting: deque[tuple[int, int]] = deque()   # (revision id, round) proposed, not yet decided
        self.proposed: list[dict] = []                   # 201 answers to proposals
        self.approved: list[dict] = []                   # 200 answers to approvals
        self.inspected: list[tuple[dict, int]] = []      # 201 answers to inspections, photos sent

    def take(self, n: int = 1) -> bool:
        with self.lock:
            if self.stop.is_set():
                return False
            if self.remaining is None:
                return True
            if self.remaining < n:
                return False
            self.remaining -= n
            return True

    def done(self) -> bool:
        with self.lock:
            return self.stop.is_set() or (self.remaining is not None and self.remaining <= 0)

    def acknowledged(self) -> int:
        with self.lock:
            return len(self.proposed) + len(self.approved) + len(self.inspected)


def field_user(base: str, token: str, codes: list[str], work: Workload, rec: Recorder, seed: int,
               attachment_every: int = 0) -> None:
    """Reads a site of its own and proposes moving it by up to ~50 m, again and again (every ``attachment_every``-th
    proposal as a multipart form with a photo attached: a file placed with the transaction)."""
    s, rng = session(token), random.Random(seed)
    for n, code in enumerate(itertools.cycle(codes), 1):
        if not work.take(2):
            return
        read = call(rec, s, "read_site", "GET", f"{base}/api/sites/{code}")
        if read.status != 200:
            if read.status == 0:
                time.sleep(0.05)
            continue
        lon, lat = read.body["location"]["coordinates"]
        point = [round(lon + rng.uniform(-4e-4, 4e-4), 7), round(lat + rng.uniform(-4e-4, 4e-4), 7)]
        fields = {"base_version": read.body["version"], "reason": f"evidence run: re-surveyed {code}",
                  "method": "rtk", "accuracy_m": 0.05, "location": {"type": "Point", "coordinates": point}}
        if attachment_every and n % attachment_every == 0:
            form = {**{k: str(v) for k, v in fields.items()}, "location": json.dumps(fields["location"])}
            c = call(rec, s, "propose", "POST", f"{base}/api/sites/{code}/revisions", data=form,
                     files=[("attachments", (f"survey-{n}.jpg", tiny_jpeg(rng), "image/jpeg"))])
        else:
            c = call(rec, s, "propose", "POST", f"{base}/api/sites/{code}/revisions", json=fields)
        if c.status == 201:
            with work.lock:
                work.proposed.append(c.body)
                work.waiting.append((c.body["id"], c.body["round"]))


def expert(base: str, token: str, work: Workload, rec: Recorder) -> None:
    """Approves the oldest proposal nobody has decided yet, naming the round it saw."""
    s = session(token)
    while True:
        with work.lock:
            item = work.waiting.popleft() if work.waiting else None
        if item is None:
            if work.done():
                return
            time.sleep(0.005)
            continue
        if not work.take():
            return
        c = call(rec, s, "approve", "POST", f"{base}/api/revisions/{item[0]}/decision",
                 json={"decision": "approve", "round": item[1], "comment": "evidence run"})
        if c.status == 200:
            with work.lock:
                work.approved.append(c.body)


def inspector(base: str, token: str, codes: list[str], work: Workload, rec: Recorder, seed: int,
              photos: int = 2) -> None:
    """Records inspections with photos (distinct bytes each: every photo is a new file on disk)."""
    s, rng = session(token), random.Random(seed)
    for code in itertools.cycle(codes):
        if not work.take():
            return
        record = {"date": "2026-01-15", "condition": rng.choice(["good", "fair", "poor"]),
                  "findings": "evidence run", "threats": [{"threat": "erosion_landslide", "severity": "low"}]}
        files = [("photos", (f"p{i}.jpg", tiny_jpeg(rng), "image/jpeg")) for i in range(photos)]
        c = call(rec, s, "inspect", "POST", f"{base}/api/sites/{code}/inspections",
                 data={"record": json.dumps(record)}, files=files)
        if c.status == 201:
            with work.lock:
                work.inspected.append((c.body, photos))
        elif c.status == 0:
            time.sleep(0.05)


def tiny_jpeg(rng: random.Random) -> bytes:
    from PIL import Image

    im = Image.new("RGB", (48, 32), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    buf = io.BytesIO()
    im.save(buf, "JPEG")
    return buf.getvalue()


def missing_acknowledged(conn: sqlite3.Connection, work: Workload) -> list[str]:
    """Every write the server acknowledged, looked up in the registry: proposals (as answered), approvals (the site
    version the answer named, made from that proposal, at its point), inspections (with every photo)."""
    problems = []
    for body in work.proposed:
        row = conn.execute("SELECT site_code, location FROM revisions WHERE fid = ?", (body["id"],)).fetchone()
        if row is None:
            problems.append(f"proposal {body['id']} was answered 201 but is not in the registry")
        elif row["site_code"] != body["site"] or \
                not store.decode_geometry(row["location"]).equals(shape(body["location"])):
            problems.append(f"proposal {body['id']} differs from what its 201 answer said")
    for body in work.approved:
        v = conn.execute("SELECT v.location, v.revision_id, r.status FROM site_versions v JOIN revisions r "
                         "ON r.fid = v.revision_id WHERE v.code = ? AND v.version = ?",
                         (body["site"], body["site_version"])).fetchone()
        if v is None or v["revision_id"] != body["id"] or v["status"] != "approved":
            problems.append(f"approval of {body['id']} (version {body['site_version']} of {body['site']}) was "
                            "answered 200 but is not in the history")
        elif not store.decode_geometry(v["location"]).equals(shape(body["location"])):
            problems.append(f"version {body['site_version']} of {body['site']} is not at the approved point")
    for body, photos in work.inspected:
        row = conn.execute("SELECT (SELECT count(*) FROM evidence_photos p WHERE p.inspection_id = i.fid) AS photos "
                           "FROM inspections i WHERE i.fid = ?", (body["id"],)).fetchone()
        if row is None:
            problems.append(f"inspection {body['id']} was answered 201 but is not in the registry")
        elif row["photos"] != photos:
            problems.append(f"inspection {body['id']} has {row['photos']} of its {photos} photos")
    return problems


def partial_writes(conn: sqlite3.Connection) -> list[str]:
    """Changes that are there only in part: a proposal without its submission event or audit record, an approved
    proposal without its site version (or a version naming a proposal that is not approved), an inspection without its
    audit record or with fewer photos than the audit record counts. (Files are checked by `registry check`.)
    Each table is read once and matched in memory: correlated subqueries on the audit trail's JSON were quadratic (the
    checks after a 30-minute soak, tens of thousands of writes, had not finished after several minutes)."""
    def audited(action: str, key: str) -> dict[int, dict]:
        return {row[0]: row[1] for row in conn.execute(
            f"SELECT json_extract(detail, '$.{key}'), json_extract(detail, '$.photos') FROM audit_log "
            "WHERE action = ?", (action,))}

    submitted_events = {r for (r,) in conn.execute("SELECT revision_id FROM revision_events WHERE event = 'submitted'")}
    submit_audit, approve_audit = audited("revision.submit", "revision_id"), audited("revision.approve", "revision_id")
    versions = {(r, v) for r, v in conn.execute("SELECT revision_id, version FROM site_versions "
                                               "WHERE revision_id IS NOT NULL")}
    problems = []
    revisions = conn.execute("SELECT fid, status, applied_version FROM revisions ORDER BY fid").fetchall()
    approved_into: dict[int, int] = {}
    for rid, status, applied in revisions:
        if rid not in submitted_events or rid not in submit_audit:
            problems.append(f"proposal {rid} lacks its submission event or audit record")
        if status == "approved":
            approved_into[rid] = applied
            if (rid, applied) not in versions or rid not in approve_audit:
                problems.append(f"approved proposal {rid} lacks its site version or audit record")
    for code, version, rid in conn.execute("SELECT code, version, revision_id FROM site_versions "
                                           "WHERE revision_id IS NOT NULL ORDER BY code, version"):
        if approved_into.get(rid) != version:
            problems.append(f"version {version} of {code} names a proposal that was not approved into it")
    record_audit = audited("inspection.record", "inspection_id")
    photos = dict(conn.execute("SELECT inspection_id, count(*) FROM evidence_photos WHERE inspection_id IS NOT NULL "
                               "GROUP BY inspection_id").fetchall())
    for (iid,) in conn.execute("SELECT fid FROM inspections ORDER BY fid"):
        if iid not in record_audit or record_audit[iid] not in (None, photos.get(iid, 0)):
            problems.append(f"inspection {iid} lacks its audit record or some of its photos")
    return problems


# ------------------------------------------------------------------------------------------------------- checks
def registry_check(data_dir: Path) -> tuple[bool, str]:
    """`flask --app app registry check` as an operator runs it: integrity, R-tree, history, GDAL's validator, files."""
    env = {**os.environ, "FLASK_DATA_DIR": str(data_dir), "FLASK_SECRET_KEY": "evidence-secret"}
    done = subprocess.run([PYTHON, "-m", "flask", "--app", "app", "registry", "check"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    return done.returncode == 0, (done.stdout + done.stderr).strip()


def validate_gpkg(path: Path) -> tuple[bool, str]:
    """GDAL's GeoPackage validator (gdal-utils) on the registry file itself, strictest mode."""
    done = subprocess.run([PYTHON, "-m", "osgeo_utils.samples.validate_gpkg", "--extra", "--warning-as-error",
                           str(path)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    return done.returncode == 0, (done.stdout + done.stderr).strip()


def open_readonly(path: Path) -> sqlite3.Connection:
    return store.connect(path, readonly=True)


def wal_bytes(path: Path) -> int:
    """Size of the registry's WAL; 0 when there is none (the last connection to close removes it, at any moment: a
    check for its existence followed by a stat lost that race 21 minutes into a soak)."""
    try:
        return Path(str(path) + "-wal").stat().st_size
    except FileNotFoundError:
        return 0


def process_figures(pid: int) -> dict[str, int]:
    """Resident memory (kB) and open file descriptors of a process, from /proc (Linux)."""
    rss = 0
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return {"rss_kb": rss, "fds": len(os.listdir(f"/proc/{pid}/fd"))}


def table(rows: list[dict], columns: list[tuple[str, str]]) -> str:
    """A Markdown table (README-ready) of ``rows`` with (key, heading) columns."""
    out = ["| " + " | ".join(h for _, h in columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        out.append("| " + " | ".join(_fmt(row.get(k)) for k, _ in columns) + " |")
    return "\n".join(out)


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:,.1f}"
    if isinstance(v, int):
        return f"{v:,}"
    return "" if v is None else str(v)
