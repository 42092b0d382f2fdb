"""Files attached to proposals (photos of the outcrop, field notes): limits, images checked with Pillow, stored
content-addressed by blobs.BlobStore with the transaction that records them."""
from __future__ import annotations

import io
import mimetypes
import os
from dataclasses import dataclass
from pathlib import Path

from .. import blobs, formats, untrusted
from ..errors import InvalidInput, NotFound
from ..store import revisions as rstore
from .policy import Policy
from ..messages import msg


@dataclass(frozen=True)
class Attachment:
    sha: str
    filename: str
    content_type: str
    data: bytes


def checked_attachments(policy: Policy, files: list[tuple[str, bytes]]) -> list[Attachment]:
    """Attachments as they will be stored: names cleaned, size and count limits, images checked with Pillow."""
    if not files:
        return []
    if policy.files is None:
        raise InvalidInput(msg("revisions.attachments_available_data_directory", "attachments are not available: no "
                               "data directory configured"))
    if len(files) > policy.max_attachments:
        raise formats.UploadTooLarge(msg("revisions.attachments_most_per_proposal", "{count} attachments; at most "
                                         "{max_attachments} per proposal", count=len(files),
                                         max_attachments=policy.max_attachments))
    out = []
    for name, data in files:
        name = os.path.basename((name or "attachment").replace("\\", "/"))[:120] or "attachment"
        if len(data) > policy.max_attachment_bytes:
            raise formats.UploadTooLarge(msg("revisions.mib_attachments_limited_mib", "{name}: {value:.1f} MiB; "
                                             "attachments are limited to {value2} MiB each", name=name,
                                             value=len(data) / formats.MiB,
                                             value2=policy.max_attachment_bytes // formats.MiB))
        out.append(Attachment(blobs.sha256(data), name, attachment_type(name, data), data))
    return out


IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


def attachment_type(name: str, data: bytes) -> str:
    """Images are checked with Pillow (served inline); everything else is stored as an opaque download."""
    guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if guessed.startswith("image/"):
        return _image_type(name, data)
    if guessed == "application/pdf":
        if not data.startswith(b"%PDF-"):
            raise InvalidInput(msg("revisions.pdf_file", "{name}: not a PDF file", name=name))
        return guessed
    return "application/octet-stream"


@untrusted.bounded
def _image_type(name: str, data: bytes) -> str:
    """The media type of an attached image, checked by Pillow in a bounded worker process (untrusted.py)."""
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise InvalidInput(msg("revisions.readable_image_truncated_damaged", "{name}: not a readable image "
                               "(truncated or damaged)", name=name)) from None
    if fmt not in IMAGE_TYPES:
        raise InvalidInput(msg("revisions.images_must_jpeg_png", "{name}: images must be JPEG, PNG, WebP or GIF "
                               "(got {fmt})", name=name, fmt=fmt))
    return IMAGE_TYPES[fmt]


def attachment_path(policy: Policy, sha: str) -> Path:
    if policy.files is None:
        raise NotFound(msg("revisions.such_attachment", "no such attachment"))
    try:
        return policy.files.path("attachments", sha)
    except ValueError:
        raise NotFound(msg("revisions.such_attachment", "no such attachment")) from None


def write_with_attachments(policy: Policy, files: list[tuple[str, bytes]], write):
    """Run ``write(attachments, batch)``, one transaction that records the attachments and calls ``batch.place()``
    as its last step (blobs.BlobStore's protocol: no request ever deletes a file that is in place)."""
    checked = checked_attachments(policy, files)
    if not checked:
        return write([], None)
    with policy.files.batch() as batch:
        for a in checked:
            batch.add("attachments", a.sha, a.data)
        return write(checked, batch)


@dataclass(frozen=True)
class AttachmentFile:
    path: Path
    content_type: str
    filename: str
    sha256: str


def attachment_file(conn, policy: Policy, revision_id: int, attachment_id: int) -> AttachmentFile:
    """One attachment of a proposal, to be served: NotFound for an unknown one or a missing file."""
    meta = rstore.get_attachment(conn, revision_id, attachment_id)
    if meta is None:
        raise NotFound(msg("revisions.proposal_attachment", "proposal {revision_id} has no attachment {attachment_id}",
                           revision_id=revision_id, attachment_id=attachment_id))
    path = attachment_path(policy, meta["sha256"])
    if not path.exists():
        raise NotFound(msg("revisions.attachment_s_file_missing", "the attachment's file is missing from the data "
                           "directory"))
    return AttachmentFile(path, meta["content_type"], meta["filename"], meta["sha256"])
