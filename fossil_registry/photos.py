"""Photo evidence: reading uploads safely (Pillow), their EXIF date and GPS, checks against a site or a reported place,
derived copies without metadata, and content-addressed storage with all-or-nothing placement.

Pure domain code (no Flask). The files (original, 320 px thumbnail and 1600 px display copy, both re-encoded from the
pixels: no EXIF, no GPS, no XMP) are stored by blobs.BlobStore, named by the sha256 of the uploaded bytes, so the same
photo uploaded twice is stored once.
"""
from __future__ import annotations

import hashlib
import io
import os
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Iterable
from zoneinfo import ZoneInfo

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from . import untrusted
from .blobs import Batch
from .errors import InvalidInput, MiB, TooLarge
from .messages import msg

FORMATS = {"JPEG": ("jpg", "image/jpeg"), "MPO": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"),
           "WEBP": ("webp", "image/webp")}
THUMB_PX = 320
DISPLAY_PX = 1600

# Flags raised by the checks: shown to the person who uploaded, stored with the photo.
FLAG_FAR = "far_from_site"
FLAG_OTHER_DATE = "other_date"
FLAG_NO_GPS = "no_gps"
FLAG_NO_DATE = "no_date"
WARNING_FLAGS = (FLAG_FAR, FLAG_OTHER_DATE)


@dataclass
class Upload:
    filename: str | None
    data: bytes


@dataclass
class Photo:
    """A checked upload with its metadata and its derived (metadata-free) copies, ready to be stored."""

    sha256: str
    original_name: str | None
    media_type: str
    extension: str
    width: int
    height: int
    data: bytes
    thumb: bytes
    display: bytes
    taken_at: datetime | None          # DateTimeOriginal as written by the camera (aware if an offset was given)
    gps: tuple[float, float] | None    # (lon, lat); GPS is WGS84, equal to CGCS2000 to well under a metre
    distance_m: float | None = None
    flags: list[str] = field(default_factory=list)
    message: str | None = None

    @property
    def size(self) -> int:
        return len(self.data)

    def taken_at_text(self) -> str | None:
        return None if self.taken_at is None else self.taken_at.isoformat(timespec="seconds")


def _name(upload: Upload) -> str:
    return f"photo {upload.filename!r}" if upload.filename else "a photo"


def _broken_exif(upload: Upload, why: str) -> InvalidInput:
    return InvalidInput(msg("photos.exif_metadata_damaged_export", "{upload}: its EXIF metadata is damaged ({why}); "
                            "export the photo again from the camera or phone, or remove its metadata, and upload it "
                            "again", upload=_name(upload), why=why), field="photos")


def _rational(v) -> float:
    value = float(v)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("not a number")
    return value


def _gps_degrees(values, ref, positive: str, negative: str, limit: float) -> float:
    if isinstance(values, (int, float)) or hasattr(values, "numerator"):
        values = (values,)
    if not isinstance(values, tuple) or not 1 <= len(values) <= 3:
        raise ValueError("not degrees, minutes, seconds")
    parts = [_rational(v) for v in values] + [0.0, 0.0]
    d, m, s = parts[:3]
    if m < 0 or m >= 60 or s < 0 or s >= 60 or d < 0:
        raise ValueError("minutes or seconds out of range")
    value = d + m / 60 + s / 3600
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    ref = (ref or positive).strip("\x00 ").upper()
    if ref not in (positive, negative):
        raise ValueError(f"hemisphere {ref!r}")
    if value > limit:
        raise ValueError(f"{value:.4f} degrees is out of range")
    return -value if ref == negative else value


def _exif_datetime(text, offset) -> datetime:
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    text = str(text).strip("\x00 ")
    value = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    if offset:
        if isinstance(offset, bytes):
            offset = offset.decode("ascii", "replace")
        offset = str(offset).strip("\x00 ")
        sign = -1 if offset.startswith("-") else 1
        hours, _, minutes = offset.lstrip("+-").partition(":")
        value = value.replace(tzinfo=timezone(sign * timedelta(hours=int(hours), minutes=int(minutes or 0))))
    return value


def read_exif(image: Image.Image, upload: Upload) -> tuple[datetime | None, tuple[float, float] | None]:
    """(DateTimeOriginal, (lon, lat)) from the photo's EXIF; either may be None. Damaged EXIF raises InvalidInput:
    evidence whose metadata cannot be read is not accepted silently."""
    raw = image.info.get("exif")
    if not raw:
        return None, None
    tiff = raw[6:] if raw.startswith(b"Exif\x00\x00") else raw
    if tiff[:4] not in (b"II*\x00", b"MM\x00*"):
        raise _broken_exif(upload, msg("photos.valid_tiff_header", "no valid TIFF header"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            exif = Image.Exif()  # parsed afresh from the raw block: Pillow may have read (and warned) at open
            exif.load(raw)
            sub = exif.get_ifd(ExifTags.IFD.Exif)
            gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        except Exception as exc:  # Pillow raises a variety of errors on malformed IFDs
            raise _broken_exif(upload, type(exc).__name__) from None
    problems = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    if problems:
        raise _broken_exif(upload, problems[0].strip().rstrip("."))
    taken = None
    original = sub.get(ExifTags.Base.DateTimeOriginal) or sub.get(ExifTags.Base.DateTimeDigitized)
    if original:
        try:
            taken = _exif_datetime(original, sub.get(ExifTags.Base.OffsetTimeOriginal))
        except (ValueError, TypeError):
            raise _broken_exif(upload, msg("photos.date_taken_date", "the date taken {value!r} is not a date",
                                           value=str(original)[:30])) from None
    where = None
    if gps and (2 in gps or 4 in gps):
        try:
            lat = _gps_degrees(gps.get(2), gps.get(1), "N", "S", 90.0)
            lon = _gps_degrees(gps.get(4), gps.get(3), "E", "W", 180.0)
        except (ValueError, TypeError, ZeroDivisionError) as exc:
            raise _broken_exif(upload, msg("photos.gps_position_read", "the GPS position cannot be read: {exc}",
                                           exc=exc)) from None
        where = (lon, lat)
    return taken, where


def _clean_copy(image: Image.Image, max_px: int) -> bytes:
    """A JPEG re-encoded from the pixels alone: no EXIF (so no GPS), no XMP, no comments, orientation applied."""
    im = image.copy()
    im.thumbnail((max_px, max_px))
    if im.mode not in ("RGB", "L"):
        im = im.convert("RGBA").convert("RGB") if "A" in im.mode or im.mode == "P" else im.convert("RGB")
    bare = Image.frombytes(im.mode, im.size, im.tobytes())  # a new image: carries no info dict from the upload
    out = io.BytesIO()
    bare.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


@untrusted.bounded
def read_photo(upload: Upload, *, max_bytes: int, max_pixels: int) -> Photo:
    """Check one upload and prepare what is stored; raises InvalidInput (not an image, damaged) or TooLarge. Decoded
    in a bounded worker process (untrusted.py): a photo built to stall the decoder costs one worker."""
    data = upload.data
    if not data:
        raise InvalidInput(msg("photos.empty", "{upload} is empty", upload=_name(upload)), field="photos")
    if len(data) > max_bytes:
        raise TooLarge(msg("photos.mib_limit_mib_per", "{upload} is {value:.1f} MiB; the limit is {value2:.0f} MiB "
                           "per photo", upload=_name(upload), value=len(data) / MiB, value2=max_bytes / MiB), field="photos")
    not_image = InvalidInput(msg("photos.photo_registry_accepts_jpeg", "{upload} is not a photo this registry "
                                 "accepts (JPEG, PNG or WebP)", upload=_name(upload)),
                             field="photos")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # damaged EXIF is reported by read_exif, not as a warning
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            fmt = probe.format
            width, height = probe.size
            if fmt in FORMATS and width * height <= max_pixels:
                probe.verify()
    except UnidentifiedImageError:
        raise not_image from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooLarge(msg("photos.far_too_many_pixels", "{upload} has far too many pixels (the limit is {value} "
                           "megapixels)", upload=_name(upload), value=max_pixels // 1_000_000),
                       field="photos") from None
    except Exception:  # verify() raises assorted errors for corrupt files
        raise InvalidInput(msg("photos.damaged_image_data_read", "{upload} is damaged: the image data cannot be read",
                               upload=_name(upload)), field="photos") from None
    if fmt not in FORMATS:
        raise not_image
    if width * height > max_pixels:
        raise TooLarge(msg("photos.x_pixels_limit_megapixels", "{upload} has {width}x{height} pixels; the limit is "
                           "{value} megapixels", upload=_name(upload), width=width, height=height,
                           value=max_pixels // 1_000_000),
                       field="photos")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        image = Image.open(io.BytesIO(data))
    taken, gps = read_exif(image, upload)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            if image.format in ("JPEG", "MPO"):
                image.draft("RGB", (DISPLAY_PX, DISPLAY_PX))  # decode at 1/2, 1/4... scale: 3-4x faster
            image.load()
            turned = image.getexif().get(ExifTags.Base.Orientation) in (5, 6, 7, 8)
            upright = ImageOps.exif_transpose(image)
    except Exception:
        raise InvalidInput(msg("photos.damaged_image_data_read", "{upload} is damaged: the image data cannot be read",
                               upload=_name(upload)), field="photos") from None
    extension, media_type = FORMATS[fmt]
    return Photo(sha256=hashlib.sha256(data).hexdigest(), original_name=(upload.filename or None) and
                 os.path.basename(upload.filename)[:200], media_type=media_type, extension=extension,
                 width=height if turned else width, height=width if turned else height, data=data, thumb=_clean_copy(upright, THUMB_PX),
                 display=_clean_copy(upright, DISPLAY_PX), taken_at=taken, gps=gps)


def read_photos(uploads: Iterable[Upload], *, max_count: int, max_bytes: int, max_pixels: int) -> list[Photo]:
    uploads = [u for u in uploads if u.data or u.filename]
    if len(uploads) > max_count:
        raise TooLarge(msg("photos.photos_sent_limit", "{count} photos were sent; the limit is {max_count}",
                           count=len(uploads), max_count=max_count), field="photos")
    photos, seen = [], set()
    for upload in uploads:
        photo = read_photo(upload, max_bytes=max_bytes, max_pixels=max_pixels)
        if photo.sha256 in seen:
            raise InvalidInput(msg("photos.uploaded_twice", "{upload} was uploaded twice", upload=_name(upload)), field="photos")
        seen.add(photo.sha256)
        photos.append(photo)
    return photos


def check_photo(photo: Photo, *, distance_m: float | None, max_distance_m: float, expected_date: date | None,
                tz: str, tolerance_days: int = 0, place: str = "the site") -> None:
    """Set the photo's flags and message: taken far from ``place`` (distance computed by the caller, geodesic) or on
    another date than ``expected_date``. Photos without GPS or date are noted as not checkable."""
    flags, notes = [], []
    photo.distance_m = None if distance_m is None else round(distance_m, 1)
    if photo.gps is None:
        flags.append(FLAG_NO_GPS)
    elif distance_m is not None and distance_m > max_distance_m:
        flags.append(FLAG_FAR)
        notes.append(msg("photos.taken_km_more_than", "taken {value:.2f} km from {place} (more than "
                         "{max_distance_m:.0f} m)", value=distance_m / 1000, place=place,
                         max_distance_m=max_distance_m))
    if photo.taken_at is None:
        flags.append(FLAG_NO_DATE)
    elif expected_date is not None:
        taken = photo.taken_at
        if taken.tzinfo is not None:  # with an offset the instant is known: compare dates in the registry's time zone
            taken = taken.astimezone(ZoneInfo(tz))
        days = abs((taken.date() - expected_date).days)
        if days > tolerance_days:
            flags.append(FLAG_OTHER_DATE)
            notes.append(msg("photos.taken", "taken on {value}, not on {expected_date}",
                             value=taken.date().isoformat(), expected_date=expected_date.isoformat()))
    photo.flags = flags
    photo.message = "; ".join(notes) or None


# --------------------------------------------------------------------------------------------------------------------
# Storage (blobs.BlobStore: content-addressed, placed with the transaction that records the photo)
# --------------------------------------------------------------------------------------------------------------------
def stage(batch: Batch, photo: Photo) -> None:
    """Add the photo's three files (original, thumbnail, display copy) to a blob batch."""
    batch.add("originals", photo.sha256, photo.data, photo.extension)
    batch.add("thumbs", photo.sha256, photo.thumb)
    batch.add("display", photo.sha256, photo.display)


def referenced_files(extensions: dict[str, str]) -> dict[str, set[str]]:
    """The file names (per blob area) that photo records {sha256: extension} reference."""
    return {"originals": {f"{sha}.{ext}" for sha, ext in extensions.items()},
            "thumbs": {f"{sha}.jpg" for sha in extensions}, "display": {f"{sha}.jpg" for sha in extensions}}
