"""Registry lifecycle: where the GeoPackage lives, creating it (empty or with the demo data), checking, exporting,
copying and backing it up. A registry's *location* is its GeoPackage path or, on PostGIS, its postgresql:// URL
(store/dialect.py); the photo and attachment files live in the data directory either way."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from . import sites, store
from .blobs import BlobStore
from .messages import msg
from .vocab import Role

DEMO_AUTHOR = "demo-import"


def registry_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / "sites" / "registry.gpkg"


def init_registry(path: str | Path, *, demo: bool = False) -> int:
    """Create the registry at ``path``; with ``demo`` load the illustrative Guizhou data set. Returns the site count.

    Built in a temporary file in the same directory and renamed into place, so a crash or a concurrent starter never
    leaves a half-built registry behind. PostGIS (a URL): the schema is created in one transaction, then the demo."""
    if store.dialect.is_url(path):
        if store.is_registry(path):
            raise FileExistsError(f"a registry already exists at {store.pg.describe(path)}")
        store.create_registry(path)
        return load_demo(path) if demo else 0
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"a registry already exists at {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".registry-", suffix=".gpkg", dir=path.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        store.create_registry(tmp)
        count = 0
        if demo:
            count = load_demo(tmp)
        conn = store.connect(tmp)
        store.fold_wal(conn)  # one self-contained file before the rename
        conn.close()
        os.replace(tmp, path)
        return count
    finally:
        for leftover in (tmp, tmp + "-wal", tmp + "-shm"):
            if os.path.exists(leftover):
                os.unlink(leftover)


def load_demo(path: str | Path) -> int:
    """The illustrative demo data: the sites, the stratigraphic sections and the protection markers. Returns the
    site count."""
    from . import markers
    from .demo.build import DEMO_REASON, demo_sites
    from .demo.sections import demo_markers, demo_sections
    from .sections import SECTION

    conn = store.connect(path)
    try:
        with store.transaction(conn):
            for s in demo_sites():
                props = {k: s[k] for k in sites.PROPERTY_FIELDS if k in s}
                sites.create_site(conn, properties=props, location=s["location"], boundary=s.get("boundary"),
                                  author=DEMO_AUTHOR, reason=DEMO_REASON, code=s["code"], operation="import")
            sections = demo_sections()
            for s in sections:
                sites.create_site(conn, properties=s["properties"], location=s["line"], boundary=s["boundary"],
                                  author=DEMO_AUTHOR, reason=DEMO_REASON, code=s["code"], operation="import",
                                  kind=SECTION)
            files = BlobStore(Path(path).resolve().parent.parent)  # no photos are added
            placed = {s.code: s for s in sites.list_current(conn)}
            for m in demo_markers(sections, placed):
                markers.add_marker(conn, files, m.pop("feature"), m, settings=markers.Settings.defaults(),
                                   actor=DEMO_AUTHOR)
            return store.count_sites(conn)
    finally:
        conn.close()


DEMO_ROLES = ("field", "expert", "admin")


def create_demo_accounts(path: str | Path) -> list[tuple[str, str, str]]:
    """One account per role with a random password: (username, role, password). The caller shows the passwords once;
    they are never written anywhere else."""
    from . import auth

    conn = store.connect(path)
    try:
        store.migrate(conn)
        accounts = []
        for role in DEMO_ROLES:
            password = auth.random_password()
            auth.create_user(conn, username=f"demo-{role}", role=role, password=password,
                             display_name=f"演示账户（{Role(role).label.zh}）", actor="demo-setup")
            accounts.append((f"demo-{role}", role, password))
        return accounts
    finally:
        conn.close()


def validate_geopackage(path: str | Path) -> list[str]:
    """GDAL's GeoPackage validator (gdal-utils), strict: extra content checks, warnings count as errors."""
    try:
        from osgeo_utils.samples import validate_gpkg
    except ImportError:
        return ["GDAL's GeoPackage validator is not installed (pip install --no-deps gdal-utils)"]
    try:
        validate_gpkg.check(str(path), extra_checks=True, warning_as_error=True)
    except Exception as exc:  # the validator raises GPKGCheckException with the spec requirement that failed
        return [f"GeoPackage validator: {exc}"]
    return []


def referenced_files(conn) -> dict[str, set[str]]:
    """Every file (per blobs area) that a committed row references: proposal attachments and evidence photos."""
    from . import photos
    from .store import inspections as istore
    from .store import revisions as rstore

    return {"attachments": rstore.attachment_shas(conn), **photos.referenced_files(istore.photo_file_names(conn))}


def check_files(conn, data_dir: str | Path) -> tuple[list[str], list[Path]]:
    """(problems, unreferenced files): every attachment and photo file a record references is there with the bytes
    its name says; files nothing references are listed (a failed write leaves them until ``sweep_files``)."""
    return BlobStore(data_dir).check(referenced_files(conn))


def sweep_files(conn, data_dir: str | Path) -> list[Path]:
    """Remove the attachment and photo files no record references, under the write lock (so no write can be between
    placing its files and committing the rows that reference them). The only code that deletes such files."""
    with store.transaction(conn):
        store.lock_files(conn, sweep=True)
        return BlobStore(data_dir).sweep(referenced_files(conn))


def check_registry(path: str | Path, *, data_dir: str | Path | None = None) -> list[str]:
    """All problems found: SQLite integrity, spatial index, history consistency, geometry validity, GeoPackage validity,
    and (with ``data_dir``) every attachment and photo reference against the files on disk. PostGIS: its own checks
    (store/pg_schema.py), and the GeoPackage its export writes must pass the validator too."""
    if not store.dialect.is_url(path):
        path = Path(path)
    if not store.is_registry(path):
        return [msg("registry.no_registry_at", "no registry at {path}", path=path)]
    conn = store.connect(path)
    try:
        problems = store.check_integrity(conn)
        if data_dir is not None:
            problems += check_files(conn, data_dir)[0]
        for site in sites.list_current(conn, include_retired=True):
            if site.boundary is not None and not site.boundary.is_valid:
                problems.append(msg("registry.boundary_valid_polygon", "{code}: boundary is not a valid polygon",
                                    code=site.code))
        with tempfile.TemporaryDirectory() as tmp:
            snapshot = Path(tmp) / "snapshot.gpkg"
            store.backup_to(conn, snapshot, shareable=False)
            problems += validate_geopackage(snapshot)
    finally:
        conn.close()
    return problems


def export_registry(path: str | Path, dest: str | Path, *, can=None) -> None:
    """A shareable GeoPackage snapshot (online backup: safe while the app writes): every site, version, proposal,
    inspection and report, without accounts, sessions, tokens, reporters' contacts and the other personal data
    (store.backup_to). It still holds the exact locations of sensitive sites: it is for staff and partner institutions,
    not for the public. The only way to get private data out is backup_registry, by name.

    ``can`` (permission -> granted): the export for one caller (the whole-registry download), only the tables and rows
    that caller's API gives them (access.export_selection); without it, the operator's export (``registry export``)."""
    from . import access

    _refuse_overwriting(path, dest)
    conn = store.connect(path)
    try:
        store.backup_to(conn, dest, shareable=True, keep=access.export_selection(can) if can is not None else None)
    finally:
        conn.close()


def _refuse_overwriting(path: str | Path, dest: str | Path) -> None:
    """An export written over the registry itself (or its journal) would replace it with the shareable copy."""
    if store.dialect.is_url(path):
        return
    source, target = Path(path).resolve(), Path(dest).resolve()
    if target in (source, source.with_name(source.name + "-wal"), source.with_name(source.name + "-shm")) or \
            (target.exists() and source.exists() and os.path.samefile(source, target)):
        raise FileExistsError(f"{dest} is the registry itself: write the export elsewhere")


def backup_registry(data_dir: str | Path, dest_dir: str | Path, location: str | Path | None = None) -> dict[str, int]:
    """A full backup for restoring, as sensitive as the registry itself (accounts, contacts, client addresses): a
    data directory of its own holding a consistent snapshot of the registry and every file it references. Safe while
    the app writes: the snapshot is taken first, and the files a committed record references are never removed.
    ``location``: the registry, when it is not the data directory's GeoPackage (PostGIS: the backup is a GeoPackage
    all the same, restorable here or copied back with ``registry copy``)."""
    data_dir, dest_dir = Path(data_dir), Path(dest_dir)
    if dest_dir.exists() and any(dest_dir.iterdir()):
        raise FileExistsError(f"{dest_dir} is not empty")
    target = registry_path(dest_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    conn = store.connect(location or registry_path(data_dir))
    try:
        store.backup_to(conn, target, shareable=False)
    finally:
        conn.close()
    snapshot = store.connect(target, readonly=True)
    try:
        referenced = referenced_files(snapshot)
    finally:
        snapshot.close()
    source, copy = BlobStore(data_dir), BlobStore(dest_dir)
    files = 0
    for area, names in referenced.items():
        for name in names:
            sha, _, extension = name.partition(".")
            src = source.path(area, sha, extension or None)
            dst = copy.path(area, sha, extension or None)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
            files += 1
    return {"files": files, "bytes": target.stat().st_size}


def restore_registry(backup_dir: str | Path, data_dir: str | Path, *, replace: bool = False) -> None:
    """Put a backup (backup_registry's directory) in place as ``data_dir``'s registry, after checking it completely.
    Stop the app first: it must not write to the registry being replaced."""
    backup_dir, data_dir = Path(backup_dir), Path(data_dir)
    problems = check_registry(registry_path(backup_dir), data_dir=backup_dir)
    if problems:
        raise ValueError("the backup does not pass the registry check: " + "; ".join(problems[:5]))
    path = registry_path(data_dir)
    if store.is_registry(path) and not replace:
        raise FileExistsError(f"a registry exists at {path}; restore with replace to overwrite it")
    source, target = BlobStore(backup_dir), BlobStore(data_dir)
    for area, src in source.files():
        dst = target.root / src.relative_to(source.root)
        if not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".restore-", suffix=".gpkg", dir=path.parent)
    os.close(fd)
    shutil.copy2(registry_path(backup_dir), tmp)
    for leftover in (str(path) + "-wal", str(path) + "-shm"):
        if os.path.exists(leftover):
            os.unlink(leftover)
    os.replace(tmp, path)


def copy_registry(src: str | Path, dest: str | Path, *, src_files: str | Path | None = None,
                  dest_files: str | Path | None = None) -> dict[str, int]:
    """Copy the whole registry at ``src`` (GeoPackage path or PostgreSQL URL) to ``dest`` (a new GeoPackage, or a
    database without a registry): every table with its history, audit trail, accounts and contacts, then every photo
    and attachment file its records reference from ``src_files`` to ``dest_files`` (data directories; the same one is
    fine). Verified: the destination must pass ``check_registry`` with the files, or the copy is reported as failed."""
    if not store.is_registry(src):
        raise FileNotFoundError(msg("registry.no_registry_at", "no registry at {path}", path=_shown(src)))
    if not store.dialect.is_url(dest) and Path(dest).exists():
        raise FileExistsError(f"{dest} already exists")
    conn = store.connect(src)
    try:
        store.migrate(conn)
        counts = store.copy.copy_registry(conn, dest)
        referenced = referenced_files(conn)
    finally:
        conn.close()
    files = 0
    if src_files is not None and dest_files is not None:
        files = _copy_files(BlobStore(src_files), BlobStore(dest_files), referenced)
    problems = check_registry(dest, data_dir=dest_files)
    if problems:
        raise ValueError("the copy does not pass the registry check: " + "; ".join(problems[:5]))
    return {"rows": sum(counts.values()), "files": files, **{f"table:{t}": n for t, n in counts.items()}}


def _shown(location) -> str:
    return store.pg.describe(str(location)) if store.dialect.is_url(location) else str(location)


def _copy_files(source: BlobStore, copy: BlobStore, referenced: dict[str, set[str]]) -> int:
    files = 0
    for area, names in referenced.items():
        for name in names:
            sha, _, extension = name.partition(".")
            src = source.path(area, sha, extension or None)
            dst = copy.path(area, sha, extension or None)
            if dst.exists() or src == dst:
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
            files += 1
    return files
