"""Content-addressed files (proposal attachments, evidence photos and their derived copies), written with the database
transaction that references them. No Flask, no SQL.

Layout under the data directory (unchanged from the first releases)::

    attachments/ab/<sha256>                 revision attachments, as uploaded
    photos/originals/ab/<sha256>.<ext>      uploaded photos, unchanged (evidence; EXIF kept) - staff only
    photos/thumbs/ab/<sha256>.jpg           320 px copies re-encoded from pixels: no metadata
    photos/display/ab/<sha256>.jpg          1600 px copies re-encoded from pixels: the only copy ever shown publicly
    .tmp-blobs/                             files of a write in progress

The protocol (``batch``): files are written under temporary names before the transaction (slow I/O outside the write
lock), moved into place as the transaction's last step, while it holds the write lock, then the transaction commits.
So every committed row's file is in place, and a request never deletes a file in place: the same bytes may be
referenced by another transaction (content addressing). A request that fails before ``place`` leaves only its own
temporary files, which it removes; one that fails after ``place`` leaves unreferenced files, which only ``sweep`` removes,
under the write lock, after checking every reference.
"""
from __future__ import annotations

import hashlib
import os
import re
import secrets
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping
from .messages import msg

# area -> (folder under the data directory, file suffix; None: the caller gives the extension)
AREAS: dict[str, tuple[str, str | None]] = {
    "attachments": ("attachments", ""),
    "originals": ("photos/originals", None),
    "thumbs": ("photos/thumbs", ".jpg"),
    "display": ("photos/display", ".jpg"),
}
TEMP_DIR = ".tmp-blobs"
# Temporary files older than this belong to a write that crashed; sweep removes them.
STALE_TEMP_SECONDS = 3600
_SHA = re.compile(r"[0-9a-f]{64}")
_EXTENSION = re.compile(r"[a-z0-9]{1,8}")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@dataclass
class Batch:
    """The files of one write: ``add`` before the transaction, ``place`` as its last step (inside it)."""

    store: "BlobStore"
    staged: list[tuple[Path, Path]] = field(default_factory=list)
    placed: bool = False

    def add(self, area: str, sha: str, data: bytes, extension: str | None = None) -> Path:
        final = self.store.path(area, sha, extension)
        temp_dir = self.store.root / TEMP_DIR
        temp_dir.mkdir(parents=True, exist_ok=True)
        temp = temp_dir / f"{sha}.{area}.{secrets.token_hex(6)}"
        with open(temp, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        self.staged.append((temp, final))
        return final

    def place(self) -> None:
        """Move the files into place. Call it inside the transaction that references them, as its last step: the
        write lock keeps ``sweep`` out until the rows that name the files are committed."""
        folders = set()
        for temp, final in self.staged:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp, final)  # atomic; an existing file has the same content (content addressing)
            folders.add(final.parent)
        for folder in folders:
            _fsync_dir(folder)
        self.placed = True

    def discard(self) -> None:
        """Remove this batch's temporary files (never a placed file)."""
        for temp, _ in self.staged:
            temp.unlink(missing_ok=True)


class BlobStore:
    def __init__(self, data_dir: str | Path):
        self.root = Path(data_dir)

    def path(self, area: str, sha: str, extension: str | None = None) -> Path:
        if area not in AREAS:
            raise ValueError(f"unknown file area {area!r}")
        folder, suffix = AREAS[area]
        if not isinstance(sha, str) or not _SHA.fullmatch(sha):
            raise ValueError("not a content address (sha256)")
        if suffix is None:
            if not extension or not _EXTENSION.fullmatch(extension):
                raise ValueError(f"files of {area} need their extension")
            suffix = f".{extension}"
        return self.root / folder / sha[:2] / f"{sha}{suffix}"

    @contextmanager
    def batch(self) -> Iterator[Batch]:
        b = Batch(self)
        try:
            yield b
        finally:
            b.discard()

    def files(self) -> Iterator[tuple[str, Path]]:
        """(area, path) of every file in place."""
        for area, (folder, _) in AREAS.items():
            base = self.root / folder
            if base.is_dir():
                for path in sorted(base.glob("??/*")):
                    if path.is_file():
                        yield area, path

    def check(self, referenced: Mapping[str, set[str]], *, verify: tuple[str, ...] = ("attachments", "originals")
              ) -> tuple[list[str], list[Path]]:
        """(problems, unreferenced files): every referenced file (area -> file names) must exist, and for the areas in
        ``verify`` hold the bytes its name says (sha256). Files nothing references are listed, not problems: a failed
        write may leave them, and only ``sweep`` removes them."""
        problems = []
        for area, names in referenced.items():
            folder = self.root / AREAS[area][0]
            for name in sorted(names):
                path = folder / name[:2] / name
                if not path.is_file():
                    problems.append(msg("blobs.file_missing", "{value}/{name}/{name2}: the file is missing",
                                        value=AREAS[area][0], name=name[:2], name2=name))
                elif area in verify and sha256(path.read_bytes()) != name.split(".")[0]:
                    problems.append(msg("blobs.file_s_content_does", "{value}/{name}/{name2}: the file's content "
                                        "does not match its name", value=AREAS[area][0], name=name[:2], name2=name))
        unreferenced = [path for area, path in self.files() if path.name not in referenced.get(area, set())]
        return problems, unreferenced

    def sweep(self, referenced: Mapping[str, set[str]], *, stale_after: float = STALE_TEMP_SECONDS) -> list[Path]:
        """Remove the files nothing references, and temporary files older than ``stale_after`` seconds. The caller
        holds the write lock (a store transaction) while it reads the references and calls this."""
        removed = self.check(referenced, verify=())[1]
        for path in removed:
            path.unlink(missing_ok=True)
        temp_dir = self.root / TEMP_DIR
        if temp_dir.is_dir():
            cutoff = time.time() - stale_after
            for entry in temp_dir.iterdir():
                try:
                    if entry.is_file() and entry.stat().st_mtime < cutoff:
                        entry.unlink()
                        removed.append(entry)
                except FileNotFoundError:
                    pass
        return removed
