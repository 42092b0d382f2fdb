"""Finished downloads kept on disk per registry state: a whole layer (no bbox, no filter) for one audience, format and
CRS is the same file until the layer changes, and writing it costs seconds at 10,000 sites (bench/bench_downloads.py)
while sending a kept one costs milliseconds. The key holds the layer's change stamp (the OGC API's: sites and
boundaries change with every site version, inspections and tracks with every new record), so a change makes every
kept file of the layer unreachable at once; the least recently used files go when the cache outgrows its size.

Files are placed by rename (a reader sees a whole file or none) with a small JSON of what the answer's headers say
(content hash for the ETag, feature count, Shapefile renames). A file being sent while it is evicted stays readable to its reader (POSIX). No
Flask."""
from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .catalog import Wanted


@dataclass(frozen=True)
class Entry:
    path: Path
    etag: str                  # the file's SHA-256 (a strong validator: same tag, same bytes)
    count: int | None
    renamed: dict[str, str]
    cut: dict[str, int]

    @classmethod
    def of(cls, path: Path, info: dict) -> "Entry":
        return cls(path, info["etag"], info.get("count"), info.get("renamed") or {}, info.get("cut") or {})


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_LOCKS = [threading.Lock() for _ in range(32)]   # builds of one key wait for each other (a fixed pool: bounded)


def code_digest() -> str:
    """A digest of the code that decides what a kept file holds (the public view and its text rules, the record
    builders, the writers): a release that changes what the public may read must not go on serving files kept by the
    release before it (their stamp has not moved: the registry did not change, the rules did)."""
    global _CODE_DIGEST
    if _CODE_DIGEST is None:
        from .. import public_view, withheld_numbers
        from ..ogcapi import features
        from . import catalog, tables, writers

        digest = hashlib.sha256()
        for module in (public_view, withheld_numbers, features, catalog, tables, writers):
            digest.update(Path(module.__file__).read_bytes())
        _CODE_DIGEST = digest.hexdigest()[:16]
    return _CODE_DIGEST


_CODE_DIGEST: str | None = None


def key(stamp: tuple, wanted: Wanted) -> str:
    """The file's name in the cache: a hash of the layer's state, the code that writes it and everything that makes
    the file what it is."""
    parts = [repr(stamp), code_digest(), wanted.layer.id, wanted.format.extension, wanted.crs.uri,
             "public" if wanted.public else "staff"]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


class Cache:
    def __init__(self, directory: Path, max_bytes: int):
        self.directory = Path(directory)
        self.max_bytes = max_bytes

    def _paths(self, name: str, extension: str) -> tuple[Path, Path]:
        return self.directory / f"{name}.{extension}", self.directory / f"{name}.json"

    def get(self, name: str, extension: str) -> Entry | None:
        path, meta = self._paths(name, extension)
        try:
            info = json.loads(meta.read_text())
            os.utime(path)  # most recently used
            return Entry.of(path, info)
        except (OSError, ValueError, KeyError):
            return None

    def get_or_put(self, name: str, extension: str, build: Callable[[], tuple[Path, dict]]) -> Entry:
        """The kept file, or ``build()`` it (a file in a private directory, and its header facts) and keep it. One
        build per key at a time: a burst of identical requests waits for the first instead of writing the file again."""
        found = self.get(name, extension)
        if found is not None:
            return found
        with _LOCKS[int(name[:8], 16) % len(_LOCKS)]:
            found = self.get(name, extension)
            if found is not None:
                return found
            built, info = build()
            info = {**info, "etag": _sha256(built)}
            self.directory.mkdir(parents=True, exist_ok=True)
            path, meta = self._paths(name, extension)
            os.replace(built, path)
            tmp = meta.with_suffix(".json.tmp")
            tmp.write_text(json.dumps(info, ensure_ascii=False))
            os.replace(tmp, meta)
            self.evict(keep=path)
            return Entry.of(path, info)

    def evict(self, keep: Path | None = None) -> list[Path]:
        """Remove the least recently used files until the cache is within its size (never ``keep``)."""
        files = []
        for p in self.directory.iterdir():
            if p.suffix == ".json" or p.name.endswith(".tmp"):
                continue
            try:
                files.append((p.stat().st_mtime, p.stat().st_size, p))
            except OSError:
                continue
        total = sum(size for _, size, _ in files)
        removed = []
        for _, size, p in sorted(files):
            if total <= self.max_bytes:
                break
            if p == keep:
                continue
            for victim in (p, self.directory / (p.name.split(".", 1)[0] + ".json")):
                try:
                    victim.unlink()
                except FileNotFoundError:
                    pass
            total -= size
            removed.append(p)
        return removed
