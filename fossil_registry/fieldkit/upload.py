"""Reading what a field team brings back: the kit's GeoPackage on its own, or a zip of the kit folder (the GeoPackage,
its ``-wal``/``-shm`` journal files if QGIS/QField still had it open, and the ``DCIM`` photos).

Journals. QGIS and QField switch a GeoPackage to WAL mode when they edit it: committed edits go to
``fieldkit.gpkg-wal`` first and are folded into the file when the last connection closes, which also removes the
``-wal`` and ``-shm`` files, but the file stays marked as WAL (header bytes 18-19; seen with QGIS 3.22). A file copied
while the project was still open lacks the edits in its ``-wal``, and nothing in the file itself shows it. So:

* a bare GeoPackage whose header says WAL is refused (it cannot be told apart from one whose journal was left behind),
  with instructions: close the project and upload a zip of the kit folder;
* a zip of the folder is accepted: with its ``-wal`` member the journal is replayed into a private copy (SQLite does it
  when opening); with neither ``-wal`` nor ``-shm`` the project was closed and the file is complete; with a ``-shm`` but
  no ``-wal`` the journal was left behind, and the zip is refused;
* a bare GeoPackage in rollback mode (GDAL's default) is complete and accepted.

A rollback journal (``-journal``, left by a crash in the middle of a write) in the zip is put next to the copy, so that
SQLite rolls the unfinished write back. Zips are opened with formats/archive.py (traversal, links, encryption, ZIP
bombs: sizes checked in the central directory and again while reading).
"""
from __future__ import annotations

import hashlib
import posixpath
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from .. import formats
from ..errors import InvalidInput, TooLarge
from .layers import KIT_GPKG
from .settings import Settings
from ..messages import msg

SQLITE_MAGIC = b"SQLite format 3\x00"
ZIP_MAGIC = b"PK\x03\x04"

CLOSE_FIRST = ("close the project in QField or QGIS (closing folds the journal into the file), then upload a zip of the "
               "whole kit folder, with every fieldkit.gpkg* file in it")


@dataclass
class Upload:
    filename: str
    sha256: str
    gpkg: Path                            # a private copy, journal replayed
    zipped: bool
    _zip: zipfile.ZipFile | None = None
    _members: dict[str, zipfile.ZipInfo] = field(default_factory=dict)
    _folder: str = ""
    _limits: formats.Limits | None = None
    _budget: list[int] = field(default_factory=lambda: [0])

    def photo(self, relative: str) -> tuple[bytes | None, str]:
        """(bytes, "") of a photo the kit names by its path relative to the project, or (None, why not: a message)."""
        path = (relative or "").strip().replace("\\", "/")
        if not path:
            return None, msg("fieldkit.photo_none", "no photo")
        if path.startswith("/") or (len(path) > 1 and path[1] == ":") or "://" in path:
            return None, msg("fieldkit.photo_absolute", "an absolute path; take photos with the kit's photo field so "
                             "they are stored in its DCIM folder")
        normal = posixpath.normpath(posixpath.join(self._folder, path))
        if normal.startswith("../") or normal == "..":
            return None, msg("fieldkit.photo_outside", "it points outside the kit folder")
        if not self.zipped:
            return None, msg("fieldkit.photo_not_uploaded", "not uploaded (check in a zip of the kit folder to bring "
                             "the photos along)")
        info = self._members.get(normal)
        if info is None:
            return None, msg("fieldkit.photo_not_in_zip", "not in the uploaded zip")
        return formats.read_member(self.filename, self._zip, info, self._limits, self._budget), ""


def _is_wal(header: bytes) -> bool:
    """SQLite's file format bytes 18-19 are 2 in WAL mode (1 for a rollback journal)."""
    return len(header) >= 20 and (header[18] == 2 or header[19] == 2)


@contextmanager
def opened(filename: str, data: bytes, settings: Settings) -> Iterator[Upload]:
    """The upload as a private GeoPackage copy (removed afterwards) and its photos; InvalidInput/TooLarge for anything
    that is not a kit file."""
    filename = posixpath.basename((filename or "upload").replace("\\", "/")) or "upload"
    if len(data) > settings.max_upload_bytes:
        raise TooLarge(msg("fieldkit.larger_than_mib_2", "{filename}: larger than {value} MiB", filename=filename,
                           value=settings.max_upload_bytes // formats.MiB))
    digest = hashlib.sha256(data).hexdigest()
    with tempfile.TemporaryDirectory(prefix="fieldkit-") as tmp:
        copy = Path(tmp) / KIT_GPKG
        if data.startswith(ZIP_MAGIC):
            upload = _from_zip(filename, data, settings, copy)
        elif data.startswith(SQLITE_MAGIC):
            if _is_wal(data[:100]):
                raise InvalidInput(msg("fieldkit.wal_mode_if_qfield", "{filename} is in WAL mode: if QField or QGIS "
                                       "still had it open when it was copied, its latest edits are in "
                                       "fieldkit.gpkg-wal, which a single file cannot bring along. Nothing was "
                                       "proposed: {close_first}", filename=filename, close_first=CLOSE_FIRST), problem="journal_left_behind")
            copy.write_bytes(data)
            upload = Upload(filename, digest, copy, zipped=False)
        else:
            raise InvalidInput(msg("fieldkit.neither_geopackage_nor_zip", "{filename} is neither a GeoPackage nor a "
                                   "zip of a kit folder: check in the kit's fieldkit.gpkg (or a zip of the kit "
                                   "folder)", filename=filename))
        upload.sha256 = digest
        try:
            yield upload
        finally:
            if upload._zip is not None:
                upload._zip.close()


def _from_zip(filename: str, data: bytes, settings: Settings, copy: Path) -> Upload:
    zf, infos = formats.open_zip(filename, data, settings.limits)
    members = {posixpath.normpath(i.filename.replace("\\", "/")): i for i in infos
               if not i.filename.startswith("__MACOSX/")}
    gpkgs = [name for name in members if name.lower().endswith(".gpkg")]
    if len(gpkgs) > 1:
        gpkgs = [name for name in gpkgs if posixpath.basename(name) == KIT_GPKG]
    if len(gpkgs) != 1:
        raise InvalidInput(msg("fieldkit.zip_must_hold_exactly", "{filename}: the zip must hold exactly one "
                               "{kit_gpkg} (found {value})", filename=filename, kit_gpkg=KIT_GPKG,
                               value=', '.join(sorted(gpkgs)) or 'none'))
    name = gpkgs[0]
    budget = [settings.limits.max_unzipped_bytes]
    gpkg = formats.read_member(filename, zf, members[name], settings.limits, budget)
    if not gpkg.startswith(SQLITE_MAGIC):
        raise InvalidInput(msg("fieldkit.geopackage_sqlite_file", "{filename}: {name} is not a GeoPackage (SQLite) "
                               "file", filename=filename, name=name))
    copy.write_bytes(gpkg)
    wal, shm, journal = (members.get(name + suffix) for suffix in ("-wal", "-shm", "-journal"))
    if _is_wal(gpkg[:100]) and wal is None and shm is not None:
        raise InvalidInput(msg("fieldkit.shm_zip_but_wal", "{filename}: {name}-shm is in the zip but {name}-wal is "
                               "not: the project was open and its latest edits are in the journal that was left "
                               "behind. Nothing was proposed: {close_first}", filename=filename,
                               name=posixpath.basename(name), close_first=CLOSE_FIRST), problem="journal_left_behind")
    for member, suffix in ((wal, "-wal"), (journal, "-journal")):
        if member is not None:  # SQLite replays (or rolls back) it when it opens the private copy; -shm is rebuilt
            copy.with_name(copy.name + suffix).write_bytes(
                formats.read_member(filename, zf, member, settings.limits, budget))
    return Upload(filename, "", copy, zipped=True, _zip=zf, _members=members, _folder=posixpath.dirname(name),
                  _limits=settings.limits, _budget=budget)
