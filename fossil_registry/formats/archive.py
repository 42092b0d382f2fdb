"""Uploaded ZIP archives (zipped Shapefiles, KMZ), opened safely: path traversal, symbolic links and encrypted
members are refused, and ZIP bombs are caught twice, by the sizes in the central directory *and* by counting real
bytes while decompressing (the central directory can lie).
"""
from __future__ import annotations

import io
import re
import stat
import zipfile
import zlib
from pathlib import PurePosixPath

from .base import MiB, Limits, UploadTooLarge, _fail
from ..messages import msg


def _unsafe_member(name: str) -> bool:
    norm = name.replace("\\", "/")
    if not norm or "\x00" in norm or norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        return True
    return any(part == ".." for part in PurePosixPath(norm).parts)


def open_zip(filename: str, data: bytes, limits: Limits) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """Open an uploaded ZIP after checking its central directory; returns the archive and its file members."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise _fail(filename, msg("formats.readable_zip_archive_truncated", "not a readable ZIP archive (truncated "
                                  "or damaged)")) from None
    if len(infos) > limits.max_zip_entries:
        raise _fail(filename, msg("formats.archive_holds_entries_limit", "the archive holds {count} entries; the "
                                  "limit is {max_zip_entries}", count=len(infos),
                                  max_zip_entries=limits.max_zip_entries))
    total = 0
    members = []
    for info in infos:
        if _unsafe_member(info.filename):
            raise _fail(filename, msg("formats.archive_entry_points_outside", "the archive entry {filename!r} points "
                                      "outside the archive (path traversal); the archive was refused",
                                      filename=info.filename))
        if stat.S_ISLNK(info.external_attr >> 16):
            raise _fail(filename, msg("formats.archive_entry_symbolic_link", "the archive entry {filename!r} is a "
                                      "symbolic link; the archive was refused", filename=info.filename))
        if info.flag_bits & 0x1:
            raise _fail(filename, msg("formats.archive_entry_encrypted_upload", "the archive entry {filename!r} is "
                                      "encrypted; upload an unencrypted archive", filename=info.filename))
        if info.is_dir():
            continue
        total += info.file_size
        if total > limits.max_unzipped_bytes:
            raise UploadTooLarge(
                msg("formats.archive_decompresses_more_than", "{filename}: the archive decompresses to more than "
                    "{value} MiB (limit {value} MiB); this looks like a ZIP bomb or a much larger data set than one "
                    "site needs", filename=filename, value=limits.max_unzipped_bytes // MiB))
        members.append(info)
    return zf, members


def read_member(filename: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits, budget: list[int]) -> bytes:
    """Decompress one member, counting real bytes against the upload's budget. A central directory that understates a
    member's size cannot make it inflate further: zipfile stops at the declared size and the CRC check then fails
    (refused as damaged)."""
    out = io.BytesIO()
    try:
        with zf.open(info) as fh:
            while True:
                chunk = fh.read(256 * 1024)
                if not chunk:
                    break
                out.write(chunk)
                budget[0] -= len(chunk)
                if budget[0] < 0:
                    raise UploadTooLarge(
                        msg("formats.decompresses_more_than", "{filename}: {filename2} decompresses to more than "
                            "{value} MiB; refused as a possible ZIP bomb",
                            filename=filename, filename2=info.filename, value=limits.max_unzipped_bytes // MiB))
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
        raise _fail(filename, msg("formats.archive_damaged_truncated", "{filename} in the archive is damaged or "
                                  "truncated ({exc})", filename=info.filename, exc=exc)) from None
    return out.getvalue()
